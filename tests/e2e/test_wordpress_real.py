"""The website channel against a real WordPress (Debian's package, PHP, MariaDB), not a fake.

``make wordpress`` (a dependency of ``make test``) runs deploy/wordpress/setup.sh, which installs
and starts the site on 127.0.0.1:8881 and issues an Application Password. Warta's real adapter
publishes through it; the post is then read back through WordPress's own REST API, anonymously,
as a reader of the website would. Without the packages (no apt, not root) the tests skip and
name what was missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from sandbox.sandbox import PNG
from services.publisher.adapters.port import (
    Absent,
    AuthExpired,
    Credentials,
    Published,
    PublishRequest,
    Target,
)
from services.publisher.adapters.wordpress import WordPressAdapter
from services.publisher.safe_fetch import SafeMediaFetcher
from shared.events import Content, Media
from shared.settings import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.promised]

SETUP = ROOT / "deploy" / "wordpress" / "setup.sh"
VAR = ROOT / "var" / "wordpress"


@dataclass(frozen=True)
class Site:
    url: str
    username: str
    password: str
    contributor: dict[str, str]  # a second user, in WordPress's contributor role

    def target(self) -> Target:
        return self.as_user(self.username, self.password)

    def as_user(self, username: str, password: str, **options: str) -> Target:
        return Target(
            channel="website",
            account=username,
            base_url=self.url,
            credentials=Credentials(password, {"username": username}),
            options=options,
        )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/wp-json/", timeout=5) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _why_unavailable(detail: str) -> str:
    note = VAR / "unavailable.txt"
    return note.read_text().strip() if note.exists() else detail


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    creds = VAR / "credentials.json"
    env = dict(os.environ, WARTA_VAR=str(ROOT / "var"))
    started = False
    # `status` answers for this checkout's site only: another checkout's on the same port is not it.
    if not (
        creds.exists()
        and subprocess.run([str(SETUP), "status"], env=env, capture_output=True).returncode == 0
    ):
        # Not started by `make test` or `make wordpress` (a bare `pytest`): start it here, and stop
        # it after this module, as the session found it.
        started = True
        done = subprocess.run([str(SETUP), "start"], env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            subprocess.run([str(SETUP), "stop"], env=env, capture_output=True)
            pytest.skip(f"real WordPress unavailable: {_why_unavailable(done.stderr.strip()[-500:])}")
    try:
        raw = json.loads(creds.read_text())
        if not _answers(raw["url"]):
            pytest.skip(f"real WordPress unavailable: nothing answers on {raw['url']}/wp-json/")
        yield Site(raw["url"], raw["username"], raw["password"], raw["contributor"])
    finally:
        if started:
            subprocess.run([str(SETUP), "stop"], env=env, capture_output=True)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as s:
        yield s


async def read_back(session: aiohttp.ClientSession, site: Site, post_id: str) -> dict[str, Any]:
    """The post as any visitor gets it: no credentials."""
    async with session.get(f"{site.url}/wp-json/wp/v2/posts/{post_id}") as resp:
        assert resp.status == 200, await resp.text()
        body: dict[str, Any] = await resp.json()
        return body


def request(content: Content) -> PublishRequest:
    job = uuid.uuid4().hex
    return PublishRequest(job_id=job, attempt=1, content=content, marker=f"w{job[:16]}")


async def test_a_post_published_by_warta_reads_back_through_wordpress(
    site: Site, session: aiohttp.ClientSession
) -> None:
    text = f"Gubernur meresmikan jembatan baru #{uuid.uuid4().hex[:8]}"
    req = request(
        Content(text=f"{text}\n\nWarga dapat melintas mulai besok pagi.", link="https://example.org/r")
    )
    adapter = WordPressAdapter(session)
    published = await adapter.publish(site.target(), req)

    post = await read_back(session, site, published.post_id)
    assert post["status"] == "publish"
    assert post["title"]["rendered"] == text
    assert "Warga dapat melintas mulai besok pagi." in post["content"]["rendered"]
    assert 'href="https://example.org/r"' in post["content"]["rendered"]
    assert published.url == post["link"]
    # After a crash, the publisher finds this very post again by its marker: no second post.
    found = await adapter.find_by_marker(site.target(), req)
    assert isinstance(found, Published)
    assert found.post_id == published.post_id
    assert isinstance(
        await adapter.find_by_marker(site.target(), request(Content(text="never posted"))), Absent
    )


async def test_media_goes_through_the_safe_fetcher_into_the_media_library(
    site: Site, session: aiohttp.ClientSession
) -> None:
    async def photo(_: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    app = web.Application()
    app.router.add_get("/media/photo.png", photo)
    async with TestServer(app, host="127.0.0.1") as media_host:
        fetcher = SafeMediaFetcher("wordpress", allow_hosts=[f"127.0.0.1:{media_host.port}"])
        adapter = WordPressAdapter(session, fetcher)
        media = Media(
            url=f"http://127.0.0.1:{media_host.port}/media/photo.png", type="image/png", alt="jembatan"
        )
        published = await adapter.publish(
            site.target(), request(Content(text=f"Foto peresmian #{uuid.uuid4().hex[:8]}", media=(media,)))
        )

    post = await read_back(session, site, published.post_id)
    assert post["featured_media"] > 0
    async with session.get(f"{site.url}/wp-json/wp/v2/media/{post['featured_media']}") as resp:
        assert resp.status == 200
        attachment = await resp.json()
    assert attachment["mime_type"] == "image/png"
    assert attachment["source_url"] in post["content"]["rendered"]
    async with session.get(attachment["source_url"]) as resp:
        assert resp.status == 200
        assert await resp.read() == PNG


async def test_a_wrong_application_password_parks_the_channel(
    site: Site, session: aiohttp.ClientSession
) -> None:
    wrong = Target(
        channel="website",
        account=site.username,
        base_url=site.url,
        credentials=Credentials("aaaa bbbb cccc dddd eeee ffff", {"username": site.username}),
    )
    # WordPress 6.1 answers 401 rest_cannot_create here (the failed application password leaves
    # the request anonymous), not incorrect_password: either way the channel is parked.
    with pytest.raises(AuthExpired, match=r"rest_cannot_create|incorrect_password"):
        await WordPressAdapter(session).publish(wrong, request(Content(text="should not appear")))


@pytest.mark.parametrize(("status", "refused"), [("publish", "rest_cannot_publish"), ("draft", None)])
async def test_a_contributor_may_write_drafts_and_its_publishing_parks_the_channel(
    site: Site, session: aiohttp.ClientSession, status: str, refused: str | None
) -> None:
    """The site's own refusal of an account demoted below publishing; the fake answers the same
    (tests/integration/test_contract_wordpress.py)."""
    who = site.contributor
    target = site.as_user(who["username"], who["password"], status=status)
    adapter = WordPressAdapter(session)
    req = request(Content(text=f"Rapat koordinasi #{uuid.uuid4().hex[:8]}"))
    if refused is None:
        assert isinstance(await adapter.publish(target, req), Published)
        return
    with pytest.raises(AuthExpired) as info:
        await adapter.publish(target, req)
    assert (info.value.code, info.value.http_status) == (refused, 403)
    assert isinstance(await adapter.find_by_marker(site.target(), req), Absent)
