"""What operators look at, folded from the topics: the plan, outcomes, health, dead letters, audit.

Pure: ``apply`` folds one event in; ``services.console.feeder`` replays the topics from the
beginning at start, so the view (and the counters derived from it) survive restarts.

Health of a channel follows its latest settled outcome (attempts and operator actions aside)::

    needs_reauth                          → needs_reauth (until a resume lifts it, as in the scheduler)
    retry with HTTP 429 or a rate code    → throttled
    retry, failed, dead, unconfirmed      → failing
    published                             → ok
    nothing yet                           → unknown

A platform's health is the worst of its channels' (needs_reauth > failing > throttled > ok > unknown).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from services.console.actions import OperatorAction, allowed_actions, operator_record
from shared.events import (
    ControlAction,
    ControlIssued,
    DeadLettered,
    Event,
    JobPlanned,
    JobState,
    OutcomeStatus,
    PlatformError,
    PublishOutcome,
)

# States that wait for a person (shown as "needs attention").
PROBLEM_STATES = frozenset({JobState.FAILED, JobState.UNCONFIRMED, JobState.DEAD, JobState.NEEDS_REAUTH})
RATE_CODES = ("rate", "limit", "flood", "throttl", "quota")
RECENT = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Health(StrEnum):
    OK = "ok"
    THROTTLED = "throttled"
    NEEDS_REAUTH = "needs_reauth"
    FAILING = "failing"
    UNKNOWN = "unknown"


_SEVERITY = {Health.UNKNOWN: 0, Health.OK: 1, Health.THROTTLED: 2, Health.FAILING: 3, Health.NEEDS_REAUTH: 4}


def is_rate_limited(error: PlatformError | None) -> bool:
    if error is None:
        return False
    code = error.code.lower()
    return error.http_status == 429 or any(word in code for word in RATE_CODES)


def health_after(status: OutcomeStatus, error: PlatformError | None) -> Health | None:
    """The health one settled outcome implies; None for an outcome that settles nothing."""
    if status is OutcomeStatus.ATTEMPTED:
        return None
    if status is OutcomeStatus.PUBLISHED:
        return Health.OK
    if status is OutcomeStatus.NEEDS_REAUTH:
        return Health.NEEDS_REAUTH
    if status is OutcomeStatus.RETRY and is_rate_limited(error):
        return Health.THROTTLED
    return Health.FAILING


@dataclass
class ChannelHealth:
    channel: str
    platform: str
    health: Health = Health.UNKNOWN
    last_error: PlatformError | None = None
    last_error_at: datetime | None = None
    updated_at: datetime | None = None
    recent: deque[bool] = field(default_factory=lambda: deque(maxlen=RECENT))  # True = published

    @property
    def failure_ratio(self) -> float | None:
        if not self.recent:
            return None
        return sum(1 for ok in self.recent if not ok) / len(self.recent)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    by: str
    action: str
    target: str
    reason: str

    def to_json(self) -> dict[str, object]:
        return {
            "at": self.at,
            "by": self.by,
            "action": self.action,
            "target": self.target,
            "reason": self.reason,
        }


class ConsoleView:
    def __init__(self) -> None:
        self.jobs: dict[str, JobPlanned] = {}
        self.outcomes: Counter[tuple[str, str]] = Counter()  # (platform, status)
        self.dead: dict[str, DeadLettered] = {}  # event id → letter, in arrival order
        self.dead_by_source: Counter[str] = Counter()
        self.channels: dict[str, ChannelHealth] = {}
        self.paused: dict[str, ControlIssued] = {}  # channel or "*" → the pause in force
        self.audit: list[AuditEntry] = []
        self.applied = 0

    # ---- folding -----------------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        self.applied += 1
        if isinstance(event, JobPlanned):
            known = self.jobs.get(event.job_id)
            if known is None or event.occurred_at >= known.occurred_at:
                self.jobs[event.job_id] = event
        elif isinstance(event, PublishOutcome):
            self._outcome(event)
        elif isinstance(event, DeadLettered):
            if event.event_id not in self.dead:
                self.dead[event.event_id] = event
                self.dead_by_source[event.source_topic] += 1
        elif isinstance(event, ControlIssued):
            self._control(event)

    def _outcome(self, ev: PublishOutcome) -> None:
        self.outcomes[(ev.platform, ev.status.value)] += 1
        record = operator_record(ev)
        if record is not None:
            action, by, reason = record
            target = f"{ev.job_id}" + (f" → {ev.url}" if action is OperatorAction.MARK_PUBLISHED else "")
            self.audit.append(AuditEntry(ev.occurred_at, by, action.value, target, reason))
            return  # a person's decision says nothing about the platform's health
        ch = self.channels.setdefault(ev.channel, ChannelHealth(ev.channel, ev.platform))
        health = health_after(ev.status, ev.error)
        if health is None or (ch.updated_at is not None and ev.occurred_at < ch.updated_at):
            return
        ch.health, ch.updated_at = health, ev.occurred_at
        ch.recent.append(health is Health.OK)
        if ev.error is not None:
            ch.last_error, ch.last_error_at = ev.error, ev.occurred_at

    def _control(self, ev: ControlIssued) -> None:
        target = ev.content_id or (", ".join(ev.channels) if ev.channels else "all channels")
        self.audit.append(AuditEntry(ev.occurred_at, ev.by, ev.action.value, target, ev.reason))
        targets = ev.channels or ("*",)
        if ev.action is ControlAction.PAUSE:
            for ch in targets:
                self.paused[ch] = ev
        elif ev.action is ControlAction.RESUME:
            if not ev.channels:
                self.paused.clear()
            for ch in targets:
                self.paused.pop(ch, None)
            # The scheduler lifts a needs-reauth park on resume; so does the health it implies.
            for health in self.channels.values():
                if health.health is Health.NEEDS_REAUTH and (
                    not ev.channels or health.channel in ev.channels
                ):
                    health.health = Health.UNKNOWN

    # ---- queries -----------------------------------------------------------------------------
    def jobs_by_state(self) -> Counter[tuple[str, str]]:
        """(channel, state) → number of jobs."""
        return Counter((j.channel, j.state.value) for j in self.jobs.values())

    def plan(self, channel: str, start: datetime, end: datetime) -> list[JobPlanned]:
        rows = [
            j
            for j in self.jobs.values()
            if j.channel == channel and j.slot is not None and start <= j.slot < end
        ]
        return sorted(rows, key=lambda j: (j.slot or start, j.job_id))

    def problems(self) -> list[JobPlanned]:
        rows = [j for j in self.jobs.values() if j.state in PROBLEM_STATES]
        return sorted(rows, key=lambda j: j.occurred_at, reverse=True)

    def platform_health(self) -> dict[str, ChannelHealth]:
        """Per platform, its worst channel (ties: the most recent)."""
        worst: dict[str, ChannelHealth] = {}
        for ch in self.channels.values():
            known = worst.get(ch.platform)
            if known is None or (_SEVERITY[ch.health], ch.updated_at or _EPOCH) > (
                _SEVERITY[known.health],
                known.updated_at or _EPOCH,
            ):
                worst[ch.platform] = ch
        return worst

    def is_paused(self, channel: str) -> ControlIssued | None:
        return self.paused.get(channel) or self.paused.get("*")

    def find_dead(self, ident: str) -> DeadLettered | None:
        """A dead letter by its event id, or the latest one of a job id."""
        if ident in self.dead:
            return self.dead[ident]
        matches = [d for d in self.dead.values() if d.job_id == ident]
        return matches[-1] if matches else None


def job_json(job: JobPlanned) -> dict[str, object]:
    return {
        "job_id": job.job_id,
        "content_id": job.content_id,
        "channel": job.channel,
        "platform": job.platform,
        "state": job.state.value,
        "slot": job.slot,
        "attempt": job.attempt,
        "priority": job.priority.value,
        "text": (job.content.text or job.content.link or "")[:280],
        "explanation": job.explanation.model_dump(mode="json") if job.explanation else None,
        "url": job.url,
        "last_error": job.last_error.model_dump(mode="json") if job.last_error else None,
        "note": job.note,
        "updated_at": job.occurred_at,
        "actions": [a.value for a in allowed_actions(job.state)],
    }


def dead_json(letter: DeadLettered, *, raw: bool = False) -> dict[str, object]:
    body: dict[str, object] = {
        "id": letter.event_id,
        "at": letter.occurred_at,
        "source_topic": letter.source_topic,
        "source_partition": letter.source_partition,
        "source_offset": letter.source_offset,
        "job_id": letter.job_id,
        "content_id": letter.content_id,
        "channel": letter.channel,
        "reason": letter.reason,
        "consumer": letter.consumer,
        "error_type": letter.error_type,
    }
    if raw:
        body["raw"] = letter.raw
    return body
