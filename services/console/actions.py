"""Operator actions on a job that needs a human: retry, mark as published, discard.

Pure. Actions belong to settled jobs only — failed, unconfirmed, dead — the states in which
nothing else will move the job; a failed or dead job may be retried, marked published (a post
made by hand) or discarded as an unconfirmed one may. A job that is due or attempted is in a publisher's hands: an
outcome written over it would race the platform call and could post it twice or hide a post, so
it is refused until its own outcome arrives. An action becomes an ``OperatorDecided`` on
``publish.outcomes``, in order with the job's outcomes; the scheduler applies it as the outcome
it stands for (``shared.operator_decisions``), so the console needs no channel of its own into
the plan. Whether an action is allowed
is read from the scheduler's one lifecycle table (``shared.lifecycle``), so the
console never offers what the scheduler would ignore::

    action           outcome written         job state it asks for
    retry            retry, retry_at = now   retrying (the scheduler re-emits it, attempt + 1)
    mark_published   published + URL         published
    discard          failed                  failed, marked discarded: off "needs attention"

A retry of an unconfirmed job is never a blind re-send: the publisher's attempt ledger still
holds that attempt as unconfirmed, and the publisher looks the post up on the platform before it
sends the new attempt (``services.publisher.worker``): found → published with the platform's id;
surely absent → sent; still unknown → unconfirmed again, with the reason.

The decision records who did it and why as fields (actor, action, reason); the audit trail is
rebuilt from them.

Errors::

    ActionRefused      the action can't be applied; ``rule`` says why:
                         not_settled      the job is in flight or still planned (409)
                         illegal_action   its settled state allows no such change (409)
                         bad_request      the request lacks what it needs: reason, URL (422)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from shared.events import JobPlanned, JobState, OperatorAction, OperatorDecided
from shared.lifecycle import AWAITS_OPERATOR, can
from shared.messages import Said, said
from shared.operator_decisions import judged_basis

# The states in which a job waits for a person: no publisher holds it, no timer will move it.
SETTLED = AWAITS_OPERATOR
# Fired to a publisher and not settled yet: an outcome written now would race the platform call.
IN_FLIGHT = frozenset({JobState.DUE, JobState.ATTEMPTED})


_STATE = {
    OperatorAction.RETRY: JobState.RETRYING,
    OperatorAction.MARK_PUBLISHED: JobState.PUBLISHED,
    OperatorAction.DISCARD: JobState.FAILED,
}


class ActionRefused(ValueError):
    """The action can't be applied to this job as it stands (state or missing input); ``said`` is
    the message (its key's rule: ``not_settled``, ``illegal_action``, ``bad_request``)."""

    def __init__(self, message: Said) -> None:
        super().__init__(str(message))
        self.said = message
        self.rule = message.rule


def allowed_actions(state: JobState, decided: OperatorAction | None = None) -> list[OperatorAction]:
    """What an operator may do to a job in ``state`` (settled by ``decided``, if a person settled
    it): nothing unless it is settled, and then what the scheduler's lifecycle table allows a
    person, less what was decided already (a discarded job is not discarded again)."""
    if state not in SETTLED:
        return []
    return [a for a in OperatorAction if a is not decided and can(state, _STATE[a], by_operator=True)]


def reconciles_first(job: JobPlanned, action: OperatorAction) -> bool:
    """Whether the publisher will look the post up before acting on this retry."""
    return action is OperatorAction.RETRY and job.state is JobState.UNCONFIRMED


@dataclass(frozen=True)
class ActionRequest:
    action: OperatorAction
    by: str
    reason: str
    url: str | None = None


def operator_decision(job: JobPlanned, req: ActionRequest, now: datetime, event_id: str) -> OperatorDecided:
    if job.state not in SETTLED:
        key = "not_settled.in_flight" if job.state in IN_FLIGHT else "not_settled"
        raise ActionRefused(said(key, job_id=job.job_id, state=job.state.value))
    if req.action not in allowed_actions(job.state, job.decided):
        allowed = ", ".join(a.value for a in allowed_actions(job.state, job.decided)) or "none"
        raise ActionRefused(
            said(
                "illegal_action",
                job_id=job.job_id,
                state=job.state.value,
                action=req.action.value,
                allowed=allowed,
            )
        )
    reason = req.reason.strip()
    if not reason:
        raise ActionRefused(said("bad_request.reason"))
    url = None
    if req.action is OperatorAction.MARK_PUBLISHED:
        url = (req.url or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ActionRefused(said("bad_request.url"))
    return OperatorDecided(
        event_id=event_id,
        occurred_at=now,
        job_id=job.job_id,
        content_id=job.content_id,
        channel=job.channel,
        platform=job.platform,
        # The job's current attempt: the scheduler drops outcomes of earlier attempts as stale.
        attempt=job.attempt,
        actor=req.by,
        action=req.action,
        reason=reason[:4000],
        url=url,
        judged=judged_basis(job),
    )
