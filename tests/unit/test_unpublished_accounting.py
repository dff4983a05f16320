"""The chaos run's and the kill tests' accounting of jobs that end unpublished: every final state
but ``published`` is counted and printed with its reason, and only an ``unconfirmed`` whose
platform cannot tell is excused; the chaos run fails on any other."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from bench.chaos import Accepted, Run, failed, tally
from bench.unpublished import Accounting
from warta.devrun import LocalSystem


def test_every_unpublished_state_is_counted_and_only_cannot_tell_is_excused() -> None:
    acc = Accounting()
    acc.add("a:x-1", "published")
    acc.add(
        "b:telegram-1", "unconfirmed", "unconfirmed", "telegram: the Bot API can't list a channel's posts"
    )
    acc.add("c:x-1", "unconfirmed", "timeout", "reconciliation timed out")
    acc.add("d:x-1", "failed", "http_400", "bad request")
    acc.add("e:x-1", "dead", "http_503", "gave up after 40 attempts")
    acc.add("f:x-1", "unschedulable")
    assert acc.by_state() == {"dead": 1, "failed": 1, "unconfirmed": 2, "unschedulable": 1}
    assert [r.job for r in acc.defects()] == ["c:x-1", "d:x-1", "e:x-1", "f:x-1"]
    text = "\n".join(acc.render())
    assert "ended unpublished: 5" in text
    assert "platform cannot tell: 1; defects: 4" in text
    assert "reconciliation timed out" in text
    assert "no reason recorded" in text  # unschedulable here came without one


def _run(tmp_path: Path) -> Run:
    system = LocalSystem(bootstrap="unused:1", var=tmp_path, console_port=1)
    run = Run(system=system, env={}, key="k", rng=random.Random(1))
    run.accepted = [Accepted("c1", "item one #aaaaaaaaaa", ("x-chaos-00", "facebook-chaos-00"))]
    return run


def _posts(*accounts: str) -> dict[str, list[dict[str, str]]]:
    return {"x": [{"account": a, "text": "item one #aaaaaaaaaa"} for a in accounts]}


def test_the_chaos_run_fails_on_a_job_that_ends_failed_even_with_nothing_lost(tmp_path: Path) -> None:
    run = _run(tmp_path)
    jobs: dict[tuple[str, str], dict[str, Any]] = {
        ("c1", "x-chaos-00"): {"state": "published"},
        ("c1", "facebook-chaos-00"): {"state": "failed", "failure": {"code": "http_400", "message": "no"}},
    }
    result = tally(run, jobs, _posts("x-chaos-00"))
    assert (result["lost"], result["duplicates"]) == (0, 0)
    assert result["ended_unpublished_by_state"] == {"failed": 1}
    assert result["unpublished_defects"] == 1
    assert failed(result)


def test_a_job_the_operator_settled_counts_as_unconfirmed_with_its_reason(tmp_path: Path) -> None:
    run = _run(tmp_path)
    run.unconfirmed[("c1", "facebook-chaos-00")] = ("timeout", "reconciliation timed out", "absent: retried")
    jobs = {("c1", "x-chaos-00"): {"state": "published"}, ("c1", "facebook-chaos-00"): {"state": "published"}}
    result = tally(run, jobs, _posts("x-chaos-00", "facebook-chaos-00"))
    assert result["published_exactly_once"] == 2
    assert result["ended_unpublished_by_state"] == {"unconfirmed": 1}
    assert result["unpublished_defects"] == 1  # Facebook can be asked: a lookup that timed out is ours
    assert any("reconciliation timed out → absent: retried" in line for line in result["unpublished_detail"])
    assert failed(result)

    run.unconfirmed[("c1", "facebook-chaos-00")] = ("unconfirmed", "it cannot tell", "absent: retried")
    result = tally(run, jobs, _posts("x-chaos-00", "facebook-chaos-00"))
    assert result["unpublished_defects"] == 0
    assert not failed(result)
