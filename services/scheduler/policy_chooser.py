"""Adapts the learning slot policy (``services.scheduler.policy``) to the plan's ``SlotChooser`` port.

Per channel it holds one ``EngagementModel`` (prior: platform, then national; learned from
``engagement.observed``) and turns the channel's configuration plus the platform's default caps
(``shared.capabilities``) into the policy's ``ChannelRules``. Retries are not re-optimised: the
platform failed a slot the policy already chose, so the retry goes at the first instant at or
after ``retry_at`` (the delay the publisher asked for, or now for an operator's retry) that every
hard rule allows (``policy.first_allowed``: blackouts, the daily budget, caps, the minimum gap),
inside the deadline; with none, it gets no slot and the rule that forbids it is named.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from services.scheduler.chooser import ChannelExpectation, Moves, SlotAsk, with_pending
from services.scheduler.policy.calendar import Calendar
from services.scheduler.policy.first_allowed import first_allowed
from services.scheduler.policy.freshness import freshness, half_life_hours
from services.scheduler.policy.model import EngagementModel
from services.scheduler.policy.quality import ItemQualities
from services.scheduler.policy.room import place
from services.scheduler.policy.rules import Blackout, Cap, ChannelRules, PolicyError, allowed, from_us, to_us
from services.scheduler.policy.siblings import Deployment
from services.scheduler.policy.slots import Decision, JobRequest, choose_slot, job_window, replan
from shared.capabilities import capabilities_for
from shared.channels import Channel
from shared.events import EngagementObserved, JobPlanned, JobState, Priority, SlotExplanation

# How far a reading's published_at may lie after its own time: two clocks' disagreement.
PUBLISHED_SKEW = timedelta(hours=1)


def rules_for(channel: Channel) -> ChannelRules:
    caps = {(c.limit, c.window_minutes) for c in channel.caps}
    with contextlib.suppress(KeyError):
        caps |= {(c.limit, c.window_minutes) for c in capabilities_for(channel.platform).default_caps}
    return ChannelRules(
        channel=channel.id,
        platform=channel.platform,
        timezone=channel.timezone,
        min_gap=timedelta(minutes=channel.min_gap_minutes),
        max_posts_per_day=channel.max_posts_per_day,
        caps=tuple(Cap(limit, timedelta(minutes=minutes)) for limit, minutes in sorted(caps)),
        blackouts=tuple(Blackout(b.start, b.end, b.reason) for b in channel.blackouts),
        habitual_times=channel.habitual_times,
    )


class PolicyChooser:
    def __init__(
        self,
        rng: random.Random | None = None,
        calendar: Calendar | None = None,
        pool_weight: float | None = None,
    ) -> None:
        self._rng = rng or random.Random()
        # The channels pool their learned hours as each other's priors (policy/siblings.py).
        self._deployment = Deployment(pool_weight)
        # Ramadan, holidays, school holidays (deploy/calendar.yaml): one model per regime
        self._calendar = calendar or Calendar()
        self._models: dict[str, EngagementModel] = {}
        self._rules: dict[str, ChannelRules] = {}
        # Which post of which item went where: an item's quality, measured on its other channels,
        # is divided out of each channel's learning (policy/quality.py). In memory only: after a
        # restart it fills again from new observations; the models keep what they were given.
        self._qualities = ItemQualities()

    def _model(self, channel: Channel) -> EngagementModel:
        model = self._models.get(channel.id)
        if model is None:
            model = self._models[channel.id] = EngagementModel.prior(
                channel.platform, channel.timezone, calendar=self._calendar
            )
            self._join(channel.id, model)
        return model

    def _join(self, channel_id: str, model: EngagementModel) -> None:
        if self._deployment.weight > 0:
            model.pool = self._deployment.join(channel_id, model.learned_shape)

    def _rules_of(self, channel: Channel) -> ChannelRules:
        rules = self._rules.get(channel.id)
        if rules is None:
            rules = self._rules[channel.id] = rules_for(channel)
        return rules

    def choose(self, ask: SlotAsk) -> SlotExplanation:
        job, channel, taken, now, not_before = ask.job, ask.channel, ask.taken, ask.now, ask.not_before
        rules = self._rules_of(channel)
        if job.state is JobState.RETRYING and not_before is not None:
            return self._retry(ask, max(now, not_before))
        if job.priority is Priority.URGENT:
            # Urgent means now, not the next grid point, when that instant is allowed (``allowed``
            # checks blackouts and caps); otherwise the policy's first allowed grid instant.
            instant = max(now, not_before) if not_before else now
            broken = allowed(rules, taken, instant, urgent=True)
            if broken is None and (job.deadline is None or instant <= job.deadline):
                return SlotExplanation(
                    chosen=instant, binding_constraint="urgent", reason="urgent: as soon as allowed"
                )
        request = _request(job, not_before)
        try:
            decision = choose_slot(
                request, self._rules_of(channel), taken, self._model(channel), now, self._rng
            )
        except PolicyError as exc:
            return _invalid(exc)
        return _explained(decision)

    def _retry(self, ask: SlotAsk, earliest: datetime) -> SlotExplanation:
        """A retry's slot: the first allowed instant at or after ``earliest`` (retry_at, or now)
        in the job's window, moving no other job (docs/scheduling.md: retries keep this path);
        else no slot, and the rule that forbids the window is named as for a fresh job."""
        job, rules = ask.job, self._rules_of(ask.channel)
        if job.deadline is not None and earliest > job.deadline:
            return SlotExplanation(
                chosen=None,
                binding_constraint="deadline",
                reason=f"The retry may go no earlier than {earliest.isoformat()}, after the "
                f"deadline {job.deadline.isoformat()}.",
            )
        request = _request(job, earliest)
        try:
            _, end = job_window(request, to_us(ask.now, "now"), 1)
            urgent = job.priority is Priority.URGENT
            found = first_allowed(rules, ask.taken, earliest, from_us(end), urgent=urgent)
            if found is None:
                # Every instant of the window is forbidden: the policy names the rule, in the
                # words it uses for a fresh job.
                model = self._model(ask.channel)
                return _explained(choose_slot(request, rules, ask.taken, model, ask.now, self._rng))
        except PolicyError as exc:
            return _invalid(exc)
        if found.held_by is None:
            return SlotExplanation(
                chosen=found.instant, binding_constraint="retry_at", reason="retry when the platform allows"
            )
        return SlotExplanation(
            chosen=found.instant,
            binding_constraint=found.held_by,
            reason=f"retry at the first instant {found.held_by} allows after {earliest.isoformat()}",
        )

    def observe(self, channel: Channel, event: EngagementObserved, job: JobPlanned | None) -> None:
        if event.published_at > event.occurred_at + PUBLISHED_SKEW:
            # No reading is of a post published after it: a clock far off would make every real
            # post look years old to the model (their weights fade with distance from its latest).
            return
        total = event.reactions + event.comments + event.shares
        value = 1.0
        if job is not None:
            # The freshness the post went out with: a stale item's low response is not its hour's fault.
            waited = (event.published_at - job.arrived_at).total_seconds() / 3600
            value = freshness(
                max(0.0, waited), half_life_hours(job.priority.value, job.freshness_half_life_hours)
            )
        try:
            self._model(channel).observe(
                event.published_at, event.horizon_minutes, total, post_id=event.job_id, value_factor=value
            )
        except PolicyError:
            return  # a malformed observation teaches nothing; the event stays on its topic
        self._qualities.record(event.content_id, channel.id, event.job_id)
        self._qualities.update(event.content_id, self._models)

    def replan(
        self, jobs: Sequence[JobPlanned], channel: Channel, fixed: Sequence[datetime], now: datetime
    ) -> Moves:
        pending = _with_slots(jobs, "replan")
        try:
            decisions = replan(pending, self._rules_of(channel), fixed, self._model(channel), now, self._rng)
        except PolicyError:
            return [None] * len(jobs)
        return [_moved(d, "re-planned after learning") for d in decisions]

    def place(self, ask: SlotAsk, pending: Sequence[JobPlanned]) -> tuple[SlotExplanation, Moves]:
        job, channel = ask.job, ask.channel
        planned = _with_slots(pending, "place")
        if job.priority is Priority.URGENT or not planned:
            return self.choose(with_pending(ask, pending)), [None] * len(pending)
        try:
            decision, moves = place(
                _request(job, ask.not_before),
                planned,
                self._rules_of(channel),
                ask.taken,
                self._model(channel),
                ask.now,
                self._rng,
            )
        except PolicyError as exc:
            return _invalid(exc), [None] * len(pending)
        return _explained(decision), [_moved(d, f"moved to make room for {job.job_id}") for d in moves]

    def model_state(self, channel_id: str) -> dict[str, object]:
        model = self._models.get(channel_id)
        return model.to_dict() if model is not None else {}

    def expectation(self, channel: Channel) -> ChannelExpectation | None:
        # Only a model this chooser holds: one made here from the prior would say nothing learned.
        model = self._models.get(channel.id)
        if model is None:
            return None
        return ChannelExpectation(steps=model.curve(), observations=model.observations)

    def restore_model(self, channel: Channel, state: dict[str, object]) -> None:
        try:
            model = self._models[channel.id] = EngagementModel.from_dict(state, calendar=self._calendar)
            self._join(channel.id, model)
        except PolicyError:
            self._models.pop(channel.id, None)  # start again from the prior


def _request(job: JobPlanned, not_before: datetime | None) -> JobRequest:
    return JobRequest(
        job_id=job.job_id,
        priority=job.priority.value,
        arrived_at=job.arrived_at,
        not_before=not_before,
        deadline=job.deadline,
        # The item's own decay when its sender gave one: slot-world.md's items each have theirs.
        freshness_half_life_hours=job.freshness_half_life_hours,
    )


def _with_slots(jobs: Sequence[JobPlanned], what: str) -> list[tuple[JobRequest, datetime]]:
    pending = [(_request(j, j.not_before), j.slot) for j in jobs if j.slot is not None]
    if len(pending) != len(jobs):
        raise ValueError(f"{what} needs jobs that have a slot")
    return pending


def _explained(d: Decision, prefix: str = "") -> SlotExplanation:
    return SlotExplanation(
        chosen=d.slot,
        expected_engagement=d.expected_engagement,
        runner_up=d.runner_up,
        runner_up_engagement=d.runner_up_engagement,
        binding_constraint=d.binding_constraint,
        reason=(f"{prefix}: {d.reason}" if prefix else d.reason)[:2000],
    )


def _moved(d: Decision | None, prefix: str) -> SlotExplanation | None:
    return None if d is None or d.slot is None else _explained(d, prefix)


def _invalid(exc: PolicyError) -> SlotExplanation:
    return SlotExplanation(chosen=None, binding_constraint="invalid", reason=str(exc)[:2000])
