"""The console's dependencies for in-process HTTP tests: what each test varies, the rest fixed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import aiohttp
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from services.console.http_deps import Deps
from services.console.offsets import History
from services.console.settings import ConsoleSettings
from services.console.view import ConsoleView
from services.console.webhooks import DeliveryLog
from shared.channels import ChannelDirectory
from shared.http_auth import KeyStore
from shared.topics import TopicRegistry


def console_deps(
    *,
    settings: ConsoleSettings,
    topics: TopicRegistry,
    channels: ChannelDirectory,
    keys: KeyStore,
    producer: AIOKafkaProducer,
    session: aiohttp.ClientSession,
    clock: Callable[[], datetime],
    view: ConsoleView | None = None,
) -> Deps:
    return Deps(
        settings=settings,
        topics=topics,
        channels=channels,
        keys=keys,
        view=view or ConsoleView(),
        history=History(10),
        snapshot=lambda: None,
        producer=producer,
        registry=CollectorRegistry(),
        deliveries=DeliveryLog(10),
        session=session,
        caught_up=asyncio.Event(),
        clock=clock,
    )
