"""The evaluation-like worlds (bench/evaluation_like.py): each kind is what its name promises, the
simulator accepts it, and a seed gives the same file."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

import pytest

from bench import evaluation_like
from bench.audiences import RAMADAN_FAMILIES
from bench.evaluation_like import KINDS, generate
from bench.slots import World


def local_hour_means(channel: dict[str, Any]) -> list[float]:
    activity = channel["activity"]
    return [sum(activity[day * 24 + hour] for day in range(7)) / 7 for hour in range(24)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("ramadan", [False, True])
def test_every_kind_is_a_valid_world_and_a_seed_gives_the_same_file(kind: str, ramadan: bool) -> None:
    world = generate(kind, 3, ramadan=ramadan)
    assert world == generate(kind, 3, ramadan=ramadan)
    assert world != generate(kind, 4, ramadan=ramadan)
    assert World(world).jobs  # the simulator's own parser accepts it, and it has work
    assert world["name"].startswith(f"eval-{kind}-")
    for channel in world["channels"]:
        assert len(channel["activity"]) == 168
        assert min(channel["activity"]) > 0
    if ramadan:
        (period,) = world["calendar"]
        assert period["name"] == "ramadan"
        for channel in world["channels"]:
            (season,) = channel["seasons"]
            assert (season["start"], season["end"]) == (period["start"], period["end"])
    else:
        assert "calendar" not in world


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_kinds_hold_what_their_names_promise(seed: int) -> None:
    wita = generate("wita_unlike", seed)
    assert {c["timezone"] for c in wita["channels"]} == {"Asia/Makassar"}
    audiences = [c["audience"] for c in wita["channels"]]
    assert len(set(audiences)) == len(audiences)  # no two platforms alike

    for channel in generate("late_night", seed)["channels"]:
        means = local_hour_means(channel)
        assert max(range(24), key=means.__getitem__) in (22, 23, 0, 1, 2)
        assert sum(means[h] for h in (22, 23, 0, 1)) > 3 * sum(means[h] for h in (18, 19, 20, 21))

    weekend = generate("weekend_long", seed)
    for channel in weekend["channels"]:
        activity = channel["activity"]
        assert sum(activity[5 * 24 :]) / 2 > 3 * sum(activity[: 5 * 24]) / 5
    for item in weekend["content"]:
        if item["priority"] == "normal":
            wait = datetime.fromisoformat(item["deadline"]) - datetime.fromisoformat(item["arrives_at"])
            assert wait >= timedelta(days=3)
            assert item["freshness_half_life_hours"] >= 48

    crisis = generate("crisis", seed)
    assert (crisis["weeks"], crisis["warmup_weeks"]) == (3, 1)
    warm = datetime.fromisoformat(crisis["start"]) + timedelta(weeks=crisis["warmup_weeks"])
    counted = [i for i in crisis["content"] if datetime.fromisoformat(i["arrives_at"]) >= warm]
    assert len(counted) >= 14 * 6
    assert sum(i["priority"] == "urgent" for i in counted) / len(counted) > 0.2
    for channel in crisis["channels"]:
        assert channel["max_posts_per_day"] <= 3
        assert channel["min_gap_minutes"] >= 120
        end = datetime.fromisoformat(crisis["start"]) + timedelta(weeks=3)
        assert all(datetime.fromisoformat(b["start"]) < end for b in channel["blackouts"])


def test_the_command_writes_one_world(capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluation_like.main(["--kind", "late_night", "--ramadan", "with", "--seed", "2"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == generate("late_night", 2, ramadan=True)
    with pytest.raises(SystemExit):
        evaluation_like.main(["--seed", "2"])  # which kind and which calendar: ambiguous
    with pytest.raises(ValueError, match="kind must be one of"):
        generate("sunrise", 1)


def busiest_hours(curve: list[float], n: int) -> set[int]:
    means = local_hour_means({"activity": curve})
    return set(sorted(range(24), key=means.__getitem__)[-n:])


def best_shift(usual: list[float], season: list[float]) -> int:
    """The hours by which ``season`` is ``usual`` moved later, judged by the log distance."""

    def distance(k: int) -> float:
        return sum(math.log(season[(b + k) % 168] / usual[b]) ** 2 for b in range(168))

    return min(range(24), key=distance)


@pytest.mark.parametrize("seed", [1, 2])
def test_each_ramadan_family_is_the_ramadan_it_names(seed: int) -> None:
    """The families differ only in the hidden seasons; each season is its family's reshaping of
    the channel's own week (read here from the hours, not from the family's table)."""
    worlds = {f: generate("wita_unlike", seed, ramadan=True, family=f) for f in RAMADAN_FAMILIES}
    assert len({w["name"] for w in worlds.values()}) == len(RAMADAN_FAMILIES)
    strip = {f: {k: v for k, v in w.items() if k not in ("name", "channels")} for f, w in worlds.items()}
    assert all(s == strip["ours"] for s in strip.values())
    for n, channel in enumerate(worlds["ours"]["channels"]):
        base = channel["activity"]
        seasons = {f: w["channels"][n]["seasons"][0]["activity"] for f, w in worlds.items()}
        assert all(w["channels"][n]["activity"] == base for w in worlds.values())
        assert busiest_hours(seasons["ours"], 1) == {3}  # sahur
        assert busiest_hours(seasons["sahur_late"], 1) == {5}
        assert best_shift(base, seasons["late"]) == 2
        usual = local_hour_means(channel)
        kept = local_hour_means({"activity": seasons["kept"]})
        assert all(0.6 < kept[h] / usual[h] < 1.6 for h in range(24))  # the usual day, within noise


def test_an_unknown_ramadan_family_is_refused() -> None:
    with pytest.raises(ValueError, match="Ramadan family"):
        generate("late_night", 1, ramadan=True, family="backwards")
