"""Every OAuth 2.0 login Warta runs (X, YouTube, TikTok, LinkedIn, Mastodon), through the one
start/finish the console uses, against the sandbox: a wrong PKCE verifier is refused (where the
platform takes PKCE), a code is good once, and nothing is stored by a refused exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import BaseTestServer, TestServer

from sandbox.sandbox import build_sandbox
from shared.capabilities import capabilities_for
from shared.channels import Channel
from shared.credentials import RefreshRejected
from shared.credentials.connect_flow import Pending, finish, start
from shared.credentials.keys import generate_key, keyring
from shared.credentials.token_client import AppCredentials
from shared.credentials.vault import CredentialVault

PLATFORMS = ("x", "youtube", "tiktok", "linkedin", "mastodon")
REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture
async def sandbox() -> AsyncIterator[BaseTestServer]:
    async with TestServer(
        build_sandbox({f"{p}-demo": f"static-{p}-0123456789" for p in PLATFORMS})
    ) as server:
        yield server


async def _started(
    sandbox: BaseTestServer, session: aiohttp.ClientSession, platform: str
) -> tuple[Channel, Pending, str]:
    channel = Channel(
        id=f"{platform}-demo",
        platform=platform,
        base_url=str(sandbox.make_url(f"/{platform}")),
        secret=f"{platform}-demo",
    )
    app = None if platform == "mastodon" else AppCredentials("warta-app", "app-secret")
    url, pending = await start(session, channel, app, REDIRECT, datetime.now(UTC), "admin")
    async with session.get(url, allow_redirects=False) as consent:
        location = consent.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [pending.state]
    return channel, pending, query["code"][0]


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_code_is_good_once_and_needs_its_verifier(
    sandbox: BaseTestServer, tmp_path: Path, platform: str
) -> None:
    vault = CredentialVault(tmp_path / "vault", keyring([generate_key()]))
    now = datetime.now(UTC)
    async with aiohttp.ClientSession() as session:
        channel, pending, code = await _started(sandbox, session, platform)
        rules = capabilities_for(platform).tokens
        assert rules is not None
        if rules.pkce:
            wrong = replace(pending, verifier="another-verifier-" + "w" * 50)
            with pytest.raises(RefreshRejected, match=r"code_verifier does not match"):
                await finish(session, vault, channel, wrong, code, now)
            assert vault.fresh(channel.id) is None
            channel, pending, code = await _started(sandbox, session, platform)
        record = await finish(session, vault, channel, pending, code, now)
        assert record.status == "connected"
        with pytest.raises(RefreshRejected):
            await finish(session, vault, channel, pending, code, now)  # the same code again
    stored = vault.fresh(channel.id)
    assert stored is not None
    assert stored.access_token == record.access_token  # the refused reuse changed nothing
