"""The console's Connect action: an admin connects a channel's account from the dashboard.

    POST /v1/channels/{channel}/connect     a platform with a login (X, YouTube, TikTok,
                                            LinkedIn, Mastodon, Facebook, Instagram, Threads):
                                            {"authorize_url"} to send the browser to, with
                                            ``state`` and PKCE kept here;
                                            the webhook: {"signing_secret"}, generated, shown
                                            this once
    GET  /v1/connect/callback               where the platform sends the browser back: the
                                            ``state`` must be one a console instance issued in
                                            the last ten minutes, once (``connect_pending``); the code is exchanged, the
                                            credential stored in the vault, and ``reconnected``
                                            announced so the channel's parked jobs go out
    POST /v1/channels/{channel}/credential  Telegram, Bluesky, WordPress, WhatsApp: {"secret",
                                            "username"?} checked with the platform, then stored;
                                            the answer names the account, never the secret

Only an admin's key, scoped to the channel, may connect. The callback carries no key (the
platform's redirect cannot): the single-use, short-lived ``state`` an admin's request made is
what authorizes it. The redirect URI is ``<console_public_url>/v1/connect/callback`` (set it
behind a proxy), else the request's own origin. Credentials go only onto the credentials topic
and into the vault, both encrypted; nothing here logs or answers one, the webhook's new secret
excepted.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime

from aiohttp import web
from aiokafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict, Field

from services.console.access import in_scope
from services.console.connect_pending import ConnectsTopic, SharedPendingConnects, TooManyPending, mint_state
from services.console.http_deps import DEPS, Deps, json_body, operator
from shared.channels import Channel
from shared.credentials import CredentialError
from shared.credentials.accounts import account_of
from shared.credentials.connect_flow import finish, has_login, load_apps, start
from shared.credentials.credential_topic import share
from shared.credentials.opening import open_vault
from shared.credentials.pasted import GENERATED, PASTED, Verified, new_webhook_secret, pasted_record, verify
from shared.credentials.pasted import missing as missing_needs
from shared.credentials.reconnect import send_reconnected
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.field_errors import parse_model
from shared.http_auth import Principal, Role
from shared.http_errors import BadRequest, Forbidden, NotFound, ServiceUnavailable
from shared.http_probes import json_response
from shared.messages import negotiate, said

log = logging.getLogger("warta.console.connect")
CALLBACK = "/v1/connect/callback"


PENDING = web.AppKey("pending_connects", SharedPendingConnects)


class PastedCredential(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    secret: str = Field(min_length=1, max_length=4096)
    username: str = Field(default="", max_length=200)


def _admin(request: web.Request, channel_id: str) -> tuple[Principal, Channel]:
    principal = operator(request)
    if principal.role is not Role.ADMIN:
        raise Forbidden(said("role.connect", person=principal.person, role=principal.role.value))
    in_scope(principal, channel_id, "the account of channel", channel_id)
    channel = request.app[DEPS].channels.get(channel_id)
    if channel is None:
        raise NotFound(said("not_found.channel", id=channel_id), channel=channel_id)
    return principal, channel


def _vault(deps: Deps) -> CredentialVault:
    try:
        vault = open_vault(deps.settings)
    except CredentialError as exc:
        raise ServiceUnavailable(said("unavailable.vault", error=str(exc)), retry_after=60) from None
    if vault is None:
        raise ServiceUnavailable(said("unavailable.no_vault_key"), retry_after=60)
    return vault


def redirect_uri(request: web.Request) -> str:
    public = request.app[DEPS].settings.console_public_url
    base = public.rstrip("/") if public else str(request.url.origin())
    return base + CALLBACK


async def _store(deps: Deps, vault: CredentialVault, record: CredentialRecord) -> None:
    """On the credentials topic (every publisher host reads it there), then in this host's vault."""
    try:
        await share(deps.producer, deps.topics.credentials, vault, record)
    except KafkaError as exc:
        raise ServiceUnavailable(
            said("unavailable.credential_not_shared", account=record.account, error=type(exc).__name__),
            retry_after=10,
        ) from None


def _connects(deps: Deps) -> ConnectsTopic:
    return ConnectsTopic(deps.settings.kafka, deps.topics.console_connects, deps.producer, _vault(deps).keys)


async def _announce(deps: Deps, account: str, now: datetime) -> None:
    try:
        await send_reconnected(deps.producer, deps.topics, [account], deps.channels.channels, now)
    except Exception as exc:  # stored all the same: a later connect or import announces again
        log.warning("connected %s, but the scheduler was not told: %r", account, exc)


async def connect_start(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal, channel = _admin(request, request.match_info["channel"])
    now = deps.clock()
    if channel.platform in GENERATED:
        vault = _vault(deps)
        verified = Verified(channel.base_url or channel.id, ())
        record = pasted_record(channel, new_webhook_secret(), verified, now, vault.fresh(account_of(channel)))
        await _store(deps, vault, record)
        await _announce(deps, record.account, now)
        return json_response({"channel": channel.id, "signing_secret": record.access_token}, 201)
    if not has_login(channel.platform):
        pasting = said("paste_credential", platform=channel.platform, channel=channel.id)
        raise BadRequest(pasting, channel=channel.id)
    # Refuse before sending anyone to a consent page whose result could not be kept.
    keys = _vault(deps).keys
    try:
        apps = load_apps(deps.settings.oauth_apps_file)
        state = mint_state(keys, now)
        url, pending = await start(
            deps.session,
            channel,
            apps.get(channel.platform),
            redirect_uri(request),
            now,
            principal.person,
            state,
        )
    except CredentialError as exc:
        raise BadRequest(said("connect_unavailable", detail=str(exc)), channel=channel.id) from None
    try:
        await request.app[PENDING].add(_connects(deps), pending, now)
    except TooManyPending:
        raise ServiceUnavailable(said("unavailable.too_many_pending"), retry_after=60) from None
    except KafkaError as exc:
        raise ServiceUnavailable(
            said("unavailable.connect_not_kept", error=type(exc).__name__), retry_after=10
        ) from None
    return json_response({"channel": channel.id, "authorize_url": url})


async def connect_callback(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    now = deps.clock()
    try:
        pending = await request.app[PENDING].take(_connects(deps), request.query.get("state", ""), now)
    except KafkaError as exc:
        raise ServiceUnavailable(
            said("unavailable.connect_not_found", error=type(exc).__name__), retry_after=10
        ) from None
    if pending is None:
        # Not a flow this console started (a forged or stale link): nothing is exchanged.
        raise BadRequest(said("state"))
    channel = deps.channels.get(pending.channel_id)
    if channel is None:
        raise NotFound(said("not_found.channel", id=pending.channel_id))
    if "error" in request.query:
        denied = said("denied", platform=channel.platform, error=request.query.get("error"))
        raise BadRequest(denied, channel=channel.id)
    vault = _vault(deps)
    try:
        record = await finish(deps.session, vault, channel, pending, request.query.get("code", ""), now)
    except CredentialError as exc:
        refused = said("exchange", platform=channel.platform, detail=str(exc))
        raise BadRequest(refused, channel=channel.id) from None
    await _store(deps, vault, record)
    await _announce(deps, record.account, now)
    log.info("%s connected channel %s (%s)", pending.by, channel.id, channel.platform)
    lang = negotiate(request.headers.get("Accept-Language"))
    done = html.escape(said("note.connected", channel=channel.id).in_(lang))
    back = html.escape(said("note.back_to_console").in_(lang))
    page = (
        f"<!doctype html><html lang='{lang}'><title>Warta</title><p>{done}</p><p><a href='/'>{back}</a></p>"
    )
    return web.Response(text=page, content_type="text/html")


async def paste_credential(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal, channel = _admin(request, request.match_info["channel"])
    if channel.platform not in PASTED:
        login = said("use_login", platform=channel.platform, channel=channel.id)
        raise BadRequest(login, channel=channel.id)
    body = parse_model(PastedCredential, await json_body(request))
    vault = _vault(deps)
    now = deps.clock()
    try:
        verified = await verify(deps.session, channel, body.secret, body.username)
    except CredentialError as exc:
        raise BadRequest(said("credential_refused", detail=str(exc)), channel=channel.id) from None
    lacking = missing_needs(channel.platform, verified.granted)
    if lacking:
        lacks = said("insufficient_permissions", reached=verified.reached, lacking=", ".join(lacking))
        raise BadRequest(lacks, channel=channel.id)
    record = pasted_record(channel, body.secret, verified, now, vault.fresh(account_of(channel)))
    await _store(deps, vault, record)
    await _announce(deps, record.account, now)
    log.info("%s connected channel %s (%s)", principal.person, channel.id, channel.platform)
    return json_response(
        {"channel": channel.id, "reached": verified.reached, "permissions": list(verified.granted)}
    )


def add_connect_routes(app: web.Application) -> None:
    app[PENDING] = SharedPendingConnects()
    app.router.add_post("/v1/channels/{channel}/connect", connect_start)
    app.router.add_post("/v1/channels/{channel}/credential", paste_credential)
    app.router.add_get(CALLBACK, connect_callback)
