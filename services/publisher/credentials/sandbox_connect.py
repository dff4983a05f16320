"""The demo accounts of a system run on one machine, connected through each platform's own flow
against the sandbox, as a press office connects its real ones (the sandbox consents at once):

- OAuth 2.0 code flow (X, YouTube, TikTok with PKCE; LinkedIn; Mastodon, whose app registers on
  the instance first): the authorize page redirects to the loopback callback with a code.
- Meta's logins: Facebook Login → short-lived → long-lived user token → the Page token
  (Facebook; Instagram through the Page's ``instagram_business_account``); Threads' login →
  1-hour → 60-day token that refreshes itself. As a developer gives a test user of Meta's app
  dashboard a Page, the sandbox's account is first given the Page, Instagram account or
  Threads profile its channel names (``/_fake/test-user``).
- The pasted kinds (Telegram's bot token, Bluesky's app password, WordPress's application
  password, WhatsApp's system-user token): the credential the sandbox holds for the account, as a
  person copies it from BotFather or the platform's settings, checked with the platform's own
  call before it is stored, exactly as ``warta channels connect`` does with what is pasted.

The webhook has no flow to run: its signing secret is the receiver's, which the sandbox's
receiver already holds, so it is the one account still taken from the sandbox's file
(``local_setup.prepare_vault``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

import aiohttp

from services.publisher.credentials.commands import ConnectRequest, connect, is_sandbox
from services.publisher.credentials.paste_commands import store_pasted
from services.publisher.credentials.wiring import account_of
from services.publisher.settings import PublisherSettings
from shared.capabilities import capabilities_for
from shared.channels import Channel
from shared.credentials.meta_login import META_PLATFORMS, WANTED_OPTION, wanted_id
from shared.credentials.opening import open_vault
from shared.credentials.pasted import PASTED
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault

# The app the local system registers with the sandbox's authorization servers. Meta's token
# endpoints require the app's secret with every exchange; the sandbox only checks it is given.
SANDBOX_CLIENT_ID = "warta-local"
SANDBOX_APP_SECRET = "warta-local-sandbox-app-secret"  # the sandbox's app: no real secret

# What the sandbox keeps for an account: {"token": …, "username"?: …} (``var/sandbox-accounts.json``).
SandboxAccounts = Mapping[str, Mapping[str, str]]
Connected = list[tuple[CredentialRecord | None, CredentialRecord]]


class Flow(StrEnum):
    OAUTH = "oauth"
    META = "meta"
    PASTED = "pasted"


def flow_of(channel: Channel) -> Flow | None:
    """How the channel's account is connected; None: no flow (the webhook's shared secret), or
    not a sandbox channel (the platform itself, where a person must consent: its credential is
    the one handed in, as before)."""
    if not is_sandbox(channel):
        return None
    if channel.platform in META_PLATFORMS:
        return Flow.META
    if capabilities_for(channel.platform).tokens is not None:
        return Flow.OAUTH
    if channel.platform in PASTED:
        return Flow.PASTED
    return None


def flow_accounts(channels: Iterable[Channel]) -> set[str]:
    """The accounts a flow connects: nothing of theirs is copied from the sandbox's file."""
    return {account_of(c) for c in channels if flow_of(c) is not None}


async def connect_through_sandbox(
    settings: PublisherSettings,
    channels: Iterable[Channel],
    accounts: SandboxAccounts,
    timeout_s: float = 30.0,
) -> Connected:
    """Run each channel's own flow against the sandbox (one account each). Returns (the record
    before, the record now) per account, so the caller can tell a re-connect of a parked one."""
    vault = open_vault(settings)
    if vault is None:
        raise RuntimeError("the local system's vault has no key")
    done: Connected = []
    seen: set[str] = set()
    timeout = aiohttp.ClientTimeout(total=settings.call_timeout_s)
    async with aiohttp.ClientSession(timeout=timeout) as browser:

        async def consent(url: str) -> None:
            async with browser.get(url) as resp:  # follows the redirect to the loopback callback
                await resp.read()

        for channel in channels:
            flow, account = flow_of(channel), account_of(channel)
            if flow is None or account in seen:
                continue
            seen.add(account)
            before = vault.fresh(account)
            if flow is Flow.PASTED:
                after = await _paste(vault, channel, accounts.get(account, {}), browser)
            else:
                if flow is Flow.META:
                    await give_test_user(browser, channel)
                after = await connect(settings, _request(channel, flow, timeout_s), consent)
            if after is not None:
                done.append((before, after))
    return done


def _request(channel: Channel, flow: Flow, timeout_s: float) -> ConnectRequest:
    rules = capabilities_for(channel.platform).tokens
    registers = flow is Flow.OAUTH and rules is not None and rules.registers_app
    return ConnectRequest(
        channel=channel,
        # Where the app registers on the server (Mastodon), the flow does it, as for real.
        client_id="" if registers else SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_APP_SECRET if flow is Flow.META else None,
        redirect_uri=None,
        timeout_s=timeout_s,
    )


async def give_test_user(session: aiohttp.ClientSession, channel: Channel) -> None:
    body = {"account": account_of(channel), WANTED_OPTION[channel.platform]: wanted_id(channel)}
    if channel.platform == "instagram" and channel.options.get("page_id"):
        body["page_id"] = channel.options["page_id"]
    url = f"{(channel.base_url or '').rstrip('/')}/_fake/test-user"
    async with session.post(url, json=body) as resp:
        if resp.status != 200:
            raise RuntimeError(f"the sandbox has no test user for {channel.id}: {await resp.text()}")


async def _paste(
    vault: CredentialVault, channel: Channel, entry: Mapping[str, str], session: aiohttp.ClientSession
) -> CredentialRecord | None:
    """What a person would paste: the sandbox's credential of the account, checked first."""
    secret = entry.get("token")
    if not secret:
        return None  # the sandbox has no such account: nothing to paste, the channel stays missing
    record, _ = await store_pasted(vault, channel, secret, session, entry.get("username", ""))
    return record
