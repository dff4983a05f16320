"""``warta channels check`` for a Facebook Page or an Instagram account: the stored Page token
asked of Graph itself, with the calls Meta documents, rather than trusted as stored.

    GET /{v}/me?fields=id,name[,instagram_business_account{id,username}]
        with the Page token: the Page it reaches (graph-api/reference/page) and, for Instagram,
        the professional account linked to it (instagram-platform/.../ig-user); each must be
        the channel's (``page_id``, ``ig_user_id``)
    GET /{v}/debug_token?input_token={page token}
        graph-api/reference/debug_token: whether it is valid, the permissions granted (against
        what publishing needs, ``shared.credential_rules``) and when it expires (0: never).
        Meta asks for the app's token (``{app-id}|{app-secret}``, from the OAuth apps file)
        or one of the same app: without the app's secret the Page token inspects itself.

A refusal says Graph's message, never the token.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from services.publisher.credentials.check_rows import permissions_verdict
from shared.api_base import api_base
from shared.capabilities import capabilities_for
from shared.channels import Channel
from shared.credentials.record import CredentialRecord
from shared.json_values import epoch_time

CHECKED = frozenset({"facebook", "instagram"})


class _Refused(Exception):
    pass


async def _graph(
    session: aiohttp.ClientSession, url: str, params: dict[str, str], step: str
) -> dict[str, Any]:
    try:
        async with session.get(url, params=params) as resp:
            status = resp.status
            body = await resp.json(content_type=None) if status < 500 else None
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise _Refused(f"{step}: Graph did not answer ({type(exc).__name__})") from None
    if not isinstance(body, dict):
        raise _Refused(f"{step}: Graph answered {status} without a JSON object")
    error = body.get("error")
    if status >= 400 or error:
        message = error.get("message") if isinstance(error, dict) else error
        raise _Refused(f"{step} refused ({status}): {str(message or 'no reason given')[:200]}")
    return body


def _wanted(channel: Channel, record: CredentialRecord, key: str) -> str:
    return channel.options.get(key) or record.extra.get(key) or channel.account


def _needs(platform: str) -> tuple[str, ...]:
    rules = capabilities_for(platform).credential
    return rules.needs if rules is not None else ()


def _reached(channel: Channel, record: CredentialRecord, me: dict[str, Any]) -> str:
    """The account the token reaches, or ``_Refused`` when it is not the channel's."""
    page = str(me.get("id", ""))
    if page != _wanted(channel, record, "page_id"):
        raise _Refused(
            f"the token reaches Page {page}, not the channel's {_wanted(channel, record, 'page_id')}"
        )
    if channel.platform != "instagram":
        return str(me.get("name") or page)
    ig = me.get("instagram_business_account")
    ig_id = str(ig.get("id", "")) if isinstance(ig, dict) else ""
    if ig_id != _wanted(channel, record, "ig_user_id"):
        linked = ig_id or "no Instagram account"
        raise _Refused(f"the Page links {linked}, not the channel's {_wanted(channel, record, 'ig_user_id')}")
    return str(ig.get("username") or ig_id) if isinstance(ig, dict) else ig_id


async def check_meta(
    session: aiohttp.ClientSession, channel: Channel, record: CredentialRecord, app_token: str | None
) -> dict[str, Any]:
    """The check row's verdict for a Facebook or Instagram channel (``commands._check_one``)."""
    base = api_base(channel.platform, channel.base_url)
    graph = f"{base}/{capabilities_for(channel.platform).api_version}"
    fields = "id,name" + (
        ",instagram_business_account{id,username}" if channel.platform == "instagram" else ""
    )
    token = record.access_token
    try:
        me = await _graph(session, f"{graph}/me", {"fields": fields, "access_token": token}, "me")
        reached = _reached(channel, record, me)
        query = {"input_token": token, "access_token": app_token or token}
        debug = (await _graph(session, f"{graph}/debug_token", query, "debug_token")).get("data") or {}
    except _Refused as exc:
        return {"usable": False, "status": "refused", "reason": str(exc)}
    if not debug.get("is_valid"):
        error = debug.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        reason = str(message or "Graph says the token is not valid")[:200]
        return {"usable": False, "status": "refused", "reason": reason, "reached": reached}
    granted = [str(s) for s in debug.get("scopes") or []]
    row: dict[str, Any] = {"reached": reached, "permissions": granted, **_expiry(debug)}
    lacking = [need for need in _needs(channel.platform) if need not in granted]
    return permissions_verdict(row, lacking, hint="; re-connect and allow it")


def _expiry(debug: dict[str, Any]) -> dict[str, Any]:
    """Graph's ``expires_at`` (0: the token never expires) and when the app's data access ends."""

    def instant(name: str) -> str | None:
        value = debug.get(name)
        when = epoch_time(value) if isinstance(value, int) and value > 0 else None
        return when.isoformat() if when is not None else None

    return {
        "platform_expires_at": instant("expires_at"),
        "never_expires": debug.get("expires_at") == 0,
        "data_access_expires_at": instant("data_access_expires_at"),
    }
