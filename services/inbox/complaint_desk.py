"""Keeps the complaint records: records comments as complaints, forwards them to LAPOR!, moves them on.

Every change is written to ``complaints.items`` (compacted: the latest record per complaint, read
back at start by ``apply``) and ``complaints.changes`` (the audit trail) and acknowledged
(acks=all) before it counts. Changes are decided by ``complaints`` (the pure table) under the
desk's lock, so two operators acting on one complaint are serialised.

Forwarding calls the LAPOR! port while holding the lock (one forward of a complaint at a time).
LAPOR! taking it writes ``forward``; LAPOR! failing writes ``forward_failed`` with the reason,
the record stays ``recorded`` and ``ForwardFailed`` is raised for the caller to report; an outage
(not a refusal) is tried again by ``retry_forwards``, which the service runs every
``lapor_retry_s``. Nothing
is lost: the record was written when it was made, and the retry sends the same client reference
(the complaint id), which LAPOR! answers with the first tracking id if it did take the first try.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, tzinfo

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.inbox.complaints import (
    ComplaintRefused,
    LaporAnswer,
    advance,
    allowed,
    forward_retry_due,
    is_overdue,
    record,
)
from services.inbox.errors import LaporFailed
from services.inbox.lapor_port import LaporComplaint, LaporPort
from services.inbox.working_time import WorkingHours
from shared.codec import encode
from shared.dead_letters import is_infrastructure
from shared.events import ComplaintAction, ComplaintChanged, ComplaintState, Event, InboxChanged
from shared.kafka import ACK_DEADLINE_S, KafkaUnavailable, acknowledged
from shared.messages import said
from shared.topics import TopicRegistry

TITLE_CHARS = 80
RETRIER = "warta-inbox"  # who the audit names for the inbox's own retries
log = logging.getLogger("warta.inbox.complaints")


class NoSuchComplaint(LookupError):
    """No complaint has that id (404)."""


class ForwardFailed(Exception):
    """LAPOR! did not take the complaint; ``complaint`` is the record as written, with the reason."""

    def __init__(self, complaint: ComplaintChanged, cause: LaporFailed) -> None:
        super().__init__(str(cause))
        self.complaint = complaint
        self.retriable = cause.retriable


class ComplaintDesk:
    def __init__(
        self,
        *,
        producer: AIOKafkaProducer,
        topics: TopicRegistry,
        port: LaporPort,
        hours: WorkingHours,
        zone_of: Callable[[str], tzinfo],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        ack_deadline_s: float = ACK_DEADLINE_S,
    ) -> None:
        self._producer, self._topics, self._port = producer, topics, port
        self._ack_deadline_s = ack_deadline_s
        self.hours, self.zone_of, self._clock = hours, zone_of, clock
        self.records: dict[str, ComplaintChanged] = {}
        self._lock = asyncio.Lock()

    def apply(self, event: Event) -> None:
        """Keep a record read back from ``complaints.items`` (a later version wins)."""
        if isinstance(event, ComplaintChanged):
            current = self.records.get(event.complaint_id)
            if current is None or current.version < event.version:
                self.records[event.complaint_id] = event

    async def _write(self, change: ComplaintChanged) -> ComplaintChanged:
        key, value = change.complaint_id.encode(), encode(change)
        try:
            futures = [
                await self._producer.send(self._topics.complaints_items, value, key=key),
                await self._producer.send(self._topics.complaints_changes, value, key=key),
            ]
        except KafkaError as exc:
            raise KafkaUnavailable(f"writing a complaint change: {exc!r}") from exc
        await acknowledged(futures, "writing a complaint change", self._ack_deadline_s)
        self.apply(change)
        return change

    def get(self, complaint_id: str) -> ComplaintChanged:
        found = self.records.get(complaint_id)
        if found is None:
            raise NoSuchComplaint(complaint_id)
        return found

    def select(
        self,
        *,
        channels: Iterable[str],
        state: ComplaintState | None = None,
        overdue_at: datetime | None = None,
    ) -> list[ComplaintChanged]:
        """Records on ``channels`` (and in ``state``, and overdue at ``overdue_at``), oldest first."""
        wanted = set(channels)
        found = [
            c
            for c in self.records.values()
            if c.channel in wanted
            and (state is None or c.state == state)
            and (overdue_at is None or is_overdue(c, overdue_at))
        ]
        return sorted(found, key=lambda c: (c.recorded_at, c.complaint_id))

    async def record(
        self, entry: InboxChanged, complaint_id: str, *, by: str, reason: str
    ) -> ComplaintChanged:
        async with self._lock:
            if complaint_id in self.records:
                raise ComplaintRefused(said("complaint_state.exists", id=complaint_id))
            now = self._clock()
            change = record(
                entry,
                complaint_id,
                by=by,
                reason=reason,
                now=now,
                hours=self.hours,
                zone=self.zone_of(entry.channel),
            )
            return await self._write(change)

    async def act(
        self, complaint_id: str, action: ComplaintAction, *, by: str, reason: str
    ) -> ComplaintChanged:
        """Answer or close (forwarding goes through ``forward``)."""
        if action in (ComplaintAction.FORWARD, ComplaintAction.FORWARD_FAILED):
            raise ValueError("forwarding goes through ComplaintDesk.forward")
        async with self._lock:
            current = self.get(complaint_id)
            change = self._next(current, action, by=by, reason=reason)
            return await self._write(change)

    async def forward(self, complaint_id: str, *, by: str, reason: str) -> ComplaintChanged:
        async with self._lock:
            current = self.get(complaint_id)
            # Checked before LAPOR! is called: a forwarded complaint is never sent again.
            allowed(current, ComplaintAction.FORWARD)
            try:
                receipt = await self._port.submit(_lapor_complaint(current))
            except LaporFailed as exc:
                failure = LaporAnswer(error=str(exc), retriable=exc.retriable)
                failed = self._next(
                    current, ComplaintAction.FORWARD_FAILED, by=by, reason=reason, lapor=failure
                )
                raise ForwardFailed(await self._write(failed), exc) from exc
            accepted = LaporAnswer(tracking_id=receipt.tracking_id)
            change = self._next(current, ComplaintAction.FORWARD, by=by, reason=reason, lapor=accepted)
            return await self._write(change)

    async def retry_forwards(self, pause: timedelta) -> int:
        """Forward again each complaint whose last forward LAPOR! failed (an outage) ``pause`` ago;
        how many LAPOR! took. The same client reference is sent, so none is opened twice."""
        now = self._clock()
        due = [c.complaint_id for c in self.records.values() if forward_retry_due(c, now, pause)]
        taken = 0
        for complaint_id in due:
            try:
                await self.forward(complaint_id, by=RETRIER, reason="retried after LAPOR! failed")
                taken += 1
            except ForwardFailed as exc:
                log.warning("complaint %s: LAPOR! failed again: %s", complaint_id, exc)
            except ComplaintRefused:
                pass  # an operator forwarded or closed it meanwhile
            except Exception as exc:
                # One complaint's fault must not stop the retries of the others, nor the inbox.
                if is_infrastructure(exc):
                    raise
                log.exception("complaint %s: the retried forward failed", complaint_id)
        return taken

    def _next(
        self,
        current: ComplaintChanged,
        action: ComplaintAction,
        *,
        by: str,
        reason: str,
        lapor: LaporAnswer | None = None,
    ) -> ComplaintChanged:
        zone = self.zone_of(current.channel)
        now = self._clock()
        return advance(
            current, action, by=by, reason=reason, now=now, hours=self.hours, zone=zone, lapor=lapor
        )


def _lapor_complaint(complaint: ComplaintChanged) -> LaporComplaint:
    comment = complaint.comment
    text = comment.text.strip() or "(no text)"
    title = text.splitlines()[0][:TITLE_CHARS]
    return LaporComplaint(
        client_ref=complaint.complaint_id,
        title=title,
        text=text,
        channel=complaint.channel,
        reported_at=comment.created_at,
        reporter=comment.author.name or comment.author.id,
        source_url=comment.url,
    )
