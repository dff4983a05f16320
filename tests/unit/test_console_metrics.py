"""The console's metrics, read back the way Prometheus reads them: each family the module's
documentation lists is exposed with that kind and those labels, and with its figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

import services.console.metrics as console_metrics
from services.console.metrics import TopicCollector
from services.console.offsets import OffsetSnapshot, PartitionLag
from services.console.view import ConsoleView
from shared.channels import Channel, ChannelDirectory
from shared.events import JobState, OutcomeStatus
from tests.unit.test_console import job, outcome

AT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def documented() -> dict[str, set[str]]:
    """The module docstring's table: each exposed name with its labels."""
    rows = re.findall(r"^    (warta_[a-z_]+)(?:\{([a-z_,]+)\})?", console_metrics.__doc__ or "", re.M)
    return {name: set(labels.split(",")) - {""} for name, labels in rows}


def exposition() -> str:
    snapshot = OffsetSnapshot(
        at=AT,
        end_offsets={("publish.outcomes", 0): 5, ("publish.outcomes", 1): 7},
        lags=(
            PartitionLag("g", "publish.outcomes", 0, 3, 5),
            PartitionLag("g", "publish.outcomes", 1, None, 7),
        ),
    )
    view = ConsoleView()
    view.apply(job(JobState.SCHEDULED, at=AT))
    view.apply(outcome(OutcomeStatus.PUBLISHED, AT))
    view.dead_by_source["schedule.due"] = 1
    channels = ChannelDirectory(channels=(Channel(id="telegram-demo", platform="telegram"),))
    registry = CollectorRegistry()
    registry.register(TopicCollector(view, lambda: snapshot, channels, lambda: AT))
    return generate_latest(registry).decode()


def scrape() -> dict[str, tuple[str, set[str], list[float]]]:
    found: dict[str, tuple[str, set[str], list[float]]] = {}
    for family in text_string_to_metric_families(exposition()):
        for sample in family.samples:
            _, labels, values = found.setdefault(sample.name, (family.type, set(), []))
            labels |= set(sample.labels)
            values.append(sample.value)
    return found


def test_every_documented_family_is_exposed_with_its_labels() -> None:
    found = scrape()
    assert {name: labels for name, (_, labels, _) in found.items()} == documented()
    kinds = {name: kind for name, (kind, _, _) in found.items()}
    assert {name for name, kind in kinds.items() if kind == "counter"} == {
        "warta_topic_messages_total",
        "warta_publish_outcomes_total",
        "warta_dead_letters_total",
    }


def test_the_figures_are_the_snapshot_and_the_view() -> None:
    found = scrape()
    assert found["warta_topic_messages_total"][2] == [12.0]
    assert sorted(found["warta_consumer_lag"][2]) == [2.0, 7.0]
    assert found["warta_consumer_committed_offset"][2] == [3.0]  # none yet on partition 1
    assert found["warta_consumer_group_lag"][2] == [9.0]
    assert found["warta_publish_outcomes_total"][2] == [1.0]
    assert found["warta_jobs"][2] == [1.0]
    assert found["warta_channel_failure_ratio"][2] == [0.0]
    assert found["warta_channel_paused"][2] == [0.0]


def test_each_label_carries_its_own_value() -> None:
    # Label names in the wrong order would still pass the name and figure checks above.
    lag = {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition())
        for sample in family.samples
        if sample.name == "warta_consumer_lag"
    }
    assert lag == {
        (("group", "g"), ("partition", "0"), ("topic", "publish.outcomes")): 2.0,
        (("group", "g"), ("partition", "1"), ("topic", "publish.outcomes")): 7.0,
    }


def test_the_views_figures_wait_for_the_replay_the_brokers_do_not() -> None:
    """Half-way through a restart's replay, a counter would read less than before the restart,
    and Prometheus would take the drop for a reset."""
    view = ConsoleView()
    view.apply(outcome(OutcomeStatus.PUBLISHED, AT))
    replayed = [False]
    registry = CollectorRegistry()
    channels = ChannelDirectory(channels=(Channel(id="telegram-demo", platform="telegram"),))
    registry.register(TopicCollector(view, lambda: None, channels, lambda: AT, replayed=lambda: replayed[0]))
    during = {f.name for f in text_string_to_metric_families(generate_latest(registry).decode())}
    assert "warta_publish_outcomes" not in during
    assert "warta_offsets_probe_age_seconds" in during
    replayed[0] = True
    after = {f.name for f in text_string_to_metric_families(generate_latest(registry).decode())}
    assert "warta_publish_outcomes" in after
