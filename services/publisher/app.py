"""Wires one platform's publisher: adapter, secrets, rate limits, worker; runs until stopped."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import aiohttp

from services.publisher.adapters.port import Adapter
from services.publisher.adapters.registry import build_adapter
from services.publisher.credentials.auth_retry import RefreshingAdapter
from services.publisher.credentials.refresher import Refresher, http_refresh
from services.publisher.credentials.wiring import account_of, build_refresher, open_vault, secret_store
from services.publisher.ledger_retention import ledger_retention
from services.publisher.ratelimit import Limit, RateLimits
from services.publisher.safe_fetch import SafeMediaFetcher
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
    vault = open_vault(settings)
    secrets = secret_store(settings, vault)
    own = channels.for_platform(platform)
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
            adapter: Adapter = build_adapter(platform, session, fetcher, state_dir=settings.state_dir)
            metrics = PublisherMetrics(platform)
            refresher: Refresher | None = None
            if vault is not None:
                refresher = build_refresher(
                    vault,
                    list(own),
                    http_refresh(session),
                    lambda: datetime.now(UTC),
                    on_result=lambda p, result: metrics.credential_refreshes.labels(p, result).inc(),
                )
                adapter = RefreshingAdapter(adapter, refresher, {c.id: account_of(c) for c in own})
            worker = PublisherWorker(
                bootstrap=settings.kafka,
                topics=topics,
                group=settings.group(f"publisher-{platform}"),
                platform=platform,
                channels=channels,
                adapter=adapter,
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
                ledger_retention=ledger_retention(settings.finished_retention),
                retention_sweep_s=settings.retention_sweep_s,
            )
            log.info("publisher for %s: %d channels", platform, len(channels.for_platform(platform)))
            guard = asyncio.create_task(watchdog.run(stop))
            keeper = (
                asyncio.create_task(
                    refresher.run(sorted({account_of(c) for c in own}), stop, settings.refresh_interval_s)
                )
                if refresher is not None
                else None
            )
            try:
                async with serve_metrics(metrics.registry, settings.metrics_host, settings.metrics_port):
                    await worker.run(stop)
            finally:
                stop.set()
                await guard
                if keeper is not None:
                    await keeper
    finally:
        await producer.stop()
