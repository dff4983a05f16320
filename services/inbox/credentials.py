"""The inbox's vault kept equal to the credentials topic, read-only.

The publishers refresh and reconnect accounts through the topic (``shared.credentials
.credential_topic``); an inbox on a host without a publisher would otherwise poll with the token
its vault held at start, which X, YouTube and TikTok refuse within hours and a revoked-then-
reconnected account refuses at once. The inbox follows the topic into its own vault (``LiveTokens``
reads that vault at each use) and never refreshes: only the owner of an account's partition does.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable

from aiokafka import AIOKafkaProducer

from shared.credentials.credential_topic import following, send_records
from shared.credentials.vault import CredentialVault
from shared.settings import CommonSettings


@contextlib.asynccontextmanager
async def following_credentials(
    settings: CommonSettings,
    vault: CredentialVault | None,
    producer: AIOKafkaProducer,
    imported: Iterable[str] = (),
) -> AsyncIterator[None]:
    """The vault caught up with the topic, then following it until the block ends. Without a
    vault there is nothing to follow: a clear secrets file never goes on a topic.

    ``imported``: accounts this start moved into the vault from a clear file. They go on the topic
    first, as the publisher's do, or following it would bring back the record they replaced."""
    if vault is None:
        yield
        return
    topic = settings.topics.credentials
    moved = [r for a in imported if (r := vault.get(a)) is not None]
    vault.put(*moved, offsets=await send_records(producer, topic, vault, moved))
    async with following(settings.kafka, topic, vault):
        yield
