"""Builds one publisher's refresher from its channels; the vault and the secret store it reads
are opened by ``shared.credentials.opening``, as the inbox opens them. With a vault, the
credentials topic is followed and the refreshes are shared through it (``sharing``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiokafka import AIOKafkaProducer

from services.publisher.credentials.refresher import CredentialSharing, RefreshCall, Refresher
from services.publisher.credentials.sharing import TopicSharing, shared_credentials
from shared.channels import Channel
from shared.credentials.accounts import account_of as account_of  # re-exported: callers here
from shared.credentials.endpoints import token_url_for
from shared.credentials.vault import CredentialVault
from shared.settings import CommonSettings


def build_refresher(
    vault: CredentialVault,
    channels: list[Channel],
    call: RefreshCall,
    clock: Callable[[], datetime],
    on_result: Callable[[str, str], None] | None = None,
    sharing: CredentialSharing | None = None,
) -> Refresher:
    return Refresher(
        vault,
        call,
        clock,
        token_urls={account_of(c): token_url_for(c) for c in channels},
        platform_of={account_of(c): c.platform for c in channels},
        on_result=on_result,
        sharing=sharing,
    )


@contextlib.asynccontextmanager
async def sharing_for(
    settings: CommonSettings,
    platform: str,
    vault: CredentialVault | None,
    producer: AIOKafkaProducer,
    imported: list[str],
) -> AsyncIterator[TopicSharing | None]:
    """The credentials topic shared with every other worker of ``platform``; None without a vault
    (a clear secrets file never goes on a topic)."""
    if vault is None:
        yield None
        return
    group = settings.group(f"publisher-{platform}-credentials")
    async with shared_credentials(
        settings.kafka, settings.topics.credentials, group, vault, producer
    ) as sharing:
        yield sharing
