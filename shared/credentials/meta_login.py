"""Connecting Facebook Pages, Instagram business accounts and Threads profiles through Meta's
own logins; what is stored is what publishing uses, with the lifetime Meta gives it
(``shared.credential_rules``).

Facebook and Instagram (Facebook Login, manual flow with PKCE)::

    www.facebook.com/{v}/dialog/oauth?client_id&redirect_uri&state&scope&code_challenge…
    GET graph.facebook.com/{v}/oauth/access_token?client_id&client_secret&redirect_uri&code
        &code_verifier                               → a short-lived user token
    GET …/oauth/access_token?grant_type=fb_exchange_token&client_id&client_secret
        &fb_exchange_token                          → the long-lived user token (about 60 days)
    GET …/me/permissions                            → what the user granted (checked: needs)
    GET …/me/accounts?fields=id,name,access_token,tasks[,instagram_business_account]
                                                    → the channel's Page and its Page token,
                                                      which does not expire; Instagram: the
                                                      Page's instagram_business_account id

Threads (its own login; no PKCE documented)::

    threads.net/oauth/authorize?client_id&redirect_uri&scope&response_type=code&state
    POST graph.threads.net/oauth/access_token (form)  → a 1-hour token and the user_id
    GET  graph.threads.net/access_token?grant_type=th_exchange_token&client_secret&access_token
                                                      → 60 days; refreshed by the publisher's
                                                        refresher (``th_refresh_token``)

Refusals (``ConnectRefused``) carry Meta's message, never a token or the app secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp

from shared.api_base import api_base
from shared.capabilities import capabilities_for
from shared.channels import Channel
from shared.credential_rules import CREDENTIAL_RULES
from shared.credentials import CredentialError
from shared.credentials.accounts import account_of
from shared.credentials.record import CredentialRecord

META_PLATFORMS = frozenset({"facebook", "instagram", "threads"})
DIALOG_BASE = {
    "facebook": "https://www.facebook.com",
    "instagram": "https://www.facebook.com",
    "threads": "https://threads.net",
}
# What the login asks for is what publishing needs of the credential (the capability table's
# ``credential`` column), so the two cannot drift apart.
SCOPES = {platform: ",".join(CREDENTIAL_RULES[platform].needs) for platform in sorted(META_PLATFORMS)}


class ConnectRefused(CredentialError):
    """The platform refused a step of its login, or the account lacks what publishing needs."""


@dataclass(frozen=True)
class MetaApp:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Consent:
    """What the login dialog's redirect brought back, with what the code exchange must repeat of
    the dialog's request: its redirect URI, and the PKCE verifier (Threads' dialog takes none)."""

    code: str
    redirect_uri: str
    verifier: str = ""


def _dialog(channel: Channel) -> str:
    return (channel.base_url or DIALOG_BASE[channel.platform]).rstrip("/")


def _graph(channel: Channel) -> str:
    return api_base(channel.platform, channel.base_url)


def _version(channel: Channel) -> str:
    return capabilities_for(channel.platform).api_version


def uses_pkce(platform: str) -> bool:
    return platform != "threads"


def meta_authorize_url(
    channel: Channel, client_id: str, redirect_uri: str, state: str, challenge: str
) -> str:
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": SCOPES[channel.platform],
        "response_type": "code",
    }
    if uses_pkce(channel.platform):
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    if channel.base_url:
        params["login_hint"] = account_of(channel)  # the sandbox: which demo account consents
    if channel.platform == "threads":
        return f"{_dialog(channel)}/oauth/authorize?{urlencode(params)}"
    return f"{_dialog(channel)}/{_version(channel)}/dialog/oauth?{urlencode(params)}"


async def _json(
    session: aiohttp.ClientSession, method: str, url: str, step: str, **kwargs: Any
) -> dict[str, Any]:
    try:
        async with session.request(method, url, **kwargs) as resp:
            body = await resp.json(content_type=None)
            status = resp.status
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise ConnectRefused(f"{step}: no answer ({type(exc).__name__})") from None
    if not isinstance(body, dict):
        raise ConnectRefused(f"{step}: answered {status} without a JSON object")
    error = body.get("error")
    if status >= 400 or error:
        message = error.get("message") if isinstance(error, dict) else error
        raise ConnectRefused(f"{step} refused ({status}): {str(message or 'no reason given')[:200]}")
    return body


def _token(body: dict[str, Any], step: str) -> str:
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise ConnectRefused(f"{step}: answered without an access_token")
    return token


async def _long_lived_user_token(
    session: aiohttp.ClientSession, channel: Channel, app: MetaApp, consent: Consent
) -> str:
    url = f"{_graph(channel)}/{_version(channel)}/oauth/access_token"
    query = {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": consent.redirect_uri,
        "code": consent.code,
        "code_verifier": consent.verifier,
    }
    short = _token(await _json(session, "GET", url, "the code exchange", params=query), "the code exchange")
    query = {
        "grant_type": "fb_exchange_token",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "fb_exchange_token": short,
    }
    return _token(await _json(session, "GET", url, "fb_exchange_token", params=query), "fb_exchange_token")


async def _granted(session: aiohttp.ClientSession, channel: Channel, user_token: str) -> list[str]:
    url = f"{_graph(channel)}/{_version(channel)}/me/permissions"
    body = await _json(session, "GET", url, "me/permissions", params={"access_token": user_token})
    rows = body.get("data") or []
    return [str(r["permission"]) for r in rows if isinstance(r, dict) and r.get("status") == "granted"]


def _needs(platform: str) -> tuple[str, ...]:
    rules = capabilities_for(platform).credential
    return rules.needs if rules is not None else ()


WANTED_OPTION = {"facebook": "page_id", "instagram": "ig_user_id", "threads": "threads_user_id"}


def wanted_id(channel: Channel) -> str:
    """The Page, Instagram account or Threads profile the channel posts as: its option, else its
    account."""
    return channel.options.get(WANTED_OPTION[channel.platform]) or channel.account


async def _page(session: aiohttp.ClientSession, channel: Channel, user_token: str) -> dict[str, Any]:
    """The channel's Page among the user's, with its Page token (and Instagram account)."""
    fields = "id,name,access_token,tasks" + (
        ",instagram_business_account" if channel.platform == "instagram" else ""
    )
    url = f"{_graph(channel)}/{_version(channel)}/me/accounts"
    body = await _json(
        session, "GET", url, "me/accounts", params={"access_token": user_token, "fields": fields}
    )
    pages = [p for p in body.get("data") or [] if isinstance(p, dict)]
    wanted = wanted_id(channel)
    if channel.platform == "instagram":
        found = [p for p in pages if (p.get("instagram_business_account") or {}).get("id") == wanted]
        what = f"the Instagram business account {wanted}"
    else:
        found = [p for p in pages if p.get("id") == wanted]
        what = f"the Page {wanted}"
    if not found:
        raise ConnectRefused(
            f"{what} is not among the {len(pages)} Page(s) the user granted Warta; choose it in the dialog"
        )
    return found[0]


async def finish_meta(
    session: aiohttp.ClientSession,
    channel: Channel,
    app: MetaApp,
    consent: Consent,
    *,
    now: datetime,
    old: CredentialRecord | None,
) -> CredentialRecord:
    """The channel's next credential from the user's consent: Threads has a login of its own,
    Facebook and Instagram share Facebook's."""
    if channel.platform == "threads":
        record = await _finish_threads(session, channel, app, consent, now)
    else:
        record = await _finish_facebook(session, channel, app, consent, now)
    return record.succeeding(old)


async def _finish_facebook(
    session: aiohttp.ClientSession, channel: Channel, app: MetaApp, consent: Consent, now: datetime
) -> CredentialRecord:
    """Code → short-lived → long-lived user token → the Page token, which is what is stored."""
    user_token = await _long_lived_user_token(session, channel, app, consent)
    granted = await _granted(session, channel, user_token)
    lacking = [need for need in _needs(channel.platform) if need not in granted]
    if lacking:
        raise ConnectRefused(f"the user did not grant {', '.join(lacking)}; connect again and allow it")
    page = await _page(session, channel, user_token)
    extra = {"client_id": app.client_id, "page_id": str(page["id"]), "reached": str(page.get("name", ""))}
    if channel.platform == "instagram":
        extra["ig_user_id"] = str(page["instagram_business_account"]["id"])
    return CredentialRecord(
        account=account_of(channel),
        access_token=_token(page, "me/accounts"),
        issued_at=now,  # a Page token from a long-lived user token has no expiry
        scope=" ".join(granted),
        platform=channel.platform,
        extra=extra,
    )


async def _finish_threads(
    session: aiohttp.ClientSession, channel: Channel, app: MetaApp, consent: Consent, now: datetime
) -> CredentialRecord:
    """Code → 1-hour token → 60-day token; the long-lived token refreshes itself
    (``th_refresh_token`` takes the token itself), so it is stored as its own refresh token."""
    graph = _graph(channel)
    form = {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "code": consent.code,
        "grant_type": "authorization_code",
        "redirect_uri": consent.redirect_uri,
    }
    short_body = await _json(session, "POST", f"{graph}/oauth/access_token", "the code exchange", data=form)
    short = _token(short_body, "the code exchange")
    query = {"grant_type": "th_exchange_token", "client_secret": app.client_secret, "access_token": short}
    body = await _json(session, "GET", f"{graph}/access_token", "th_exchange_token", params=query)
    long_lived = _token(body, "th_exchange_token")
    expires_in = body.get("expires_in")
    user_id = str(short_body.get("user_id", ""))
    wanted = channel.options.get("threads_user_id")
    if wanted and user_id and user_id != wanted and user_id != channel.account:
        raise ConnectRefused(
            f"the Threads profile that consented ({user_id}) is not the channel's ({wanted})"
        )
    extra = {"client_id": app.client_id, "reached": user_id}
    return CredentialRecord(
        account=account_of(channel),
        access_token=long_lived,
        refresh_token=long_lived,
        expires_at=now + timedelta(seconds=float(expires_in))
        if isinstance(expires_in, int | float)
        else None,
        issued_at=now,
        scope=SCOPES["threads"].replace(",", " "),
        platform="threads",
        token_url=f"{graph}/refresh_access_token",
        extra=extra,
    )
