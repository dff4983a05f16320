"""What happened to each item on each channel, materialised from the topics.

Pure: ``apply`` folds one event in; the Kafka feeder (``services.ingest.feeder``) replays every
topic from the beginning at start, so the view survives restarts. Events of different topics
arrive in any order: a channel's state follows the newest event, while a post's id and URL, once
known, stay. An event about an item the view has not met yet (a job's outcome read before the
item's ``content.approved``: the feeder reads each partition at its own pace, more so after a
restart or a broker outage) is held until the item arrives, not dropped; dropping them left
jobs shown as ``accepted`` that were long published (found by the chaos run). A job's note is
the newest plan record's, which carries the job's whole note: a note that no longer applies (a
pause lifted) is gone, even when the job's state has settled (published) meanwhile.

A pause or a resume of every channel reaches each channel of the directory, as the scheduler
applies it (``ChannelDirectory.reached_by``): a channel resumed after a pause of all is shown
running, as the scheduler runs it.

Jobs are kept in calendar order as they change (``services.ingest.listing``), so a page of the
calendar costs its own size. Drafts and Idempotency-Keys are decided by the order of their
claims in the log (``services.ingest.decisions``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.ingest.decisions import DraftBook, KeyBook
from services.ingest.listing import FacetedIndex, Page, SortKey, instant
from shared.channels import ChannelDirectory
from shared.events import (
    ContentApproved,
    ControlAction,
    ControlIssued,
    DraftApproved,
    DraftSubmitted,
    EngagementObserved,
    Event,
    IdempotencyClaimed,
    JobPlanned,
    OperatorDecided,
    OutcomeStatus,
    PlatformError,
    PublishOutcome,
    SlotExplanation,
)
from shared.operator_decisions import decided_outcome

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
    # When the plan record the note came from was written: only a plan record carries one.
    note_at: datetime | None = None

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


class StatusView:
    def __init__(
        self, idempotency_ttl: timedelta = timedelta(hours=24), channels: ChannelDirectory | None = None
    ) -> None:
        self._channels = channels if channels is not None else ChannelDirectory()
        self.items: dict[str, ItemStatus] = {}
        self.keys = KeyBook(idempotency_ttl)
        self.drafts = DraftBook()
        self._calendar = FacetedIndex()
        self.audit: list[ControlIssued] = []
        self.paused: dict[str, ControlIssued] = {}  # channel → the pause in force
        # content id → its events that came before the item itself, oldest item first (bounded)
        self.early: OrderedDict[str, list[Event]] = OrderedDict()
        self.early_events = 0
        self.early_dropped = 0
        self.events_folded = 0  # held events count when they are folded in, not when held

    def apply(self, event: Event) -> None:
        if isinstance(event, OperatorDecided):
            # An item's status shows what was decided, not who decided it (that is the console's).
            event = decided_outcome(event)
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
            self.drafts.submitted(event)
        elif isinstance(event, DraftApproved):
            self.drafts.claimed(event)
        elif isinstance(event, IdempotencyClaimed):
            self.keys.claimed(event)
        if (
            isinstance(event, ContentApproved | JobPlanned | PublishOutcome | EngagementObserved)
            and event.content_id in self.items
        ):
            self._place(self.items[event.content_id])

    def _approved(self, ev: ContentApproved) -> None:
        self.keys.approved(ev)
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
        # Each plan record carries the job's whole current note (None once nothing applies: a
        # resumed job drops its pause note), so the newest plan record's note is the job's. An
        # older record read late must not bring its note back; outcomes carry no note and leave it.
        if status.note_at is None or ev.occurred_at >= status.note_at:
            status.note, status.note_at = ev.note, ev.occurred_at
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
        self._channels.fold_pause(self.paused, ev)
        if ev.action is ControlAction.WITHDRAW and ev.content_id in self.items:
            self.items[ev.content_id].withdrawn = True

    def find(self, content_id: str) -> ItemStatus | None:
        return self.items.get(content_id)

    def _place(self, item: ItemStatus) -> None:
        """Keep the item's jobs at their place in the calendar, under each filter they match."""
        for status in item.channels.values():
            when = instant(status.slot or item.accepted_at)
            # One list per (channel, state), so a job is in one list and each change moves it
            # once; a listing over several channels or states merges their lists.
            facets = [(status.channel, status.state)]
            self._calendar.put(
                (item.content_id, status.channel), (when, item.content_id, status.channel), facets
            )

    def jobs(
        self,
        *,
        limit: int,
        state: str | None = None,
        channel: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        after: SortKey | None = None,
        visible: Callable[[str], bool] | None = None,
    ) -> tuple[list[tuple[ItemStatus, ChannelStatus]], Page]:
        """A page of the jobs matching the filters (``visible``: on a channel it accepts), ordered
        as a calendar: by slot (or, before one is chosen, acceptance), then content id and
        channel; after the key ``after``."""
        wanted = [
            f
            for f in self._calendar.facets()
            if channel in (None, f[0]) and state in (None, f[1]) and (visible is None or visible(str(f[0])))
        ]
        page = self._calendar.page(
            wanted,
            limit=limit,
            start=instant(start) if start is not None else None,
            end=instant(end) if end is not None else None,
            after=after,
        )
        rows = []
        for _, content_id, ch in page.keys:
            item = self.items[content_id]
            rows.append((item, item.channels[ch]))
        return rows, page
