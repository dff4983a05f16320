"""The console's view says a channel is paused exactly when the scheduler holds it paused."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.console.view import ConsoleView
from services.scheduler.router import route
from shared.events import ControlAction, ControlIssued
from tests.unit.test_status_view import DEMO, control

COMMANDS = st.lists(
    st.tuples(
        st.sampled_from([ControlAction.PAUSE, ControlAction.RESUME]),
        st.lists(st.sampled_from(DEMO.ids), unique=True, max_size=2),
    ),
    max_size=8,
)


@given(COMMANDS)
def test_any_sequence_of_pauses_and_resumes_shows_what_the_scheduler_does(
    commands: list[tuple[ControlAction, list[str]]],
) -> None:
    view = ConsoleView()
    held: dict[str, ControlIssued] = {}  # the scheduler's: each channel's plan applies its commands
    for n, (action, channels) in enumerate(commands):
        command = control(action, *channels, reason=f"r{n}")
        view.apply(command)
        for channel in route(command, DEMO):
            if action is ControlAction.PAUSE:
                held[channel] = command
            else:
                held.pop(channel, None)
    assert {ch: view.is_paused(ch) for ch in DEMO.ids} == {ch: held.get(ch) for ch in DEMO.ids}


def test_a_channel_resumed_after_a_pause_of_all_runs_and_the_others_stay_paused() -> None:
    view = ConsoleView()
    pause_all = control(ControlAction.PAUSE, reason="banjir")
    view.apply(pause_all)
    view.apply(control(ControlAction.RESUME, "mastodon-demo", reason="ok"))
    assert view.is_paused("mastodon-demo") is None
    assert view.is_paused("x-demo") == pause_all
