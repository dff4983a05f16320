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

TikTok cannot be asked without the ``publish_id`` in A's state dir: B marks the job
``unconfirmed`` at once and uploads nothing; A's upload is the only one.

Real broker, real workers, the YouTube and TikTok contract fakes over HTTP.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from sandbox.tiktok import TikTokState
from services.publisher.adapters.common import HttpAdapter
from services.publisher.adapters.port import Credentials
from services.publisher.adapters.tiktok import TikTokAdapter
from services.publisher.adapters.upload_state import DEFAULT_STATE_DIR
from services.publisher.adapters.youtube import CHUNK_UNIT, YouTubeAdapter
from services.publisher.decide import RetryPolicy
from services.publisher.ratelimit import RateLimits
from services.publisher.worker import PublisherWorker, _Rebalance
from shared.channels import Channel, ChannelDirectory
from shared.codec import encode
from shared.credentials.secret_store import SecretStore
from shared.events import Content, JobDue, Media, job_id_for
from shared.kafka import ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.conftest_fakes import ACCOUNT, TOKEN, FakeEnv, running_sandbox

pytestmark = pytest.mark.integration

CHUNKS = 6
CHUNK_DELAY_S = 0.7  # the fake answers each chunk this late: about 4 s of upload
UPLOAD_TIMEOUT_S = 8.0
TIKTOK_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Case:
    platform: str
    make: Callable[[aiohttp.ClientSession, Path], HttpAdapter]
    chunk: int
    opens: str  # the call that starts an upload: counted, it must happen once
    settled_as: str  # B's outcome


CASES = {
    "youtube": Case(
        "youtube",
        lambda session, state_dir: YouTubeAdapter(
            session, state_dir=state_dir, chunk_size=CHUNK_UNIT, listing_settle=timedelta(seconds=0.5)
        ),
        CHUNK_UNIT,
        "/upload/youtube/v3/videos",
        "published",  # A's video, found once A's lease has passed
    ),
    "tiktok": Case(
        "tiktok",
        lambda session, state_dir: TikTokAdapter(
            session,
            state_dir=state_dir,
            chunk_size=TIKTOK_CHUNK,
            min_chunk=TIKTOK_CHUNK,
            poll_interval=0.05,
            poll_limit=5.0,
        ),
        TIKTOK_CHUNK,
        "/v2/post/publish/video/init/",
        "unconfirmed",  # TikTok can't be searched without A's publish_id
    ),
}


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


def count(env: FakeEnv, platform: str, method: str, fragment: str) -> int:
    requests = env.states[platform].requests
    return sum(n for key, n in requests.items() if key.startswith(method) and fragment in key)


@pytest.mark.parametrize("platform", list(CASES))
@pytest.mark.parametrize("told", [True, False], ids=["revoked", "zombie"])
async def test_a_rebalance_during_an_upload_never_uploads_the_video_twice(
    env: FakeEnv, kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path, told: bool, platform: str
) -> None:
    case = CASES[platform]
    channel_id = f"{platform}-demo"
    assert tmp_path != DEFAULT_STATE_DIR
    tiktok = env.states["tiktok"]
    assert isinstance(tiktok, TikTokState)
    tiktok.min_chunk = TIKTOK_CHUNK  # the real 5 MB floor, scaled down
    await ensure_topics(kafka_bootstrap, topics.specs())
    channel = Channel(
        id=channel_id, platform=platform, account=ACCOUNT, base_url=env.url(f"/{platform}"), secret=channel_id
    )
    group = f"rebalance-{uuid.uuid4().hex[:6]}"
    producer = make_producer(kafka_bootstrap, "rebalance-test")
    await producer.start()
    # Every chunk is answered late, so the upload is still running when A loses the partition.
    await env.admin(
        platform,
        "faults",
        {"path_contains": "/upload/", "method": "PUT", "delay_s": CHUNK_DELAY_S, "count": CHUNKS},
    )
    async with aiohttp.ClientSession() as session:

        def worker(name: str) -> PublisherWorker:
            adapter = case.make(session, tmp_path / name)  # not shared: B can't see A's upload
            return PublisherWorker(
                bootstrap=kafka_bootstrap,
                topics=topics,
                group=group,
                platform=platform,
                channels=ChannelDirectory(channels=(channel,)),
                adapter=adapter,
                secrets=SecretStore({channel_id: Credentials(TOKEN)}),
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
            size = (CHUNKS - 1) * case.chunk + 1000
            media = Media(url=env.media_url("rapat.mp4") + f"?size={size}", type="video/mp4")
            due = JobDue(
                event_id=uuid.uuid4().hex,
                occurred_at=datetime.now(UTC),
                job_id=job_id_for(content_id, channel_id),
                content_id=content_id,
                channel=channel_id,
                platform=platform,
                attempt=1,
                slot=datetime.now(UTC),
                content=Content(text="Rapat paripurna DPRD\nSiaran ulang", media=(media,)),
            )
            await producer.send_and_wait(topics.publish(platform), encode(due), key=due.job_id.encode())
            await wait_for("A's upload to start", lambda: count(env, platform, "PUT", "/upload/") >= 1)

            # A loses the group mid-upload; its upload goes on. B takes every partition.
            if told:
                await _Rebalance(a).on_partitions_revoked(list(a._owned))
            a._consumer.unsubscribe()
            run_b = asyncio.create_task(b.run(stop_b))

            await wait_for("B to settle the job", lambda: b.outcomes.get(case.settled_as, 0) >= 1, timeout=90)
            await wait_for("A's upload to end", lambda: len(env.states[platform].posts) >= 1, timeout=30)
            await asyncio.sleep(1.0)  # anything B or A might still send would arrive by now

            videos = env.states[platform].posts
            assert len(videos) == 1, [v.id for v in videos]
            assert count(env, platform, "POST", case.opens) == 1  # one upload, ever
            assert b.outcomes.get("attempted", 0) == 0  # B never called the platform itself
            if told:
                assert a.outcomes.get("published", 0) == 0  # A's late write was refused
                assert not run_a.done()  # and A goes on working
        finally:
            # A comes back to the group, so that it can leave it cleanly.
            a._consumer.subscribe([topics.publish(platform)], listener=_Rebalance(a))
            stop_a.set()
            stop_b.set()
            await asyncio.gather(run_a, *([run_b] if run_b else []), return_exceptions=True)
            await producer.stop()
