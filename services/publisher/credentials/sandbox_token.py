"""``warta sandbox token CHANNEL [--json]``: a working credential of a sandbox demo account, as
each platform's developer portal hands one out (X's "generate access token", Meta's Graph API
Explorer, Telegram's BotFather, Bluesky's and WordPress's app passwords, WhatsApp's system
users), for a client outside Warta to call the sandbox with.

The sandbox mints it (``POST /_fake/mint`` on the platform's fake, ``sandbox.developer_portal``);
this never reads the vault, and it refuses any channel that is not the sandbox's
(``is_sandbox``), so what it prints is never a real account's credential.

What each platform's grant holds (``--json`` prints it whole):

    x, youtube, tiktok, linkedin, mastodon   the token endpoint's answer: access_token, …
    facebook, instagram                      a Page token: access_token, id (the Page), …
    threads                                  access_token (60 days), user_id
    telegram                                 token (the bot token)
    bluesky                                  identifier (the handle), password (an app password)
    wordpress                                username, password (an application password)
    whatsapp                                 access_token (a system user's), phone_number_id
    webhook                                  secret (the receiver's signing secret)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from services.publisher.credentials.commands import CommandError, is_sandbox
from services.publisher.credentials.sandbox_connect import give_test_user
from shared.channels import Channel
from shared.credentials.accounts import account_of
from shared.credentials.meta_login import META_PLATFORMS

# The grant's secret, in the order looked for; the rest of a grant names what goes with it.
SECRET_FIELDS = ("access_token", "token", "password", "secret")
# What a client needs beside the secret to use it (a handle, a user, a phone number).
COMPANION_FIELDS = ("identifier", "username", "phone_number_id", "id", "user_id")


def fake_mount(channel: Channel) -> str:
    """The platform fake's root: the sandbox mounts each at ``/<platform>``, and a channel's base
    URL may go below it (the webhook's receiver path)."""
    parts = urlsplit(channel.base_url or "")
    segments = parts.path.rstrip("/").split("/")
    if channel.platform in segments:
        cut = len(segments) - segments[::-1].index(channel.platform)
        segments = segments[:cut]
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), "", ""))


async def sandbox_token(channel: Channel) -> dict[str, Any]:
    """A fresh grant for a demo account, minted by the sandbox (its "generate token" button)."""
    if not is_sandbox(channel):
        raise CommandError(
            f"{channel.id} is not a sandbox channel (its base URL is not on this host's loopback):"
            " sandbox token mints demo grants only"
        )
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        try:
            if channel.platform in META_PLATFORMS:
                # The Page or profile the channel names, as the system's own login got it.
                await give_test_user(session, channel)
            url = fake_mount(channel) + "/_fake/mint"
            async with session.post(url, json={"account": account_of(channel)}) as resp:
                body = await resp.json(content_type=None)
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, ValueError, RuntimeError) as exc:
            raise CommandError(f"the sandbox at {channel.base_url} did not mint: {exc}") from None
    if status != 200 or not isinstance(body, dict):
        raise CommandError(f"the sandbox refused (HTTP {status}): {body}")
    grant = dict(body)
    if channel.platform == "whatsapp":
        # A system user's token reaches every number of the business: the channel names its own.
        grant["phone_number_id"] = channel.options.get("phone_number_id", "")
    return grant


def secret_of(grant: dict[str, Any]) -> str:
    """The one value a person pastes (``$(warta sandbox token CHANNEL)``)."""
    for name in SECRET_FIELDS:
        if grant.get(name):
            return str(grant[name])
    raise CommandError("the sandbox's grant holds no credential")


def companions_of(grant: dict[str, Any]) -> dict[str, str]:
    """What goes with the secret (Bluesky's handle, WordPress's user, WhatsApp's number)."""
    return {name: str(grant[name]) for name in COMPANION_FIELDS if grant.get(name)}
