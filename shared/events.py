"""The event contracts carried on Warta's Kafka topics, and the union ``Event`` of them all.

Every event is a frozen pydantic model with a literal ``event_type`` and a ``schema_version``.
This module holds the content's, the jobs' and the plan's events; the fields they are built from
(instants, identifiers, content) are in ``shared.event_fields`` and the inbox's events in
``shared.inbox_events``, ingest's own records (drafts, idempotency claims) in
``shared.ingest_events``, all re-exported here so that ``shared.events`` stays the one name
every reader imports events by. ``shared.codec`` turns them into bytes and back.

Topic keys: every topic is keyed by content id except the scheduler's internal
``schedule.commands`` (keyed by channel, so one worker owns a channel's plan, gaps and caps).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, get_args

from pydantic import Field

from shared.channel_events import ChannelStateRecorded, TopicVersion, Withdrawal
from shared.complaint_events import ComplaintAction, ComplaintChanged, ComplaintState
from shared.event_fields import (
    EARLIEST_INSTANT,
    LATEST_INSTANT,
    MAX_TAGS,
    TAG_MAX_LENGTH,
    Approval,
    ChannelVariant,
    Content,
    Count,
    EventBase,
    Frozen,
    Identifier,
    Instant,
    Media,
    Poll,
    Priority,
    Tag,
    Tags,
    instant_range_problem,
)
from shared.inbox_events import (
    MODERATIONS,
    CommentAuthor,
    CommentObserved,
    CommentSpikeStarted,
    InboxAction,
    InboxChanged,
    InboxState,
    Moderation,
    PlatformHide,
    PlatformRef,
    PlatformWant,
    ReplyAttempted,
    ReplyDraft,
    ReplyRequested,
    ReplySettled,
    ReplyStatus,
    ReplyTarget,
)
from shared.ingest_events import DraftApproved, DraftSubmitted, IdempotencyClaimed
from shared.model_events import ExpectationSnapshotted
from shared.poll_events import PollOptionResult, PollResultsObserved
from shared.report_events import ReportDelivered
from shared.template_events import ReplyTemplateDeleted, ReplyTemplateSaved

# The names re-exported from the modules above, so that ``shared.events`` stays the one name
# every reader imports events by (the events defined here are public as they stand).
__all__ = [
    "EARLIEST_INSTANT",
    "LATEST_INSTANT",
    "MAX_TAGS",
    "MODERATIONS",
    "TAG_MAX_LENGTH",
    "Approval",
    "ChannelStateRecorded",
    "ChannelVariant",
    "CommentAuthor",
    "CommentObserved",
    "CommentSpikeStarted",
    "ComplaintAction",
    "ComplaintChanged",
    "ComplaintState",
    "Content",
    "DraftApproved",
    "DraftSubmitted",
    "EventBase",
    "ExpectationSnapshotted",
    "Frozen",
    "IdempotencyClaimed",
    "Identifier",
    "InboxAction",
    "InboxChanged",
    "InboxState",
    "Instant",
    "Media",
    "Moderation",
    "PlatformHide",
    "PlatformRef",
    "PlatformWant",
    "Poll",
    "PollOptionResult",
    "PollResultsObserved",
    "Priority",
    "ReplyAttempted",
    "ReplyDraft",
    "ReplyRequested",
    "ReplySettled",
    "ReplyStatus",
    "ReplyTarget",
    "ReplyTemplateDeleted",
    "ReplyTemplateSaved",
    "ReportDelivered",
    "Tag",
    "Tags",
    "TopicVersion",
    "instant_range_problem",
]


class ContentApproved(EventBase):
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


class ControlIssued(EventBase):
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


class JobDue(EventBase):
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
    deadline: Instant | None = None  # a post's: the publisher sends none after it (None: no limit)
    # publish: a post; measure: read a post's engagement; reply: the content's text as a reply
    # to ``reply_to`` (from the inbox, due now, with a post's exactly-once rules); hide: hide the
    # comment ``reply_to`` names on the platform (from the inbox, due now); unhide: show it
    # again; delete: delete it there (``Moderation``, the same machinery as a hide).
    purpose: Literal["publish", "measure", "reply", "hide", "unhide", "delete"] = "publish"
    reply_to: ReplyTarget | None = None
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


class PublishOutcome(EventBase):
    """What happened to one attempt (topic ``publish.outcomes``, key = content id; a reply job's
    on ``inbox.replies``, where the inbox reads it; a moderation job's too)."""

    event_type: Literal["publish.outcome"] = "publish.outcome"
    purpose: Literal["publish", "reply", "hide", "unhide", "delete"] = "publish"
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
    # On a ``retry``: the attempt may have reached the platform, unanswered lookups; look first.
    reconcile_first: bool = False
    # On a ``retry``: no attempt spent (our rate limit put the call off, or a posting quota refused it).
    deferred: bool = False
    # The job's first attempt's time, carried forward: reconciliation needs it (Mastodon's key lives 1 h).
    first_attempt_at: Instant | None = None
    # On an ``attempted`` record: until when that attempt may still reach the platform (its time +
    # the publish timeout + a margin); a new owner (crash, rebalance) takes no "absent" as proof before.
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


class OperatorDecided(EventBase):
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


class EngagementObserved(EventBase):
    """Cumulative engagement of one post at a horizon (topic ``engagement.observed``)."""

    event_type: Literal["engagement.observed"] = "engagement.observed"
    job_id: Identifier
    content_id: Identifier
    channel: Identifier
    platform: Identifier
    published_at: Instant
    horizon_minutes: int = Field(ge=1)
    reactions: Count
    comments: Count
    shares: Count
    reach: Count | None = None


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


class JobPlanned(EventBase):
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
    # The operator's decision that settled the job as it stands (a discard leaves it failed, as
    # the platform may have): None while the platform's own outcome stands. A retry clears it.
    decided: OperatorAction | None = None
    # Channels of the same group that must post this item before this job may be planned.
    waits_for: tuple[Identifier, ...] = ()
    # A withdrawal that met the job in a publisher's or a person's hands: ends it as it comes back.
    withdrawal: Withdrawal | None = None
    # The W3C traceparent of the item's trace (shared/tracing.py): it waits with the job, as a
    # record header would not. None while tracing is off.
    traceparent: str | None = Field(default=None, max_length=128)


class DeadLettered(EventBase):
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
    | ReplySettled
    | ReplyTemplateSaved
    | ReplyTemplateDeleted
    | CommentSpikeStarted
    | ComplaintChanged
    | ExpectationSnapshotted
    | PollResultsObserved
    | ReportDelivered,
    Field(discriminator="event_type"),
]

# Every event type the union above admits, read from its members' ``event_type`` literals.
EVENT_TYPES: frozenset[str] = frozenset(
    value
    for member in get_args(get_args(Event)[0])
    for value in get_args(member.model_fields["event_type"].annotation)
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
