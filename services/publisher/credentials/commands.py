"""The operator's credential commands, run on the publisher's host (they read its vault):

    warta channels check [--json]     per channel: does the credential work, which account it
                                      reaches, when it expires, whether it refreshes itself
    warta channels connect CHANNEL    OAuth 2.0 authorization code + PKCE (S256), ``state``
                                      checked, the code received on a loopback callback
    warta credentials rotate-key      re-encrypt the vault with a new key

Nothing here prints a token (``warta sandbox token`` is ``sandbox_token``'s, for demo accounts).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from aiohttp import web

from services.publisher.credentials import meta_check
from services.publisher.credentials.check_rows import keyed_vault
from services.publisher.credentials.paste_commands import check_pasted, pasted
from services.publisher.credentials.policy import expired
from services.publisher.credentials.probe import ProbeFailed, probes, whoami
from services.publisher.credentials.wiring import account_of
from services.publisher.settings import PublisherSettings
from shared.access_log import app_runner
from shared.capabilities import capabilities_for
from shared.channels import Channel
from shared.credentials import CredentialError
from shared.credentials.app_registration import register_app
from shared.credentials.connect_flow import load_apps
from shared.credentials.endpoints import token_url_for
from shared.credentials.keys import keyring, load_keys
from shared.credentials.meta_login import (
    META_PLATFORMS,
    Consent,
    MetaApp,
    finish_meta,
    meta_authorize_url,
)
from shared.credentials.oauth_flow import SCOPES, authorize_url, code_challenge, store_grant
from shared.credentials.record import CredentialRecord
from shared.credentials.token_client import AppCredentials, exchange_code
from shared.credentials.vault import CredentialVault


class CommandError(Exception):
    """A command could not do what was asked; the message says why (no secret in it)."""


def _vault(settings: PublisherSettings) -> CredentialVault:
    return keyed_vault(settings, CommandError)


def _channel(settings: PublisherSettings, channel_id: str) -> Channel:
    for channel in settings.load_channels().channels:
        if channel.id == channel_id:
            return channel
    raise CommandError(f"no channel {channel_id!r} in {settings.channels_file}")


# ---- check ---------------------------------------------------------------------------------
async def _check_one(
    channel: Channel,
    record: CredentialRecord | None,
    session: aiohttp.ClientSession,
    now: datetime,
    app_token: str | None = None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "channel": channel.id,
        "platform": channel.platform,
        "account": account_of(channel),
        "needs": publishing_needs(channel.platform),
    }
    if record is None:
        return {**row, "usable": False, "status": "missing", "reason": "no credential stored"}
    left = (record.expires_at - now).total_seconds() if record.expires_at else None
    row |= {
        "expires_at": record.expires_at.isoformat() if record.expires_at else None,
        "expires_in_s": round(left) if left is not None else None,
        "refreshes_itself": record.refresh_token is not None,
        # When the refresh token itself ends (TikTok: 180 days): a re-connect is due before then.
        "refresh_expires_at": record.refresh_expires_at.isoformat() if record.refresh_expires_at else None,
        "scope": record.scope,
    }
    if record.status == "needs_reauth":
        return {**row, "usable": False, "status": "needs_reauth", "reason": record.reason}
    missing = missing_scopes(channel.platform, record.scope)
    if missing:
        row["missing_scopes"] = missing
        reason = f"the account did not grant {', '.join(missing)}; re-connect and allow it"
        return {**row, "usable": False, "status": "insufficient_scope", "reason": reason}
    if expired(record, now):
        return {**row, "usable": False, "status": "expired", "reason": "the access token has expired"}
    if pasted(channel.platform):
        return {**row, **await check_pasted(session, channel, record)}
    if channel.platform in meta_check.CHECKED:
        return {**row, **await meta_check.check_meta(session, channel, record, app_token)}
    if not probes(channel.platform):
        return {**row, "usable": True, "status": "stored", "reached": None}
    try:
        reached = await whoami(session, channel.platform, channel.base_url, record.access_token)
    except ProbeFailed as exc:
        return {**row, "usable": False, "status": "refused", "reason": str(exc)}
    return {**row, "usable": True, "status": "ok", "reached": reached}


def publishing_needs(platform: str) -> list[str]:
    """What publishing needs of the credential: OAuth scopes, or the platform's permissions."""
    caps = capabilities_for(platform)
    if caps.tokens is not None:
        return list(caps.tokens.publish_scopes)
    return list(caps.credential.needs) if caps.credential is not None else []


def missing_scopes(platform: str, granted: str) -> list[str]:
    """Publishing's scopes the grant lacks (scopes are space-separated; TikTok's, comma)."""
    rules = capabilities_for(platform).tokens
    if rules is None or not granted:
        return []  # a long-lived credential, or a platform that did not say: not judged here
    have = set(granted.replace(",", " ").split())
    return [scope for scope in rules.publish_scopes if scope not in have]


async def check(settings: PublisherSettings) -> list[dict[str, Any]]:
    vault = _vault(settings)
    channels = list(settings.load_channels().channels)
    apps = load_apps(settings.oauth_apps_file)
    rows = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.call_timeout_s)) as session:
        for channel in channels:
            # Read, never refreshed here: only the owner of the account's partition of the
            # credentials topic refreshes (a second refresher would spend a rotating token the
            # owner still holds). A publisher on this host keeps this vault equal to the topic.
            record = vault.get(account_of(channel))
            app = apps.get(channel.platform)
            app_token = f"{app.client_id}|{app.client_secret}" if app and app.client_secret else None
            rows.append(await _check_one(channel, record, session, datetime.now(UTC), app_token))
    return rows


def print_check(rows: list[dict[str, Any]], as_json: bool) -> int:
    if as_json:
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        for row in rows:
            detail = row.get("reached") or row.get("reason") or ""
            expiry = f"expires in {row['expires_in_s']} s" if row.get("expires_in_s") is not None else ""
            print(f"{row['channel']:<24} {row['platform']:<10} {row['status']:<13} {expiry:<22} {detail}")
    return 0 if all(row["usable"] for row in rows) else 1


# ---- connect -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConnectRequest:
    channel: Channel
    client_id: str
    client_secret: str | None
    redirect_uri: str | None  # None: the loopback callback's own address
    host: str = "127.0.0.1"
    port: int = 0
    timeout_s: float = 300.0


@contextlib.asynccontextmanager
async def _loopback(request: ConnectRequest, state: str) -> AsyncIterator[tuple[str, asyncio.Future[str]]]:
    """The flow's redirect target on this host while the flow runs: (redirect URI, the code)."""
    got: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    app = web.Application()
    app.router.add_get("/callback", loopback_callback(state, got))
    # No access line: the callback's query string is the authorization code.
    runner = app_runner(app, access_log=False)
    await runner.setup()
    site = web.TCPSite(runner, request.host, request.port)
    await site.start()
    try:
        port = runner.addresses[0][1]
        yield request.redirect_uri or f"http://{request.host}:{port}/callback", got
    finally:
        await runner.cleanup()


async def connect(
    settings: PublisherSettings,
    request: ConnectRequest,
    show: Callable[[str], Awaitable[None]],
) -> CredentialRecord:
    """Run the flow: ``show`` gets the URL to open (print it; a test or ``--open`` fetches it)."""
    channel = request.channel
    if channel.platform in META_PLATFORMS:
        return await _connect_meta(settings, request, show)
    rules = capabilities_for(channel.platform).tokens
    if rules is None:
        raise CommandError(
            f"{channel.platform} is connected with its own credential: warta channels connect"
            f" {channel.id} reads it from stdin"
        )
    if not request.client_id and not rules.registers_app:
        raise CommandError(
            f"{channel.platform} needs the client id of the app registered with it (--client-id)"
        )
    vault = _vault(settings)
    verifier = secrets.token_urlsafe(64)
    state = secrets.token_urlsafe(24)
    async with _loopback(request, state) as (redirect_uri, got):
        app_credentials = await _app_credentials(request, redirect_uri)
        await show(
            authorize_url(channel, app_credentials.client_id, redirect_uri, state, code_challenge(verifier))
        )
        code = await asyncio.wait_for(got, request.timeout_s)
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=settings.call_timeout_s)
        ) as session:
            grant = await exchange_code(
                session,
                channel.platform,
                token_url_for(channel),
                app_credentials,
                code=code,
                redirect_uri=redirect_uri,
                code_verifier=verifier if rules.pkce else None,
            )
    return store_grant(vault, channel, app_credentials, grant, datetime.now(UTC))


async def _connect_meta(
    settings: PublisherSettings, request: ConnectRequest, show: Callable[[str], Awaitable[None]]
) -> CredentialRecord:
    """Facebook Login (Facebook, Instagram) or Threads' login: the app's id and secret given."""
    channel = request.channel
    if not request.client_id or not request.client_secret:
        raise CommandError(
            f"{channel.platform} needs the Meta app's id (--client-id) and secret (WARTA_OAUTH_CLIENT_SECRET)"
        )
    vault = _vault(settings)
    app = MetaApp(request.client_id, request.client_secret)
    verifier = secrets.token_urlsafe(64)
    state = secrets.token_urlsafe(24)
    async with _loopback(request, state) as (redirect_uri, got):
        await show(meta_authorize_url(channel, app.client_id, redirect_uri, state, code_challenge(verifier)))
        code = await asyncio.wait_for(got, request.timeout_s)
    old = vault.fresh(account_of(channel))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.call_timeout_s)) as session:
        consent = Consent(code, redirect_uri, verifier)
        record = await finish_meta(session, channel, app, consent, now=datetime.now(UTC), old=old)
    vault.put(record)
    return record


async def _app_credentials(request: ConnectRequest, redirect_uri: str) -> AppCredentials:
    """The app's client id (and secret): given, or, on a Mastodon instance, registered there first."""
    if request.client_id:
        return AppCredentials(request.client_id, request.client_secret)
    channel = request.channel
    async with aiohttp.ClientSession() as session:
        return await register_app(session, channel.base_url or "", redirect_uri, SCOPES[channel.platform])


def loopback_callback(
    state: str, got: asyncio.Future[str]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The redirect target of the flow: hands the authorization code (or the refusal) to ``got``."""

    async def callback(http: web.Request) -> web.Response:
        if http.query.get("state") != state:
            # A callback that did not start here (CSRF, a stale tab): refused, the flow goes on.
            return web.Response(status=400, text="state does not match this connection attempt")
        if "error" in http.query:
            if not got.done():
                got.set_exception(CommandError(f"the platform refused: {http.query.get('error')}"))
            return web.Response(status=400, text="authorization refused")
        if not got.done():
            got.set_result(http.query.get("code", ""))
        return web.Response(text="Warta: connected. You can close this tab.")

    return callback


# ---- keys and the sandbox ------------------------------------------------------------------
def rotate_key(settings: PublisherSettings, new_keys: list[str]) -> CredentialVault:
    """Re-encrypt with ``new_keys[0]``; the old keys stay accepted for this run only. Returns the
    vault as re-encrypted, whose records the caller puts on the credentials topic too."""
    env_key = settings.credentials_key.get_secret_value() if settings.credentials_key else None
    old = load_keys(env_key, settings.credentials_key_file)
    if not old:
        raise CommandError("no current credentials key configured")
    vault = CredentialVault(settings.credentials_file, keyring(old))
    try:
        vault.rotate(keyring(new_keys + old))
    except CredentialError as exc:
        raise CommandError(str(exc)) from None
    return vault


def is_sandbox(channel: Channel) -> bool:
    """Whether ``channel`` posts to the sandbox: its base URL is on this host's loopback, where
    the contract fakes run (``warta sandbox``, compose's 127.0.0.1:8090) and no platform's API
    does. A channel without a base URL posts to the platform itself."""
    host = urlsplit(channel.base_url).hostname if channel.base_url else None
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
