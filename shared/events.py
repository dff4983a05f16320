"""The event contracts carried on Warta's Kafka topics.

Every event is a frozen pydantic model with a literal ``event_type`` and a ``schema_version``.
Instants are timezone-aware and normalised to UTC; a naive datetime is refused, because an
instant without an offset is ambiguous across WIB/WITA/WIT. ``shared.codec`` turns them into
bytes and back.

Topic keys: every topic is keyed by content id except the scheduler's internal
``schedule.commands`` (keyed by channel, so one worker owns a channel's plan, gaps and caps).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2200, 1, 1, tzinfo=UTC)
"""Every instant on a topic lies in [EARLIEST_INSTANT, LATEST_INSTANT): far enough from
datetime's own limits (years 1 and 9999) that converting it to UTC or adding days, weeks or a
year to it while planning never overflows, and wide enough for any real schedule. A record
outside fails validation (``shared.codec.InvalidEvent``) instead of raising OverflowError in a
consumer later."""


def instant_range_problem(value: datetime) -> str | None:
    """Why an aware ``value`` cannot be an instant on a topic, or None. Comparing aware datetimes
    never overflows, unlike converting one near year 1 or 9999 to UTC."""
    if EARLIEST_INSTANT <= value < LATEST_INSTANT:
        return None
    return (
        f"must lie between {EARLIEST_INSTANT:%Y-%m-%d} and {LATEST_INSTANT:%Y-%m-%d} (UTC); "
        f"{value.isoformat()} does not"
    )


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a UTC offset, e.g. 2026-11-27T08:00:00+08:00")
    if (problem := instant_range_problem(value)) is not None:
        raise ValueError(problem)
    return value.astimezone(UTC)


Instant = Annotated[datetime, AfterValidator(_utc)]
"""A datetime that must carry an offset; stored in UTC."""

Identifier = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@\-]+$")]

MAX_TAGS = 10
TAG_MAX_LENGTH = 40
Tag = Annotated[str, Field(min_length=1, max_length=TAG_MAX_LENGTH, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
"""A label the press office compares reach by (``gubernur``, ``wakil-gubernur``, ``banjir``): a
lowercase slug, so ``Gubernur`` and ``gubernur`` can never split one leader's figures in two."""


def _distinct_tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    # A tag given twice would count the item twice in that tag's figures.
    if len(set(tags)) != len(tags):
        raise ValueError("tags must be distinct")
    return tags


Tags = Annotated[
    tuple[Tag, ...],
    Field(max_length=MAX_TAGS, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_distinct_tags),
]
"""An item's tags: at most ``MAX_TAGS`` distinct slugs (none by default)."""


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Priority(StrEnum):
    URGENT = "urgent"  # as soon as allowed: within 10 minutes
    NORMAL = "normal"  # news: loses value while it waits
    EVERGREEN = "evergreen"  # keeps its value; the slot is chosen for engagement only


class Media(Frozen):
    url: str = Field(min_length=1, max_length=2048)
    type: str = Field(min_length=3, max_length=100, description="MIME type, e.g. image/jpeg")
    alt: str | None = Field(default=None, max_length=1500)
    size_bytes: int | None = Field(default=None, ge=0)
    duration_seconds: float | None = Field(default=None, ge=0)


class Poll(Frozen):
    question: str = Field(min_length=1, max_length=300)
    options: tuple[str, ...] = Field(min_length=2, max_length=12)
    duration_minutes: int = Field(ge=5, le=10080)


class Content(Frozen):
    """What one channel posts: the base content with that channel's variant merged over it."""

    text: str | None = None
    link: str | None = None
    media: tuple[Media, ...] = ()
    poll: Poll | None = None


class Approval(Frozen):
    approved_by: Identifier
    approved_at: Instant


class ChannelVariant(Frozen):
    channel: Identifier
    content: Content


class _Event(Frozen):
    schema_version: Literal[1] = 1
    event_id: Identifier
    occurred_at: Instant


class ContentApproved(_Event):
    """An approved item accepted by ingest (topic ``content.approved``, key = content id)."""

    event_type: Literal["content.approved"] = "content.approved"
    content_id: Identifier
    external_ref: str | None = Field(default=None, max_length=200)
    topic_key: Identifier | None = None
    priority: Priority = Priority.NORMAL
    not_before: Instant | None = None
    deadline: Instant | None = None
    # Hours for the item's value to halve while it waits (None: its priority's default, 12 h for
    # normal news); the scheduler weighs later slots by it (design.md, "Choosing the slot").
    freshness_half_life_hours: float | None = Field(default=None, gt=0, le=8760)
    author: Identifier
    approval: Approval
    submitted_by: Identifier
    variants: tuple[ChannelVariant, ...] = Field(min_length=1)
    # The client's Idempotency-Key and a hash of its request body: ingest rebuilds its
    # idempotency table from this topic, so keys survive a restart.
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_sha256: str | None = Field(default=None, max_length=64)
    draft_id: Identifier | None = None
    # The W3C traceparent of the item's trace (shared/tracing.py): it waits with the job, as a
    # record header would not. None while tracing is off.
    traceparent: str | None = Field(default=None, max_length=128)
    # Records written before tags existed carry none and read as ().
    tags: Tags = ()


class ControlAction(StrEnum):
    WITHDRAW = "withdraw"
    SUPERSEDE = "supersede"
    PAUSE = "pause"
    RESUME = "resume"
    # The account of the named channels was connected again (its credential works): jobs parked
    # for re-authorisation are re-planned; an operator's pause stays.
    RECONNECTED = "reconnected"


class ControlIssued(_Event):
    """An operator's or the system's command (topic ``content.control``).

    withdraw/supersede name a content id; pause/resume name channels (empty = all channels);
    reconnected names the channels whose account was re-connected.
    """

    event_type: Literal["content.control"] = "content.control"
    action: ControlAction
    content_id: Identifier | None = None
    superseded_by: Identifier | None = None
    channels: tuple[Identifier, ...] = ()
    by: Identifier
    reason: str = Field(min_length=1, max_length=1000)


class JobDue(_Event):
    """A job that is due now on one platform (topic ``publish.<platform>``)."""

    event_type: Literal["job.due"] = "job.due"
    job_id: Identifier
    content_id: Identifier
    channel: Identifier
    platform: Identifier
    attempt: int = Field(ge=1)
    slot: Instant
    content: Content
    topic_key: Identifier | None = None
    purpose: Literal["publish", "measure"] = "publish"
    # For purpose=measure: the post to measure and how long after publishing this is.
    post_id: str | None = Field(default=None, max_length=500)
    published_at: Instant | None = None
    horizon_minutes: int | None = Field(default=None, ge=0)
    # The W3C traceparent of the item's trace (shared/tracing.py): it waits with the job, as a
    # record header would not. None while tracing is off.
    traceparent: str | None = Field(default=None, max_length=128)


class OutcomeStatus(StrEnum):
    ATTEMPTED = "attempted"  # recorded before the platform is called
    PUBLISHED = "published"
    RETRY = "retry"  # temporary failure; retry_at says when the scheduler re-emits the job
    FAILED = "failed"  # permanent: the platform refused it (validation, duplicate)
    NEEDS_REAUTH = "needs_reauth"  # credentials expired or revoked; the job is parked
    UNCONFIRMED = "unconfirmed"  # an attempt whose result the platform cannot tell; an operator decides
    DEAD = "dead"  # attempts exhausted
    # Reported by the scheduler at planning time: no allowed instant before the deadline (caps,
    # gaps, blackouts); people hear of it now, not when the deadline passes.
    UNSCHEDULABLE = "unschedulable"


class PlatformError(Frozen):
    code: str = Field(max_length=200)
    message: str = Field(max_length=4000)
    http_status: int | None = None


class PublishOutcome(_Event):
    """What happened to one attempt (topic ``publish.outcomes``, key = content id)."""

    event_type: Literal["publish.outcome"] = "publish.outcome"
    job_id: Identifier
    content_id: Identifier
    channel: Identifier
    platform: Identifier
    attempt: int = Field(ge=1)
    status: OutcomeStatus
    post_id: str | None = Field(default=None, max_length=500)
    url: str | None = Field(default=None, max_length=2048)
    retry_at: Instant | None = None
    error: PlatformError | None = None
    # When the job's first attempt was recorded, carried forward: reconciliation needs it
    # (Mastodon keeps an Idempotency-Key for 1 h).
    first_attempt_at: Instant | None = None
    # On an ``attempted`` record: until when that attempt may still be talking to the platform
    # (recorded time + the publish timeout + a margin). A new owner of the job's partition
    # (after a crash or a rebalance) does not take a lookup's "absent" for proof before then.
    lease_until: Instant | None = None
    # On an ``attempted`` record: who wrote it — the replica's transactional id and the process
    # (a new id per start). A restarted replica knows its own dead predecessor's attempts by them
    # and does not wait out their lease (services/publisher/ledger_decision.py).
    writer: str | None = Field(default=None, max_length=300)
    incarnation: str | None = Field(default=None, max_length=100)


class OperatorAction(StrEnum):
    """What a person may decide about a settled job (services.console.actions says when)."""

    RETRY = "retry"
    MARK_PUBLISHED = "mark_published"
    DISCARD = "discard"


class OperatorDecided(_Event):
    """A person settled a job: who, what, why (topic ``publish.outcomes``, key = content id).

    It travels with the outcomes so that it is applied in order with them; every reader of that
    topic applies it as the outcome it stands for (``shared.operator_decisions``) and the audit
    trail reads its fields.
    """

    event_type: Literal["operator.decided"] = "operator.decided"
    job_id: Identifier
    content_id: Identifier
    channel: Identifier
    platform: Identifier
    attempt: int = Field(ge=1)  # the job's attempt when decided: earlier ones are stale
    actor: str = Field(min_length=1, max_length=200)
    action: OperatorAction
    reason: str = Field(min_length=1, max_length=4000)
    url: str | None = Field(default=None, max_length=2048)  # mark_published: where the post is
    # What the person judged: the job's state and attempt (``shared.operator_decisions``). Applied
    # only while the job still stands there, so of two decisions taken on the same view of a job
    # (two consoles at once) only the first in the log takes effect. None: older records.
    judged: str | None = Field(default=None, max_length=400)


class EngagementObserved(_Event):
    """Cumulative engagement of one post at a horizon (topic ``engagement.observed``)."""

    event_type: Literal["engagement.observed"] = "engagement.observed"
    job_id: Identifier
    content_id: Identifier
    channel: Identifier
    platform: Identifier
    published_at: Instant
    horizon_minutes: int = Field(ge=1)
    reactions: int = Field(ge=0)
    comments: int = Field(ge=0)
    shares: int = Field(ge=0)
    reach: int | None = Field(default=None, ge=0)


class JobState(StrEnum):
    WAITING = "waiting"  # for a higher-ranked channel of its group to post the item first
    SCHEDULED = "scheduled"
    DUE = "due"
    ATTEMPTED = "attempted"
    PUBLISHED = "published"
    RETRYING = "retrying"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    NEEDS_REAUTH = "needs_reauth"
    DEAD = "dead"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"
    PAUSED = "paused"
    UNSCHEDULABLE = "unschedulable"


class SlotExplanation(Frozen):
    chosen: Instant | None = None
    expected_engagement: float | None = None
    runner_up: Instant | None = None
    runner_up_engagement: float | None = None
    binding_constraint: str | None = None
    reason: str = Field(max_length=2000)


class JobPlanned(_Event):
    """The plan's view of one job (compacted topic ``schedule.jobs``, key = job id).

    The scheduler writes one on every state change; ingest materialises them for status views.
    """

    event_type: Literal["job.planned"] = "job.planned"
    job_id: Identifier
    content_id: Identifier
    channel: Identifier
    platform: Identifier
    state: JobState
    slot: Instant | None = None
    explanation: SlotExplanation | None = None
    superseded_by: Identifier | None = None
    attempt: int = Field(default=1, ge=1)
    priority: Priority = Priority.NORMAL
    arrived_at: Instant
    approved_at: Instant
    not_before: Instant | None = None
    deadline: Instant | None = None
    # Hours for the item's value to halve while it waits (None: its priority's default, 12 h for
    # normal news); the scheduler weighs later slots by it (design.md, "Choosing the slot").
    freshness_half_life_hours: float | None = Field(default=None, gt=0, le=8760)
    topic_key: Identifier | None = None
    content: Content
    post_id: str | None = Field(default=None, max_length=500)
    url: str | None = Field(default=None, max_length=2048)
    published_at: Instant | None = None
    measure_at: tuple[Instant, ...] = ()
    last_error: PlatformError | None = None
    note: str | None = Field(default=None, max_length=2000)
    # Channels of the same group that must post this item before this job may be planned.
    waits_for: tuple[Identifier, ...] = ()
    # The W3C traceparent of the item's trace (shared/tracing.py): it waits with the job, as a
    # record header would not. None while tracing is off.
    traceparent: str | None = Field(default=None, max_length=128)


class ChannelStateRecorded(_Event):
    """A channel's scheduler state (compacted topic ``schedule.channels``, key = channel)."""

    event_type: Literal["channel.state"] = "channel.state"
    channel: Identifier
    paused: bool = False
    pause_reason: str | None = Field(default=None, max_length=1000)
    paused_by: Identifier | None = None
    needs_reauth: bool = False
    model: dict[str, object] = Field(default_factory=dict)


class DraftSubmitted(_Event):
    """A draft written by an editor, waiting for an approver (topic ``content.drafts``)."""

    event_type: Literal["draft.submitted"] = "draft.submitted"
    draft_id: Identifier
    author: Identifier
    request: dict[str, object]


class DraftApproved(_Event):
    """An approver's claim on a draft (topic ``content.drafts``, key = draft id).

    Written before the item itself: the draft's events share one partition, so the first claim
    in the log is the approval, on every ingest instance alike; a later claim is refused.
    ``content_sha256`` is the digest of the draft the approver read (its ETag).
    """

    event_type: Literal["draft.approved"] = "draft.approved"
    draft_id: Identifier
    content_id: Identifier
    approved_by: Identifier
    content_sha256: str | None = Field(default=None, max_length=64)


class IdempotencyClaimed(_Event):
    """A request's claim on its Idempotency-Key (topic ``ingest.idempotency``, key = the claim).

    The first claim of a (person, key) in the log names the item (``content_id``) and the body
    (``request_sha256``) that key stands for; every ingest instance reads the same first claim.
    """

    event_type: Literal["idempotency.claimed"] = "idempotency.claimed"
    content_id: Identifier
    person: Identifier
    idempotency_key: str = Field(min_length=1, max_length=200)
    request_sha256: str = Field(min_length=1, max_length=64)


class DeadLettered(_Event):
    """A message a consumer could not process, with the reason (topic ``publish.dead``)."""

    event_type: Literal["dead.lettered"] = "dead.lettered"
    source_topic: str
    source_partition: int | None = None
    source_offset: int | None = None
    source_key: str | None = Field(default=None, max_length=1000)
    reason: str = Field(max_length=4000)
    # Set when a consumer's handler raised (shared.dead_letters): which consumer, what error.
    consumer: str | None = Field(default=None, max_length=200)
    error_type: str | None = Field(default=None, max_length=200)
    job_id: Identifier | None = None
    content_id: Identifier | None = None
    channel: Identifier | None = None
    raw: str | None = Field(default=None, max_length=100_000)
    raw_complete: bool = False  # ``raw`` (and ``source_key``) are the record's exact bytes: replayable


PlatformRef = Annotated[str, Field(min_length=1, max_length=500)]
"""An id a platform gave (a comment, a post, an author): free-form, e.g. Bluesky's at:// URIs."""


class CommentAuthor(Frozen):
    id: PlatformRef
    name: str | None = Field(default=None, max_length=500)


class CommentObserved(_Event):
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


class InboxAction(StrEnum):
    RECEIVE = "receive"  # the comment arrived
    ASSIGN = "assign"
    DRAFT_REPLY = "draft_reply"  # a reply waiting for an approver (four eyes)
    REPLY = "reply"  # a reply that needs no approver, or an approved draft: sent to the platform
    REPLY_POSTED = "reply_posted"  # the platform took the reply (its id on the entry)
    REPLY_FAILED = "reply_failed"  # the platform refused it: the draft waits for a new approval
    REPLY_UNCONFIRMED = "reply_unconfirmed"  # the platform could not say: a person checks, then decides
    HIDE = "hide"
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


class ReplyRequested(_Event):
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


class ReplyAttempted(_Event):
    """The replier is about to call the platform for ``reply_id`` (topic ``inbox.replies``)."""

    event_type: Literal["reply.attempted"] = "reply.attempted"
    reply_id: Identifier
    key: Identifier
    attempt: int = Field(ge=1)


class ReplyStatus(StrEnum):
    POSTED = "posted"
    FAILED = "failed"  # the platform refused it; nothing was posted
    UNCONFIRMED = "unconfirmed"  # it may have been posted and the platform cannot tell: a person decides


class ReplySettled(_Event):
    """What came of a reply (topic ``inbox.replies``): posted with its id, failed, unconfirmed."""

    event_type: Literal["reply.settled"] = "reply.settled"
    reply_id: Identifier
    key: Identifier
    status: ReplyStatus
    posted_id: PlatformRef | None = None
    error: str | None = Field(default=None, max_length=2000)


class InboxChanged(_Event):
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


Event = Annotated[
    ContentApproved
    | ControlIssued
    | JobDue
    | PublishOutcome
    | OperatorDecided
    | EngagementObserved
    | JobPlanned
    | ChannelStateRecorded
    | DraftSubmitted
    | DraftApproved
    | IdempotencyClaimed
    | DeadLettered
    | CommentObserved
    | InboxChanged
    | ReplyRequested
    | ReplyAttempted
    | ReplySettled,
    Field(discriminator="event_type"),
]

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "content.approved",
        "content.control",
        "job.due",
        "publish.outcome",
        "operator.decided",
        "engagement.observed",
        "job.planned",
        "channel.state",
        "draft.submitted",
        "draft.approved",
        "idempotency.claimed",
        "dead.lettered",
        "comment.observed",
        "inbox.changed",
        "reply.requested",
        "reply.attempted",
        "reply.settled",
    }
)


JOB_ID_SEPARATOR = ":"


def job_id_for(content_id: str, channel: str) -> str:
    """A job is one item on one channel: ``<content id>:<channel>``."""
    return f"{content_id}{JOB_ID_SEPARATOR}{channel}"


def split_job_id(job_id: str) -> tuple[str, str] | None:
    """``(content_id, channel)`` of a job id, the inverse of ``job_id_for``; None if not one.

    Both parts are ``Identifier``s, which may hold the separator, so the join is ambiguous: the
    split is at the last separator. It recovers any content id, colons and all, with a channel
    that has none — channel ids name an account in configuration (``facebook-demo``), content
    ids come from press offices' own numbering, which is where colons are met.
    """
    content_id, sep, channel = job_id.rpartition(JOB_ID_SEPARATOR)
    if not (sep and content_id and channel):
        return None
    return content_id, channel
