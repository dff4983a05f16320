"""The slot model's expectation, published by the scheduler and shown by the analytics report.

The snapshot's encoding (168 hourly means of the model's 5-minute curve, rounded, through the one
codec), the chooser's view of its models, the analytics ledger keeping the newest snapshot per
channel, and the report showing it beside the observed heatmap (JSON Schema, HTML, CSV).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema_rs
import orjson
import pytest
from pydantic import ValidationError

from services.analytics.ledger import Position, apply
from services.analytics.reach_render import render_csv, render_html
from services.analytics.weekly import REPORT_SCHEMA, weekly_report
from services.scheduler.chooser import ChannelExpectation, NaiveChooser
from services.scheduler.expectations import hourly_means, snapshot
from services.scheduler.policy_chooser import PolicyChooser
from shared.channels import Channel
from shared.codec import DecodeError, decode, encode
from shared.events import EngagementObserved, ExpectationSnapshotted
from tests.unit.test_analytics_figures import REPORT, ZONES
from tests.unit.test_reach_report import parse

IG = Channel(id="ig-pemprov", platform="instagram", timezone="Asia/Makassar")
NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def steps_by_hour(values: list[float]) -> list[float]:
    """A week's 5-minute curve that holds ``values[h]`` through hour h."""
    return [v for v in values for _ in range(12)]


def test_each_hour_is_the_mean_of_its_twelve_steps_rounded_to_four_digits() -> None:
    curve = steps_by_hour([float(h) for h in range(168)])
    curve[0] = 12.0  # hour 0: eleven 0s and one 12 -> 1.0
    curve[12 * 5 + 3] = 5 + 1 / 3 * 12  # hour 5: +1/3
    hourly = hourly_means(curve)
    assert len(hourly) == 168
    assert hourly[0] == 1.0
    assert hourly[5] == 5.333
    assert hourly[167] == 167.0
    assert hourly_means([1 / 3] * 168) == tuple([0.3333] * 168)
    assert hourly_means([-1e-12] * 168) == tuple([0.0] * 168)  # rounding noise is not negative
    with pytest.raises(ValueError, match="multiple of 168"):
        hourly_means([1.0] * 2000)


def test_a_snapshot_is_compact_and_survives_the_codec() -> None:
    curve = steps_by_hour([100.0 + (h % 24) * 7.123456 for h in range(168)])
    event = snapshot(IG, ChannelExpectation(steps=curve, observations=42), NOW)
    raw = encode(event)
    assert decode(raw) == event
    assert event.channel == "ig-pemprov"
    assert event.timezone == "Asia/Makassar"
    assert event.observations == 42
    assert event.hourly[1] == 107.1
    assert event.event_id == snapshot(IG, ChannelExpectation(curve, 42), NOW).event_id  # same round, same id
    assert len(raw) < 2000  # one compacted record per channel


@pytest.mark.parametrize("hourly", [[1.0] * 167, [1.0] * 169, [-1.0] + [1.0] * 167, [1e400] + [1.0] * 167])
def test_a_snapshot_that_is_not_168_finite_non_negative_numbers_is_refused(hourly: list[float]) -> None:
    good = encode(snapshot(IG, ChannelExpectation(steps=[1.0] * 168, observations=0), NOW))
    bad = good.replace(b'"hourly":[' + b",".join([b"1.0"] * 168) + b"]", _hourly_json(hourly))
    assert bad != good
    with pytest.raises(DecodeError):
        decode(bad)
    with pytest.raises(ValidationError):
        ExpectationSnapshotted.model_validate({**orjson.loads(good), "hourly": [float("nan")] * 168})


def _hourly_json(hourly: list[float]) -> bytes:
    return b'"hourly":[' + ",".join("1e400" if v == float("inf") else repr(v) for v in hourly).encode() + b"]"


def test_the_policy_chooser_shows_only_the_models_it_holds() -> None:
    chooser = PolicyChooser()
    assert chooser.expectation(IG) is None
    assert NaiveChooser().expectation(IG) is None
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    for day in range(5):
        published = at + timedelta(days=day)
        chooser.observe(
            IG,
            EngagementObserved(
                event_id=f"e{day}",
                occurred_at=published + timedelta(hours=24),
                job_id=f"i{day}:ig",
                content_id=f"i{day}",
                channel=IG.id,
                platform=IG.platform,
                published_at=published,
                horizon_minutes=1440,
                reactions=300,
                comments=20,
                shares=5,
            ),
            None,
        )
    expectation = chooser.expectation(IG)
    assert expectation is not None
    assert expectation.observations == 5
    assert len(expectation.steps) == 168 * 12
    hourly = snapshot(IG, expectation, NOW).hourly
    # People online at 20:00 more than at 03:00 (the national prior the model starts from).
    assert hourly[20] > hourly[3] > 0


def snap(channel: str, at: datetime, level: float, observations: int = 3) -> ExpectationSnapshotted:
    return ExpectationSnapshotted(
        event_id=f"x:{channel}:{at.timestamp()}",
        occurred_at=at,
        channel=channel,
        platform="instagram",
        timezone="Asia/Jakarta",
        observations=observations,
        hourly=tuple(level * (1 + (h % 24 == 20)) for h in range(168)),
    )


def test_the_ledger_keeps_each_channels_newest_snapshot_once() -> None:
    store: dict[str, Any] = {}
    newer, older = snap("ig", NOW, 2.0), snap("ig", NOW - timedelta(hours=1), 1.0)
    assert apply(store, newer, Position("expectation", 0, 5), ZONES)
    assert not apply(store, newer, Position("expectation", 0, 5), ZONES)  # replayed after a crash
    assert not apply(store, older, Position("expectation", 0, 4), ZONES)  # late
    assert store["exp|ig"]["s"]["hourly"][20] == 4.0
    assert apply(store, snap("ig", NOW + timedelta(hours=1), 3.0), Position("expectation", 0, 6), ZONES)
    assert store["exp|ig"]["s"]["hourly"][0] == 3.0


@pytest.fixture
def doc() -> dict[str, Any]:
    store: dict[str, Any] = {}
    apply(store, snap("ig", NOW, 2.0, observations=1234), Position("expectation", 0, 0), ZONES)
    apply(store, snap("fb", NOW, 1.5), Position("expectation", 1, 0), ZONES)
    return weekly_report(store.items(), "2026-W49", REPORT)


def test_the_report_carries_the_expectation_by_its_schema(doc: dict[str, Any]) -> None:
    validator = jsonschema_rs.validator_for(dict(REPORT_SCHEMA))
    validator.validate(doc)
    assert [e["channel"] for e in doc["expectation"]] == ["fb", "ig"]
    ig = doc["expectation"][1]
    assert ig["observations"] == 1234
    assert ig["computed_at"] == NOW.isoformat()
    assert len(ig["hourly"]) == 168
    assert not validator.is_valid({**doc, "expectation": [{**ig, "hourly": ig["hourly"][:-1]}]})
    without = {k: v for k, v in doc.items() if k != "expectation"}
    validator.validate(without)  # a report of an older worker still reads


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["The model's expectation", "1,234 posts", "4.0 expected"]),
        ("id", ["Perkiraan model", "1.234 unggahan", "4,0 perkiraan"]),
    ],
)
def test_the_html_shows_the_expectation_beside_the_heatmap(
    doc: dict[str, Any], lang: str, words: list[str]
) -> None:
    page = render_html(doc, lang)
    s = parse(page)
    # No post this week: no observed grid, one expectation grid per channel, then the other charts.
    assert s.rects_per_svg[:2] == [168, 168]
    text = "".join(s.text)
    for word in words:
        assert word in text, word


def test_the_csv_has_one_expectation_row_per_channel_and_hour(doc: dict[str, Any]) -> None:
    rows = [r for r in csv.DictReader(io.StringIO(render_csv(doc))) if r["section"] == "expectation"]
    assert len(rows) == 2 * 168
    ig20 = next(r for r in rows if r["channel"] == "ig" and r["day_of_week"] == "0" and r["hour"] == "20")
    assert ig20["expected_engagement"] == "4.0"
    assert ig20["engagement"] == ""
