"""What an operator's decision does to a job, read the same way by every reader of the outcomes.

An ``OperatorDecided`` stands for the outcome it asks the scheduler to apply::

    action           outcome                 job state it asks for
    retry            retry, retry_at = then  retrying (the scheduler re-emits it, attempt + 1)
    mark_published   published + URL         published
    discard          failed                  failed, marked discarded (``JobPlanned.decided``)

Which actions a job's state allows is the lifecycle's ``OPERATOR`` table (``shared.lifecycle``).

retry_at is the earliest instant, as a platform's is: the scheduler places the retry at the first
instant from then that the channel's rules allow (an election silence, the daily budget, caps,
the gap, the deadline), or reports it unschedulable, naming the rule.

Earlier versions wrote a decision as that ``PublishOutcome`` itself, with who and why packed
into its error (``code = "operator.<action>"``, ``message = "by <person>: <reason>"``). Those
records stay on the topic for the audit's retention, so ``legacy_decision`` still reads them.
"""

from __future__ import annotations

from shared.events import (
    JobPlanned,
    OperatorAction,
    OperatorDecided,
    OutcomeStatus,
    PlatformError,
    PublishOutcome,
)

STATUS_OF_ACTION = {
    OperatorAction.RETRY: OutcomeStatus.RETRY,
    OperatorAction.MARK_PUBLISHED: OutcomeStatus.PUBLISHED,
    OperatorAction.DISCARD: OutcomeStatus.FAILED,
}
# The status a decision is counted under beside the platforms' own outcomes (the console's
# ``warta_publish_outcomes_total`` and status page). A discard is a person clearing a job, not the
# platform failing it: counted as failed, clearing a backlog of dead jobs on a quiet platform would
# read as an outage and trip the failure-ratio alert. A hand-marked post is out, as published.
DISCARDED = "discarded"


def counted_status(action: OperatorAction) -> str:
    return DISCARDED if action is OperatorAction.DISCARD else STATUS_OF_ACTION[action].value


_LEGACY_PREFIX = "operator."
# What a decision and an outcome say alike: which record, when, and which attempt of which job.
_JOB_FIELDS: set[str] = {"event_id", "occurred_at", "job_id", "content_id", "channel", "platform", "attempt"}


def judged_basis(job: JobPlanned) -> str:
    """What a person judged when deciding on ``job`` (``OperatorDecided.judged``): its state and
    attempt, and the decision that settled it if one did. Every action moves a job off that for
    good (retry raises the attempt; mark-published ends it; discard ends it or, on a job already
    failed, records itself on it), and so does every outcome that settles it, so the basis names
    one settled moment of the job; a record written again with the same basis (a redelivered
    outcome) does not change it."""
    basis = f"{job.state.value}@{job.attempt}"
    return f"{basis}/{job.decided.value}" if job.decided is not None else basis


def still_applies(decision: OperatorDecided, job: JobPlanned) -> bool:
    """Whether ``decision`` was taken on the job as it stands (or names nothing, as older
    decisions don't). A decision taken on a moment the job has since left — another person's
    decision on the same moment came first and was applied — must change nothing: both people
    saw the same job, and only one of them may settle it."""
    return decision.judged is None or decision.judged == judged_basis(job)


def decided_outcome(decision: OperatorDecided, last_error: PlatformError | None = None) -> PublishOutcome:
    """The outcome a decision stands for. ``last_error`` is the job's error before it: a person's
    decision is no news about the platform, so the job keeps telling what the platform said."""
    return PublishOutcome(
        **decision.model_dump(include=_JOB_FIELDS),
        status=STATUS_OF_ACTION[decision.action],
        # No post id: the platform never told us one, so there is nothing to measure engagement on.
        url=decision.url if decision.action is OperatorAction.MARK_PUBLISHED else None,
        retry_at=decision.occurred_at if decision.action is OperatorAction.RETRY else None,
        error=None if decision.action is OperatorAction.MARK_PUBLISHED else last_error,
    )


def legacy_decision(outcome: PublishOutcome) -> OperatorDecided | None:
    """The decision an older operator-written outcome records, or None for any other outcome."""
    err = outcome.error
    if err is None or not err.code.startswith(_LEGACY_PREFIX):
        return None
    try:
        action = OperatorAction(err.code.removeprefix(_LEGACY_PREFIX))
    except ValueError:
        return None
    actor, _, reason = err.message.removeprefix("by ").partition(": ")
    return OperatorDecided(
        **outcome.model_dump(include=_JOB_FIELDS),
        actor=actor or "unknown",
        action=action,
        reason=reason or "(no reason recorded)",
        url=outcome.url,
    )
