"""The analytics worker (`warta analytics`, a faust app) on the real broker, killed with SIGKILL.

Generated events (duplicates, readings out of order, tags, a poison record) go onto the three
source topics; the worker's figures, read over its HTTP API, must equal the brute-force
recomputation of tests/unit/test_analytics_figures.py. Then:

- killed once everything is taken in and committed, and started again: it answers the same
  figures at once, before it reads a single source record again (they come from the changelog,
  not from re-reading the topics);
- killed while it folds a second batch, and started again: the figures converge to the
  recomputation of both batches (no event lost, none counted twice).

Both on uvloop (the default) and on asyncio's own loop (``WARTA_EVENT_LOOP=asyncio``); which one
the process runs is read from the libraries it mapped, not from what it says.

The figures measured (events/s, restart-to-ready) are printed, not asserted.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import UnknownTopicOrPartitionError
from aiokafka.structs import RecordMetadata

from services.analytics.settings import AnalyticsSettings
from shared.codec import encode
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    EngagementObserved,
    OutcomeStatus,
    PublishOutcome,
)
from shared.kafka import committed_offsets, delete_topics, ensure_topics, log_bounds, make_producer
from shared.settings import ROOT
from shared.topics import TopicRegistry
from tests.integration.poison_kit import letters
from tests.unit.test_analytics_figures import CHANNELS, T0, TAGS, Event, recompute
from warta.devrun import free_listen_port

pytestmark = pytest.mark.integration

PLATFORM = {"ig": "instagram", "fb": "facebook", "x": "x"}
QUERIES = [(b, w) for b in ("channel", "topic", "tag") for w in ("day", "week", "all")] + [
    ("hour", "week"),
    ("hour", "all"),
]
WAIT_S = 240.0


def generate(rnd: random.Random, first: int, items: int) -> list[Event]:
    events: list[Event] = []
    for c in range(first, first + items):
        content_id = f"c{c}"
        events.append(
            ContentApproved(
                event_id=f"a{c}",
                occurred_at=T0,
                content_id=content_id,
                topic_key=rnd.choice([None, "jembatan", "banjir-2026"]),
                tags=tuple(rnd.sample(TAGS, rnd.randint(0, 2))),
                author="rina",
                approval=Approval(approved_by="yuyun", approved_at=T0),
                submitted_by="yuyun",
                variants=(ChannelVariant(channel="ig", content=Content(text="t")),),
            )
        )
        for channel in rnd.sample(sorted(CHANNELS), rnd.randint(1, 3)):
            job_id = f"{content_id}:{channel}"
            published_at = T0 + timedelta(minutes=rnd.randint(0, 14 * 24 * 60))
            common = {
                "job_id": job_id,
                "content_id": content_id,
                "channel": channel,
                "platform": PLATFORM[channel],
            }
            events.append(
                PublishOutcome(
                    event_id=f"o{job_id}",
                    occurred_at=published_at,
                    attempt=1,
                    status=OutcomeStatus.PUBLISHED,
                    **common,
                )
            )
            for k, horizon in enumerate(rnd.sample([60, 360, 1440, 10080], rnd.randint(0, 4))):
                events.append(
                    EngagementObserved(
                        event_id=f"e{job_id}{k}",
                        occurred_at=published_at + timedelta(minutes=horizon),
                        published_at=published_at,
                        horizon_minutes=horizon,
                        reactions=rnd.randint(0, 1000),
                        comments=rnd.randint(0, 100),
                        shares=rnd.randint(0, 100),
                        reach=rnd.choice([None, rnd.randint(0, 10**5)]),
                        **common,
                    )
                )
    events += rnd.sample(events, len(events) // 10)  # re-deliveries
    rnd.shuffle(events)  # readings out of order
    return events


def topic_of(topics: TopicRegistry, event: Event) -> str:
    if isinstance(event, ContentApproved):
        return topics.content_approved
    return topics.publish_outcomes if isinstance(event, PublishOutcome) else topics.engagement_observed


async def send_events(
    producer: AIOKafkaProducer,
    topics: TopicRegistry,
    events: Sequence[Event],
    values: Sequence[bytes] | None = None,
) -> list[asyncio.Future[RecordMetadata]]:
    """Each event onto its type's topic, keyed by its content id (an item's events share a
    partition), as ``values`` instead of the encoded event when given; the acknowledgements."""
    raws = [encode(e) for e in events] if values is None else values
    return [
        await producer.send(topic_of(topics, e), raw, key=e.content_id.encode())
        for e, raw in zip(events, raws, strict=True)
    ]


async def produce(bootstrap: str, topics: TopicRegistry, events: list[Event], poison: bool = False) -> None:
    producer = make_producer(bootstrap, "analytics-test")
    await producer.start()
    try:
        # Freshly created topics reach a busy broker's metadata a little later.
        for name in {topic_of(topics, e) for e in events}:
            for _ in range(60):
                try:
                    await producer.partitions_for(name)
                    break
                except UnknownTopicOrPartitionError:
                    await asyncio.sleep(1)
        await send_events(producer, topics, events)
        if poison:
            await producer.send(topics.engagement_observed, b"{not json", key=b"c0")
        await producer.flush()
    finally:
        await producer.stop()


class Worker:
    """One `warta analytics` process of this test (killed by its own process group id only)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log, self.port = env, log, int(env["WARTA_ANALYTICS_PORT"])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "warta.cli", "analytics"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def uses_uvloop(self) -> bool:
        """Whether uvloop's compiled loop is mapped into the process (Linux's /proc): the setting
        reached the worker, which imports uvloop only to use it. That faust's loop is then a uvloop
        one is test_event_loop.py's question."""
        assert self.proc is not None
        maps = Path(f"/proc/{self.proc.pid}/maps").read_text()
        return any("/uvloop/loop." in line for line in maps.splitlines())

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
        self.proc.wait(timeout=30)

    def get(self, path: str) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as resp:
                body = resp.read()
                status = resp.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read(), exc.code
        if path == "/metrics":
            return status, body.decode()
        return status, json.loads(body)

    def get_status(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    async def wait_ready(self) -> float:
        started = time.monotonic()
        while time.monotonic() - started < WAIT_S:
            assert self.proc is not None
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if (await asyncio.to_thread(self.get, "/readyz"))[0] == 200:
                    return time.monotonic() - started
            except (OSError, ValueError):
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"not ready within {WAIT_S} s:\n{self.log.read_text()[-3000:]}")

    def figures(self) -> dict[tuple[str, str], dict[tuple[str, str], tuple[int, ...]]]:
        out: dict[tuple[str, str], dict[tuple[str, str], tuple[int, ...]]] = {}
        for by, window in QUERIES:
            status, body = self.get(f"/v1/reach?by={by}&window={window}")
            assert status == 200, body
            out[(by, window)] = {
                (r["key"], r["period"] or ""): (
                    r["posts"],
                    r["reactions"],
                    r["comments"],
                    r["shares"],
                    r["reach"] or 0,
                    r["reach_posts"],
                )
                for r in body["rows"]
            }
        return out

    def events_read(self) -> float:
        text = self.get("/metrics")[1]
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("warta_analytics_events_total{")
        )

    async def converge(self, events: list[Event]) -> float:
        """Seconds until the figures equal the recomputation of ``events``."""
        expected = {(by, w): recompute(events, by, w) for by, w in QUERIES}
        started = time.monotonic()
        while True:
            got = await asyncio.to_thread(self.figures)
            if got == expected:
                return time.monotonic() - started
            if time.monotonic() - started > WAIT_S:
                diff = {q: (got[q], expected[q]) for q in QUERIES if got[q] != expected[q]}
                log = self.log.read_text(errors="replace")[-3000:]
                raise AssertionError(f"figures differ from the recomputation: {str(diff)[:2000]}\n{log}")
            await asyncio.sleep(0.5)


async def committed_within(bootstrap: str, topics: TopicRegistry, run_id: str, within_s: float) -> float:
    """Seconds until the worker's group has committed each source partition's end offset, as
    the log ends are now; fails after ``within_s``."""
    read = [topics.content_approved, topics.publish_outcomes, topics.engagement_observed]
    ends = await log_bounds(bootstrap, [TopicPartition(t, p) for t in read for p in range(topics.partitions)])
    group = AnalyticsSettings(topic_prefix=topics.prefix, group_prefix=f"g{run_id}").app_id  # faust's group
    started = time.monotonic()
    while True:
        committed = await committed_offsets(bootstrap, group)
        behind = {
            tp: end - committed.get(tp, 0) for tp, (_, end) in ends.items() if end > committed.get(tp, 0)
        }
        if not behind:
            return time.monotonic() - started
        assert time.monotonic() - started < within_s, f"still behind {within_s:.0f} s later: {behind}"
        await asyncio.sleep(0.25)


async def source_topics(bootstrap: str, topics: TopicRegistry) -> None:
    """The topics the worker reads and dead-letters to, made before it starts."""
    sources = {
        topics.content_approved,
        topics.publish_outcomes,
        topics.engagement_observed,
        topics.publish_dead,
    }
    await ensure_topics(bootstrap, [s for s in topics.specs() if s.name in sources])


@pytest.fixture
def worker(kafka_bootstrap: str, topics: TopicRegistry, run_id: str, tmp_path: Path) -> Iterator[Worker]:
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        json.dumps(
            {"channels": [{"id": c, "platform": PLATFORM[c], "timezone": z} for c, z in CHANNELS.items()]}
        )
    )
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "WARTA_TOPIC_PREFIX": topics.prefix,
        "WARTA_GROUP_PREFIX": f"g{run_id}",
        "WARTA_PARTITIONS": str(topics.partitions),
        "WARTA_CHANNELS_FILE": str(channels),
        "WARTA_ANALYTICS_PORT": str(free_listen_port()),
        "WARTA_LOG_LEVEL": "WARNING",
    }
    w = Worker(env, tmp_path / "analytics.log")
    try:
        yield w
    finally:
        if w.proc is not None:
            w.kill()
        # A loop of its own in a thread: the tests' session loop may still be around.
        try:
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, delete_topics(kafka_bootstrap, topics.prefix)).result()
        except Exception as exc:  # cleanup only: a busy broker may time the deletion out
            print(f"could not delete {topics.prefix}* topics: {exc!r}")


@pytest.mark.parametrize("event_loop", ["uvloop", "asyncio"])
async def test_the_figures_survive_kill_9_and_equal_the_recomputation(
    kafka_bootstrap: str, topics: TopicRegistry, worker: Worker, event_loop: str, run_id: str
) -> None:
    worker.env["WARTA_EVENT_LOOP"] = event_loop
    await source_topics(kafka_bootstrap, topics)
    rnd = random.Random(20)
    first = generate(rnd, 0, 400)
    await produce(kafka_bootstrap, topics, first, poison=True)

    worker.start()
    await worker.wait_ready()
    assert worker.uses_uvloop() == (event_loop == "uvloop")
    for internal in ("/table/figures/", "/router/"):  # faust's own pages stay off
        assert (await asyncio.to_thread(worker.get_status, internal)) == 404, internal
    status, body = await asyncio.to_thread(worker.get, "/v1/reach?by=leader")
    assert status == 400, body
    assert [e["rule"] for e in body["errors"]] == ["bad_query"], body  # RFC 9457, as ingest answers
    took = await worker.converge(first)
    print(f"\nanalytics: {len(first)} events folded in {took:.1f} s after ready")
    letter = (await letters(kafka_bootstrap, topics))[0]
    assert letter.consumer == "analytics"
    assert letter.raw == "{not json"

    # Everything taken in and committed (waited for, not slept on: a busy machine commits
    # later): a kill -9 now loses nothing, and the restarted worker's figures come from the
    # changelog alone.
    await committed_within(kafka_bootstrap, topics, run_id, within_s=60)
    worker.kill()
    worker.start()
    ready = await worker.wait_ready()
    assert await asyncio.to_thread(worker.figures) == {(b, w): recompute(first, b, w) for b, w in QUERIES}
    assert await asyncio.to_thread(worker.events_read) == 0
    print(f"analytics: restarted after kill -9, ready with restored figures in {ready:.1f} s")

    # Killed in the middle of a batch: after the restart, every event counts once.
    second = generate(rnd, 400, 300)
    await produce(kafka_bootstrap, topics, second)
    await asyncio.sleep(1.0)
    worker.kill()
    worker.start()
    ready = await worker.wait_ready()
    took = await worker.converge(first + second)
    print(
        f"analytics: killed mid-batch; ready in {ready:.1f} s, figures equal the recomputation {took:.1f} s later"
    )


async def test_the_group_commits_once_the_fold_caught_up_not_at_the_next_interval(
    kafka_bootstrap: str, topics: TopicRegistry, worker: Worker, run_id: str
) -> None:
    # faust's own interval pushed far out: only the commit made on catching up can end the lag.
    worker.env["BROKER_COMMIT_INTERVAL"] = "120"
    await source_topics(kafka_bootstrap, topics)
    worker.start()
    await worker.wait_ready()
    events = generate(random.Random(7), 0, 150)
    await produce(kafka_bootstrap, topics, events)
    await worker.converge(events)
    took = await committed_within(kafka_bootstrap, topics, run_id, within_s=20)
    print(f"\nanalytics: offsets committed {took:.2f} s after the figures were in")


def run_report(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warta.cli", "report", "--analytics-url", f"http://127.0.0.1:{port}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def page(port: int, path: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


async def test_warta_report_writes_the_workers_figures_as_html_csv_and_json(
    kafka_bootstrap: str, topics: TopicRegistry, worker: Worker, tmp_path: Path
) -> None:
    from html.parser import HTMLParser

    import jsonschema_rs

    from services.analytics.weekly import REPORT_SCHEMA
    from shared.security_headers import SECURITY_HEADERS

    await source_topics(kafka_bootstrap, topics)
    events = generate(random.Random(49), 0, 150)
    await produce(kafka_bootstrap, topics, events)
    worker.start()
    await worker.wait_ready()
    await worker.converge(events)

    week = "2026-W49"
    started = time.monotonic()
    runs = {
        fmt: await asyncio.to_thread(
            run_report, worker.port, "--week", week, "--format", fmt, "-o", str(tmp_path / f"r.{fmt}")
        )
        for fmt in ("json", "csv", "html")
    }
    print(f"\nwarta report: three formats written in {time.monotonic() - started:.1f} s")
    for fmt, run in runs.items():
        assert run.returncode == 0, (fmt, run.stderr)
        assert run.stdout.strip() == str(tmp_path / f"r.{fmt}")

    doc = json.loads((tmp_path / "r.json").read_text())
    jsonschema_rs.validator_for(dict(REPORT_SCHEMA)).validate(doc)
    expected = {k: v for k, v in recompute(events, "channel", "week").items() if k[1] == week}
    got = {
        (r["key"], r["period"]): (
            r["posts"],
            r["reactions"],
            r["comments"],
            r["shares"],
            r["reach"] or 0,
            r["reach_posts"],
        )
        for r in doc["channels"]
    }
    assert got == expected
    assert doc["top_items"]

    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text())))
    assert sum(r["section"] == "channels" for r in rows) == len(expected)

    html = (tmp_path / "r.html").read_text()
    HTMLParser().feed(html)
    assert "http://" not in html
    assert "https://" not in html
    assert html.count("<svg") >= 4

    lang_id = await asyncio.to_thread(run_report, worker.port, "--week", week, "--lang", "id", "-o", "-")
    assert lang_id.returncode == 0
    assert "Laporan jangkauan" in lang_id.stdout
    bad = await asyncio.to_thread(run_report, worker.port, "--week", "2026-W54")
    assert bad.returncode == 1
    assert "does not exist" in bad.stderr

    # The Reach page: the same figures, served with the console's security headers.
    status, headers, body = await asyncio.to_thread(page, worker.port, f"/reach?week={week}&lang=id")
    assert status == 200
    assert all(headers.get(k) == v for k, v in SECURITY_HEADERS.items()), headers
    assert "Kanal minggu ini" in body
    assert '<link rel="stylesheet" href="reach.css">' in body
    assert "<style>" not in body  # the CSP forbids inline style
    status, headers, _css = await asyncio.to_thread(page, worker.port, "/reach.css")
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    status, headers, _ = await asyncio.to_thread(page, worker.port, "/reach?lang=fr")
    assert status == 400
    assert headers.get("Content-Security-Policy") == SECURITY_HEADERS["Content-Security-Policy"]
