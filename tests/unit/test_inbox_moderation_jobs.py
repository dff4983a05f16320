"""A hide, an un-hide on reopen and a delete as publisher jobs where the platform's API does them,
a local hide elsewhere, a refused delete elsewhere, and the publisher's word read back onto the
entry (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.inbox.errors import ApprovalRequired, IllegalTransition, NotOnPlatform
from services.inbox.lifecycle import Command, decide, received, settle_hide
from services.inbox.moderation_jobs import HideSettled, hide_settlement, moderation_job, waiting_hide
from services.inbox.reply_jobs import RetryAt, reply_key
from shared.codec import decode, encode
from shared.events import (
    CommentAuthor,
    CommentObserved,
    InboxAction,
    InboxChanged,
    InboxState,
    OutcomeStatus,
    PlatformError,
    PublishOutcome,
)

A, S = InboxAction, InboxState
NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def entry(platform: str) -> InboxChanged:
    comment = CommentObserved(
        event_id="ib1", occurred_at=NOW, comment_id="c1", post_id="p1", parent_id="top",
        channel=f"{platform}-demo", platform=platform, author=CommentAuthor(id="9", name="troll"),
        text="kata kasar", created_at=NOW, via="poll",
    )  # fmt: skip
    first = received(comment, None, NOW)
    assert first is not None
    return first


def hidden(platform: str) -> InboxChanged:
    return decide(entry(platform), Command(A.HIDE, by="rina", reason="abusive"), four_eyes=False, now=NOW)


def outcome(status: OutcomeStatus, **kw: object) -> PublishOutcome:
    fields = {"event_id": "o1", "occurred_at": NOW, "job_id": "ib1.2:facebook-demo", "content_id": "ib1.2",
              "channel": "facebook-demo", "platform": "facebook", "attempt": 1, "status": status,
              "purpose": "hide", **kw}  # fmt: skip
    return PublishOutcome.model_validate(fields)


@pytest.mark.parametrize("platform", ["facebook", "instagram", "youtube", "x", "threads"])
def test_a_hide_where_the_platform_hides_sends_an_urgent_job(platform: str) -> None:
    after = hidden(platform)
    assert after.state == S.HIDDEN
    assert (after.by, after.reason) == ("rina", "abusive")
    assert after.platform_hide is not None
    assert (after.platform_hide.status, after.platform_hide.request_id) == ("sending", after.event_id)
    job = moderation_job(after, "ib1", 1, NOW)
    assert job is not None
    assert (job.purpose, job.platform, job.slot, job.content_id) == ("hide", platform, NOW, "ib1.2")
    assert job.reply_to is not None
    assert (job.reply_to.comment_id, job.reply_to.approved_by) == ("c1", "rina")
    assert reply_key(job.content_id) == "ib1"
    assert decode(encode(job)) == job
    # Every attempt is the same job: the ledger and rate limits see one hide.
    later = moderation_job(after, "ib1", 2, NOW + timedelta(minutes=1))
    assert later is not None
    assert later.job_id == job.job_id


@pytest.mark.parametrize("platform", ["mastodon", "bluesky", "linkedin", "telegram", "whatsapp", "tiktok"])
def test_elsewhere_the_hide_stays_local_and_says_why(platform: str) -> None:
    after = hidden(platform)
    assert after.platform_hide is not None
    assert after.platform_hide.status == "local"
    assert "cannot hide" in after.platform_hide.detail
    assert not after.platform_hide.on_platform
    assert moderation_job(after, "ib1", 1, NOW) is None


def test_the_publishers_word_read_back() -> None:
    assert hide_settlement(outcome(OutcomeStatus.PUBLISHED, post_id="c1")) == HideSettled(
        "ib1.2", True, "hidden on facebook"
    )
    error = PlatformError(code="http_400", message="facebook: refused to hide the comment: 400 no such")
    failed = hide_settlement(outcome(OutcomeStatus.FAILED, error=error))
    assert isinstance(failed, HideSettled)
    assert not failed.done
    assert "no such (http_400)" in failed.detail
    for status in (OutcomeStatus.DEAD, OutcomeStatus.NEEDS_REAUTH, OutcomeStatus.UNCONFIRMED):
        settled = hide_settlement(outcome(status))
        assert isinstance(settled, HideSettled)
        assert not settled.done
    at = NOW + timedelta(seconds=30)
    assert hide_settlement(outcome(OutcomeStatus.RETRY, retry_at=at)) == RetryAt(2, at)
    assert hide_settlement(outcome(OutcomeStatus.RETRY, retry_at=at, deferred=True)) == RetryAt(1, at)
    assert hide_settlement(outcome(OutcomeStatus.ATTEMPTED)) is None


def test_the_outcome_marks_the_entry_once_and_keeps_who_and_why() -> None:
    after = hidden("facebook")
    done = settle_hide(after, HideSettled(after.event_id, True, "hidden on facebook"), NOW)
    assert done is not None
    assert done.platform_hide is not None
    assert (done.action, done.state, done.by, done.reason) == (
        A.HIDDEN_ON_PLATFORM,
        S.HIDDEN,
        "publisher",
        "hidden on facebook",
    )
    assert done.platform_hide.on_platform
    assert done.version == after.version + 1
    assert settle_hide(done, HideSettled(after.event_id, True, "again"), NOW) is None  # a repeat
    assert moderation_job(done, "ib1", 1, NOW) is None  # nothing left to send after a restart
    failed = settle_hide(after, HideSettled(after.event_id, False, "not hidden on facebook: gone"), NOW)
    assert failed is not None
    assert failed.platform_hide is not None
    assert (failed.platform_hide.status, failed.reason) == ("failed", "not hidden on facebook: gone")
    assert settle_hide(after, HideSettled("ib1.9", True, "another hide"), NOW) is None


def test_an_operator_cannot_claim_the_platform_hid_it() -> None:
    for action in (
        A.HIDDEN_ON_PLATFORM,
        A.HIDE_FAILED,
        A.SHOWN_ON_PLATFORM,
        A.DELETED_ON_PLATFORM,
        A.DELETE_FAILED,
    ):
        with pytest.raises(IllegalTransition, match="not an operator"):
            decide(hidden("facebook"), Command(action, by="rina", reason="x"), four_eyes=False, now=NOW)


def test_closed_meanwhile_still_records_what_the_platform_did() -> None:
    after = hidden("x")
    closed = decide(after, Command(A.CLOSE, by="rina", reason="done"), four_eyes=False, now=NOW)
    assert waiting_hide(closed, after.event_id)
    done = settle_hide(closed, HideSettled(after.event_id, True, "hidden on x"), NOW)
    assert done is not None
    assert done.state == S.CLOSED
    assert done.platform_hide is not None
    assert done.platform_hide.on_platform
    replying = closed.model_copy(update={"state": S.REPLYING})
    assert not waiting_hide(replying, after.event_id)  # the reply's outcome is matched first


def settled(entry: InboxChanged, done: bool = True, detail: str = "done") -> InboxChanged:
    assert entry.platform_hide is not None
    assert entry.platform_hide.request_id is not None
    after = settle_hide(entry, HideSettled(entry.platform_hide.request_id, done, detail), NOW)
    assert after is not None
    return after


@pytest.mark.parametrize("platform", ["facebook", "instagram", "youtube", "x", "threads"])
def test_reopening_a_comment_hidden_on_the_platform_shows_it_again(platform: str) -> None:
    hidden_there = settled(hidden(platform))
    reopened = decide(hidden_there, Command(A.REOPEN, by="budi"), four_eyes=False, now=NOW)
    assert reopened.state == S.NEW
    assert reopened.platform_hide is not None
    assert (reopened.platform_hide.status, reopened.platform_hide.want) == ("sending", "visible")
    job = moderation_job(reopened, "ib1", 1, NOW)
    assert job is not None
    assert (job.purpose, job.content_id, job.reply_to and job.reply_to.approved_by) == (
        "unhide",
        reopened.event_id,
        "budi",
    )
    shown = settled(reopened, detail=f"shown again on {platform}")
    assert shown.platform_hide is not None
    assert (shown.action, shown.platform_hide.status) == (A.SHOWN_ON_PLATFORM, "visible")
    assert not shown.platform_hide.on_platform
    refused = settled(reopened, done=False, detail="not shown again")
    assert refused.platform_hide is not None
    assert (refused.action, refused.platform_hide.status) == (A.UNHIDE_FAILED, "failed")
    # The hide's late outcome no longer matches: the entry waits on the un-hide.
    assert hidden_there.platform_hide is not None
    late = HideSettled(hidden_there.platform_hide.request_id or "", True, "hidden on the platform")
    assert settle_hide(reopened, late, NOW) is None


def test_reopening_sends_nothing_where_the_platform_cannot_hide_or_shows_it_already() -> None:
    local = decide(hidden("mastodon"), Command(A.REOPEN, by="budi"), four_eyes=False, now=NOW)
    assert moderation_job(local, "ib1", 1, NOW) is None
    shown = settled(decide(settled(hidden("x")), Command(A.REOPEN, by="budi"), four_eyes=False, now=NOW))
    closed = decide(shown, Command(A.CLOSE, by="budi", reason="selesai"), four_eyes=False, now=NOW)
    again = decide(closed, Command(A.REOPEN, by="budi"), four_eyes=False, now=NOW)
    assert moderation_job(again, "ib1", 1, NOW) is None
    assert again.platform_hide == shown.platform_hide
    # A refused hide is shown again all the same: an earlier hide may hold there, and showing a
    # visible comment again is harmless.
    refused = settled(hidden("facebook"), done=False)
    job = moderation_job(
        decide(refused, Command(A.REOPEN, by="budi"), four_eyes=False, now=NOW), "ib1", 1, NOW
    )
    assert job is not None
    assert job.purpose == "unhide"


def test_only_an_approver_deletes_a_citizens_comment_an_editor_hides_it() -> None:
    by_editor = Command(A.DELETE, by="rina", reason="ancaman")
    with pytest.raises(ApprovalRequired, match="needs the approver role") as refused:
        decide(entry("facebook"), by_editor, four_eyes=False, now=NOW)
    assert refused.value.status == 403
    hidden_by_editor = decide(
        entry("facebook"), Command(A.HIDE, by="rina", reason="ancaman"), four_eyes=False, now=NOW
    )
    assert hidden_by_editor.state == S.HIDDEN


@pytest.mark.parametrize("platform", ["facebook", "instagram", "youtube", "telegram"])
def test_a_delete_with_a_reason_sends_a_delete_job(platform: str) -> None:
    with pytest.raises(IllegalTransition, match="needs a reason"):
        decide(
            entry(platform),
            Command(A.DELETE, by="rina", reason=" ", by_approver=True),
            four_eyes=False,
            now=NOW,
        )
    deleted = decide(
        entry(platform),
        Command(A.DELETE, by="rina", reason="ancaman", by_approver=True),
        four_eyes=False,
        now=NOW,
    )
    assert (deleted.state, deleted.by, deleted.reason) == (S.DELETED, "rina", "ancaman")
    job = moderation_job(deleted, "ib1", 1, NOW)
    assert job is not None
    assert (job.purpose, job.content_id) == ("delete", deleted.event_id)
    gone = settled(deleted, detail=f"deleted on {platform}")
    assert gone.platform_hide is not None
    assert (gone.action, gone.platform_hide.status, gone.platform_hide.on_platform) == (
        A.DELETED_ON_PLATFORM,
        "deleted",
        True,
    )
    for action in (A.REOPEN, A.DELETE, A.HIDE, A.CLOSE):  # deleted for good
        with pytest.raises(IllegalTransition):
            decide(gone, Command(action, by="rina", reason="lagi"), four_eyes=False, now=NOW)


def test_a_refused_delete_may_be_tried_again_or_reopened() -> None:
    deleted = decide(
        hidden("telegram"),
        Command(A.DELETE, by="rina", reason="spam", by_approver=True),
        four_eyes=False,
        now=NOW,
    )
    with pytest.raises(IllegalTransition, match="deleted on the platform"):
        decide(deleted, Command(A.REOPEN, by="rina"), four_eyes=False, now=NOW)  # still on its way
    refused = settled(deleted, done=False, detail="not deleted on telegram: message can't be deleted")
    assert (refused.action, refused.state) == (A.DELETE_FAILED, S.DELETED)
    again = decide(
        refused, Command(A.DELETE, by="rina", reason="spam", by_approver=True), four_eyes=False, now=NOW
    )
    assert moderation_job(again, "ib1", 1, NOW) is not None
    reopened = decide(refused, Command(A.REOPEN, by="rina"), four_eyes=False, now=NOW)
    assert reopened.state == S.NEW
    assert moderation_job(reopened, "ib1", 1, NOW) is None  # Telegram never hid it


def test_a_refused_delete_of_a_comment_hidden_there_is_shown_again_on_reopen() -> None:
    hidden_there = settled(hidden("facebook"))
    deleted = decide(
        hidden_there,
        Command(A.DELETE, by="rina", reason="ancaman", by_approver=True),
        four_eyes=False,
        now=NOW,
    )
    refused = settled(deleted, done=False, detail="not deleted on facebook: (#200) Permissions error")
    reopened = decide(refused, Command(A.REOPEN, by="rina"), four_eyes=False, now=NOW)
    job = moderation_job(reopened, "ib1", 1, NOW)
    assert job is not None
    assert job.purpose == "unhide"


@pytest.mark.parametrize(
    "platform", ["x", "threads", "mastodon", "bluesky", "linkedin", "whatsapp", "tiktok"]
)
def test_a_delete_where_the_platform_cannot_is_refused_through_the_catalog(platform: str) -> None:
    with pytest.raises(NotOnPlatform, match="cannot delete a citizen's comment") as refused:
        decide(
            entry(platform),
            Command(A.DELETE, by="rina", reason="spam", by_approver=True),
            four_eyes=False,
            now=NOW,
        )
    assert refused.value.status == 422
    assert "tidak bisa menghapus" in refused.value.said.in_("id")
