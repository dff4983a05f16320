"""What operators look at, folded from the topics: the plan, outcomes, health, dead letters, audit.

Pure: ``apply`` folds one event in; ``services.console.feeder`` replays the topics from the
beginning at start, so the view (and the counters derived from it) survive restarts.

Bounded: what can no longer change leaves the view after a retention (``Retention``; the app
calls ``expire(now)`` periodically), so memory follows the recent traffic, not the age of the
installation. Every query reads an index kept as events are folded in, never a scan of every
job, and takes ``visible`` — the caller's channel scope — so a key limited to some channels
never sees another channel's jobs, health, dead letters or audit entries.

Health of a channel follows its latest settled outcome (attempts and operator actions aside;
``services.console.channel_health`` holds the rule)::

    needs_reauth                          → needs_reauth (until a resume lifts it, as in the scheduler)
    retry with HTTP 429 or a rate code    → throttled
    retry, failed, dead, unconfirmed      → failing
    published                             → ok
    nothing yet                           → unknown

A platform's health is the worst of its channels' (needs_reauth > failing > throttled > ok > unknown).
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_left, insort
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.console.actions import allowed_actions
from services.console.channel_health import SEVERITY, ChannelHealth, Health, health_after
from shared.events import (
    ControlAction,
    ControlIssued,
    DeadLettered,
    Event,
    JobPlanned,
    JobState,
    OperatorAction,
    OperatorDecided,
    PublishOutcome,
)
from shared.operator_decisions import counted_status, legacy_decision

# States that wait for a person (shown as "needs attention").
PROBLEM_STATES = frozenset({JobState.FAILED, JobState.UNCONFIRMED, JobState.DEAD, JobState.NEEDS_REAUTH})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    by: str
    action: str
    target: str
    reason: str
    channels: tuple[str, ...] = ()  # the channels it concerns (none named: all of them)
    content_id: str | None = None  # for withdraw/supersede: the item, whose jobs name the channels

    def to_json(self) -> dict[str, object]:
        return {
            "at": self.at,
            "by": self.by,
            "action": self.action,
            "target": self.target,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Retention:
    """How long the view keeps what no longer changes (the topics keep the full history).

    A job leaves the view ``finished`` after it was published, withdrawn or superseded, and
    ``attention`` after it failed or died (an operator may still retry it until then); an
    unconfirmed job stays until a person settles it, because only a person can. Dead letters
    and audit entries are kept up to a count, newest first.
    """

    finished: timedelta = timedelta(days=7)
    attention: timedelta = timedelta(days=30)
    dead_letters: int = 10_000
    audit_entries: int = 10_000


FINISHED_STATES = frozenset({JobState.PUBLISHED, JobState.WITHDRAWN, JobState.SUPERSEDED})
ATTENTION_STATES = frozenset({JobState.FAILED, JobState.DEAD})

Visible = Callable[[str], bool]  # may the caller see this channel?


def needs_attention(job: JobPlanned) -> bool:
    """Whether ``job`` waits for a person. A discarded job is failed yet settled: a person has
    seen to it, so it leaves the list (it stays in the audit and among the failed jobs)."""
    return job.state in PROBLEM_STATES and job.decided is not OperatorAction.DISCARD


def everything(channel: str) -> bool:
    return True


class ConsoleView:
    """The folded state, with the indexes every query reads (no query scans every job):

    - per channel, its jobs sorted by slot (the plan calendar: O(log n + day));
    - the jobs needing attention, sorted by when they got there (O(page));
    - jobs by (channel, state), kept as counts;
    - per content, its jobs (whose channels an audit entry about the content concerns).
    """

    def __init__(self, retention: Retention | None = None) -> None:
        self.retention = retention or Retention()
        self.jobs: dict[str, JobPlanned] = {}
        self.outcomes: Counter[tuple[str, str]] = Counter()  # (platform, status)
        self.outcomes_by_channel: Counter[tuple[str, str]] = Counter()  # (channel, status)
        self.dead: dict[str, DeadLettered] = {}  # event id → letter, in arrival order
        self.dead_by_source: Counter[str] = Counter()  # ever seen, for the metric
        self.channels: dict[str, ChannelHealth] = {}
        self.paused: dict[str, ControlIssued] = {}  # channel or "*" → the pause in force
        # Channels resumed by name since the pause of all ("*"): the scheduler fans a pause of
        # all out to every channel, so a resume naming one lifts it there.
        self._resumed_since_all: set[str] = set()
        self.audit: deque[AuditEntry] = deque(maxlen=self.retention.audit_entries)
        self.applied = 0
        self._state_counts: Counter[tuple[str, str]] = Counter()
        # Instants as POSIX seconds: comparing floats is many times cheaper than aware datetimes.
        # Slots are bucketed by (channel, UTC day), so a day's query reads one or two short lists
        # and a job leaving the view is removed from its day's list, not from years of them.
        self._slots: dict[tuple[str, int], list[tuple[float, str]]] = {}  # sorted (slot, job id)
        self._attention: list[tuple[float, str]] = []  # sorted (occurred_at, job id)
        self._by_content: dict[str, set[str]] = {}
        self._expiry: list[tuple[float, str, str]] = []  # heap of (leaves at, job id, record id)
        self._dead_of_job: dict[str, str] = {}  # job id → its latest letter's event id

    # ---- folding -----------------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        self.applied += 1
        if isinstance(event, JobPlanned):
            known = self.jobs.get(event.job_id)
            if known is None or event.occurred_at >= known.occurred_at:
                self._put(known, event)
        elif isinstance(event, PublishOutcome):
            self._outcome(event)
        elif isinstance(event, OperatorDecided):
            self._decided(event)
        elif isinstance(event, DeadLettered):
            self._dead(event)
        elif isinstance(event, ControlIssued):
            self._control(event)

    def _put(self, old: JobPlanned | None, new: JobPlanned) -> None:
        if old is not None:
            self._unindex(old)
        self.jobs[new.job_id] = new
        self._state_counts[(new.channel, new.state.value)] += 1
        if new.slot is not None:
            slot = new.slot.timestamp()
            insort(self._slots.setdefault((new.channel, _day(slot)), []), (slot, new.job_id))
        if needs_attention(new):
            insort(self._attention, (new.occurred_at.timestamp(), new.job_id))
        self._by_content.setdefault(new.content_id, set()).add(new.job_id)
        keep = self._kept_for(new.state)
        if keep is not None:
            leaves = (new.occurred_at + keep).timestamp()
            heapq.heappush(self._expiry, (leaves, new.job_id, new.event_id))

    def _unindex(self, job: JobPlanned) -> None:
        key = (job.channel, job.state.value)
        self._state_counts[key] -= 1
        if self._state_counts[key] <= 0:
            del self._state_counts[key]
        if job.slot is not None:
            slot = job.slot.timestamp()
            bucket = (job.channel, _day(slot))
            rows = self._slots.get(bucket)
            if rows is not None:
                _remove(rows, (slot, job.job_id))
                if not rows:
                    del self._slots[bucket]
        if needs_attention(job):
            _remove(self._attention, (job.occurred_at.timestamp(), job.job_id))

    def _kept_for(self, state: JobState) -> timedelta | None:
        if state in FINISHED_STATES:
            return self.retention.finished
        if state in ATTENTION_STATES:
            return self.retention.attention
        return None

    def expire(self, now: datetime) -> int:
        """Drop the jobs whose retention ended by ``now``; how many left the view."""
        dropped = 0
        cutoff = now.timestamp()
        while self._expiry and self._expiry[0][0] <= cutoff:
            _, job_id, record = heapq.heappop(self._expiry)
            job = self.jobs.get(job_id)
            if job is None or job.event_id != record:
                continue  # it changed since: its newer record has its own entry, if any
            self._unindex(job)
            del self.jobs[job_id]
            siblings = self._by_content.get(job.content_id)
            if siblings is not None:
                siblings.discard(job_id)
                if not siblings:
                    del self._by_content[job.content_id]
            dropped += 1
        return dropped

    def _dead(self, letter: DeadLettered) -> None:
        if letter.event_id in self.dead:
            return
        self.dead[letter.event_id] = letter
        self.dead_by_source[letter.source_topic] += 1
        if letter.job_id is not None:
            self._dead_of_job[letter.job_id] = letter.event_id
        while len(self.dead) > self.retention.dead_letters:
            oldest = self.dead.pop(next(iter(self.dead)))
            if oldest.job_id is not None and self._dead_of_job.get(oldest.job_id) == oldest.event_id:
                del self._dead_of_job[oldest.job_id]

    def _decided(self, ev: OperatorDecided) -> None:
        status = counted_status(ev.action)
        self.outcomes[(ev.platform, status)] += 1
        self.outcomes_by_channel[(ev.channel, status)] += 1
        target = ev.job_id + (f" → {ev.url}" if ev.action is OperatorAction.MARK_PUBLISHED and ev.url else "")
        self.audit.append(
            AuditEntry(ev.occurred_at, ev.actor, ev.action.value, target, ev.reason, (ev.channel,))
        )
        # A person's decision says nothing about the platform's health.

    def _outcome(self, ev: PublishOutcome) -> None:
        decision = legacy_decision(ev)
        if decision is not None:
            self._decided(decision)
            return
        self.outcomes[(ev.platform, ev.status.value)] += 1
        self.outcomes_by_channel[(ev.channel, ev.status.value)] += 1
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
        self.audit.append(
            AuditEntry(ev.occurred_at, ev.by, ev.action.value, target, ev.reason, ev.channels, ev.content_id)
        )
        targets = ev.channels or ("*",)
        if ev.action is ControlAction.PAUSE:
            if not ev.channels:  # the latest pause is every channel's now
                self.paused.clear()
                self._resumed_since_all.clear()
            for ch in targets:
                self.paused[ch] = ev
        elif ev.action is ControlAction.RECONNECTED:
            for ch in ev.channels:  # the scheduler re-plans the parked jobs; health waits for news
                if ch in self.channels and self.channels[ch].health is Health.NEEDS_REAUTH:
                    self.channels[ch].health = Health.UNKNOWN
        elif ev.action is ControlAction.RESUME:
            if not ev.channels:
                self.paused.clear()
                self._resumed_since_all.clear()
            for ch in targets:
                self.paused.pop(ch, None)
            self._resumed_since_all.update(ev.channels)
            # The scheduler lifts a needs-reauth park on resume; so does the health it implies.
            for health in self.channels.values():
                if health.health is Health.NEEDS_REAUTH and (
                    not ev.channels or health.channel in ev.channels
                ):
                    health.health = Health.UNKNOWN

    # ---- queries -----------------------------------------------------------------------------
    def jobs_by_state(self) -> Counter[tuple[str, str]]:
        """(channel, state) → number of jobs."""
        return Counter(self._state_counts)

    def plan(self, channel: str, start: datetime, end: datetime) -> list[JobPlanned]:
        lo, hi = start.timestamp(), end.timestamp()
        out: list[JobPlanned] = []
        for day in range(_day(lo), _day(hi) + 1):
            rows = self._slots.get((channel, day), [])
            first, last = bisect_left(rows, (lo, "")), bisect_left(rows, (hi, ""))
            out += (self.jobs[job_id] for _, job_id in rows[first:last])
        return out

    def problems(
        self,
        visible: Visible = everything,
        limit: int | None = None,
        before: tuple[datetime, str] | None = None,
    ) -> list[JobPlanned]:
        """Jobs needing attention, newest first: up to ``limit`` of them older than ``before``."""
        end = len(self._attention)
        if before is not None:
            end = bisect_left(self._attention, (before[0].timestamp(), before[1]))
        out: list[JobPlanned] = []
        for i in range(end - 1, -1, -1):
            if limit is not None and len(out) >= limit:
                break
            job = self.jobs[self._attention[i][1]]
            if visible(job.channel):
                out.append(job)
        return out

    def audit_visible(self, entry: AuditEntry, visible: Visible) -> bool:
        if entry.content_id is not None:
            jobs = (self.jobs.get(j) for j in self._by_content.get(entry.content_id, ()))
            channels: tuple[str, ...] = tuple(j.channel for j in jobs if j is not None)
            return any(visible(c) for c in channels) if channels else visible("*")
        return not entry.channels or any(visible(c) for c in entry.channels)

    def recent_audit(self, visible: Visible = everything, limit: int = 200) -> list[AuditEntry]:
        rows = (e for e in self.audit if self.audit_visible(e, visible))
        return heapq.nlargest(limit, rows, key=lambda e: e.at)

    def needing_reauth(self, visible: Visible = everything) -> list[ChannelHealth]:
        """The channels whose account must be connected again, longest waiting first."""
        parked = [
            ch for ch in self.channels.values() if ch.health is Health.NEEDS_REAUTH and visible(ch.channel)
        ]
        return sorted(parked, key=lambda ch: (ch.last_error_at or ch.updated_at or _EPOCH, ch.channel))

    def platform_health(self, visible: Visible = everything) -> dict[str, ChannelHealth]:
        """Per platform, its worst channel (ties: the most recent)."""
        worst: dict[str, ChannelHealth] = {}
        for ch in self.channels.values():
            if not visible(ch.channel):
                continue
            known = worst.get(ch.platform)
            if known is None or (SEVERITY[ch.health], ch.updated_at or _EPOCH) > (
                SEVERITY[known.health],
                known.updated_at or _EPOCH,
            ):
                worst[ch.platform] = ch
        return worst

    def is_paused(self, channel: str) -> ControlIssued | None:
        if channel in self.paused:
            return self.paused[channel]
        return None if channel in self._resumed_since_all else self.paused.get("*")

    def dead_letters(self, visible: Visible = everything, limit: int = 500) -> tuple[list[DeadLettered], int]:
        """The newest ``limit`` dead letters the caller may see, and how many it may see in all.

        A letter with no channel (an undecodable message) concerns every channel: only a key for
        all channels sees it.
        """
        if visible("*"):
            return [self.dead[k] for k in itertools.islice(reversed(self.dead), limit)], len(self.dead)
        rows = [d for d in reversed(self.dead.values()) if d.channel is not None and visible(d.channel)]
        return rows[:limit], len(rows)

    def find_dead(self, ident: str) -> DeadLettered | None:
        """A dead letter by its event id, or the latest one of a job id."""
        if ident in self.dead:
            return self.dead[ident]
        latest = self._dead_of_job.get(ident)
        return self.dead[latest] if latest is not None else None


def _day(instant: float) -> int:
    return int(instant // 86_400)


def _remove(rows: list[tuple[float, str]], item: tuple[float, str]) -> None:
    i = bisect_left(rows, item)
    if i < len(rows) and rows[i] == item:
        del rows[i]


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
        "actions": [a.value for a in allowed_actions(job.state, job.decided)],
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
