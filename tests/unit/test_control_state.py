"""The publisher's copy of the operators' commands: which posts may not leave, and what it says.

Pure: ``ControlState`` folds ``ControlIssued`` events with ``now`` passed in. Pauses reach the
channels ``ChannelDirectory.reached_by`` says (the scheduler's and the status view's rule);
withdrawals and supersessions stop an item on every channel, for ``WITHDRAWN_KEPT``. A hold is
a deferred retry (no attempt spent) with the command's code.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.publisher.control_state import WITHDRAWN_KEPT, ControlState, Hold, unread
from shared.channels import Channel, ChannelDirectory
from shared.events import ControlAction, ControlIssued, OutcomeStatus
from tests.unit.test_plan import T0, control

DIRECTORY = ChannelDirectory(
    channels=(
        Channel(id="mastodon-demo", platform="mastodon"),
        Channel(id="x-demo", platform="x"),
        Channel(id="fb-demo", platform="facebook"),
    )
)
ALL = set(DIRECTORY.ids)


def command(
    action: ControlAction,
    *channels: str,
    content_id: str | None = None,
    at: datetime = T0,
    reason: str = "hari berkabung",
) -> ControlIssued:
    issued = control(action, content_id, channels=channels)
    return issued.model_copy(update={"occurred_at": at, "reason": reason})


def folded(*events: ControlIssued, now: datetime = T0) -> ControlState:
    state = ControlState(DIRECTORY)
    for event in events:
        state.apply(event, now)
    return state


def paused(state: ControlState) -> set[str]:
    return {c for c in DIRECTORY.ids if state.hold(c, "c1", T0) is not None}


def test_a_pause_of_no_channel_pauses_every_channel_and_a_resume_of_one_lifts_only_it() -> None:
    state = folded(command(ControlAction.PAUSE))
    assert paused(state) == ALL
    state.apply(command(ControlAction.RESUME, "x-demo"), T0)
    assert paused(state) == ALL - {"x-demo"}
    state.apply(command(ControlAction.RESUME), T0)
    assert paused(state) == set()


def test_a_pause_of_one_channel_holds_only_it_and_a_resume_of_all_lifts_it() -> None:
    state = folded(command(ControlAction.PAUSE, "x-demo"))
    assert paused(state) == {"x-demo"}
    state.apply(command(ControlAction.PAUSE, "fb-demo"), T0)
    state.apply(command(ControlAction.RESUME), T0)
    assert paused(state) == set()


def test_a_reconnect_lifts_no_pause() -> None:
    state = folded(command(ControlAction.PAUSE), command(ControlAction.RECONNECTED, "x-demo"))
    assert paused(state) == ALL


def test_a_paused_post_goes_back_unsent_from_now_and_spends_no_attempt() -> None:
    state = folded(command(ControlAction.PAUSE, reason="bencana: hari berkabung"))
    hold = state.hold("x-demo", "c1", T0)
    assert hold is not None
    assert (hold.code, hold.final) == ("paused", False)
    decision = hold.decision(T0)
    assert (decision.status, decision.deferred, decision.retry_at) == (OutcomeStatus.RETRY, True, T0)
    assert decision.error is not None
    assert decision.error.code == "paused"
    assert "bencana: hari berkabung" in decision.error.message


def test_a_withdrawn_item_is_held_on_every_channel_paused_or_not_and_others_are_not() -> None:
    state = folded(command(ControlAction.WITHDRAW, content_id="c7", reason="salah tanggal"))
    for channel in DIRECTORY.ids:
        hold = state.hold(channel, "c7", T0)
        assert hold is not None
        assert (hold.code, hold.final) == ("withdrawn", True)
        assert state.hold(channel, "c8", T0) is None
    state.apply(command(ControlAction.PAUSE), T0)
    assert [h.code for h in _holds(state, "c7")] == ["withdrawn"] * 3  # the item's end wins


def test_the_decision_for_a_withdrawn_item_is_a_deferred_retry_coded_withdrawn() -> None:
    state = folded(command(ControlAction.WITHDRAW, content_id="c7", reason="salah tanggal"))
    hold = state.hold("x-demo", "c7", T0 + timedelta(minutes=5))
    assert hold is not None
    decision = hold.decision(T0 + timedelta(minutes=5))
    assert (decision.status, decision.deferred) == (OutcomeStatus.RETRY, True)
    assert decision.error is not None
    assert decision.error.code == "withdrawn"
    assert "salah tanggal" in decision.error.message
    # Should the scheduler fire it anyway, it comes back slowly, never in a tight loop.
    assert decision.retry_at is not None
    assert decision.retry_at >= T0 + timedelta(minutes=5, hours=1)


def test_a_superseded_item_is_held_with_its_own_code() -> None:
    event = command(ControlAction.SUPERSEDE, content_id="c7").model_copy(update={"superseded_by": "c9"})
    [hold, *_] = _holds(folded(event), "c7")
    assert (hold.code, hold.final) == ("superseded", True)
    assert "c9" in hold.message


def test_a_withdrawal_is_forgotten_after_its_retention_and_one_already_older_is_not_kept() -> None:
    state = folded(command(ControlAction.WITHDRAW, content_id="c7"))
    assert state.hold("x-demo", "c7", T0 + WITHDRAWN_KEPT - timedelta(seconds=1)) is not None
    assert state.hold("x-demo", "c7", T0 + WITHDRAWN_KEPT) is None
    assert state.stopped == {}
    late = folded(command(ControlAction.WITHDRAW, content_id="c8"), now=T0 + WITHDRAWN_KEPT)
    assert late.stopped == {}


def test_a_publisher_that_could_not_read_the_commands_hands_the_post_back_for_as_long() -> None:
    hold = unread(30.0)
    assert (hold.code, hold.final) == ("control_unread", False)
    decision = hold.decision(T0)
    assert (decision.status, decision.deferred) == (OutcomeStatus.RETRY, True)
    assert decision.retry_at == T0 + timedelta(seconds=30)


def _holds(state: ControlState, content_id: str) -> list[Hold]:
    return [h for c in DIRECTORY.ids if (h := state.hold(c, content_id, T0)) is not None]


ACTIONS = st.sampled_from([ControlAction.PAUSE, ControlAction.RESUME])
TARGETS = st.lists(st.sampled_from(sorted(ALL)), max_size=2, unique=True)


@given(st.lists(st.tuples(ACTIONS, TARGETS), max_size=12))
def test_the_channels_held_are_those_whose_last_pause_or_resume_reaching_them_was_a_pause(
    commands: list[tuple[ControlAction, list[str]]],
) -> None:
    state = folded(*(command(action, *channels) for action, channels in commands))
    last: dict[str, ControlAction] = {}
    for action, channels in commands:
        for channel in channels or ALL:
            last[channel] = action
    assert paused(state) == {c for c, action in last.items() if action is ControlAction.PAUSE}
