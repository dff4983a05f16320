"""Wires one platform's publisher: adapter, secrets, rate limits, worker; runs until stopped."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiohttp

from services.publisher.adapters.registry import build_adapter
from services.publisher.ratelimit import Limit, RateLimits
from services.publisher.safe_fetch import SafeMediaFetcher
from services.publisher.secrets import SecretStore
from services.publisher.settings import PublisherSettings
from services.publisher.worker import PublisherWorker
from shared.channels import ChannelDirectory
from shared.kafka import ensure_topics, make_producer
from shared.metrics import PublisherMetrics, serve_metrics
from shared.watchdog import Watchdog

log = logging.getLogger("warta.publisher")


def limits_for(channels: ChannelDirectory) -> RateLimits:
    return RateLimits(
        {
            c.id: tuple(Limit(cap.limit, timedelta(minutes=cap.window_minutes)) for cap in c.caps)
            for c in channels.channels
        }
    )


async def run(settings: PublisherSettings, stop: asyncio.Event) -> None:
    platform = settings.platform
    topics = settings.topics
    channels = settings.load_channels()
    await ensure_topics(settings.kafka, topics.specs())
    secrets = SecretStore.load(settings.secrets_file)
    producer = make_producer(settings.kafka, f"warta-publisher-{platform}")
    await producer.start()
    timeout = aiohttp.ClientTimeout(total=settings.call_timeout_s)
    # Media URLs come from content editors: fetch them only from public https hosts (SSRF).
    fetcher = SafeMediaFetcher(
        platform,
        allow_hosts=settings.media_allow_hosts,
        timeout_s=settings.media_timeout_s,
        max_bytes=settings.media_max_bytes,
        spill_bytes=settings.media_spill_bytes,
        spool_dir=settings.state_dir / "media-spool",
    )
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            watchdog = Watchdog(settings.stall_limit_s)
            metrics = PublisherMetrics(platform)
            worker = PublisherWorker(
                bootstrap=settings.kafka,
                topics=topics,
                group=settings.group(f"publisher-{platform}"),
                platform=platform,
                channels=channels,
                adapter=build_adapter(platform, session, fetcher, state_dir=settings.state_dir),
                secrets=secrets,
                producer=producer,
                limits=limits_for(channels),
                retry=settings.retry_policy(),
                call_timeout_s=settings.call_timeout_s,
                upload_timeout_s=settings.upload_timeout_s,
                max_local_wait_s=settings.max_local_wait_s,
                metrics=metrics,
                watchdog=watchdog,
                instance_id=settings.instance_id,
            )
            log.info("publisher for %s: %d channels", platform, len(channels.for_platform(platform)))
            guard = asyncio.create_task(watchdog.run(stop))
            try:
                async with serve_metrics(metrics.registry, settings.metrics_host, settings.metrics_port):
                    await worker.run(stop)
            finally:
                stop.set()
                await guard
    finally:
        await producer.stop()
