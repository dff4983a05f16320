"""What happened to each item on each channel, materialised from the topics.

Pure: ``apply`` folds one event in; the Kafka feeder (``services.ingest.feeder``) replays every
topic from the beginning at start, so the view survives restarts. Events of different topics
arrive in any order: a channel's state follows the newest event, while a post's id and URL, once
known, stay. An event about an item the view has not met yet (a job's outcome read before the
item's ``content.approved``: the feeder reads each partition at its own pace, more so after a
restart or a broker outage) is held until the item arrives, not dropped; dropping them left
jobs shown as ``accepted`` that were long published (found by the chaos run).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from shared.events import (
    ContentApproved,
    ControlAction,
    ControlIssued,
    DraftApproved,
    DraftSubmitted,
    EngagementObserved,
    Event,
    JobPlanned,
    OutcomeStatus,
    PlatformError,
    PublishOutcome,
    SlotExplanation,
)

MAX_EARLY_EVENTS = 200_000  # ~a few MB: far more than one outage's worth of out-of-order events

_OUTCOME_STATE = {
    OutcomeStatus.ATTEMPTED: "attempted",
    OutcomeStatus.PUBLISHED: "published",
    OutcomeStatus.RETRY: "retrying",
    OutcomeStatus.FAILED: "failed",
    OutcomeStatus.NEEDS_REAUTH: "needs_reauth",
    OutcomeStatus.UNCONFIRMED: "unconfirmed",
    OutcomeStatus.DEAD: "dead",
    OutcomeStatus.UNSCHEDULABLE: "unschedulable",
}
_FINAL = frozenset({"published", "failed", "dead", "withdrawn", "superseded"})


@dataclass
class ChannelStatus:
    channel: str
    state: str = "accepted"
    updated_at: datetime | None = None
    slot: datetime | None = None
    explanation: SlotExplanation | None = None
    attempt: int = 1
    post_id: str | None = None
    url: str | None = None
    error: PlatformError | None = None
    superseded_by: str | None = None
    note: str | None = None
    engagement: dict[str, int | None] | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "state": self.state,
            "updated_at": self.updated_at,
            "slot": self.slot,
            "explanation": self.explanation.model_dump(mode="json") if self.explanation else None,
            "attempt": self.attempt,
            "post_id": self.post_id,
            "url": self.url,
            "failure": self.error.model_dump(mode="json") if self.error else None,
            "superseded_by": self.superseded_by,
            "note": self.note,
            "engagement": self.engagement,
        }


@dataclass
class ItemStatus:
    content_id: str
    accepted_at: datetime
    author: str
    approved_by: str
    priority: str
    topic_key: str | None
    external_ref: str | None
    not_before: datetime | None
    deadline: datetime | None
    channels: dict[str, ChannelStatus] = field(default_factory=dict)
    withdrawn: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "content_id": self.content_id,
            "external_ref": self.external_ref,
            "topic_key": self.topic_key,
            "priority": self.priority,
            "author": self.author,
            "approved_by": self.approved_by,
            "accepted_at": self.accepted_at,
            "not_before": self.not_before,
            "deadline": self.deadline,
            "channels": [c.to_json() for c in self.channels.values()],
        }


@dataclass(frozen=True)
class IdempotencyRecord:
    request_sha256: str
    content_id: str
    channels: tuple[str, ...]


@dataclass
class Draft:
    draft_id: str
    author: str
    submitted_at: datetime
    request: dict[str, object]
    approved_by: str | None = None
    content_id: str | None = None


class StatusView:
    def __init__(self) -> None:
        self.items: dict[str, ItemStatus] = {}
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.drafts: dict[str, Draft] = {}
        self.audit: list[ControlIssued] = []
        self.paused: dict[str, ControlIssued] = {}  # channel or "*" → the pause in force
        # content id → its events that came before the item itself, oldest item first (bounded)
        self.early: OrderedDict[str, list[Event]] = OrderedDict()
        self.early_events = 0
        self.early_dropped = 0
        self.events_folded = 0  # held events count when they are folded in, not when held

    def apply(self, event: Event) -> None:
        if isinstance(event, JobPlanned | PublishOutcome | EngagementObserved) or (
            isinstance(event, ControlIssued) and event.action is ControlAction.WITHDRAW
        ):
            content_id = event.content_id
            if content_id is not None and content_id not in self.items:
                self._hold(content_id, event)
                if isinstance(event, ControlIssued):
                    self._control_audit_only(event)
                return
        self.events_folded += 1
        if isinstance(event, ContentApproved):
            self._approved(event)
            for held in self.early.pop(event.content_id, ()):
                self.early_events -= 1
                if isinstance(held, ControlIssued):  # already in the audit
                    self.items[event.content_id].withdrawn = True
                else:
                    self.apply(held)
        elif isinstance(event, JobPlanned):
            self._planned(event)
        elif isinstance(event, PublishOutcome):
            self._outcome(event)
        elif isinstance(event, EngagementObserved):
            status = self._channel(event.content_id, event.channel)
            if status is not None:
                status.engagement = {
                    "horizon_minutes": event.horizon_minutes,
                    "reactions": event.reactions,
                    "comments": event.comments,
                    "shares": event.shares,
                    "reach": event.reach,
                }
        elif isinstance(event, ControlIssued):
            self._control(event)
        elif isinstance(event, DraftSubmitted):
            self.drafts.setdefault(
                event.draft_id, Draft(event.draft_id, event.author, event.occurred_at, event.request)
            )
        elif isinstance(event, DraftApproved):
            draft = self.drafts.get(event.draft_id)
            if draft is not None:
                draft.approved_by, draft.content_id = event.approved_by, event.content_id

    def _approved(self, ev: ContentApproved) -> None:
        if ev.idempotency_key and ev.request_sha256:
            self.idempotency[(ev.submitted_by, ev.idempotency_key)] = IdempotencyRecord(
                ev.request_sha256, ev.content_id, tuple(v.channel for v in ev.variants)
            )
        if ev.draft_id and ev.draft_id in self.drafts:
            self.drafts[ev.draft_id].content_id = ev.content_id
        if ev.content_id in self.items:
            return  # redelivery, or our own write seen again through the topic
        self.items[ev.content_id] = ItemStatus(
            content_id=ev.content_id,
            accepted_at=ev.occurred_at,
            author=ev.author,
            approved_by=ev.approval.approved_by,
            priority=ev.priority.value,
            topic_key=ev.topic_key,
            external_ref=ev.external_ref,
            not_before=ev.not_before,
            deadline=ev.deadline,
            channels={v.channel: ChannelStatus(v.channel, updated_at=ev.occurred_at) for v in ev.variants},
        )

    def _channel(self, content_id: str, channel: str) -> ChannelStatus | None:
        item = self.items.get(content_id)
        if item is None:
            return None
        return item.channels.setdefault(channel, ChannelStatus(channel))

    def _newer(self, status: ChannelStatus, at: datetime) -> bool:
        return status.updated_at is None or at >= status.updated_at

    def _planned(self, ev: JobPlanned) -> None:
        status = self._channel(ev.content_id, ev.channel)
        if status is None:
            return
        status.slot = ev.slot or status.slot
        status.explanation = ev.explanation or status.explanation
        status.superseded_by = ev.superseded_by or status.superseded_by
        status.post_id = status.post_id or ev.post_id
        status.url = status.url or ev.url
        if ev.note:
            status.note = ev.note
        if self._newer(status, ev.occurred_at) and status.state != "published":
            status.state = ev.state.value
            status.attempt = max(status.attempt, ev.attempt)
            status.updated_at = ev.occurred_at
            status.error = ev.last_error or status.error

    def _outcome(self, ev: PublishOutcome) -> None:
        status = self._channel(ev.content_id, ev.channel)
        if status is None:
            return
        # An operator's "mark as published" may carry only the URL.
        if ev.post_id:
            status.post_id = ev.post_id
        if ev.url:
            status.url = ev.url
        if ev.error is not None:
            status.error = ev.error
        state = _OUTCOME_STATE[ev.status]
        if status.state in _FINAL and status.state != "published" and state != "published":
            return
        if state == "published" or (self._newer(status, ev.occurred_at) and status.state != "published"):
            status.state = state
            status.attempt = max(status.attempt, ev.attempt)
            status.updated_at = ev.occurred_at
            if state == "published":
                status.error = None

    def _hold(self, content_id: str, event: Event) -> None:
        self.early.setdefault(content_id, []).append(event)
        self.early_events += 1
        while self.early_events > MAX_EARLY_EVENTS:  # items that never come: forget the oldest
            _, gone = self.early.popitem(last=False)
            self.early_events -= len(gone)
            self.early_dropped += len(gone)

    def _control_audit_only(self, ev: ControlIssued) -> None:
        """A withdrawal of an item not met yet: in the audit now, applied to it when it comes."""
        self.audit.append(ev)

    def _control(self, ev: ControlIssued) -> None:
        self.audit.append(ev)
        targets = ev.channels or ("*",)
        if ev.action is ControlAction.PAUSE:
            for ch in targets:
                self.paused[ch] = ev
        elif ev.action is ControlAction.RESUME:
            for ch in targets:
                self.paused.pop(ch, None)
            if not ev.channels:
                self.paused.clear()
        elif ev.action is ControlAction.WITHDRAW and ev.content_id in self.items:
            self.items[ev.content_id].withdrawn = True

    def find(self, content_id: str) -> ItemStatus | None:
        return self.items.get(content_id)

    def jobs(
        self,
        *,
        state: str | None = None,
        channel: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[tuple[ItemStatus, ChannelStatus]]:
        """Jobs matching the filters, ordered as a calendar: by slot, then content id."""
        rows: list[tuple[ItemStatus, ChannelStatus]] = []
        for item in self.items.values():
            for status in item.channels.values():
                if state and status.state != state:
                    continue
                if channel and status.channel != channel:
                    continue
                when = status.slot or item.accepted_at
                if start and when < start:
                    continue
                if end and when >= end:
                    continue
                rows.append((item, status))
        rows.sort(key=lambda r: ((r[1].slot or r[0].accepted_at), r[0].content_id, r[1].channel))
        return rows
