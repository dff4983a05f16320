"""``warta sandbox token CHANNEL --json`` mints, for every demo channel, a credential that the
platform's own client accepts from the sandbox with the platform's own "who am I" call:
python-telegram-bot's getMe, atproto's createSession, Mastodon.py's verify_credentials,
facebook-business's Graph ``/me``, pywa's phone number, linkedin-api-client's posts finder, the
Google client's ``channels.list(mine)``, standardwebhooks' signature on a delivery; raw calls where
no client exists (X ``/2/users/me``, TikTok ``/v2/user/info/``, WordPress ``users/me``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import yaml
from atproto import Client as AtprotoClient
from facebook_business.api import FacebookAdsApi, FacebookSession
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from linkedin_api.clients.restli.client import RestliClient
from mastodon import Mastodon
from pywa.client import WhatsApp
from standardwebhooks.webhooks import Webhook
from telegram import Bot

from services.publisher.credentials.sandbox_token import SECRET_FIELDS
from shared.capabilities import capabilities_for
from shared.channels import load_channels
from tests.fidelity.sandbox_thread import ThreadedSandbox, threaded_sandbox
from tests.fidelity.test_linkedin_restli_client import MovedApi
from tests.fidelity.test_whatsapp_pywa import MovedGraph
from tests.fidelity.test_youtube_google_client import DOCUMENT
from warta.cli_credentials import cmd_sandbox_token
from warta.devrun import sandbox_token as static_token

pytestmark = pytest.mark.fidelity

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy" / "channels.local.yaml"
Check = Callable[[ThreadedSandbox, dict[str, Any], dict[str, Any]], object]


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[ThreadedSandbox, dict[str, dict[str, Any]]]]:
    """The sandbox with the demo accounts, and the demo channels moved onto it, by id."""
    raw = yaml.safe_load(DEMO.read_text())["channels"]
    accounts = {c["secret"]: static_token(c["platform"]) for c in raw}
    with threaded_sandbox(accounts) as sandbox:
        for channel in raw:
            channel["base_url"] = channel["base_url"].replace("http://127.0.0.1:8090", sandbox.base)
        yield sandbox, {c["id"]: c for c in raw}


def _mint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], channels: list[Any]
) -> Callable[..., tuple[int, str, str]]:
    path = tmp_path / "channels.yaml"
    path.write_text(yaml.safe_dump({"channels": channels}))
    monkeypatch.setenv("WARTA_CHANNELS_FILE", str(path))

    def mint(channel_id: str, as_json: bool = True) -> tuple[int, str, str]:
        code = cmd_sandbox_token(argparse.Namespace(channel=channel_id, json=as_json))
        out, err = capsys.readouterr()
        return code, out, err

    return mint


def _graph(sandbox: ThreadedSandbox, platform: str, token: str, fields: str) -> Any:
    session = FacebookSession(access_token=token)
    session.GRAPH = sandbox.url(platform)
    api = FacebookAdsApi(session, api_version=capabilities_for(platform).api_version)
    try:
        return api.call("GET", ("me",), params={"fields": fields}).json()
    finally:
        session.requests.close()


def _bearer_get(url: str, token: str) -> Any:
    resp = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _x(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    return _bearer_get(sandbox.url("x") + "/2/users/me", grant["access_token"])["data"]["username"]


def _youtube(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    document = DOCUMENT | {"rootUrl": sandbox.url("youtube") + "/"}
    token = Credentials(token=grant["access_token"])  # type: ignore[no-untyped-call]  # google-auth: untyped
    youtube = build_from_document(document, credentials=token)
    try:
        return youtube.channels().list(part="id", mine=True).execute()["items"][0]["id"]
    finally:
        youtube.close()


def _tiktok(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    url = sandbox.url("tiktok") + "/v2/user/info/?fields=open_id,display_name"
    return _bearer_get(url, grant["access_token"])["data"]["user"]["open_id"]


def _linkedin(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    client = RestliClient()
    client.session.mount("https://api.linkedin.com", MovedApi(sandbox.url("linkedin")))
    try:
        found = client.finder(
            resource_path="/posts",
            finder_name="author",
            query_params={"author": channel["options"]["author"], "count": 1},
            version_string=capabilities_for("linkedin").api_version,
            access_token=grant["access_token"],
        )
    finally:
        client.session.close()
    assert found.status_code == 200
    return found.elements == []  # the token reads the author's posts: none yet


def _mastodon(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    with requests.Session() as session:
        client = Mastodon(
            access_token=grant["access_token"],
            session=session,
            api_base_url=sandbox.url("mastodon"),
            version_check_mode="none",
        )
        return client.account_verify_credentials()["acct"]


def _facebook(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    page = _graph(sandbox, "facebook", grant["access_token"], "id,name")
    assert page["id"] == grant["id"] == channel["options"]["page_id"]
    return page["name"]


def _instagram(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    page = _graph(sandbox, "instagram", grant["access_token"], "id,instagram_business_account{id}")
    assert page["instagram_business_account"]["id"] == channel["options"]["ig_user_id"]
    return page["id"]


def _threads(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    me = _graph(sandbox, "threads", grant["access_token"], "id,username")
    assert grant["user_id"] == channel["options"]["threads_user_id"]
    return me["username"]


def _telegram(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    async def get_me() -> object:
        async with Bot(grant["token"], base_url=sandbox.url("telegram") + "/bot") as bot:
            return (await bot.get_me()).username

    return asyncio.run(get_me())


def _bluesky(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    client = AtprotoClient(base_url=sandbox.url("bluesky") + "/xrpc")
    try:
        return client.login(grant["identifier"], grant["password"]).handle
    finally:
        client.request.close()


def _wordpress(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    url = sandbox.url("wordpress") + "/wp-json/wp/v2/users/me?context=edit"
    resp = requests.get(url, auth=(grant["username"], grant["password"]), timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.json()["capabilities"]["publish_posts"] is True
    return resp.json()["username"]


def _whatsapp(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    version = capabilities_for("whatsapp").api_version.removeprefix("v")
    with httpx.Client(transport=MovedGraph(sandbox.url("whatsapp"))) as session:
        wa = WhatsApp(
            phone_id=grant["phone_number_id"],
            token=grant["access_token"],
            api_version=version,
            session=session,
        )
        return wa.get_business_phone_number().id


def _webhook(sandbox: ThreadedSandbox, channel: dict[str, Any], grant: dict[str, Any]) -> object:
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = json.dumps({"id": msg_id, "content": {"text": "Uji tanda tangan"}})
    at = datetime.fromtimestamp(int(time.time()), UTC)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(grant["secret"].encode()).sign(msg_id, at, body),
    }
    resp = requests.post(channel["base_url"], data=body, headers=headers, timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


CHECKS: dict[str, Check] = {
    "x": _x,
    "youtube": _youtube,
    "tiktok": _tiktok,
    "linkedin": _linkedin,
    "mastodon": _mastodon,
    "facebook": _facebook,
    "instagram": _instagram,
    "threads": _threads,
    "telegram": _telegram,
    "bluesky": _bluesky,
    "wordpress": _wordpress,
    "whatsapp": _whatsapp,
    "webhook": _webhook,
}


def test_every_demo_platform_has_its_clients_check() -> None:
    assert set(CHECKS) == set(load_channels(DEMO).platforms)


@pytest.mark.parametrize("platform", sorted(CHECKS))
def test_the_minted_credential_works_with_the_platforms_own_call(
    platform: str,
    demo: tuple[ThreadedSandbox, dict[str, dict[str, Any]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox, channels = demo
    channel = channels[f"{platform}-demo"]
    mint = _mint(tmp_path, monkeypatch, capsys, list(channels.values()))
    code, out, err = mint(channel["id"])
    assert (code, err) == (0, "")
    grant = json.loads(out)
    assert CHECKS[platform](sandbox, channel, grant)
    # Without --json: the credential alone on stdout (a new grant), what goes with it on stderr.
    code, out, err = mint(channel["id"], as_json=False)
    assert code == 0
    assert channel["id"] in err
    secret = out.strip()
    assert secret
    assert "\n" not in secret
    field = next(name for name in SECRET_FIELDS if grant.get(name))
    # The bot's token and the receiver's secret are the one the platform holds; the rest are new.
    assert (secret == grant[field]) is (platform in ("telegram", "webhook"))
    assert CHECKS[platform](sandbox, channel, {**grant, field: secret})


def test_an_account_the_sandbox_does_not_know_is_refused_without_a_token(
    demo: tuple[ThreadedSandbox, dict[str, dict[str, Any]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _sandbox, channels = demo
    stranger = {**channels["telegram-demo"], "id": "telegram-other", "secret": "nobody"}
    mint = _mint(tmp_path, monkeypatch, capsys, [stranger])
    code, out, err = mint("telegram-other", as_json=False)
    assert (code, out) == (2, "")
    assert "no sandbox account 'nobody'" in err
