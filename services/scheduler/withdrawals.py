"""Withdrawals (and supersede commands): an operator's word that an item must not go out, applied
whenever the scheduler holds one of its jobs, whichever order the commands and the jobs come in.

Pure: no Kafka, no clock. A withdrawal that finds the job held (``shared.lifecycle.HELD``) ends
it at once: ``withdrawn`` (``superseded``, naming the newer item, for a supersede command). Any
other job keeps its state, with the withdrawal on its record (``JobPlanned.withdrawal``, so a
restart keeps it) and a note telling the operator what it can still do:

- in a publisher's hands (due, attempted) or waiting for a person (unconfirmed, failed, dead):
  the attempt under way cannot be recalled (the platform may have it), but the job is never
  tried again. As it comes back to the scheduler (a publisher's retry, a needs-reauth park, a
  person's retry, a dead letter replayed, which is a person's retry) it ends withdrawn instead
  (``handed_back``), as a superseded version does (supersession.py). Only a proven absence
  ends a job whose attempt may be on the platform, withdrawn or replaced alike: an unconfirmed
  job a person retries is looked up first (``looked_up``), and a publisher's retry whose
  look-ups went unanswered leaves it unconfirmed, for a person (``unanswered``);
- published: it stays published, and its note says so: a withdrawal deletes no post.

A withdrawal of an item the channel has not met (it overtook the approval: the router reads
``content.control`` and ``content.approved`` at their own pace) is kept in the channel's record
(``ChannelPlan.withdrawals``, snapshotted on ``schedule.channels``) and applied when the approval
arrives (``arrived``): the job is stored withdrawn, never planned. Such a note is kept for the
plan's retention after the withdrawal was issued (ingest withdraws only items it has accepted,
and an approval accepted longer than the retention ago is refused anyway:
``retention.check_approval``), and for ``MAX_WITHDRAWALS_REMEMBERED`` items at most, the
oldest dropped first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from services.scheduler.job_book import JobBook
from services.scheduler.plan_records import lookup_due
from services.scheduler.plan_state import ChannelPlan, Effects, S
from services.scheduler.supersession import Supersession, version_of
from shared.channel_events import MAX_WITHDRAWALS_REMEMBERED, WITHDRAWAL_REASON_KEPT, Withdrawal
from shared.events import (
    ChannelStateRecorded,
    ControlIssued,
    JobPlanned,
    OperatorDecided,
    OutcomeStatus,
    PublishOutcome,
    job_id_for,
)
from shared.lifecycle import HELD

Snapshot = Callable[[ChannelPlan, datetime], ChannelStateRecorded]

_IN_HANDS = "asked while a publisher held it: the attempt under way may still post it; it is not tried again"
_WAITS = "it waits for a person: a Retry ends it withdrawn (an unconfirmed one is looked up first)"
_POSTED = "it was already published on this channel: a withdrawal deletes no post; remove it on the platform"


def said(w: Withdrawal) -> str:
    """The withdrawal as a job's note says it."""
    action = "withdraw" if w.superseded_by is None else f"supersede (by {w.superseded_by})"
    return f"{action} by {w.by}: {w.reason}"


def published_note(w: Withdrawal) -> str:
    """The note of a job published although withdrawn (the attempt was under way)."""
    return f"{said(w)}; {_POSTED}"


class Withdrawals:
    def __init__(self, book: JobBook, retention: timedelta, snapshot: Snapshot, topics: Supersession) -> None:
        self._book = book
        self._retention = retention
        self._snapshot = snapshot
        self._topics = topics

    def command(self, plan: ChannelPlan, ev: ControlIssued, now: datetime) -> Effects:
        """A withdraw or supersede command naming ``ev.content_id`` (the module's docstring)."""
        assert ev.content_id is not None
        w = Withdrawal(
            by=ev.by,
            reason=ev.reason[:WITHDRAWAL_REASON_KEPT],
            at=ev.occurred_at,
            superseded_by=ev.superseded_by,
        )
        job = self._book.store.get(job_id_for(ev.content_id, plan.channel.id))
        if job is None:
            return self._remember(plan, ev.content_id, w, now)
        if job.state in HELD:
            return Effects(jobs=[self._end(plan, job, w, now, f"{ev.action.value} by {ev.by}: {ev.reason}")])
        if job.state in (S.WITHDRAWN, S.SUPERSEDED):
            return Effects(notes=[f"{job.job_id} is {job.state.value} already"])
        if job.state is S.PUBLISHED:
            note = published_note(w)
        elif job.state in (S.DUE, S.ATTEMPTED):
            note = f"{said(w)}; {_IN_HANDS}"
        else:  # unconfirmed, failed, dead
            note = f"{said(w)}; {_WAITS}"
        return Effects(jobs=[self._book.set(plan, job, now, withdrawal=w, note=note[:2000])])

    def handed_back(self, plan: ChannelPlan, job: JobPlanned, now: datetime) -> JobPlanned | None:
        """``job`` ended, when it is held again and was withdrawn while it was not; else None."""
        if job.withdrawal is None or job.state not in HELD:
            return None
        w = job.withdrawal
        return self._end(
            plan, job, w, now, f"{said(w)}; it came back to the scheduler and is not tried again"
        )

    def ended(self, plan: ChannelPlan, job: JobPlanned, now: datetime) -> JobPlanned | None:
        """``job``, held again, ended: withdrawn, or superseded by a newer version of its topic
        (supersession.py); None when it may go on. Called wherever a held job may fire from."""
        return self.handed_back(plan, job, now) or self._topics.stale(plan, job, now)

    def recalled(self, plan: ChannelPlan, job: JobPlanned) -> str | None:
        """Why ``job`` may no longer go out (withdrawn while it was not held, or replaced by a newer
        version of its topic); None when it may."""
        if job.withdrawal is not None:
            return said(job.withdrawal)
        newer = self._topics.newer_than(plan, job.topic_key, version_of(job)) if job.topic_key else None
        return None if newer is None else f"replaced by {newer}, a newer approved version of {job.topic_key}"

    def looked_up(
        self,
        plan: ChannelPlan,
        job: JobPlanned,
        ev: PublishOutcome,
        decision: OperatorDecided | None,
        now: datetime,
    ) -> Effects | None:
        """A person's retry (``ev``, standing for ``decision``) of an unconfirmed job that may no
        longer go out: retrying as asked, then due at once only to be looked up, never sent
        (``plan_records.lookup_due``; no rule of the channel binds a look-up). Found, the job is
        published; proven absent, the publisher hands it back and it ends; still unknown, it is
        unconfirmed again. None for any other outcome or job."""
        if decision is None or ev.status is not OutcomeStatus.RETRY or job.state is not S.UNCONFIRMED:
            return None
        why = self.recalled(plan, job)
        if why is None:
            return None
        by = f"{decision.action.value} by {decision.actor}: {decision.reason}"
        note = f"{by}; {why}: looked up first, nothing sent (found: published; absent: it ends)"[:2000]
        update: dict[str, Any] = {"attempt": ev.attempt + 1, "slot": now, "decided": None, "note": note}
        retrying = self._book.set(plan, job, now, state=S.RETRYING, last_error=ev.error, **update)
        due = self._book.set(plan, retrying, now, state=S.DUE)
        return Effects(jobs=[retrying, due], due=[lookup_due(due, self._book.event_id(), now)])

    def unanswered(
        self, plan: ChannelPlan, job: JobPlanned, ev: PublishOutcome, decision: OperatorDecided | None
    ) -> tuple[OutcomeStatus, dict[str, Any]]:
        """The status ``ev`` is applied as, and what it changes besides. A publisher's retry of a
        job that may no longer go out, asked because its look-ups went unanswered (its attempt
        may be on the platform), makes it unconfirmed, for a person, rather than ended unproven or
        tried again; any other outcome is applied as it is."""
        if decision is not None or ev.status is not OutcomeStatus.RETRY or not ev.reconcile_first:
            return ev.status, {}
        why = self.recalled(plan, job)
        if why is None:
            return ev.status, {}
        note = f"{why}; attempt {ev.attempt} may be on the platform, which could not tell"
        return OutcomeStatus.UNCONFIRMED, {"note": note[:2000]}

    def arrived(self, plan: ChannelPlan, job: JobPlanned, now: datetime) -> Effects | None:
        """A new job whose item was withdrawn before the channel met it: stored withdrawn (the
        channel forgets the note); None when no withdrawal waited for it."""
        w = plan.withdrawals.get(job.content_id)
        if w is None:
            return None
        plan.withdrawals = {cid: v for cid, v in plan.withdrawals.items() if cid != job.content_id}
        ended = job.model_copy(
            update={
                "state": S.SUPERSEDED if w.superseded_by else S.WITHDRAWN,
                "superseded_by": w.superseded_by,
                "withdrawal": w,
                "note": f"{said(w)}; issued before the item reached this channel"[:2000],
            }
        )
        self._book.put(plan, ended, old=None)
        return Effects(jobs=[ended], channels=[self._snapshot(plan, now)])

    def _end(self, plan: ChannelPlan, job: JobPlanned, w: Withdrawal, now: datetime, note: str) -> JobPlanned:
        return self._book.set(
            plan,
            job,
            now,
            state=S.SUPERSEDED if w.superseded_by else S.WITHDRAWN,
            superseded_by=w.superseded_by,
            withdrawal=w,
            note=note[:2000],
        )

    def _remember(self, plan: ChannelPlan, content_id: str, w: Withdrawal, now: datetime) -> Effects:
        """Keep ``w`` until its item arrives (bounded by age and number), in the channel's record."""
        kept = {cid: v for cid, v in plan.withdrawals.items() if now - v.at < self._retention}
        if now - w.at < self._retention:
            kept.pop(content_id, None)  # re-inserted last: the newest
            kept[content_id] = w
            for cid in list(kept)[: max(0, len(kept) - MAX_WITHDRAWALS_REMEMBERED)]:
                del kept[cid]
        fx = Effects(notes=[f"{content_id}: not met on {plan.channel.id}; the withdrawal waits for it"])
        if kept != plan.withdrawals:
            plan.withdrawals = kept  # a new dict: the step's undo puts the old one back
            fx.channels.append(self._snapshot(plan, now))
        return fx
