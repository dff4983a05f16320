"""The public calendar (deploy/calendar.yaml) and the engagement model it splits by regime."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from dateutil.easter import easter
from hypothesis import given
from hypothesis import strategies as st

from bench.slots import World
from services.scheduler.policy import EngagementModel, InvalidRequest, national_prior
from services.scheduler.policy.calendar import HOLIDAY, RAMADAN, SCHOOL_HOLIDAY, load_calendar
from services.scheduler.policy.priors import REGIME_HOURS, REGIME_LIFT, regime_prior
from services.scheduler.settings import SchedulerSettings

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "calendar.yaml"


def us(year: int, month: int, day: int, hour: int = 0, minute: int = 0, tz: ZoneInfo = WIB) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=tz).timestamp() * 1_000_000)


def test_the_deployment_calendar_covers_2026_to_2028_with_sources() -> None:
    calendar = load_calendar(DEPLOY)
    names = {(p.name, datetime.fromtimestamp(p.start_us / 1e6, WIB).year) for p in calendar.all_periods}
    for year in (2026, 2027, 2028):
        for name in ("ramadan", "idul_fitri", "idul_adha", "natal", "tahun_baru", "libur_sekolah"):
            assert (name, year) in names, (name, year)
    assert calendar.regime_at(us(2026, 3, 1, 12)) == RAMADAN
    assert calendar.regime_at(us(2026, 3, 21, 9)) == HOLIDAY  # Idul Fitri 1447 H (SKB 2026)
    assert calendar.regime_at(us(2026, 3, 19, 9)) == HOLIDAY  # Nyepi inside Ramadan: the shorter wins
    assert calendar.regime_at(us(2026, 7, 1, 9)) == SCHOOL_HOLIDAY
    assert calendar.regime_at(us(2026, 4, 10, 9)) is None
    assert calendar.regime_at(us(2026, 3, 25, 0)) is None  # the end date is the period's last day
    assert SchedulerSettings().load_calendar().regime_at(us(2027, 2, 20, 3)) == RAMADAN


NATIONAL_HOLIDAYS = (
    "tahun_baru", "isra_miraj", "imlek", "nyepi", "idul_fitri", "wafat_isa_almasih", "hari_buruh",
    "kenaikan_isa_almasih", "idul_adha", "waisak", "pancasila", "tahun_baru_islam", "kemerdekaan",
    "maulid_nabi", "natal",
)  # fmt: skip


@pytest.mark.parametrize("year", [2026, 2027, 2028])
def test_every_year_holds_every_national_holiday_as_a_day_off(year: int) -> None:
    """A holiday left out is a working day for the inbox's deadlines (complaints due a day early)."""
    periods = yaml.safe_load(DEPLOY.read_text(encoding="utf-8"))["periods"]
    days_off = {p["name"]: p["start"] for p in periods if p.get("day_off") and p["start"].year == year}
    assert set(NATIONAL_HOLIDAYS) <= set(days_off), sorted(set(NATIONAL_HOLIDAYS) - set(days_off))
    # Judged by dateutil's computus, not ours: Good Friday and Ascension Day.
    assert days_off["wafat_isa_almasih"] == easter(year) - timedelta(days=2)
    assert days_off["kenaikan_isa_almasih"] == easter(year) + timedelta(days=39)


@pytest.mark.parametrize(
    "text",
    [
        "periods: [{name: ramadan, start: 2027-02-08, end: 2027-03-09}]",  # no source
        "sources: {a: x}\nperiods: [{name: ramadan, start: 2027-02-08, end: 2027-03-09, source: b}]",
        "sources: {a: x}\nperiods: [{name: ramadan, start: 2027-03-09, end: 2027-02-08, source: a}]",
        "periods: [{name: ramadan, start: not-a-date",
    ],
)
def test_a_broken_calendar_is_refused_with_its_reason(tmp_path: Path, text: str) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidRequest):
        load_calendar(path)


def ramadan_model(tmp_path: Path) -> EngagementModel:
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "sources: {t: test}\nperiods: [{name: ramadan, start: 2027-02-08, end: 2027-03-09, source: t}]",
        encoding="utf-8",
    )
    return EngagementModel("instagram", "Asia/Makassar", calendar=load_calendar(path, "Asia/Makassar"))


def feed(model: EngagementModel, first: datetime, days: int, hot: int, cold: tuple[int, ...]) -> None:
    for day in range(days):
        for hour in (hot, *cold):
            at = first + timedelta(days=day, hours=hour)
            reactions = 1000 if hour == hot else 150
            for horizon in (60, 360, 1440):
                share = 1 - math.exp2(-horizon / 60)
                model.observe(at, horizon, round(reactions * share), post_id=f"{at.isoformat()}")


def level(model: EngagementModel, at: datetime) -> float:
    return model.curve_at(int(at.timestamp() * 1_000_000))[model.step_of(at)]


def test_ramadan_has_its_own_model_with_a_prior_the_evidence_corrects(tmp_path: Path) -> None:
    model = ramadan_model(tmp_path)
    ordinary, fasting = datetime(2027, 1, 11, tzinfo=WITA), datetime(2027, 2, 15, tzinfo=WITA)
    feed(model, datetime(2027, 1, 4, tzinfo=WITA), 21, hot=20, cold=(10, 15))
    # before any Ramadan post: the channel's own hours, reshaped for sahur (03 h) and iftar (18 h)
    ratio_ordinary = level(model, ordinary + timedelta(hours=3)) / level(
        model, ordinary + timedelta(hours=20)
    )
    ratio_fasting = level(model, fasting + timedelta(hours=3)) / level(model, fasting + timedelta(hours=20))
    assert ratio_fasting > 2 * ratio_ordinary
    # two weeks of Ramadan posts show this audience at 10:00 instead: the evidence wins
    feed(model, datetime(2027, 2, 9, tzinfo=WITA), 14, hot=10, cold=(3, 22))
    assert level(model, fasting + timedelta(hours=10)) > 2 * level(model, fasting + timedelta(hours=22))
    # ... and the ordinary weeks are untouched by it
    assert level(model, ordinary + timedelta(hours=20)) > 2 * level(model, ordinary + timedelta(hours=10))
    restored = EngagementModel.from_dict(model.to_dict(), calendar=model.calendar)
    assert restored.observations == model.observations == 21 * 3 + 14 * 3
    assert level(restored, fasting + timedelta(hours=10)) == pytest.approx(
        level(model, fasting + timedelta(hours=10))
    )


def test_ramadan_starts_a_daytime_audience_at_sahur_and_after_tarawih(tmp_path: Path) -> None:
    model = ramadan_model(tmp_path)
    feed(model, datetime(2027, 1, 4, tzinfo=WITA), 21, hot=12, cold=(9, 15))  # online at lunch only
    ordinary, fasting = datetime(2027, 1, 11, tzinfo=WITA), datetime(2027, 2, 15, tzinfo=WITA)

    def share(day: datetime, hour: int) -> float:
        return level(model, day + timedelta(hours=hour, minutes=30)) / level(model, day + timedelta(hours=12))

    # the ordinary weeks never saw this audience at 03 h; the month's sahur and late evening are
    # still among its hours before any Ramadan post, at about half of its lunchtime
    assert share(ordinary, 3) < 0.2
    assert share(fasting, 3) > 0.4
    assert share(fasting, 22) > 0.3
    # the evidence still decides: two weeks of Ramadan posts that find nobody before dawn
    feed(model, datetime(2027, 2, 9, tzinfo=WITA), 14, hot=12, cold=(3, 22))
    assert share(fasting, 3) < 0.3


def test_a_regime_model_chooses_by_its_mean_even_restored_from_an_older_state(tmp_path: Path) -> None:
    model = ramadan_model(tmp_path)
    feed(model, datetime(2027, 1, 4, tzinfo=WITA), 21, hot=20, cold=(10, 15))
    feed(model, datetime(2027, 2, 9, tzinfo=WITA), 7, hot=10, cold=(3, 22))
    state = model.to_dict()
    regimes = state["regimes"]
    assert isinstance(regimes, dict)
    regimes["ramadan"]["exploration"] = 0.25  # a state saved while regimes still drew
    restored = EngagementModel.from_dict(state, calendar=model.calendar)
    fasting = int(datetime(2027, 2, 20, tzinfo=WITA).timestamp() * 1_000_000)
    ordinary = int(datetime(2027, 1, 20, tzinfo=WITA).timestamp() * 1_000_000)
    for each in (model, restored):
        assert each.curve_at(fasting, random.Random(1)) == each.curve_at(fasting)
        assert each.curve_at(ordinary, random.Random(1)) != each.curve_at(ordinary)  # still draws


def test_the_regime_floor_lifts_only_hours_under_it() -> None:
    daytime = [1.0 if 9 <= b % 24 <= 15 else 0.05 for b in range(168)]
    night_owls = [1.0 if b % 24 in (2, 3, 4, 21, 22, 23) else 0.5 for b in range(168)]
    hours, lift = REGIME_HOURS[RAMADAN], REGIME_LIFT[RAMADAN]
    lifted = regime_prior(RAMADAN, daytime)
    assert [lifted[b] for b in range(24)] == [max(daytime[b] * hours[b], lift[b]) for b in range(24)]
    assert lifted[3] == pytest.approx(max(lift))  # an audience asleep at 03 h: the floor
    # an audience already up at those hours keeps its own shape; a holiday has no floor
    assert regime_prior(RAMADAN, night_owls) == [x * hours[b % 24] for b, x in enumerate(night_owls)]
    holiday = REGIME_HOURS[HOLIDAY]
    assert regime_prior(HOLIDAY, daytime) == [x * holiday[b % 24] for b, x in enumerate(daytime)]


@given(st.lists(st.floats(min_value=1e-6, max_value=1e3), min_size=168, max_size=168))
def test_the_floor_never_lowers_an_hour_and_holds_the_regime_order(base: list[float]) -> None:
    hours, lift, peak = REGIME_HOURS[RAMADAN], REGIME_LIFT[RAMADAN], max(base)
    lifted = regime_prior(RAMADAN, base)
    for b, (x, y) in enumerate(zip(base, lifted, strict=True)):
        assert y >= x * hours[b % 24]  # never under the reshaped ordinary hour
        assert y >= lift[b % 24] * peak  # never under the floor
        assert y in (x * hours[b % 24], lift[b % 24] * peak)  # one of the two, nothing in between
    # a scale of the ordinary hours scales the month alike (the floor is relative to the peak)
    assert regime_prior(RAMADAN, [2 * x for x in base]) == pytest.approx([2 * y for y in lifted])


def test_the_bench_replaces_the_curve_inside_a_season() -> None:
    start = datetime(2027, 1, 4, tzinfo=WITA)
    night = [1.0 if h % 24 in (2, 3) else 0.01 for h in range(168)]
    raw = {
        "name": "season",
        "seed": 1,
        "start": start.isoformat(),
        "weeks": 2,
        "calendar": [{"name": "ramadan", "start": (start + timedelta(days=7)).isoformat(),
                      "end": (start + timedelta(days=14)).isoformat()}],
        "channels": [{"id": "ig", "platform": "instagram", "timezone": "Asia/Makassar",
                      "activity": national_prior(), "half_life_minutes": 60, "base_reach": 100,
                      "seasons": [{"start": (start + timedelta(days=7)).isoformat(),
                                   "end": (start + timedelta(days=14)).isoformat(), "activity": night}]}],
        "content": [],
    }  # fmt: skip
    world = World(raw)
    ch = world.channels["ig"]

    def life(day: int, hour: int) -> float:
        return ch.life[world.index_floor(start + timedelta(days=day, hours=hour))]

    assert life(1, 20) > life(1, 3)  # the base curve: the evening
    assert life(8, 3) > 10 * life(8, 20)  # the season's: before dawn
    assert world.calendar.regime_at(int((start + timedelta(days=8)).timestamp() * 1e6)) == RAMADAN


def test_a_version_1_state_takes_the_automatic_exploration() -> None:
    state = EngagementModel("x", "Asia/Jakarta").to_dict()
    state.update(version=1, exploration=0.0)
    assert EngagementModel.from_dict(state).exploration is None
    assert EngagementModel.from_dict({**state, "version": 2}).exploration == 0.0
