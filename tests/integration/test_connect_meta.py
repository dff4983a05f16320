"""Connecting Facebook Pages, Instagram business accounts and Threads profiles through Meta's
logins against the sandbox: code → short-lived → long-lived user token → the Page token (no
expiry) or Threads' 60-day token (which then refreshes itself with th_refresh_token); ``state``,
the PKCE verifier and a used code are each refused; a declined permission or a Page the user
did not grant is refused and nothing is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer

from sandbox.base import FakeState
from sandbox.meta_login import MetaLogin
from sandbox.sandbox import STATES, build_sandbox
from services.publisher.credentials.commands import ConnectRequest, _channel, check, connect
from services.publisher.credentials.local_setup import open_vault_of
from services.publisher.settings import PublisherSettings
from shared.credentials import token_client
from shared.credentials.keys import generate_key
from shared.credentials.meta_login import (
    ConnectRefused,
    Consent,
    MetaApp,
    finish_meta,
    meta_authorize_url,
)
from shared.credentials.oauth_flow import code_challenge
from shared.credentials.record import CredentialRecord
from shared.credentials.token_client import AppCredentials

PLATFORMS = ("facebook", "instagram", "threads")
OPTIONS = {
    "facebook": {"page_id": "100000000000001"},
    "instagram": {"ig_user_id": "17841400000000001"},
    "threads": {"threads_user_id": "27000000000000001"},
}
APP = MetaApp("meta-app-id", "meta-app-secret")


@dataclass
class Env:
    settings: PublisherSettings
    states: dict[str, FakeState]
    browser: aiohttp.ClientSession

    def login(self, platform: str) -> MetaLogin:
        login = self.states[platform].login
        assert login is not None
        return login


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    app = build_sandbox({f"{p}-demo": f"static-{p}-0123456789" for p in PLATFORMS})
    async with TestServer(app) as server, aiohttp.ClientSession() as browser:
        channels = [
            {
                "id": f"{p}-demo",
                "platform": p,
                "base_url": str(server.make_url(f"/{p}")),
                "secret": f"{p}-demo",
                "options": OPTIONS[p],
            }
            for p in PLATFORMS
        ]
        (tmp_path / "channels.yaml").write_text(yaml.safe_dump({"channels": channels}))
        settings = PublisherSettings(
            channels_file=tmp_path / "channels.yaml",
            credentials_file=tmp_path / "credentials.vault",
            credentials_key=generate_key(),
            secrets_file=tmp_path / "secrets.json",
        )
        yield Env(settings, app[STATES], browser)


def _consent(env: Env) -> Callable[[str], Awaitable[None]]:
    async def show(url: str) -> None:
        async with env.browser.get(url) as resp:
            assert resp.status == 200, await resp.text()

    return show


def _request(env: Env, platform: str) -> ConnectRequest:
    return ConnectRequest(
        channel=_channel(env.settings, f"{platform}-demo"),
        client_id=APP.client_id,
        client_secret=APP.client_secret,
        redirect_uri=None,
    )


async def test_facebook_stores_the_page_token_derived_from_a_long_lived_user_token(env: Env) -> None:
    record = await connect(env.settings, _request(env, "facebook"), _consent(env))
    assert record.expires_at is None  # a Page token from a long-lived user token does not expire
    assert record.refresh_token is None
    assert record.extra["page_id"] == "100000000000001"
    assert "client_secret" not in record.extra  # nothing refreshes it: the secret is not kept
    assert {"pages_manage_posts", "pages_read_engagement"} <= set(record.scope.split())
    assert env.login("facebook").exchanges == 1  # fb_exchange_token was used
    assert env.states["facebook"].account_for(record.access_token) == "facebook-demo"
    assert open_vault_of(env.settings).fresh("facebook-demo") == record


async def test_instagram_finds_its_business_account_through_the_page(env: Env) -> None:
    record = await connect(env.settings, _request(env, "instagram"), _consent(env))
    assert record.extra["ig_user_id"] == "17841400000000001"
    assert record.expires_at is None
    assert env.states["instagram"].account_for(record.access_token) == "instagram-demo"


async def test_threads_gets_a_60_day_token_that_refreshes_itself(env: Env) -> None:
    record = await connect(env.settings, _request(env, "threads"), _consent(env))
    assert record.expires_at is not None
    assert record.expires_at - datetime.now(UTC) > timedelta(days=59)
    assert record.refresh_token == record.access_token  # th_refresh_token takes the token itself
    assert record.token_url.endswith("/threads/refresh_access_token")
    async with aiohttp.ClientSession() as session:
        grant = await token_client.refresh(
            session, "threads", record.token_url, AppCredentials(APP.client_id), record.access_token
        )
    assert grant.access_token != record.access_token
    assert grant.refresh_token == grant.access_token
    assert grant.expires_in == 5_183_944
    assert env.states["threads"].account_for(grant.access_token) == "threads-demo"
    rows = {row["channel"]: row for row in await check(env.settings)}
    threads = rows["threads-demo"]
    assert (threads["status"], threads["reached"], threads["refreshes_itself"]) == (
        "ok",
        "threads-demo",
        True,
    )
    assert threads["needs"] == ["threads_basic", "threads_content_publish"]
    assert rows["facebook-demo"]["status"] == "missing"


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_callback_with_another_state_is_refused(env: Env, platform: str) -> None:
    refused: list[int] = []

    async def show(url: str) -> None:
        async with env.browser.get(url, allow_redirects=False) as consent:
            location = consent.headers["Location"]
        async with env.browser.get(location.split("state=")[0] + "state=forged") as resp:
            refused.append(resp.status)
        async with env.browser.get(location) as resp:
            assert resp.status == 200

    record = await connect(env.settings, _request(env, platform), show)
    assert refused == [400]
    assert record.status == "connected"


async def _code(env: Env, platform: str, redirect_uri: str, verifier: str) -> str:
    channel = _channel(env.settings, f"{platform}-demo")
    url = meta_authorize_url(channel, APP.client_id, redirect_uri, "s1", code_challenge(verifier))
    async with env.browser.get(url, allow_redirects=False) as consent:
        location = consent.headers["Location"]
    return parse_qs(urlsplit(location).query)["code"][0]


async def _finish(
    env: Env, platform: str, code: str, redirect_uri: str, verifier: str, old: CredentialRecord | None = None
) -> CredentialRecord:
    channel = _channel(env.settings, f"{platform}-demo")
    consent = Consent(code, redirect_uri, verifier)
    return await finish_meta(env.browser, channel, APP, consent, now=datetime.now(UTC), old=old)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_reconnect_follows_the_accounts_record_and_keeps_what_the_login_does_not_say(
    env: Env, platform: str
) -> None:
    redirect, verifier = "http://127.0.0.1:9/callback", "v" * 64
    first = await _finish(env, platform, await _code(env, platform, redirect, verifier), redirect, verifier)
    old = replace(first, extra={**first.extra, "reached": "stale", "set_by_hand": "kept"}, version=7)
    again = await _finish(
        env, platform, await _code(env, platform, redirect, verifier), redirect, verifier, old
    )
    assert again.version == 8
    assert again.extra == {**first.extra, "set_by_hand": "kept"}
    assert again.access_token


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
async def test_a_wrong_pkce_verifier_is_refused_and_the_code_is_spent(env: Env, platform: str) -> None:
    redirect = "http://127.0.0.1:9/callback"
    code = await _code(env, platform, redirect, "the-right-verifier-" + "x" * 40)
    with pytest.raises(ConnectRefused, match="Invalid code verifier"):
        await _finish(env, platform, code, redirect, "another-verifier-" + "y" * 40)
    with pytest.raises(ConnectRefused, match="has been used"):
        await _finish(env, platform, code, redirect, "the-right-verifier-" + "x" * 40)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_code_is_good_once_and_for_its_redirect_uri_only(env: Env, platform: str) -> None:
    redirect, verifier = "http://127.0.0.1:9/callback", "v" * 64
    code = await _code(env, platform, redirect, verifier)
    await _finish(env, platform, code, redirect, verifier)
    with pytest.raises(ConnectRefused, match="has been used"):
        await _finish(env, platform, code, redirect, verifier)
    other = await _code(env, platform, redirect, verifier)
    with pytest.raises(ConnectRefused, match="redirect_uri is identical"):
        await _finish(env, platform, other, "http://127.0.0.1:9/elsewhere", verifier)
    with pytest.raises(ConnectRefused, match="Invalid verification code"):
        await _finish(env, platform, "never-issued", redirect, verifier)


async def test_an_expired_code_is_refused(env: Env) -> None:
    redirect, verifier = "http://127.0.0.1:9/callback", "v" * 64
    code = await _code(env, "facebook", redirect, verifier)
    env.states["facebook"].offset = timedelta(minutes=11)  # past the code's ten minutes
    with pytest.raises(ConnectRefused, match="has expired"):
        await _finish(env, "facebook", code, redirect, verifier)


async def test_a_declined_permission_is_refused_and_nothing_stored(env: Env) -> None:
    env.login("facebook").declined["facebook-demo"] = {"pages_manage_posts"}
    with pytest.raises(ConnectRefused, match="did not grant pages_manage_posts"):
        await connect(env.settings, _request(env, "facebook"), _consent(env))
    assert open_vault_of(env.settings).fresh("facebook-demo") is None


async def test_a_page_the_user_did_not_grant_is_refused(env: Env) -> None:
    env.login("instagram").pages["instagram-demo"] = [{"id": "555", "name": "another page"}]
    with pytest.raises(ConnectRefused, match="business account 17841400000000001 is not among the 1 Page"):
        await connect(env.settings, _request(env, "instagram"), _consent(env))
    assert open_vault_of(env.settings).fresh("instagram-demo") is None


async def test_meta_needs_the_apps_secret(env: Env) -> None:
    from services.publisher.credentials.commands import CommandError

    request = ConnectRequest(
        channel=_channel(env.settings, "facebook-demo"), client_id="id", client_secret=None, redirect_uri=None
    )
    with pytest.raises(CommandError, match="WARTA_OAUTH_CLIENT_SECRET"):
        await connect(env.settings, request, _consent(env))


async def _check_row(env: Env, channel: str) -> dict[str, Any]:
    return {row["channel"]: row for row in await check(env.settings)}[channel]


@pytest.mark.parametrize(
    ("platform", "reached"), [("facebook", "facebook-demo page"), ("instagram", "instagram-demo")]
)
async def test_check_asks_graph_about_the_page_token_rather_than_trusting_it_as_stored(
    env: Env, platform: str, reached: str
) -> None:
    """``/me`` names the Page (and, for Instagram, the account linked to it); ``debug_token``
    says it is valid, never expires, and which permissions it carries against publishing's."""
    record = await connect(env.settings, _request(env, platform), _consent(env))
    row = await _check_row(env, f"{platform}-demo")
    assert (row["status"], row["usable"], row["reached"]) == ("ok", True, reached)
    assert set(row["needs"]) <= set(row["permissions"])
    assert row["never_expires"] is True
    assert row["data_access_expires_at"] is not None
    # The user later removes a permission in their business settings: the check says which.
    login = env.login(platform)
    login.granted[record.access_token] = tuple(
        p for p in login.granted[record.access_token] if p != "pages_show_list"
    )
    row = await _check_row(env, f"{platform}-demo")
    assert (row["status"], row["usable"], row["missing"]) == (
        "insufficient_permissions",
        False,
        ["pages_show_list"],
    )
    # The Page token is invalidated (a password change, the app removed): refused, no token said.
    del env.states[platform].tokens[record.access_token]
    row = await _check_row(env, f"{platform}-demo")
    assert (row["status"], row["usable"]) == ("refused", False)
    assert record.access_token not in str(row)


async def test_check_refuses_a_page_whose_instagram_account_is_not_the_channels(env: Env) -> None:
    record = await connect(env.settings, _request(env, "instagram"), _consent(env))
    login = env.login("instagram")
    login.page_tokens[record.access_token] = {"id": "100000000000001", "name": "relinked"}
    row = await _check_row(env, "instagram-demo")
    assert (row["status"], row["usable"]) == ("refused", False)
    assert "links no Instagram account, not the channel's 17841400000000001" in str(row["reason"])


async def test_check_inspects_with_the_apps_token_when_the_apps_file_gives_its_secret(
    env: Env, tmp_path: Path
) -> None:
    apps = tmp_path / "apps.json"
    apps.write_text('{"facebook": {"client_id": "meta-app-id", "client_secret": "meta-app-secret"}}')
    env.settings = env.settings.model_copy(update={"oauth_apps_file": apps})
    await connect(env.settings, _request(env, "facebook"), _consent(env))
    row = await _check_row(env, "facebook-demo")
    assert row["status"] == "ok"
