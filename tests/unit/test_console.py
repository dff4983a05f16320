"""The console's pure core: operator actions, the view's health and audit, lifecycle events, lag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.console.actions import (
    ActionRefused,
    ActionRequest,
    allowed_actions,
    operator_decision,
    reconciles_first,
)
from services.console.channel_health import Health, health_after
from services.console.offsets import History, OffsetSnapshot, PartitionLag
from services.console.view import ConsoleView
from services.console.webhooks import backoff, lifecycle_of
from shared.codec import decode, encode
from shared.events import (
    Content,
    ControlAction,
    ControlIssued,
    DeadLettered,
    JobPlanned,
    JobState,
    OperatorAction,
    OperatorDecided,
    OutcomeStatus,
    PlatformError,
    PublishOutcome,
)
from shared.operator_decisions import decided_outcome, legacy_decision

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def job(state: JobState, attempt: int = 2, at: datetime = T0) -> JobPlanned:
    return JobPlanned(
        event_id=f"j{at.timestamp()}",
        occurred_at=at,
        job_id="c1:telegram-demo",
        content_id="c1",
        channel="telegram-demo",
        platform="telegram",
        state=state,
        slot=T0,
        attempt=attempt,
        arrived_at=T0,
        approved_at=T0,
        content=Content(text="x"),
    )


def outcome(
    status: OutcomeStatus, at: datetime, error: PlatformError | None = None, channel: str = "telegram-demo"
) -> PublishOutcome:
    return PublishOutcome(
        event_id=f"o{at.timestamp()}{status}",
        occurred_at=at,
        job_id=f"c1:{channel}",
        content_id="c1",
        channel=channel,
        platform="telegram",
        attempt=1,
        status=status,
        error=error,
    )


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        (JobState.UNCONFIRMED, {"retry", "mark_published", "discard"}),
        (JobState.PUBLISHED, set()),
        # A failed or dead job waits for a person as an unconfirmed one does.
        (JobState.FAILED, {"retry", "mark_published", "discard"}),
        (JobState.DEAD, {"retry", "mark_published", "discard"}),
        (JobState.SCHEDULED, set()),
        # In a publisher's hands: the lifecycle table would take an outcome, a person may not.
        (JobState.DUE, set()),
        (JobState.ATTEMPTED, set()),
        (JobState.RETRYING, set()),
        (JobState.NEEDS_REAUTH, set()),
    ],
)
def test_actions_follow_the_scheduler_lifecycle(state: JobState, allowed: set[str]) -> None:
    assert {a.value for a in allowed_actions(state)} == allowed


def test_an_action_becomes_a_decision_on_the_current_attempt_with_who_and_why_as_fields() -> None:
    req = ActionRequest(OperatorAction.MARK_PUBLISHED, "opa", " seen on the channel ", "https://t.me/x/9")
    decision = operator_decision(job(JobState.UNCONFIRMED, attempt=3), req, T0, "e1")
    assert (decision.actor, decision.action, decision.reason, decision.job_id, decision.attempt) == (
        "opa",
        OperatorAction.MARK_PUBLISHED,
        "seen on the channel",
        "c1:telegram-demo",
        3,
    )
    out = decided_outcome(decision)
    assert (out.status, out.attempt, out.url, out.post_id, out.error) == (
        OutcomeStatus.PUBLISHED,
        3,
        "https://t.me/x/9",
        None,
        None,
    )
    retry = operator_decision(
        job(JobState.UNCONFIRMED), ActionRequest(OperatorAction.RETRY, "opa", "go"), T0, "e2"
    )
    platform_said = PlatformError(code="timeout", message="no answer")
    assert (decided_outcome(retry, platform_said).status, decided_outcome(retry).retry_at) == (
        OutcomeStatus.RETRY,
        T0,
    )
    # A person's decision is no news about the platform: the job keeps the platform's error.
    assert decided_outcome(retry, platform_said).error == platform_said


def test_a_reason_with_a_colon_and_a_person_named_by_survive_the_round_trip() -> None:
    # The old encoding ("by <person>: <reason>" in an error message) split these wrongly.
    req = ActionRequest(OperatorAction.DISCARD, "by: ops", "dup: see c2")
    decision = operator_decision(job(JobState.UNCONFIRMED), req, T0, "e1")
    again = decode(encode(decision))
    assert isinstance(again, OperatorDecided)
    assert (again.actor, again.reason) == ("by: ops", "dup: see c2")


def test_an_older_operator_outcome_is_still_read_as_a_decision() -> None:
    old = outcome(
        OutcomeStatus.FAILED, T0, PlatformError(code="operator.discard", message="by opa: duplicate")
    )
    decision = legacy_decision(old)
    assert decision is not None
    assert (decision.actor, decision.action, decision.reason) == ("opa", OperatorAction.DISCARD, "duplicate")
    assert legacy_decision(outcome(OutcomeStatus.FAILED, T0, PlatformError(code="x", message="y"))) is None
    view = ConsoleView()
    view.apply(old)
    assert (view.audit[-1].by, view.audit[-1].action, view.audit[-1].reason) == (
        "opa",
        "discard",
        "duplicate",
    )


@pytest.mark.parametrize(
    ("state", "req", "says"),
    [
        (JobState.PUBLISHED, ActionRequest(OperatorAction.RETRY, "opa", "again"), "only to failed"),
        (JobState.UNCONFIRMED, ActionRequest(OperatorAction.DISCARD, "opa", "  "), "reason is required"),
        (JobState.UNCONFIRMED, ActionRequest(OperatorAction.MARK_PUBLISHED, "opa", "ok", "ftp://x"), "URL"),
    ],
)
def test_refused_actions_say_why(state: JobState, req: ActionRequest, says: str) -> None:
    with pytest.raises(ActionRefused, match=says):
        operator_decision(job(state), req, T0, "e")


@pytest.mark.parametrize("state", [JobState.DUE, JobState.ATTEMPTED])
@pytest.mark.parametrize("action", list(OperatorAction))
def test_no_action_on_a_job_in_flight(state: JobState, action: OperatorAction) -> None:
    req = ActionRequest(action, "opa", "stuck?", "https://t.me/x/9")
    with pytest.raises(ActionRefused, match="a publisher holds it") as caught:
        operator_decision(job(state), req, T0, "e")
    assert caught.value.rule == "not_settled"


def test_only_a_retry_of_an_unconfirmed_job_reconciles_first() -> None:
    assert reconciles_first(job(JobState.UNCONFIRMED), OperatorAction.RETRY)
    assert not reconciles_first(job(JobState.FAILED), OperatorAction.RETRY)
    assert not reconciles_first(job(JobState.UNCONFIRMED), OperatorAction.DISCARD)


@pytest.mark.parametrize(
    ("status", "error", "health"),
    [
        (OutcomeStatus.ATTEMPTED, None, None),
        (OutcomeStatus.PUBLISHED, None, Health.OK),
        (OutcomeStatus.NEEDS_REAUTH, None, Health.NEEDS_REAUTH),
        (
            OutcomeStatus.RETRY,
            PlatformError(code="flood_wait", message="", http_status=429),
            Health.THROTTLED,
        ),
        (OutcomeStatus.RETRY, PlatformError(code="rate_limited", message=""), Health.THROTTLED),
        (
            OutcomeStatus.RETRY,
            PlatformError(code="server_error", message="", http_status=503),
            Health.FAILING,
        ),
        (OutcomeStatus.UNCONFIRMED, None, Health.FAILING),
        (OutcomeStatus.DEAD, None, Health.FAILING),
    ],
)
def test_health_after_an_outcome(
    status: OutcomeStatus, error: PlatformError | None, health: Health | None
) -> None:
    assert health_after(status, error) == health


def test_view_health_audit_and_dead_letters() -> None:
    view = ConsoleView()
    view.apply(outcome(OutcomeStatus.NEEDS_REAUTH, T0, PlatformError(code="auth", message="token revoked")))
    assert view.platform_health()["telegram"].health is Health.NEEDS_REAUTH
    view.apply(outcome(OutcomeStatus.PUBLISHED, T0 - timedelta(minutes=1)))  # older: doesn't win
    assert view.channels["telegram-demo"].health is Health.NEEDS_REAUTH
    view.apply(
        ControlIssued(
            event_id="r", occurred_at=T0, action=ControlAction.RESUME, by="opa", reason="token renewed"
        )
    )
    resumed = view.channels["telegram-demo"]
    assert resumed.health is Health.UNKNOWN
    assert view.channels["telegram-demo"].last_error == PlatformError(code="auth", message="token revoked")

    j = job(JobState.UNCONFIRMED)
    view.apply(j)
    assert view.problems() == [j]
    op = operator_decision(j, ActionRequest(OperatorAction.DISCARD, "opa", "duplicate"), T0, "e3")
    view.apply(op)
    assert view.audit[-1].to_json() == {
        "at": T0,
        "by": "opa",
        "action": "discard",
        "target": "c1:telegram-demo",
        "reason": "duplicate",
    }
    assert view.outcomes[("telegram", "discarded")] == 1  # a person clearing it, not the platform failing it
    view.apply(job(JobState.FAILED, at=T0 + timedelta(seconds=1)))
    assert view.jobs_by_state() == {("telegram-demo", "failed"): 1}

    letter = DeadLettered(
        event_id="d1", occurred_at=T0, source_topic="publish.telegram", reason="bad", job_id=j.job_id
    )
    view.apply(letter)
    view.apply(letter)  # redelivered
    assert view.dead_by_source == {"publish.telegram": 1}
    assert view.find_dead("d1") is letter
    assert view.find_dead(j.job_id) is letter


def test_lifecycle_events() -> None:
    assert lifecycle_of(job(JobState.SCHEDULED)) is not None
    assert lifecycle_of(job(JobState.DUE)) is None
    kinds = {
        s: (life.kind if (life := lifecycle_of(outcome(s, T0))) else None)
        for s in (
            OutcomeStatus.PUBLISHED,
            OutcomeStatus.DEAD,
            OutcomeStatus.UNCONFIRMED,
            OutcomeStatus.RETRY,
            OutcomeStatus.NEEDS_REAUTH,
        )
    }
    assert kinds == {
        OutcomeStatus.PUBLISHED: "published",
        OutcomeStatus.DEAD: "failed",
        OutcomeStatus.UNCONFIRMED: "unconfirmed",
        OutcomeStatus.RETRY: None,
        OutcomeStatus.NEEDS_REAUTH: "needs_reauth",
    }
    back = ControlIssued(
        event_id="b",
        occurred_at=T0,
        action=ControlAction.RECONNECTED,
        channels=("x-demo",),
        by="w",
        reason="r",
    )
    life = lifecycle_of(back)
    assert life is not None
    assert (life.kind, life.body["data"]) == (
        "reconnected",
        {"channels": ["x-demo"], "by": "w", "reason": "r"},
    )
    resume = ControlIssued(event_id="r", occurred_at=T0, action=ControlAction.RESUME, by="opa", reason="ok")
    life = lifecycle_of(resume)
    assert life is not None
    assert life.body["data"] == {"channels": "all", "by": "opa", "reason": "ok"}
    assert [backoff(n, 1, 10) for n in range(1, 6)] == [1, 2, 4, 8, 10]


def test_lag_is_end_minus_committed() -> None:
    snap = OffsetSnapshot(
        at=T0,
        end_offsets={("p.publish.x", 0): 10, ("p.publish.x", 1): 5},
        lags=(
            PartitionLag("g-x", "p.publish.x", 0, 7, 10),
            PartitionLag("g-x", "p.publish.x", 1, None, 5),  # never committed: the whole log
        ),
    )
    assert [r.lag for r in snap.lags] == [3, 5]
    assert snap.topic_totals() == {"p.publish.x": 15}
    assert snap.lag_by_group() == {"g-x": 8}
    history = History(2)
    for _ in range(3):
        history.add(snap)
    assert history.to_json(strip_prefix="p.") == {
        "at": [T0.isoformat()] * 2,
        "messages": {"publish.x": [15, 15]},
        "lag": {"publish.x": [8, 8]},
    }


def test_a_decision_is_the_lifecycle_event_of_its_outcome_and_says_who_and_why() -> None:
    j = job(JobState.UNCONFIRMED)
    req = ActionRequest(OperatorAction.MARK_PUBLISHED, "opa", "seen", "https://t.me/x/9")
    life = lifecycle_of(operator_decision(j, req, T0, "e9"))
    assert life is not None
    assert life.kind == "published"
    data = life.body["data"]
    assert isinstance(data, dict)
    assert data["decision"] == {"actor": "opa", "action": "mark_published", "reason": "seen"}
    assert data["url"] == "https://t.me/x/9"
