"""The faust app the analytics worker builds, read back through faust's own configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.analytics.app import create_app
from services.analytics.settings import AnalyticsSettings
from shared.channels import ChannelDirectory


@pytest.fixture(autouse=True)
def _no_faust_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # faust reads its own environment names over the app's arguments.
    monkeypatch.delenv("TABLE_STANDBY_REPLICAS", raising=False)


def test_workers_keep_no_standby_copy_of_each_others_tables_by_default(tmp_path: Path) -> None:
    app = create_app(AnalyticsSettings(state_dir=tmp_path), ChannelDirectory())
    assert app.conf.table_standby_replicas == 0


def test_standby_copies_can_be_asked_for(tmp_path: Path) -> None:
    settings = AnalyticsSettings(state_dir=tmp_path, analytics_standby_replicas=1)
    assert create_app(settings, ChannelDirectory()).conf.table_standby_replicas == 1


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="analytics_standby_replicas"):
        AnalyticsSettings(analytics_standby_replicas=-1)
