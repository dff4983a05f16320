"""Connecting the platforms whose credential a person pastes (or Warta generates), checked with
the platform's own call before it is stored:

- Telegram: the bot token (BotFather). ``getMe`` names the bot; ``getChatMember`` (the bot in the
  channel's ``chat_id``) must say ``administrator`` with ``can_post_messages``.
- Bluesky: the channel's handle and an app password; ``com.atproto.server.createSession`` must
  open a session (its ``did`` is kept beside the password).
- WordPress: the user name and an application password; ``GET /wp/v2/users/me?context=edit``
  names the user and its capabilities (publishing needs ``publish_posts`` and ``upload_files``).
- WhatsApp: a system user's token and the channel's ``phone_number_id``;
  ``GET /{phone-number-id}`` must show the number to that token.
- the webhook: Warta generates the signing secret (``new_webhook_secret``), shown once.

What each platform requires is ``shared.credential_rules``. Errors name the platform and its
answer, never the secret: ``PasteRefused``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from shared.api_base import api_base
from shared.capabilities import capabilities_for
from shared.channels import Channel
from shared.credentials import CredentialError
from shared.credentials.accounts import account_of
from shared.credentials.record import CredentialRecord

PASTED = frozenset({"telegram", "bluesky", "wordpress", "whatsapp"})
GENERATED = frozenset({"webhook"})


class PasteRefused(CredentialError):
    """The platform refused the pasted credential, or it lacks what publishing needs."""


@dataclass(frozen=True)
class Verified:
    reached: str  # the account as the platform names it
    granted: tuple[str, ...]  # what the credential may do, in the platform's words
    extra: dict[str, str] = field(default_factory=dict)  # what the adapter needs beside the secret


def needs(platform: str) -> tuple[str, ...]:
    rules = capabilities_for(platform).credential
    return rules.needs if rules is not None else ()


def missing(platform: str, granted: tuple[str, ...] | list[str]) -> list[str]:
    return [need for need in needs(platform) if need not in granted]


def new_webhook_secret() -> str:
    """A signing secret for the webhook channel: 256 random bits, shown once at connect."""
    return "whsec_" + secrets.token_urlsafe(32)


def _base(channel: Channel) -> str:
    base = api_base(channel.platform, channel.base_url)
    if not base:
        raise PasteRefused(f"{channel.id}: set the channel's base_url (the site's address)")
    return base


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, what: str, **kwargs: Any
) -> tuple[int, Any]:
    try:
        async with session.request(method, url, **kwargs) as resp:
            body = await resp.json(content_type=None) if resp.status < 500 else None
            return resp.status, body
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise PasteRefused(f"{what} did not answer: {type(exc).__name__}") from None


def _say(body: Any, *keys: str) -> str:
    """The platform's own words for a refusal (description, message, error), cut short."""
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        for key in keys:
            if isinstance(inner, dict) and inner.get(key):
                return str(inner[key])[:200]
    return "no reason given"


async def _telegram(session: aiohttp.ClientSession, channel: Channel, token: str) -> Verified:
    if ":" not in token or "/" in token:
        raise PasteRefused("telegram: a bot token looks like 123456789:AA… (from BotFather)")
    bot = f"{_base(channel)}/bot{token}"
    status, body = await _call(session, "GET", f"{bot}/getMe", "telegram getMe")
    if status != 200 or not isinstance(body, dict) or not body.get("ok"):
        raise PasteRefused(f"telegram refused the bot token (getMe {status}: {_say(body, 'description')})")
    me = body["result"]
    chat = channel.options.get("chat_id")
    if not chat:
        raise PasteRefused(f"{channel.id}: options.chat_id (the channel's @name or -100… id) is not set")
    status, body = await _call(
        session,
        "POST",
        f"{bot}/getChatMember",
        "telegram getChatMember",
        json={"chat_id": chat, "user_id": me["id"]},
    )
    if status != 200 or not isinstance(body, dict) or not body.get("ok"):
        raise PasteRefused(
            f"telegram: the bot is not a member of {chat} (getChatMember {status}: {_say(body, 'description')});"
            " add it as an administrator of the channel"
        )
    member = body["result"]
    granted = [str(member.get("status"))]
    granted += [k for k, v in member.items() if k.startswith("can_") and v is True]
    return Verified(f"@{me.get('username')}", tuple(granted))


async def _bluesky(session: aiohttp.ClientSession, channel: Channel, password: str) -> Verified:
    url = f"{_base(channel)}/xrpc/com.atproto.server.createSession"
    status, body = await _call(
        session,
        "POST",
        url,
        "bluesky createSession",
        json={"identifier": channel.account, "password": password},
    )
    if status != 200 or not isinstance(body, dict) or not body.get("did"):
        raise PasteRefused(
            f"bluesky refused {channel.account} (createSession {status}: {_say(body, 'message', 'error')})"
        )
    return Verified(str(body.get("handle") or channel.account), ("createSession",), {"did": str(body["did"])})


async def _wordpress(
    session: aiohttp.ClientSession, channel: Channel, password: str, username: str
) -> Verified:
    if not username:
        raise PasteRefused("wordpress: the user name the application password belongs to is needed")
    url = f"{_base(channel)}/wp-json/wp/v2/users/me?context=edit"
    auth = {"Authorization": aiohttp.encode_basic_auth(username, password)}
    status, body = await _call(session, "GET", url, "wordpress users/me", headers=auth)
    if status != 200 or not isinstance(body, dict):
        raise PasteRefused(
            f"wordpress refused {username} (users/me {status}: {_say(body, 'message', 'code')})"
        )
    capabilities = body.get("capabilities") or {}
    granted = (
        tuple(sorted(k for k, v in capabilities.items() if v is True))
        if isinstance(capabilities, dict)
        else ()
    )
    return Verified(
        str(body.get("username") or body.get("slug") or username), granted, {"username": username}
    )


async def _whatsapp(session: aiohttp.ClientSession, channel: Channel, token: str) -> Verified:
    phone = channel.options.get("phone_number_id") or channel.account
    version = capabilities_for("whatsapp").api_version
    url = f"{_base(channel)}/{version}/{quote(phone, safe='')}"
    status, body = await _call(
        session, "GET", url, "whatsapp phone number", headers={"Authorization": f"Bearer {token}"}
    )
    if status != 200 or not isinstance(body, dict) or "id" not in body:
        raise PasteRefused(
            f"whatsapp: the token cannot reach phone number {phone} ({status}: {_say(body, 'message')})"
        )
    # The node answers only to a token with the business's messaging permission.
    return Verified(str(body.get("display_phone_number") or phone), ("whatsapp_business_messaging",))


async def verify(
    session: aiohttp.ClientSession, channel: Channel, secret: str, username: str = ""
) -> Verified:
    """Ask the platform whether ``secret`` works for ``channel`` and what it may do."""
    secret = secret.strip()
    if not secret:
        raise PasteRefused(f"{channel.platform}: the credential is empty")
    if channel.platform == "telegram":
        return await _telegram(session, channel, secret)
    if channel.platform == "bluesky":
        return await _bluesky(session, channel, secret)
    if channel.platform == "wordpress":
        return await _wordpress(session, channel, secret, username)
    if channel.platform == "whatsapp":
        return await _whatsapp(session, channel, secret)
    if channel.platform == "webhook":
        return Verified(channel.base_url or channel.id, ())
    raise PasteRefused(f"{channel.platform} is connected through its login flow, not by pasting a token")


def pasted_record(
    channel: Channel, secret: str, verified: Verified, now: datetime, old: CredentialRecord | None
) -> CredentialRecord:
    """The vault record of a checked credential: it lives until revoked (no expiry, no refresh)."""
    return CredentialRecord(
        account=account_of(channel),
        access_token=secret.strip(),
        issued_at=now,
        scope=" ".join(verified.granted),
        platform=channel.platform,
        extra=dict(verified.extra),
    ).succeeding(old)
