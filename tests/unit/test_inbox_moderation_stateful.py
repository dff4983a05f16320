"""Hide, reopen, close, delete and reply in any order, with the publisher's jobs done or refused
by a platform that keeps the comment's state, in the order they were sent: whenever nothing is on
its way, what the entry says of the platform is what the platform shows, and it waits on nothing
(a stateful test). The jobs sent are the keeper's (``sends_moderation``): a moderation outcome that
comes while a reply is posted is not taken, and the reply's settling sends the job again.

The platform here is Facebook's model: a hide and an un-hide flip ``hidden``, a delete removes the
comment, a refusal changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.inbox.errors import IllegalTransition
from services.inbox.lifecycle import Command, decide, received, settle, settle_hide
from services.inbox.moderation_jobs import HideSettled, moderation_job, sends_moderation
from shared.events import (
    CommentAuthor,
    CommentObserved,
    InboxAction,
    InboxChanged,
    InboxState,
    JobDue,
    ReplySettled,
    ReplyStatus,
)

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
OPERATOR = (InboxAction.HIDE, InboxAction.REOPEN, InboxAction.CLOSE, InboxAction.DELETE, InboxAction.ASSIGN)


class Moderation(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        comment = CommentObserved(
            event_id="ib1", occurred_at=NOW, comment_id="c1", post_id="p1", channel="facebook-demo",
            platform="facebook", author=CommentAuthor(id="9"), text="kata kasar", created_at=NOW, via="poll",
        )  # fmt: skip
        first = received(comment, None, NOW)
        assert first is not None
        self.entry: InboxChanged = first
        self.sent: list[JobDue] = []  # the jobs on their way, oldest first
        self.hidden = False
        self.deleted = False

    @rule(action=st.sampled_from(OPERATOR))
    def operator(self, action: InboxAction) -> None:
        command = Command(action, by="rina", reason="alasan", assignee="budi", by_approver=True)
        try:
            self.entry = decide(self.entry, command, four_eyes=False, now=NOW)
        except IllegalTransition:
            return
        self._written()

    def _written(self) -> None:
        """The keeper writes the entry and sends the moderation job it must send."""
        if sends_moderation(self.entry):
            job = moderation_job(self.entry, "ib1", 1, NOW)
            assert job is not None
            self.sent.append(job)

    @rule()
    def reply(self) -> None:
        command = Command(InboxAction.REPLY, by="rina", text="Terima kasih, kami tindak lanjuti.")
        try:
            self.entry = decide(self.entry, command, four_eyes=False, now=NOW)
        except IllegalTransition:
            return

    @precondition(lambda self: self.entry.state == InboxState.REPLYING)
    @rule(status=st.sampled_from(ReplyStatus))
    def reply_settles(self, status: ReplyStatus) -> None:
        posted = "r1" if status == ReplyStatus.POSTED else None
        outcome = ReplySettled(
            event_id=f"rs{self.entry.version}", occurred_at=NOW, reply_id=self.entry.event_id, key="ib1",
            status=status, posted_id=posted, error=None if posted else "refused",
        )  # fmt: skip
        after = settle(self.entry, outcome, NOW)
        assert after is not None
        self.entry = after
        self._written()

    @precondition(lambda self: self.sent)
    @rule(done=st.booleans())
    def platform_answers(self, done: bool) -> None:
        job = self.sent.pop(0)
        if done and not self.deleted:
            self.hidden = {"hide": True, "unhide": False}.get(job.purpose, self.hidden)
            self.deleted = job.purpose == "delete"
        # A delete of a comment already gone is done too (the platform's "not found").
        said = done or (job.purpose == "delete" and self.deleted)
        after = settle_hide(self.entry, HideSettled(job.content_id, said, "publisher"), NOW)
        self.entry = after or self.entry

    @invariant()
    def the_entry_says_what_the_platform_shows(self) -> None:
        hide = self.entry.platform_hide
        if self.sent or hide is None or self.entry.state == InboxState.REPLYING:
            return
        # Nothing on its way: the entry waits on no answer from the platform.
        assert hide.status != "sending"
        if hide.status == "deleted":
            assert self.deleted
        elif hide.status == "hidden":
            assert self.hidden
            assert not self.deleted
        elif hide.status == "visible":
            assert not self.hidden
            assert not self.deleted
        if self.entry.state.value in ("new", "assigned") and not self.deleted:
            # A reopened comment is not left hidden where citizens look, unless the platform
            # refused to show it again (and the entry says so).
            assert not self.hidden or (hide.want, hide.status) == ("visible", "failed")


TestModeration = Moderation.TestCase
TestModeration.settings = settings(max_examples=300, stateful_step_count=25, deadline=None)
