"""A rebalance during a long upload: the video is uploaded exactly once.

Worker A takes a YouTube job and starts a slow resumable upload. Mid-upload it loses its place
in the group, and its upload goes on: either it is told (its partitions are revoked, and its
late outcome must be refused: ``Fenced``) or it is not (a zombie, whose late write is the truth
about the same single upload). Worker B takes
the partition over, with its own state dir (another host: it cannot see A's upload session),
restores the attempt ledger and finds an ``attempted`` record. The uploads playlist does not
show a video that is still uploading, so before fencing B took the empty listing for absence
and opened a second upload. Now the attempt's lease keeps B from believing the listing until A's
upload can no longer be running; then B finds A's video and records it as published.

Real broker, real workers, the YouTube contract fake over HTTP.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from services.publisher.adapters.port import Credentials
from services.publisher.adapters.upload_state import DEFAULT_STATE_DIR
from services.publisher.adapters.youtube import CHUNK_UNIT, YouTubeAdapter
from services.publisher.decide import RetryPolicy
from services.publisher.ratelimit import RateLimits
from services.publisher.secrets import SecretStore
from services.publisher.worker import PublisherWorker, _Rebalance
from shared.channels import Channel, ChannelDirectory
from shared.codec import encode
from shared.events import Content, JobDue, Media, job_id_for
from shared.kafka import ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.conftest_fakes import ACCOUNT, TOKEN, FakeEnv, running_sandbox

pytestmark = pytest.mark.integration

CHUNKS = 6
CHUNK_DELAY_S = 0.7  # the fake answers each chunk this late: about 4 s of upload
UPLOAD_TIMEOUT_S = 8.0
CHANNEL = "youtube-demo"


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


async def wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def count(env: FakeEnv, method: str, fragment: str) -> int:
    requests = env.states["youtube"].requests
    return sum(n for key, n in requests.items() if key.startswith(method) and fragment in key)


@pytest.mark.parametrize("told", [True, False], ids=["revoked", "zombie"])
async def test_a_rebalance_during_an_upload_never_uploads_the_video_twice(
    env: FakeEnv, kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path, told: bool
) -> None:
    assert tmp_path != DEFAULT_STATE_DIR
    await ensure_topics(kafka_bootstrap, topics.specs())
    channel = Channel(
        id=CHANNEL, platform="youtube", account=ACCOUNT, base_url=env.url("/youtube"), secret=CHANNEL
    )
    group = f"rebalance-{uuid.uuid4().hex[:6]}"
    producer = make_producer(kafka_bootstrap, "rebalance-test")
    await producer.start()
    # Every chunk is answered late, so the upload is still running when A loses the partition.
    await env.admin(
        "youtube",
        "faults",
        {"path_contains": "/upload/", "method": "PUT", "delay_s": CHUNK_DELAY_S, "count": CHUNKS},
    )
    async with aiohttp.ClientSession() as session:

        def worker(name: str) -> PublisherWorker:
            adapter = YouTubeAdapter(
                session,
                state_dir=tmp_path / name,  # not shared: B can't see A's upload session
                chunk_size=CHUNK_UNIT,
                listing_settle=timedelta(seconds=0.5),
            )
            return PublisherWorker(
                bootstrap=kafka_bootstrap,
                topics=topics,
                group=group,
                platform="youtube",
                channels=ChannelDirectory(channels=(channel,)),
                adapter=adapter,
                secrets=SecretStore({CHANNEL: Credentials(TOKEN)}),
                producer=producer,
                limits=RateLimits({}),
                retry=RetryPolicy(),
                call_timeout_s=1.0,  # revocation waits 2 s for a running record, then lets go
                upload_timeout_s=UPLOAD_TIMEOUT_S,
                lease_margin=timedelta(seconds=1),
            )

        a, b = worker("a"), worker("b")
        stop_a, stop_b = asyncio.Event(), asyncio.Event()
        run_a = asyncio.create_task(a.run(stop_a))
        run_b: asyncio.Task[None] | None = None
        try:
            content_id = f"c{uuid.uuid4().hex[:8]}"
            size = (CHUNKS - 1) * CHUNK_UNIT + 1000
            media = Media(url=env.media_url("rapat.mp4") + f"?size={size}", type="video/mp4")
            due = JobDue(
                event_id=uuid.uuid4().hex,
                occurred_at=datetime.now(UTC),
                job_id=job_id_for(content_id, CHANNEL),
                content_id=content_id,
                channel=CHANNEL,
                platform="youtube",
                attempt=1,
                slot=datetime.now(UTC),
                content=Content(text="Rapat paripurna DPRD\nSiaran ulang", media=(media,)),
            )
            await producer.send_and_wait(topics.publish("youtube"), encode(due), key=due.job_id.encode())
            await wait_for("A's upload to start", lambda: count(env, "PUT", "/upload/") >= 1)

            # A loses the group mid-upload; its upload goes on. B takes every partition.
            if told:
                await _Rebalance(a).on_partitions_revoked(list(a._owned))
            a._consumer.unsubscribe()
            run_b = asyncio.create_task(b.run(stop_b))

            await wait_for("B to settle the job", lambda: b.outcomes.get("published", 0) >= 1, timeout=90)
            await asyncio.sleep(1.0)  # anything B might still send would arrive by now

            videos = env.states["youtube"].posts
            assert len(videos) == 1, [v.id for v in videos]
            assert count(env, "POST", "/upload/youtube/v3/videos") == 1  # one upload session, ever
            assert b.outcomes.get("attempted", 0) == 0  # B never called the platform itself
            if told:
                await wait_for("A's upload to end", lambda: count(env, "PUT", "/upload/") >= CHUNKS)
                await asyncio.sleep(0.5)
                assert a.outcomes.get("published", 0) == 0  # A's late write was refused
                assert not run_a.done()  # and A goes on working
        finally:
            # A comes back to the group, so that it can leave it cleanly.
            a._consumer.subscribe([topics.publish("youtube")], listener=_Rebalance(a))
            stop_a.set()
            stop_b.set()
            await asyncio.gather(run_a, *([run_b] if run_b else []), return_exceptions=True)
            await producer.stop()
