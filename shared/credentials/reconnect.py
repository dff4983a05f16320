"""Telling the scheduler that an account works again, so the jobs it parked go out.

A publisher that meets a revoked or expired credential records ``needs_reauth``; the scheduler
then parks the channel (``ChannelStateRecorded.needs_reauth``) and every job that comes due waits
in ``needs_reauth``. When the account is connected again (``warta channels connect``, or a new
credential stored by other means: ``warta credentials import``, a clear secrets file a service
moved into the vault at start), ``announce_reconnected`` writes one ``reconnected`` command
to ``content.control`` naming every channel of the account: the scheduler lifts the park and
re-plans the parked jobs through its policy (spread out, never a burst). The command is safe to
repeat: a second one finds nothing parked. An operator's pause is not lifted by it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from shared.channels import Channel
from shared.credentials.accounts import account_of
from shared.events import ControlAction, ControlIssued
from shared.ids import new_event_id
from shared.kafka import KafkaUnavailable, make_producer, send_event
from shared.settings import CommonSettings
from shared.topics import TopicRegistry

# Who the audit names for a reconnect: the credential commands, not a person's key.
BY = "warta-credentials"


def channels_of(account: str, channels: Iterable[Channel]) -> tuple[str, ...]:
    """Every channel that publishes with ``account``'s credential (a secret may be shared)."""
    return tuple(c.id for c in channels if account_of(c) == account)


def reconnected(
    account: str, channels: Iterable[Channel], now: datetime, reason: str = ""
) -> ControlIssued | None:
    """The command for ``account``'s channels; None when no channel uses it (pure)."""
    named = channels_of(account, channels)
    if not named:
        return None
    return ControlIssued(
        event_id=new_event_id(),
        occurred_at=now,
        action=ControlAction.RECONNECTED,
        channels=named,
        by=BY,
        reason=reason or f"account {account} connected again",
    )


async def send_reconnected(
    producer: AIOKafkaProducer,
    topics: TopicRegistry,
    accounts: Iterable[str],
    channels: Iterable[Channel],
    now: datetime,
) -> list[ControlIssued]:
    """Write one ``reconnected`` command per account with a channel, through a started producer."""
    listed = list(channels)
    events = [e for a in accounts if (e := reconnected(a, listed, now)) is not None]
    for event in events:
        # Key "*" as every channel command (ingest's pause/resume): one partition keeps
        # them in the order they were issued.
        await send_event(producer, topics.content_control, "*", event)
    return events


async def announce_reconnected(
    settings: CommonSettings,
    accounts: Iterable[str],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[ControlIssued]:
    """Write one ``reconnected`` command per account (acknowledged by the broker) and return them."""
    channels = list(settings.load_channels().channels)
    accounts = [a for a in accounts if channels_of(a, channels)]
    if not accounts:
        return []
    producer = make_producer(settings.kafka, "warta-credentials")
    try:
        await producer.start()
    except KafkaError as exc:
        await producer.stop()
        raise KafkaUnavailable(f"could not reach the broker: {exc!r}") from exc
    try:
        return await send_reconnected(producer, settings.topics, accounts, channels, clock())
    finally:
        await producer.stop()
