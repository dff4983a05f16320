"""The status view folds events of several topics, read in any order across topics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.ingest import status_view
from services.ingest.status_view import StatusView
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
