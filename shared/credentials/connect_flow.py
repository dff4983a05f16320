"""One start and one finish for connecting any platform's account through its login (the
console's Connect button; the CLI runs the same steps around its loopback callback).

``start`` makes the consent page's URL and what the callback must find again (``Pending``:
``state``, the PKCE verifier, the redirect URI, the app); ``finish`` exchanges the code the
callback received and stores the account's new credential in the vault. Which flow: Meta's
logins (``meta_login``) for Facebook, Instagram and Threads; the OAuth 2.0 code flow
(``oauth_flow``) for X, YouTube, TikTok, LinkedIn and Mastodon (which registers the app on the
instance first). The other platforms' credentials are pasted (``pasted``).

The apps Warta is registered as, per platform, come from a file the operator keeps (0600),
``{"x": {"client_id": "…", "client_secret": "…"}, …}`` (``load_apps``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiohttp

from shared.capabilities import capabilities_for
from shared.channels import Channel
from shared.credentials import CredentialError
from shared.credentials.accounts import account_of
from shared.credentials.app_registration import register_app
from shared.credentials.endpoints import token_url_for
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
from shared.private_file import read_json_object


class FlowUnavailable(CredentialError):
    """The platform has no login flow here, or the app Warta is registered as is not configured."""


@dataclass(frozen=True)
class Pending:
    channel_id: str
    state: str
    verifier: str
    redirect_uri: str
    app: AppCredentials
    started_at: datetime
    by: str  # who started it (the audit and the ``reconnected`` reason name them)

    def __repr__(self) -> str:  # the verifier and the app's secret stay out of logs
        return f"Pending(channel_id={self.channel_id!r}, by={self.by!r}, started_at={self.started_at})"


def has_login(platform: str) -> bool:
    return platform in META_PLATFORMS or capabilities_for(platform).tokens is not None


def load_apps(path: Path | None) -> dict[str, AppCredentials]:
    """The operator's app registrations by platform; none when no file is configured."""
    if path is None:
        return {}
    # Its shape: platform → {"client_id": ..., "client_secret": ...}.
    raw = read_json_object(path, "the OAuth apps file", FlowUnavailable)
    apps = {}
    for platform, entry in raw.items():
        if isinstance(entry, dict) and isinstance(entry.get("client_id"), str):
            secret = entry.get("client_secret")
            apps[str(platform)] = AppCredentials(
                entry["client_id"], secret if isinstance(secret, str) else None
            )
    return apps


async def start(
    session: aiohttp.ClientSession,
    channel: Channel,
    app: AppCredentials | None,
    redirect_uri: str,
    now: datetime,
    by: str,
    state: str | None = None,
) -> tuple[str, Pending]:
    """The consent page to send the person to, and what the callback must match (``state``: the
    caller's, when it can judge a callback's by itself; else a random one)."""
    if not has_login(channel.platform):
        raise FlowUnavailable(f"{channel.platform} is connected by pasting its credential, not by a login")
    rules = capabilities_for(channel.platform).tokens
    if app is None and rules is not None and rules.registers_app:
        base = channel.base_url or ""
        app = await register_app(session, base, redirect_uri, SCOPES[channel.platform])
    if app is None:
        raise FlowUnavailable(f"no app is configured for {channel.platform} (the OAuth apps file)")
    if channel.platform in META_PLATFORMS and not app.client_secret:
        raise FlowUnavailable(f"{channel.platform}: Meta's login needs the app's secret too")
    pending = Pending(
        channel.id, state or secrets.token_urlsafe(24), secrets.token_urlsafe(64), redirect_uri, app, now, by
    )
    challenge = code_challenge(pending.verifier)
    if channel.platform in META_PLATFORMS:
        url = meta_authorize_url(channel, app.client_id, redirect_uri, pending.state, challenge)
    else:
        url = authorize_url(channel, app.client_id, redirect_uri, pending.state, challenge)
    return url, pending


async def finish(
    session: aiohttp.ClientSession,
    vault: CredentialVault,
    channel: Channel,
    pending: Pending,
    code: str,
    now: datetime,
) -> CredentialRecord:
    """Exchange the callback's code (with the verifier kept since ``start``) and store the result."""
    app = pending.app
    if channel.platform in META_PLATFORMS:
        meta = MetaApp(app.client_id, app.client_secret or "")
        old = vault.fresh(account_of(channel))
        consent = Consent(code, pending.redirect_uri, pending.verifier)
        record = await finish_meta(session, channel, meta, consent, now=now, old=old)
        vault.put(record)
        return record
    rules = capabilities_for(channel.platform).tokens
    assert rules is not None  # has_login held at start
    grant = await exchange_code(
        session,
        channel.platform,
        token_url_for(channel),
        app,
        code=code,
        redirect_uri=pending.redirect_uri,
        code_verifier=pending.verifier if rules.pkce else None,
    )
    return store_grant(vault, channel, app, grant, now)
