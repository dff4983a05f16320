"""Wires one platform's publisher: adapter, secrets, rate limits, the operators' commands it
checks posts against (a follower of ``content.control``), worker; runs until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import aiohttp
from aiokafka import AIOKafkaProducer

from services.publisher.adapters.port import Adapter
from services.publisher.adapters.registry import build_adapter
from services.publisher.control_follower import ControlFollower, following
from services.publisher.control_state import ControlState
from services.publisher.credentials.auth_retry import RefreshingAdapter
from services.publisher.credentials.refresher import CredentialSharing, Refresher, http_refresh
from services.publisher.credentials.wiring import account_of, build_refresher, sharing_for
from services.publisher.ledger_retention import ledger_retention
from services.publisher.ratelimit import Limit, RateLimits
from services.publisher.safe_fetch import SafeMediaFetcher
from services.publisher.settings import PublisherSettings
from services.publisher.worker import PublisherWorker
from shared.channels import Channel, ChannelDirectory
from shared.clock import utcnow
from shared.credentials.opening import open_vault, secret_store
from shared.credentials.reconnect import send_reconnected
from shared.credentials.vault import CredentialVault
from shared.dead_letters import DeadLetters
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
    channels = settings.load_channels()
    await ensure_topics(settings.kafka, settings.topics.specs())
    imported: list[str] = []
    vault = open_vault(settings, imported)
    secrets = secret_store(settings, vault)
    own = channels.for_platform(platform)
    producer = make_producer(settings.kafka, f"warta-publisher-{platform}")
    await producer.start()
    # Credentials moved in from a clear file now: channels parked for want of them go out again.
    await send_reconnected(producer, settings.topics, imported, channels.channels, datetime.now(UTC))
    timeout = aiohttp.ClientTimeout(total=settings.call_timeout_s)
    try:
        async with (
            sharing_for(settings, platform, vault, producer, imported) as sharing,
            aiohttp.ClientSession(timeout=timeout) as session,
            commands_followed(settings, channels, producer) as control,
        ):
            watchdog = Watchdog(settings.stall_limit_s)
            metrics = PublisherMetrics(platform)
            metrics.letters.append(control.dead_letters)
            adapter: Adapter = build_adapter(
                platform, session, media_fetcher(settings), state_dir=settings.state_dir
            )
            refresher = None if vault is None else refresher_for(vault, own, session, metrics, sharing)
            if refresher is not None:
                adapter = RefreshingAdapter(adapter, refresher, {c.id: account_of(c) for c in own})
            worker = PublisherWorker(
                bootstrap=settings.kafka,
                topics=settings.topics,
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
                control=control,
            )
            metrics.letters.append(worker.dead_letters)
            log.info("publisher for %s: %d channels", platform, len(own))
            await _serve(settings, worker, watchdog, metrics, refresher, own, stop)
    finally:
        await producer.stop()


def commands_followed(
    settings: PublisherSettings, channels: ChannelDirectory, producer: AIOKafkaProducer
) -> contextlib.AbstractAsyncContextManager[ControlFollower]:
    """The operators' pauses, withdrawals and supersessions, followed from ``content.control``;
    a command it cannot take is dead-lettered under this publisher's name."""
    name = f"publisher-{settings.platform}-control"
    follower = ControlFollower(
        settings.kafka,
        settings.topics.content_control,
        ControlState(channels),
        DeadLetters(settings.topics.publish_dead, name, producer=producer),
        clock=utcnow,
        wait_s=settings.control_wait_s,
    )
    return following(follower)


def media_fetcher(settings: PublisherSettings) -> SafeMediaFetcher:
    # Media URLs come from content editors: fetch them only from public https hosts (SSRF).
    return SafeMediaFetcher(
        settings.platform,
        allow_hosts=settings.media_allow_hosts,
        timeout_s=settings.media_timeout_s,
        max_bytes=settings.media_max_bytes,
        spill_bytes=settings.media_spill_bytes,
        spool_dir=settings.state_dir / "media-spool",
    )


def refresher_for(
    vault: CredentialVault,
    own: Sequence[Channel],
    session: aiohttp.ClientSession,
    metrics: PublisherMetrics,
    sharing: CredentialSharing | None = None,
) -> Refresher:
    """Keeps the credentials of this platform's accounts alive, counting each refresh."""
    return build_refresher(
        vault,
        list(own),
        http_refresh(session),
        utcnow,
        on_result=lambda p, result: metrics.credential_refreshes.labels(p, result).inc(),
        sharing=sharing,
    )


async def _serve(
    settings: PublisherSettings,
    worker: PublisherWorker,
    watchdog: Watchdog,
    metrics: PublisherMetrics,
    refresher: Refresher | None,
    own: Sequence[Channel],
    stop: asyncio.Event,
) -> None:
    """Run the worker beside its watchdog and credential keeper until ``stop``; then stop both."""
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
