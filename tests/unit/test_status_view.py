"""The status view folds events of several topics, read in any order across topics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.ingest import status_view
from services.ingest.status_view import StatusView
from services.scheduler.router import route
from shared.channels import Channel, ChannelDirectory
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    ControlAction,
    ControlIssued,
    OutcomeStatus,
    PublishOutcome,
)

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
CH = "mastodon-demo"


def approved(content_id: str) -> ContentApproved:
    return ContentApproved(
        event_id=f"e-{content_id}",
        occurred_at=T0,
        content_id=content_id,
        author="rina",
        approval=Approval(approved_by="yuyun", approved_at=T0),
        submitted_by="yuyun",
        variants=(ChannelVariant(channel=CH, content=Content(text="Jembatan Mahakam IV")),),
    )


def published(content_id: str) -> PublishOutcome:
    return PublishOutcome(
        event_id=f"o-{content_id}",
        occurred_at=T0 + timedelta(minutes=5),
        job_id=f"{content_id}:{CH}",
        content_id=content_id,
        channel=CH,
        platform="mastodon",
        attempt=1,
        status=OutcomeStatus.PUBLISHED,
        post_id="109",
        url="https://mastodon.example/@pemprov/109",
    )


def test_an_outcome_read_before_its_item_is_applied_when_the_item_arrives() -> None:
    view = StatusView()
    view.apply(published("c1"))  # the outcomes partition was read first (after a restart, say)
    assert view.find("c1") is None
    view.apply(approved("c1"))
    item = view.find("c1")
    assert item is not None
    status = item.channels[CH]
    assert (status.state, status.post_id) == ("published", "109")
    assert view.early_events == 0


def test_a_withdrawal_read_before_its_item_withdraws_it_and_is_audited_once() -> None:
    view = StatusView()
    withdraw = ControlIssued(
        event_id="w1", occurred_at=T0, action=ControlAction.WITHDRAW, content_id="c1", by="yuyun",
        reason="salah tanggal",
    )  # fmt: skip
    view.apply(withdraw)
    view.apply(approved("c1"))
    item = view.find("c1")
    assert item is not None
    assert item.withdrawn
    assert view.audit == [withdraw]


def test_events_of_items_that_never_come_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status_view, "MAX_EARLY_EVENTS", 3)
    view = StatusView()
    for n in range(5):
        view.apply(published(f"c{n}"))
    assert view.early_events == 3
    assert view.early_dropped == 2
    assert list(view.early) == ["c2", "c3", "c4"]  # the oldest went first


DEMO = ChannelDirectory(
    channels=tuple(
        Channel(id=f"{p}-demo", platform=p, timezone="Asia/Jakarta") for p in ("mastodon", "x", "telegram")
    )
)


def control(action: ControlAction, *channels: str, reason: str = "banjir") -> ControlIssued:
    return ControlIssued(
        event_id=f"{action.value}-{reason}", occurred_at=T0, action=action, channels=channels, by="opa",
        reason=reason,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("commands", "paused"),
    [
        # A pause of all, then a resume of one: that one runs, as the scheduler runs it.
        ([control(ControlAction.PAUSE), control(ControlAction.RESUME, CH)], {"x-demo", "telegram-demo"}),
        ([control(ControlAction.PAUSE, CH), control(ControlAction.RESUME)], set()),
        ([control(ControlAction.PAUSE), control(ControlAction.RESUME)], set()),
        (
            [control(ControlAction.PAUSE, "x-demo"), control(ControlAction.RESUME, "x-demo")],
            set(),
        ),
        (
            [
                control(ControlAction.PAUSE),
                control(ControlAction.RESUME, CH, "x-demo"),
                control(ControlAction.PAUSE, CH),
            ],
            {CH, "telegram-demo"},
        ),
    ],
)
def test_pauses_reach_the_channels_the_scheduler_pauses(
    commands: list[ControlIssued], paused: set[str]
) -> None:
    view = StatusView(channels=DEMO)
    for command in commands:
        view.apply(command)
    assert set(view.paused) == paused
    # The scheduler's router sends each command to the channels whose plans apply it.
    fired: dict[str, ControlIssued] = {}
    for command in commands:
        for channel in route(command, DEMO):
            if command.action is ControlAction.PAUSE:
                fired[channel] = command
            else:
                fired.pop(channel, None)
    assert view.paused == fired


def test_a_pause_of_all_says_who_paused_each_channel_and_why() -> None:
    view = StatusView(channels=DEMO)
    view.apply(control(ControlAction.PAUSE, CH, reason="hoax"))
    everything = control(ControlAction.PAUSE, reason="banjir")
    view.apply(everything)
    assert view.paused == dict.fromkeys(DEMO.ids, everything)
