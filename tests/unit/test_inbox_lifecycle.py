"""The inbox lifecycle: the whole transition table, the rules around it, and a random walk."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.inbox.book import InboxBook
from services.inbox.errors import ApprovalRequired, IllegalTransition
from services.inbox.lifecycle import (
    TRANSITIONS,
    Command,
    decide,
    own_names,
    received,
    requested,
    settle,
    target,
)
from shared.channels import Channel
from shared.events import (
    CommentAuthor,
    CommentObserved,
    InboxAction,
    InboxChanged,
    InboxState,
    ReplySettled,
    ReplyStatus,
)

A, S = InboxAction, InboxState
NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
COMMENT = CommentObserved(
    event_id="ib1",
    occurred_at=NOW,
    comment_id="c1",
    post_id="p1",
    channel="mastodon-demo",
    platform="mastodon",
    author=CommentAuthor(id="9", name="warga"),
    text="Kapan jembatan dibuka?",
    created_at=NOW,
    via="poll",
)

# Every (state before, action) pair: where it leads, or None when illegal. Written out in full
# so a change to the table is a change to this test too.
EXPECTED: dict[tuple[InboxState | None, InboxAction], InboxState | None] = {
    (None, A.RECEIVE): S.NEW,
    (S.NEW, A.RECEIVE): None, (S.NEW, A.ASSIGN): S.ASSIGNED, (S.NEW, A.DRAFT_REPLY): S.NEW,
    (S.NEW, A.REPLY): S.REPLYING, (S.NEW, A.REPLY_POSTED): None, (S.NEW, A.REPLY_FAILED): None, (S.NEW, A.REPLY_UNCONFIRMED): None,
    (S.NEW, A.HIDE): S.HIDDEN, (S.NEW, A.CLOSE): S.CLOSED, (S.NEW, A.REOPEN): None,
    (S.ASSIGNED, A.RECEIVE): None, (S.ASSIGNED, A.ASSIGN): S.ASSIGNED, (S.ASSIGNED, A.DRAFT_REPLY): S.ASSIGNED,
    (S.ASSIGNED, A.REPLY): S.REPLYING, (S.ASSIGNED, A.REPLY_POSTED): None, (S.ASSIGNED, A.REPLY_FAILED): None, (S.ASSIGNED, A.REPLY_UNCONFIRMED): None,
    (S.ASSIGNED, A.HIDE): S.HIDDEN, (S.ASSIGNED, A.CLOSE): S.CLOSED, (S.ASSIGNED, A.REOPEN): None,
    (S.REPLYING, A.RECEIVE): None, (S.REPLYING, A.ASSIGN): None, (S.REPLYING, A.DRAFT_REPLY): None,
    (S.REPLYING, A.REPLY): None, (S.REPLYING, A.REPLY_POSTED): S.ANSWERED, (S.REPLYING, A.REPLY_FAILED): S.NEW, (S.REPLYING, A.REPLY_UNCONFIRMED): S.NEW,
    (S.REPLYING, A.HIDE): None, (S.REPLYING, A.CLOSE): None, (S.REPLYING, A.REOPEN): None,
    (S.ANSWERED, A.RECEIVE): None, (S.ANSWERED, A.ASSIGN): None, (S.ANSWERED, A.DRAFT_REPLY): S.ANSWERED,
    (S.ANSWERED, A.REPLY): S.REPLYING, (S.ANSWERED, A.REPLY_POSTED): None, (S.ANSWERED, A.REPLY_FAILED): None, (S.ANSWERED, A.REPLY_UNCONFIRMED): None,
    (S.ANSWERED, A.HIDE): S.HIDDEN, (S.ANSWERED, A.CLOSE): S.CLOSED, (S.ANSWERED, A.REOPEN): None,
    (S.HIDDEN, A.RECEIVE): None, (S.HIDDEN, A.ASSIGN): None, (S.HIDDEN, A.DRAFT_REPLY): None,
    (S.HIDDEN, A.REPLY): None, (S.HIDDEN, A.REPLY_POSTED): None, (S.HIDDEN, A.REPLY_FAILED): None, (S.HIDDEN, A.REPLY_UNCONFIRMED): None,
    (S.HIDDEN, A.HIDE): None, (S.HIDDEN, A.CLOSE): S.CLOSED, (S.HIDDEN, A.REOPEN): S.NEW,
    (S.CLOSED, A.RECEIVE): None, (S.CLOSED, A.ASSIGN): None, (S.CLOSED, A.DRAFT_REPLY): None,
    (S.CLOSED, A.REPLY): None, (S.CLOSED, A.REPLY_POSTED): None, (S.CLOSED, A.REPLY_FAILED): None, (S.CLOSED, A.REPLY_UNCONFIRMED): None,
    (S.CLOSED, A.HIDE): None, (S.CLOSED, A.CLOSE): None, (S.CLOSED, A.REOPEN): S.NEW,
    # The publisher's word on a hide on the platform moves nothing, except mid-reply (refused).
    (S.NEW, A.HIDDEN_ON_PLATFORM): S.NEW, (S.NEW, A.HIDE_FAILED): S.NEW,
    (S.ASSIGNED, A.HIDDEN_ON_PLATFORM): S.ASSIGNED, (S.ASSIGNED, A.HIDE_FAILED): S.ASSIGNED,
    (S.REPLYING, A.HIDDEN_ON_PLATFORM): None, (S.REPLYING, A.HIDE_FAILED): None,
    (S.ANSWERED, A.HIDDEN_ON_PLATFORM): S.ANSWERED, (S.ANSWERED, A.HIDE_FAILED): S.ANSWERED,
    (S.HIDDEN, A.HIDDEN_ON_PLATFORM): S.HIDDEN, (S.HIDDEN, A.HIDE_FAILED): S.HIDDEN,
    (S.CLOSED, A.HIDDEN_ON_PLATFORM): S.CLOSED, (S.CLOSED, A.HIDE_FAILED): S.CLOSED,
    # Delete: from any state but mid-reply; from deleted again (or reopened) only when the
    # platform refused the delete, a rule ``decide`` adds (test_inbox_moderation_jobs.py).
    (S.NEW, A.DELETE): S.DELETED, (S.ASSIGNED, A.DELETE): S.DELETED, (S.REPLYING, A.DELETE): None,
    (S.ANSWERED, A.DELETE): S.DELETED, (S.HIDDEN, A.DELETE): S.DELETED, (S.CLOSED, A.DELETE): S.DELETED,
    (S.DELETED, A.DELETE): S.DELETED, (S.DELETED, A.REOPEN): S.NEW,
    (S.DELETED, A.RECEIVE): None, (S.DELETED, A.ASSIGN): None, (S.DELETED, A.DRAFT_REPLY): None,
    (S.DELETED, A.REPLY): None, (S.DELETED, A.REPLY_POSTED): None, (S.DELETED, A.REPLY_FAILED): None,
    (S.DELETED, A.REPLY_UNCONFIRMED): None, (S.DELETED, A.HIDE): None, (S.DELETED, A.CLOSE): None,
    (S.DELETED, A.HIDDEN_ON_PLATFORM): S.DELETED, (S.DELETED, A.HIDE_FAILED): S.DELETED,
}  # fmt: skip
# The publisher's word on an un-hide or a delete moves nothing either, except mid-reply.
EXPECTED |= {
    (state, action): None if state == S.REPLYING else state
    for state in (S.NEW, S.ASSIGNED, S.REPLYING, S.ANSWERED, S.HIDDEN, S.CLOSED, S.DELETED)
    for action in (A.SHOWN_ON_PLATFORM, A.UNHIDE_FAILED, A.DELETED_ON_PLATFORM, A.DELETE_FAILED)
}


@pytest.mark.parametrize(("pair", "after"), EXPECTED.items(), ids=lambda v: str(v))
def test_the_transition_table(pair: tuple[InboxState | None, InboxAction], after: InboxState | None) -> None:
    state, action = pair
    if after is None:
        with pytest.raises(IllegalTransition):
            target(state, action)
    else:
        assert target(state, action) == after


def test_the_table_has_no_pair_this_test_does_not_name() -> None:
    assert set(TRANSITIONS) <= set(EXPECTED)
    assert {k for k, v in EXPECTED.items() if v is not None} == set(TRANSITIONS)


def entry(state: InboxState = S.NEW, **kw: object) -> InboxChanged:
    first = received(COMMENT, None, NOW)
    assert first is not None
    return first.model_copy(update={"state": state, **kw})


def test_a_comment_is_received_once() -> None:
    first = received(COMMENT, None, NOW)
    assert first is not None
    assert (first.state, first.version, first.by) == (S.NEW, 1, "inbox")
    assert received(COMMENT, first, NOW) is None


def test_each_change_says_who_and_why_and_counts_versions() -> None:
    changed = decide(
        entry(), Command(A.ASSIGN, by="rina", assignee="yuyun", reason="humas"), four_eyes=False, now=NOW
    )
    assert (changed.state, changed.assignee, changed.by, changed.reason) == (
        S.ASSIGNED,
        "yuyun",
        "rina",
        "humas",
    )
    assert (changed.from_state, changed.version) == (S.NEW, 2)
    for action in (A.HIDE, A.CLOSE):
        with pytest.raises(IllegalTransition, match="reason"):
            decide(entry(), Command(action, by="rina"), four_eyes=False, now=NOW)
    reopened = decide(
        entry(S.CLOSED, assignee="yuyun"), Command(A.REOPEN, by="rina"), four_eyes=False, now=NOW
    )
    assert reopened.state == S.ASSIGNED  # back to whoever held it


def posted(current: InboxChanged, posted_id: str = "r1") -> InboxChanged:
    """``current`` after the replier posted its reply."""
    after = settle(current, outcome(current, ReplyStatus.POSTED, posted_id), NOW)
    assert after is not None
    return after


def outcome(current: InboxChanged, status: ReplyStatus, posted_id: str | None = None) -> ReplySettled:
    return ReplySettled(
        event_id=f"{current.event_id}.s",
        occurred_at=NOW,
        reply_id=current.event_id,
        key="ib1",
        status=status,
        posted_id=posted_id,
        error=None if status == ReplyStatus.POSTED else "refused",
    )


def test_a_reply_without_four_eyes_is_sent_at_once_and_answers_once_posted() -> None:
    sending = decide(entry(), Command(A.REPLY, by="rina", text="Besok pagi."), four_eyes=False, now=NOW)
    assert sending.state == S.REPLYING
    assert sending.reply is not None
    assert (sending.reply.text, sending.reply.approved_by) == ("Besok pagi.", "rina")
    request = requested(sending, "ib1")
    assert request is not None
    assert (request.event_id, request.comment_id, request.text) == (sending.event_id, "c1", "Besok pagi.")
    answered = posted(sending)
    assert (answered.state, answered.action, answered.by) == (S.ANSWERED, A.REPLY_POSTED, "replier")
    assert answered.reply is not None
    assert answered.reply.posted_id == "r1"
    assert requested(answered, "ib1") is None
    assert settle(answered, outcome(sending, ReplyStatus.POSTED, "r1"), NOW) is None  # a repeat


def test_nobody_acts_on_a_comment_while_its_reply_is_sent() -> None:
    sending = decide(entry(), Command(A.REPLY, by="rina", text="Besok."), four_eyes=False, now=NOW)
    for command in (
        Command(A.REPLY, by="budi", text="Lusa.", override=True),
        Command(A.CLOSE, by="budi", reason="selesai"),
        Command(A.HIDE, by="budi", reason="spam"),
        Command(A.REPLY_POSTED, by="budi"),
    ):
        with pytest.raises(IllegalTransition):
            decide(sending, command, four_eyes=False, now=NOW)


def test_a_second_answer_that_fails_leaves_the_comment_answered() -> None:
    first = posted(decide(entry(), Command(A.REPLY, by="rina", text="Besok."), four_eyes=False, now=NOW))
    second = decide(
        first, Command(A.REPLY, by="rina", text="Ralat.", override=True), four_eyes=False, now=NOW
    )
    failed = settle(second, outcome(second, ReplyStatus.FAILED), NOW)
    assert failed is not None
    assert failed.state == S.ANSWERED


def test_a_refused_reply_returns_as_a_draft_waiting_for_approval() -> None:
    held = entry(S.ASSIGNED, assignee="budi")
    sending = decide(held, Command(A.REPLY, by="rina", text="Besok."), four_eyes=False, now=NOW)
    failed = settle(sending, outcome(sending, ReplyStatus.FAILED), NOW)
    assert failed is not None
    assert (failed.state, failed.action, failed.reason) == (S.ASSIGNED, A.REPLY_FAILED, "refused")
    assert failed.reply is not None
    assert (failed.reply.text, failed.reply.approved_by) == ("Besok.", None)
    unsure = settle(sending, outcome(sending, ReplyStatus.UNCONFIRMED), NOW)
    assert unsure is not None  # back to a person, who checks the platform, then approves again
    assert (unsure.state, unsure.action) == (S.ASSIGNED, A.REPLY_UNCONFIRMED)
    assert unsure.reason.startswith("check the platform")
    assert unsure.reply is not None
    assert unsure.reply.approved_by is None
    stale = outcome(sending, ReplyStatus.POSTED, "r9").model_copy(update={"reply_id": "ib1.99"})
    assert settle(sending, stale, NOW) is None  # another reply's outcome


def test_the_accounts_own_replies_are_not_comments() -> None:
    own = COMMENT.model_copy(update={"author": CommentAuthor(id="1", name="demo")})
    assert received(own, None, NOW, own_names={"demo"}) is None
    handle = COMMENT.model_copy(update={"author": CommentAuthor(id="UCx", name="@demo")})
    assert received(handle, None, NOW, own_names={"demo"}) is None
    assert received(COMMENT, None, NOW, own_names={"demo"}) is not None
    page = Channel(id="fb", platform="facebook", account="demo", options={"page_id": "1010"})
    assert own_names(page) == {"demo", "1010"}
    sky = Channel(id="b", platform="bluesky", account="demo", options={"did": "did:plc:x"})
    assert own_names(sky) == {"demo", "demo.bsky.social", "did:plc:x"}
    from_page = COMMENT.model_copy(update={"author": CommentAuthor(id="1010", name="Biro Humas")})
    assert received(from_page, None, NOW, own_names=own_names(page)) is None


def test_four_eyes_a_draft_then_another_approver() -> None:
    draft = decide(entry(), Command(A.DRAFT_REPLY, by="rina", text="Besok."), four_eyes=True, now=NOW)
    assert draft.state == S.NEW
    assert draft.reply is not None
    assert draft.reply.approved_by is None
    with pytest.raises(ApprovalRequired, match="draft"):
        decide(
            entry(), Command(A.REPLY, by="rina", text="Langsung", by_approver=True), four_eyes=True, now=NOW
        )
    with pytest.raises(ApprovalRequired, match="wrote this draft"):
        decide(draft, Command(A.REPLY, by="rina", by_approver=True), four_eyes=True, now=NOW)
    with pytest.raises(ApprovalRequired, match="approver role"):
        decide(draft, Command(A.REPLY, by="budi"), four_eyes=True, now=NOW)
    sent = decide(draft, Command(A.REPLY, by="yuyun", by_approver=True), four_eyes=True, now=NOW)
    assert sent.state == S.REPLYING
    assert sent.reply is not None
    assert (sent.reply.drafted_by, sent.reply.approved_by, sent.reply.text) == ("rina", "yuyun", "Besok.")
    with pytest.raises(IllegalTransition, match="no draft"):
        decide(
            posted(sent),
            Command(A.REPLY, by="yuyun", by_approver=True, override=True),
            four_eyes=True,
            now=NOW,
        )


def test_an_approval_sends_only_the_draft_its_approver_read() -> None:
    """Rina replaces her draft after Yuyun has read it: Yuyun's approval of what she read is
    refused, not turned into an approval of text she never saw."""
    read = decide(
        entry(), Command(A.DRAFT_REPLY, by="rina", text="Terima kasih, Budi."), four_eyes=True, now=NOW
    )
    assert read.reply is not None
    later = NOW.replace(minute=5)
    replaced = decide(read, Command(A.DRAFT_REPLY, by="rina", text="Teks lain."), four_eyes=True, now=later)
    approve = Command(A.REPLY, by="yuyun", by_approver=True, read_draft_at=read.reply.drafted_at)
    with pytest.raises(IllegalTransition, match="replaced the draft"):
        decide(replaced, approve, four_eyes=True, now=later)
    sent = decide(read, approve, four_eyes=True, now=later)
    assert sent.reply is not None
    assert sent.reply.text == "Terima kasih, Budi."


def test_a_second_answer_needs_an_override() -> None:
    answered = posted(decide(entry(), Command(A.REPLY, by="rina", text="Besok."), four_eyes=False, now=NOW))
    with pytest.raises(IllegalTransition, match="override"):
        decide(answered, Command(A.REPLY, by="budi", text="Lusa."), four_eyes=False, now=NOW)
    again = decide(
        answered, Command(A.REPLY, by="budi", text="Ralat: lusa.", override=True), four_eyes=False, now=NOW
    )
    assert again.reply is not None
    assert again.reply.text == "Ralat: lusa."


def test_the_book_keeps_the_latest_version_only() -> None:
    book = InboxBook()
    first = entry()
    second = decide(first, Command(A.CLOSE, by="rina", reason="spam"), four_eyes=False, now=NOW)
    assert book.apply(second)
    assert not book.apply(first)  # a replayed older change does not win
    assert not book.apply(second)
    assert book.select(state=S.CLOSED) == [second]
    assert book.select(state=S.NEW) == []


commands = st.builds(
    Command,
    action=st.sampled_from([a for a in A if a != A.RECEIVE]),
    by=st.sampled_from(["rina", "yuyun"]),
    reason=st.sampled_from(["", "alasan"]),
    assignee=st.sampled_from([None, "budi"]),
    text=st.sampled_from([None, "Jawaban"]),
    override=st.booleans(),
    by_approver=st.booleans(),
)


@given(st.lists(st.one_of(commands, st.sampled_from(list(ReplyStatus))), max_size=25), st.booleans())
def test_any_sequence_of_commands_stays_inside_the_table(
    script: list[Command | ReplyStatus], four_eyes: bool
) -> None:
    current = entry()
    for command in script:
        if isinstance(command, ReplyStatus):  # the replier's outcome of the pending reply
            settled = settle(current, outcome(current, command, "r1"), NOW)
            assert (settled is not None) == (current.state == S.REPLYING)
            current = settled or current
            continue
        try:
            after = decide(current, command, four_eyes=four_eyes, now=NOW)
        except IllegalTransition:
            continue
        assert (current.state, command.action) in TRANSITIONS
        assert after.version == current.version + 1
        assert after.from_state == current.state
        assert command.action not in (A.REPLY_POSTED, A.REPLY_FAILED, A.REPLY_UNCONFIRMED)  # the replier's
        if after.state == S.REPLYING:
            assert after.reply is not None
            assert after.reply.approved_by is not None
            if four_eyes:
                assert after.reply.approved_by != after.reply.drafted_by
        current = after


@pytest.mark.parametrize(
    ("platform", "account", "options", "author"),
    [
        # Each as the platform's listing names the account's own reply (services/inbox/parsing.py).
        ("mastodon", "humas", {}, CommentAuthor(id="109", name="humas")),
        ("mastodon", "@humas@kota.social", {}, CommentAuthor(id="109", name="humas")),
        ("mastodon", "humas", {"account_id": "109"}, CommentAuthor(id="109")),
        ("linkedin", "humas", {"author": "urn:li:organization:5"}, CommentAuthor(id="urn:li:organization:5")),
        ("linkedin", "urn:li:person:abc", {}, CommentAuthor(id="urn:li:person:abc")),
        ("x", "humas", {"username": "@humas_kota"}, CommentAuthor(id="1001", name="humas_kota")),
        ("x", "humas", {"user_id": "1001"}, CommentAuthor(id="1001", name="other_name")),
        ("youtube", "Humas Kota", {}, CommentAuthor(id="UCx", name="Humas Kota")),
        ("youtube", "humas", {"channel_id": "UCx"}, CommentAuthor(id="UCx", name="Humas Kota")),
        ("facebook", "humas", {"page_id": "1010"}, CommentAuthor(id="1010", name="Biro Humas")),
        ("instagram", "humas", {"ig_user_id": "1784"}, CommentAuthor(id="1784", name="humas.kota")),
        ("instagram", "humas.kota", {"ig_user_id": "1784"}, CommentAuthor(id="99", name="humas.kota")),
        (
            "threads",
            "humas.kota",
            {"threads_user_id": "27"},
            CommentAuthor(id="humas.kota", name="humas.kota"),
        ),
        ("bluesky", "humas", {}, CommentAuthor(id="did:plc:z", name="humas.bsky.social")),
        (
            "bluesky",
            "humas.kota.id",
            {"did": "did:plc:z"},
            CommentAuthor(id="did:plc:z", name="x.bsky.social"),
        ),
        ("telegram", "humas", {"chat_id": "@humas"}, CommentAuthor(id="-100123", name="humas")),
    ],
)
def test_each_platforms_own_reply_is_the_channels_own(
    platform: str, account: str, options: dict[str, str], author: CommentAuthor
) -> None:
    channel = Channel(id="c", platform=platform, account=account, options=options)
    mine = COMMENT.model_copy(update={"author": author})
    assert received(mine, None, NOW, own_names=own_names(channel)) is None
    citizen = COMMENT.model_copy(update={"author": CommentAuthor(id="urn:li:person:warga1")})
    assert received(citizen, None, NOW, own_names=own_names(channel)) is not None  # LinkedIn names none
