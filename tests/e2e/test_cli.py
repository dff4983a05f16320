"""The `warta` CLI against the running system, as an operator in a terminal uses it."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiokafka import AIOKafkaProducer

from shared.events import JobState
from shared.lifecycle import can
from shared.settings import ROOT
from shared.topics import TopicRegistry
from warta.devrun import LocalSystem

pytestmark = pytest.mark.e2e
CH = "mastodon-demo"


def warta(system: LocalSystem, *args: str, role: str | None = "approver") -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "WARTA_URL": system.ingest_url,
        "WARTA_CONSOLE_URL": system.console_url,
        "WARTA_DEV_KEYS": str(system.dev_keys_file),
    }
    extra = ["--key-role", role] if role else []
    return subprocess.run(
        [sys.executable, "-m", "warta.cli", *args, *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def until(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def wait_status(system: LocalSystem, content_id: str, state: str, timeout: float = 60) -> str:
    def check() -> str | None:
        out = warta(system, "status", content_id).stdout
        return out if f"{CH}  {state}" in out or f" {state} " in out else None

    return str(until(check, f"{content_id} {state}", timeout))


def write_item(path: Path, text: str, channel: str = CH) -> Path:
    path.write_text(
        "author: rina\n"
        "approval:\n  approved_by: yuyun\n  approved_at: 2026-11-26T10:00:00+08:00\n"
        "priority: urgent\n"
        f"content:\n  text: {json.dumps(text)}\n"
        f"targets:\n  - channel: {channel}\n"
    )
    return path


def submitted_id(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[1]


def test_submit_a_yaml_file_and_follow_it(system: LocalSystem, tmp_path: Path) -> None:
    text = f"Jembatan Mahakam dibuka #{uuid.uuid4().hex[:6]}"
    result = warta(system, "submit", str(write_item(tmp_path / "item.yaml", text)))
    content_id = submitted_id(result)
    assert f"{CH}: accepted" in result.stdout
    status = wait_status(system, content_id, "published")
    assert f"{system.sandbox_url}/mastodon/@" in status
    # The same file again is the same item (its Idempotency-Key comes from the content).
    assert submitted_id(warta(system, "submit", str(tmp_path / "item.yaml"))) == content_id

    day = datetime.now(ZoneInfo("Asia/Makassar")).date().isoformat()
    plan = warta(system, "plan", "--channel", CH, "--day", day)
    assert plan.returncode == 0, plan.stderr
    assert f"({'Asia/Makassar'})" in plan.stdout
    assert content_id in plan.stdout

    channels = warta(system, "channels", role="operator")
    assert channels.returncode == 0, channels.stderr
    line = next(row for row in channels.stdout.splitlines() if row.startswith(CH))
    assert line.split()[3] == "ok", channels.stdout


def test_refusals_are_listed_per_field(system: LocalSystem, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"author": "rina", "content": {"text": ""}, "targets": [{"channel": "nowhere"}]})
    )
    result = warta(system, "submit", str(bad))
    assert result.returncode == 1
    assert "refused (422)" in result.stderr
    assert "✗ approval:" in result.stderr
    assert "✗ content.text:" in result.stderr
    assert "✗ targets[0].channel [nowhere]:" in result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("author: [unclosed\n")
    result = warta(system, "submit", str(broken))
    assert result.returncode == 2
    assert "not valid YAML" in result.stderr


def test_an_indonesian_operator_reads_refusals_in_bahasa_indonesia(
    system: LocalSystem, tmp_path: Path
) -> None:
    """``--lang id``: the CLI's own words and the services' refusals, with the same rule codes."""
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"author": "rina", "content": {"text": "x"}, "targets": [{"channel": "nowhere"}]})
    )
    result = warta(system, "--lang", "id", "submit", str(bad))
    assert result.returncode == 1
    assert "ditolak (422)" in result.stderr
    assert "✗ targets[0].channel [nowhere]: tidak ada kanal 'nowhere'" in result.stderr
    assert "(unknown_channel)" in result.stderr
    missing = warta(system, "--lang", "id", "submit", str(tmp_path / "missing.json"))
    assert missing.returncode == 2
    assert "tidak bisa membaca" in missing.stderr


def test_pause_and_resume_with_a_reason(system: LocalSystem) -> None:
    paused = warta(system, "pause", "--channel", CH, "--reason", "crisis briefing", role="operator")
    assert paused.returncode == 0, paused.stderr
    assert "paused mastodon-demo: crisis briefing" in paused.stdout
    assert channel_pause(system) == {"by": "opa", "reason": "crisis briefing"}
    refused = warta(system, "resume", "--channel", CH, "--reason", "not mine")  # an approver's key
    assert refused.returncode == 1
    assert "role" in refused.stderr
    resumed = warta(system, "resume", "--channel", CH, "--reason", "all clear", role="operator")
    assert resumed.returncode == 0, resumed.stderr
    assert channel_pause(system) is None


def channel_pause(system: LocalSystem) -> Any:
    key = json.loads(system.dev_keys_file.read_text())["operator"]["key"]
    req = urllib.request.Request(
        f"{system.ingest_url}/v1/channels", headers={"Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        channels = json.loads(resp.read())["channels"]
    return next(c for c in channels if c["channel"] == CH)["paused"]


def test_lag_is_read_from_the_broker(system: LocalSystem) -> None:
    def scheduler_listed() -> str | None:
        result = warta(system, "lag", "--all", role="operator")
        assert result.returncode == 0, result.stderr
        return result.stdout if f"{system.group_prefix}-scheduler" in result.stdout else None

    out = until(scheduler_listed, "the scheduler's group in the lag table")
    assert "COMMITTED" in out
    assert "END" in out


def test_bulk_import_reports_accepted_and_rejected(system: LocalSystem, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:6]
    csv_file = tmp_path / "items.csv"
    csv_file.write_text(
        "text,channels,priority,author\n"
        f"Vaksinasi gratis {run},mastodon-demo,urgent,rina\n"
        f"Jadwal kapal {run},mastodon-demo;telegram-demo,normal,rina\n"
        f"Tidak ada kanal {run},nowhere,normal,rina\n"
    )
    result = warta(system, "import", str(csv_file))
    assert result.returncode == 1, result.stderr  # some rows were rejected
    assert "2 accepted, 0 already imported, 1 rejected (of 3 rows)" in result.stdout
    assert "line 4: rejected" in result.stdout
    assert "nowhere" in result.stdout
    assert "3/3" in result.stderr  # the progress bar
    again = warta(system, "import", str(csv_file))  # re-running an import posts nothing twice
    accepted = [
        line.split()[-1] for line in result.stdout.splitlines() if "accepted " in line and "line" in line
    ]
    assert all(content_id in again.stdout for content_id in accepted)


async def produce_poison(system: LocalSystem) -> None:
    topics = TopicRegistry(prefix=system.topic_prefix)
    producer = AIOKafkaProducer(bootstrap_servers=system.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.publish("mastodon"), b"{not json", key=b"poison-cli")
    finally:
        await producer.stop()


def test_dead_letters_list_show_and_replay(system: LocalSystem, tmp_path: Path) -> None:
    asyncio.run(produce_poison(system))

    def listed() -> str | None:
        result = warta(system, "dead", "list", role="operator")
        assert result.returncode == 0, result.stderr
        return result.stdout if "(not a job)" in result.stdout else None

    out = until(listed, "the poison message among the dead letters")
    letter_id = next(line.split()[0] for line in out.splitlines() if "(not a job)" in line)
    shown = warta(system, "dead", "show", letter_id, role="operator")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["raw"] == "{not json"
    refused = warta(system, "dead", "replay", letter_id, role="operator")
    assert refused.returncode == 1
    assert "nothing to replay" in refused.stderr

    # A job whose attempts are exhausted (six refusals in a row) is dead-lettered with its last error.
    sandbox = f"{system.sandbox_url}/mastodon/_fake/faults"
    fault = {
        "path_contains": "/api/v1/statuses",
        "method": "POST",
        "status": 429,
        "body": {"error": "down"},
        "count": 6,
    }
    req = urllib.request.Request(
        sandbox, data=json.dumps(fault).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    urllib.request.urlopen(req, timeout=10).close()
    content_id = submitted_id(
        warta(system, "submit", str(write_item(tmp_path / "dead.yaml", f"Gagal {uuid.uuid4().hex[:6]}")))
    )
    wait_status(system, content_id, "dead", timeout=90)
    job_id = f"{content_id}:{CH}"
    until(lambda: job_id in warta(system, "dead", "list", role="operator").stdout, "the job's dead letter")
    shown = warta(system, "dead", "show", job_id, role="operator")
    assert json.loads(shown.stdout)["job"]["state"] == "dead"

    replay = warta(system, "dead", "replay", job_id, role="operator")
    if can(JobState.DEAD, JobState.RETRYING):
        assert replay.returncode == 0, replay.stderr
        wait_status(system, content_id, "published", timeout=60)
    else:
        # The scheduler's lifecycle keeps dead terminal today; the console says so instead of
        # writing an outcome the scheduler would ignore.
        assert replay.returncode == 1
        assert "not allowed" in replay.stderr
        assert "lifecycle.py" in replay.stderr


def test_json_output_for_scripts(system: LocalSystem, tmp_path: Path) -> None:
    text = f"Data banjir Samarinda #{uuid.uuid4().hex[:6]}"
    result = warta(system, "submit", "--json", str(write_item(tmp_path / "item.yaml", text)))
    assert result.returncode == 0, result.stderr
    accepted = json.loads(result.stdout)
    content_id = accepted["content_id"]
    assert [job["channel"] for job in accepted["jobs"]] == [CH]
    status = json.loads(warta(system, "status", "--json", content_id).stdout)
    assert status["content_id"] == content_id
    assert status["channels"][0]["channel"] == CH
    channels = json.loads(warta(system, "channels", "--json", role="operator").stdout)
    mine = next(c for c in channels if c["channel"] == CH)
    assert mine["platform"] == "mastodon"
    assert mine["health"]["channel"] == CH
    lag = json.loads(warta(system, "lag", "--json", role="operator").stdout)
    assert {"group", "topic", "partition", "committed", "end", "lag"} <= set(lag["lags"][0])
    dead = json.loads(warta(system, "dead", "list", "--json", role="operator").stdout)
    assert isinstance(dead["dead"], list)


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "warta.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0
    assert re.fullmatch(r"warta (\d+\.\d+\.\d+\S*|dev)\n", result.stdout)
