"""bench.paired: two runs of the same worlds compared world by world."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import adversarial
from bench.paired import PairingError, compare, main, read_lines, world_kind


def line(world: str, captured: float, violations: int = 0) -> str:
    return json.dumps({"world": world, "captured_vs_oracle": captured, "violations": violations})


def test_a_hand_worked_pair_of_runs() -> None:
    base = read_lines([line("adv-01-shift", 0.5), line("adv-05-plain", 0.8), line("adv-07-plain", 0.9)], "a")
    cand = read_lines([line("adv-01-shift", 0.6), line("adv-05-plain", 1.0), line("adv-07-plain", 1.2)], "b")
    every, plain = compare(base, cand)  # the shift kind has one world: no line of its own
    # differences 0.1, 0.2, 0.3: mean 0.2, sd 0.1, s.e. 0.1 / √3
    assert every["kind"] == "all"
    assert every["worlds"] == 3
    assert every["paired_mean"] == pytest.approx(0.2)
    assert every["paired_se"] == pytest.approx(0.0577, abs=1e-4)
    assert every["better"] == 3
    assert every["worse"] == 0
    assert every["baseline"]["captured_min"] == 0.5
    assert every["candidate"]["below_0.95"] == 1
    # plain: differences 0.2 and 0.3, sd 0.0707, s.e. 0.05
    assert (plain["kind"], plain["worlds"], plain["paired_se"]) == ("plain", 2, pytest.approx(0.05))


def test_summaries_and_worlds_of_one_run_only_are_left_out() -> None:
    summary = json.dumps({"summary": "tuning", "worlds": 2})
    base = read_lines([line("kaltim-bureau", 1.0), summary, "", line("only-here", 0.3)], "a")
    cand = read_lines([line("kaltim-bureau", 0.9), line("pilkada-silence", 1.0)], "b")
    (every,) = compare(base, cand)
    assert every["worlds"] == 1
    assert every["paired_mean"] == pytest.approx(-0.1)
    assert math.isnan(every["paired_se"])
    assert every["t"] is None


def test_what_cannot_be_compared_says_where() -> None:
    with pytest.raises(PairingError, match=r"run\.jsonl:2: not a JSON line"):
        read_lines([line("a", 1.0), "{oops"], "run.jsonl")
    for hostile in (
        '{"world": "w", "captured_vs_oracle": "0.9"}',
        '{"world": "w"}',
        '{"world": "w", "captured_vs_oracle": NaN}',
        '{"world": "w", "captured_vs_oracle": true}',
        '{"world": "w", "captured_vs_oracle": 0.9, "violations": 0.5}',
        '{"world": "w", "captured_vs_oracle": 0.9}',
    ):
        with pytest.raises(PairingError, match=r"x:1: world 'w' has no numeric capture"):
            read_lines([hostile], "x")
    with pytest.raises(PairingError, match="share no world"):
        compare(read_lines([line("a", 1.0)], "x"), read_lines([line("b", 1.0)], "y"))


def test_kinds_follow_the_generators_names() -> None:
    assert world_kind("adv-2232-shift") == "shift"
    assert world_kind("eval-crisis-ramadan-03") == "crisis-ramadan"
    assert world_kind("eval-wita_unlike-12") == "wita_unlike"
    assert world_kind("kaltim-bureau-ramadan") == "kaltim-bureau-ramadan"


@given(st.lists(st.tuples(st.floats(0, 2), st.floats(0, 2)), min_size=2, max_size=40))
def test_the_paired_mean_is_the_difference_of_the_means(pairs: list[tuple[float, float]]) -> None:
    base = {f"w{i}": {"captured_vs_oracle": a, "violations": 0} for i, (a, _) in enumerate(pairs)}
    cand = {f"w{i}": {"captured_vs_oracle": b, "violations": 0} for i, (_, b) in enumerate(pairs)}
    every = compare(base, cand)[0]
    expected = statistics.fmean(b for _, b in pairs) - statistics.fmean(a for a, _ in pairs)
    assert every["paired_mean"] == pytest.approx(expected, abs=6e-5)  # rounded to 4 places


def test_the_command_prints_a_line_per_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("\n".join([line("adv-04-plain", 0.9), line("adv-06-plain", 0.8)]), encoding="utf-8")
    b.write_text("\n".join([line("adv-04-plain", 0.95), line("adv-06-plain", 0.85)]), encoding="utf-8")
    assert main([str(a), str(b)]) == 0
    kinds = [json.loads(text)["kind"] for text in capsys.readouterr().out.splitlines()]
    assert kinds == ["all", "plain"]


@pytest.mark.parametrize("seed", range(1, 17))
def test_an_adversarial_worlds_kind_is_known_from_its_seed(seed: int) -> None:
    assert world_kind(adversarial.generate(seed)["name"]) == adversarial.kind_of(seed)
    assert adversarial.kind_of(seed) == adversarial.kind_of(seed ^ 1)  # both halves alike
