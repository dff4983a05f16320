"""The inbox's events: citizens' comments on Warta's posts and the replies to them.

Topics ``comments.observed``, ``inbox.items``, ``inbox.changes``, ``inbox.replies`` (the
publisher's outcomes of reply and hide jobs) and ``inbox.spikes``; the discriminated union of every event
is ``shared.events.Event``. A reply itself travels as a ``JobDue`` with ``purpose="reply"`` and
its ``ReplyTarget``, on the publisher's own topic.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from shared.event_fields import EventBase, Frozen, Identifier, Instant

PlatformRef = Annotated[str, Field(min_length=1, max_length=500)]
"""An id a platform gave (a comment, a post, an author): free-form, e.g. Bluesky's at:// URIs."""


class CommentAuthor(Frozen):
    id: PlatformRef
    name: str | None = Field(default=None, max_length=500)


class CommentObserved(EventBase):
    """A citizen's comment on a post Warta published, or a message to one of its accounts
    (topic ``comments.observed``, key = post id; a WhatsApp message's "post" is its sender).

    ``event_id`` is derived from (channel, comment id): the same comment seen again, by a poll
    and a webhook or by two polls, is the same event, and the inbox counts it once.
    """

    event_type: Literal["comment.observed"] = "comment.observed"
    comment_id: PlatformRef
    post_id: PlatformRef
    parent_id: PlatformRef | None = None  # the comment it answers; None for a direct comment
    channel: Identifier
    platform: Identifier
    content_id: Identifier | None = None  # the Warta item the post carries, when known
    job_id: Identifier | None = None
    author: CommentAuthor
    text: str = Field(max_length=20_000)
    created_at: Instant
    via: Literal["poll", "webhook"]
    url: str | None = Field(default=None, max_length=2048)


class InboxState(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    REPLYING = "replying"  # an approved reply on its way to the platform
    ANSWERED = "answered"  # the platform has the reply
    HIDDEN = "hidden"
    CLOSED = "closed"
    DELETED = "deleted"  # deleted on the platform, with a reason (``PlatformHide`` says whether it is gone)


class InboxAction(StrEnum):
    RECEIVE = "receive"  # the comment arrived
    ASSIGN = "assign"
    DRAFT_REPLY = "draft_reply"  # a reply waiting for an approver (four eyes)
    REPLY = "reply"  # a reply that needs no approver, or an approved draft: sent to the platform
    REPLY_POSTED = "reply_posted"  # the platform took the reply (its id on the entry)
    REPLY_FAILED = "reply_failed"  # the platform refused it: the draft waits for a new approval
    REPLY_UNCONFIRMED = "reply_unconfirmed"  # the platform could not say: a person checks, then decides
    HIDE = "hide"  # out of the team's list; on the platform too where it allows (``PlatformHide``)
    HIDDEN_ON_PLATFORM = "hidden_on_platform"  # the publisher hid it on the platform
    HIDE_FAILED = "hide_failed"  # the platform did not hide it: the reason is on the entry
    SHOWN_ON_PLATFORM = "shown_on_platform"  # reopened: the publisher showed it again there
    UNHIDE_FAILED = "unhide_failed"  # the platform kept it hidden: the reason is on the entry
    DELETE = "delete"  # deleted on the platform (only where its API deletes a citizen's comment)
    DELETED_ON_PLATFORM = "deleted_on_platform"  # the publisher deleted it (or found it gone)
    DELETE_FAILED = "delete_failed"  # the platform did not delete it: the reason is on the entry
    CLOSE = "close"
    REOPEN = "reopen"


class ReplyDraft(Frozen):
    text: str = Field(min_length=1, max_length=10_000)
    drafted_by: Identifier
    drafted_at: Instant
    approved_by: Identifier | None = None
    approved_at: Instant | None = None
    posted_id: PlatformRef | None = None  # the reply's id on the platform, once posted
    posted_at: Instant | None = None


Moderation = Literal["hide", "unhide", "delete"]
"""What a moderation job asks the platform to do with a citizen's comment (``JobDue.purpose``)."""

MODERATIONS: tuple[Moderation, ...] = ("hide", "unhide", "delete")


def moderation_of(purpose: str) -> Moderation | None:
    """The moderation a job's ``purpose`` asks for, or None for a post, a measure or a reply."""
    return next((m for m in MODERATIONS if m == purpose), None)


PlatformWant = Literal["hidden", "visible", "deleted"]
"""What the inbox wants citizens to see of a comment on the platform (``PlatformHide.want``)."""


class PlatformHide(Frozen):
    """What the inbox last asked the platform to do with the comment, and how it went.

    ``want``: ``hidden`` (a hide), ``visible`` (a reopen of a comment hidden there) or
    ``deleted`` (a delete). ``sending``: its job is on its way (``request_id``: the asking
    change's id, the job's content id); ``hidden`` / ``visible`` / ``deleted``: the platform did
    it; ``failed``: it did not (``detail`` says why); ``local``: the platform cannot hide
    comments, so only the team's list hides it."""

    status: Literal["sending", "hidden", "visible", "deleted", "failed", "local"]
    request_id: Identifier | None = None
    detail: str = Field(default="", max_length=2000)
    want: PlatformWant = "hidden"

    @property
    def on_platform(self) -> bool:
        """Whether the comment is hidden (or gone) where citizens look, as far as the inbox knows."""
        return self.status in ("hidden", "deleted")


class ReplyRequested(EventBase):
    """An approved reply to post on the platform (topic ``inbox.replies``, key = comment key).

    ``event_id`` is the reply's id: the id of the inbox change that approved it. The replier
    posts each id at most once (``ReplyAttempted`` before the call, ``ReplySettled`` after).
    """

    event_type: Literal["reply.requested"] = "reply.requested"
    key: Identifier  # the comment's inbox key
    channel: Identifier
    platform: Identifier
    comment_id: PlatformRef  # the comment answered
    post_id: PlatformRef
    # The comment ``comment_id`` answers, if any: where a platform threads one level deep
    # (Instagram, YouTube), a reply to a reply goes under this top-level comment.
    parent_id: PlatformRef | None = None
    text: str = Field(min_length=1, max_length=10_000)
    approved_by: Identifier


class ReplyTarget(Frozen):
    """What a reply job answers (``JobDue.reply_to``): the publisher posts the job's text as a
    reply to ``comment_id`` under ``post_id``, and the inbox knows its entry by ``key``. A hide
    job names the comment to hide the same way."""

    key: Identifier  # the comment's inbox key
    comment_id: PlatformRef
    post_id: PlatformRef
    # Where a platform threads one level deep (Instagram, YouTube, LinkedIn), a reply to a reply
    # goes under this top-level comment.
    parent_id: PlatformRef | None = None
    approved_by: Identifier  # who approved the reply; on a hide job, who hid the comment


class ReplyAttempted(EventBase):
    """The replier is about to call the platform for ``reply_id`` (topic ``inbox.replies``)."""

    event_type: Literal["reply.attempted"] = "reply.attempted"
    reply_id: Identifier
    key: Identifier
    attempt: int = Field(ge=1)


class ReplyStatus(StrEnum):
    POSTED = "posted"
    FAILED = "failed"  # the platform refused it; nothing was posted
    UNCONFIRMED = "unconfirmed"  # it may have been posted and the platform cannot tell: a person decides


class ReplySettled(EventBase):
    """What came of a reply (topic ``inbox.replies``): posted with its id, failed, unconfirmed."""

    event_type: Literal["reply.settled"] = "reply.settled"
    reply_id: Identifier
    key: Identifier
    status: ReplyStatus
    posted_id: PlatformRef | None = None
    error: str | None = Field(default=None, max_length=2000)


class InboxChanged(EventBase):
    """One change of one comment's inbox entry, with who and why (topics ``inbox.items``,
    compacted: the latest per comment; and ``inbox.changes``, the audit trail; key = comment key).

    It carries the whole entry after the change (the comment included), so the compacted topic
    alone rebuilds the inbox.
    """

    event_type: Literal["inbox.changed"] = "inbox.changed"
    comment: CommentObserved
    version: int = Field(ge=1)  # 1 when received; +1 per change
    action: InboxAction
    from_state: InboxState | None = None
    state: InboxState
    assignee: Identifier | None = None
    reply: ReplyDraft | None = None
    by: Identifier
    reason: str = Field(default="", max_length=2000)
    channel: Identifier  # the comment's, repeated for dead letters and filters
    platform_hide: PlatformHide | None = None  # set by a hide: is it hidden on the platform too?


class CommentSpikeStarted(EventBase):
    """A post's comments arrive far faster than its channel's usual rate (topic ``inbox.spikes``,
    key = channel and post). Written once per spike, in the batch of the comment that started it;
    ``event_id`` is the spike's own (channel, post, minute), so a comment delivered again after a
    crash writes the same event, and webhook receivers dedupe on it."""

    event_type: Literal["comment.spike_started"] = "comment.spike_started"
    channel: Identifier
    platform: Identifier
    post_id: PlatformRef
    content_id: Identifier | None = None
    window_s: int = Field(gt=0)
    count: int = Field(ge=0)  # comments in the window when the spike started
    baseline_per_window: float = Field(ge=0)  # the channel's usual comments per post per window
    threshold: int = Field(ge=1)
