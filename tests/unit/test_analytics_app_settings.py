"""The faust app the analytics worker builds, read back through faust's own configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.analytics.app import AnalyticsMisconfigured, create_app
from services.analytics.settings import AnalyticsSettings
from shared.channels import ChannelDirectory


@pytest.fixture(autouse=True)
def _no_faust_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # faust reads its own environment names over the app's arguments.
    monkeypatch.delenv("TABLE_STANDBY_REPLICAS", raising=False)
    monkeypatch.delenv("STREAM_WAIT_EMPTY", raising=False)


def test_workers_keep_no_standby_copy_of_each_others_tables_by_default(tmp_path: Path) -> None:
    app = create_app(AnalyticsSettings(state_dir=tmp_path), ChannelDirectory())
    assert app.conf.table_standby_replicas == 0


def test_standby_copies_can_be_asked_for(tmp_path: Path) -> None:
    settings = AnalyticsSettings(state_dir=tmp_path, analytics_standby_replicas=1)
    assert create_app(settings, ChannelDirectory()).conf.table_standby_replicas == 1


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="analytics_standby_replicas"):
        AnalyticsSettings(analytics_standby_replicas=-1)


def test_a_worker_whose_revocations_would_not_wait_for_the_batch_in_flight_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without faust's wait before it commits, a partition could move before the fold's batch on
    # it landed in its changelog (services/analytics/fold_consumer.py).
    assert create_app(AnalyticsSettings(state_dir=tmp_path), ChannelDirectory()).conf.stream_wait_empty
    monkeypatch.setenv("STREAM_WAIT_EMPTY", "false")
    with pytest.raises(AnalyticsMisconfigured, match="STREAM_WAIT_EMPTY"):
        create_app(AnalyticsSettings(state_dir=tmp_path), ChannelDirectory())


@pytest.mark.parametrize(
    ("environment", "quiet_s"),
    [
        ({}, 0.4),
        ({"WARTA_ANALYTICS_CAUGHT_UP_QUIET_S": "0.7"}, 0.7),
        # The former name was the fold's wait for records; the quiet period was two of them.
        ({"WARTA_ANALYTICS_BATCH_WITHIN_S": "0.3"}, 0.6),
        ({"WARTA_ANALYTICS_BATCH_WITHIN_S": "0.3", "WARTA_ANALYTICS_CAUGHT_UP_QUIET_S": "0.5"}, 0.5),
    ],
)
def test_the_caught_up_quiet_period_is_read_under_its_name_and_its_former_one(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], quiet_s: float
) -> None:
    monkeypatch.delenv("WARTA_ANALYTICS_CAUGHT_UP_QUIET_S", raising=False)
    monkeypatch.delenv("WARTA_ANALYTICS_BATCH_WITHIN_S", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert AnalyticsSettings().analytics_caught_up_quiet_s == pytest.approx(quiet_s)


def test_the_former_name_keeps_its_bounds() -> None:
    with pytest.raises(ValueError, match="WARTA_ANALYTICS_BATCH_WITHIN_S"):
        AnalyticsSettings(WARTA_ANALYTICS_BATCH_WITHIN_S=0)
