"""``warta channels connect`` for the platforms whose credential is pasted or generated, and
their part of ``warta channels check`` (the same platform call checks both: one rule)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp

from services.publisher.credentials.check_rows import keyed_vault, permissions_verdict
from services.publisher.settings import PublisherSettings
from shared.channels import Channel
from shared.credentials.accounts import account_of
from shared.credentials.pasted import (
    GENERATED,
    PASTED,
    PasteRefused,
    Verified,
    missing,
    new_webhook_secret,
    pasted_record,
    verify,
)
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault


def pasted(platform: str) -> bool:
    return platform in PASTED or platform in GENERATED


def _vault(settings: PublisherSettings) -> CredentialVault:
    return keyed_vault(settings, PasteRefused)


async def store_pasted(
    vault: CredentialVault,
    channel: Channel,
    secret: str,
    session: aiohttp.ClientSession,
    username: str = "",
    now: datetime | None = None,
) -> tuple[CredentialRecord, Verified]:
    """Check ``secret`` with the platform, then store it; a credential lacking what publishing
    needs is refused and nothing is stored (a channel would only fail later, at its slot)."""
    verified = await verify(session, channel, secret, username)
    lacking = missing(channel.platform, verified.granted)
    if lacking:
        raise PasteRefused(
            f"{channel.platform}: {verified.reached} lacks {', '.join(lacking)} that publishing needs"
        )
    record = pasted_record(
        channel, secret, verified, now or datetime.now(UTC), vault.fresh(account_of(channel))
    )
    vault.put(record)
    return record, verified


async def connect_pasted(
    settings: PublisherSettings, channel: Channel, secret: str, username: str = ""
) -> tuple[CredentialRecord, Verified]:
    vault = _vault(settings)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.call_timeout_s)) as session:
        return await store_pasted(vault, channel, secret, session, username)


def generate_webhook_secret(
    vault: CredentialVault, channel: Channel, now: datetime | None = None
) -> tuple[CredentialRecord, str]:
    """A new signing secret for the webhook channel, stored; the caller shows it once (the
    receiver needs it to verify signatures), and nothing shows it again."""
    secret = new_webhook_secret()
    verified = Verified(channel.base_url or channel.id, ())
    record = pasted_record(
        channel, secret, verified, now or datetime.now(UTC), vault.fresh(account_of(channel))
    )
    vault.put(record)
    return record, secret


async def check_pasted(
    session: aiohttp.ClientSession, channel: Channel, record: CredentialRecord
) -> dict[str, Any]:
    """``channels check``'s verdict for a pasted credential: the platform's answer now."""
    if channel.platform in GENERATED:
        return {"usable": True, "status": "stored", "reached": None}
    try:
        verified = await verify(session, channel, record.access_token, record.extra.get("username", ""))
    except PasteRefused as exc:
        return {"usable": False, "status": "refused", "reason": str(exc)}
    row: dict[str, Any] = {"reached": verified.reached, "permissions": list(verified.granted)}
    return permissions_verdict(row, missing(channel.platform, verified.granted))
