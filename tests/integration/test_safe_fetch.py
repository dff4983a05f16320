"""The media fetcher against a real HTTP server on loopback: pinning, redirects, size and type.

The server is reached only through the allow-list (``media.test:<port>``, plain http), the one
door the sandbox uses; every other hop goes through the full SSRF policy. The fake resolver is
the only DNS: ``media.test`` does not exist anywhere else, so a successful fetch also proves that
aiohttp never resolved a name on its own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.publisher.adapters.port import Permanent, Temporary
from services.publisher.safe_fetch import IPAddress, SafeMediaFetcher
from shared.events import Media

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60


class RebindingDNS:
    """``media.test`` is loopback on the first lookup and an unroutable private address after."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.lookups.append(host)
        seq = self.answers.get(host)
        if not seq:
            raise OSError(f"NXDOMAIN {host}")
        index = min(sum(1 for h in self.lookups if h == host) - 1, len(seq) - 1)
        return [ipaddress.ip_address(seq[index])]


async def _jpeg(request: web.Request) -> web.Response:
    return web.Response(body=JPEG, content_type="image/jpeg")


async def _octet(request: web.Request) -> web.Response:
    return web.Response(body=JPEG, content_type="application/octet-stream")


async def _html(request: web.Request) -> web.Response:
    return web.Response(text="<html>login</html>", content_type="text/html")


async def _huge_chunked(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    await resp.write(JPEG)
    for _ in range(200):  # 200 x 64 KiB ≈ 13 MB, well past Telegram's 5 MB, with no Content-Length
        await resp.write(b"\x00" * 65536)
    await resp.write_eof()
    return resp


# An MP4 header ("ftyp") and 3 MB of body: past the spill threshold the tests set.
VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * (3 * 4096)


async def _video(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "video/mp4"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for start in range(0, len(VIDEO), 100_000):
        await resp.write(VIDEO[start : start + 100_000])
    await resp.write_eof()
    return resp


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.query["to"])


async def _loop(request: web.Request) -> web.Response:
    n = int(request.match_info["n"])
    raise web.HTTPFound(f"/loop/{n + 1}" if n < 10 else "/a.jpg")


async def _busy(request: web.Request) -> web.Response:
    return web.Response(status=503, text="busy")


async def _gone(request: web.Request) -> web.Response:
    return web.Response(status=404, text="not found")


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_get("/a.jpg", _jpeg)
    app.router.add_get("/octet.jpg", _octet)
    app.router.add_get("/page.jpg", _html)
    app.router.add_get("/huge.jpg", _huge_chunked)
    app.router.add_get("/speech.mp4", _video)
    app.router.add_get("/redirect", _redirect)
    app.router.add_get("/loop/{n}", _loop)
    app.router.add_get("/busy.jpg", _busy)
    app.router.add_get("/missing.jpg", _gone)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    try:
        yield srv
    finally:
        await srv.close()


def fetcher_for(
    server: TestServer, platform: str = "mastodon", *, rebinding: bool = False
) -> tuple[SafeMediaFetcher, RebindingDNS]:
    dns = RebindingDNS(
        {
            "media.test": ["127.0.0.1", "10.255.255.1"] if rebinding else ["127.0.0.1"],
            "metadata.test": ["169.254.169.254"],
            "public.test": ["93.184.215.14"],
        }
    )
    fetcher = SafeMediaFetcher(
        platform, resolver=dns, allow_hosts=[f"media.test:{server.port}"], timeout_s=10
    )
    return fetcher, dns


def url(server: TestServer, path: str) -> str:
    return f"http://media.test:{server.port}{path}"


async def test_the_connection_goes_to_the_address_vetted_first(server: TestServer) -> None:
    fetcher, dns = fetcher_for(server, rebinding=True)
    got = await fetcher.fetch(Media(url=url(server, "/a.jpg"), type="image/jpeg"))
    assert got.data == JPEG
    assert (got.content_type, got.filename) == ("image/jpeg", "a.jpg")
    # One lookup, the vetted one: had the connection looked the name up again it would have got
    # the rebound, unroutable answer (or no answer at all from real DNS) and failed.
    assert dns.lookups == ["media.test"]


async def test_a_redirect_to_a_private_address_is_refused(server: TestServer) -> None:
    fetcher, _ = fetcher_for(server)
    to = "https://metadata.test/latest/meta-data/"
    with pytest.raises(Permanent) as err:
        await fetcher.fetch(Media(url=url(server, f"/redirect?to={to}"), type="image/jpeg"))
    assert "media URL https://metadata.test/latest/meta-data/ (redirected from" in str(err.value)
    assert "resolves to a link-local address 169.254.169.254: refused" in str(err.value)


async def test_a_redirect_to_plain_http_elsewhere_is_refused(server: TestServer) -> None:
    fetcher, _ = fetcher_for(server)
    with pytest.raises(Permanent, match=r"http://public\.test/a\.jpg .*is not https: refused"):
        await fetcher.fetch(
            Media(url=url(server, "/redirect?to=http://public.test/a.jpg"), type="image/jpeg")
        )


async def test_up_to_three_redirects_are_followed_and_no_more(server: TestServer) -> None:
    fetcher, _ = fetcher_for(server)
    got = await fetcher.fetch(Media(url=url(server, "/loop/8"), type="image/jpeg"))  # 8→9→10→a.jpg
    assert got.data == JPEG
    with pytest.raises(Permanent, match="redirects more than 3 times: refused"):
        await fetcher.fetch(Media(url=url(server, "/loop/1"), type="image/jpeg"))


async def test_a_body_past_the_platform_limit_is_cut_while_streaming(server: TestServer) -> None:
    fetcher, _ = fetcher_for(server, platform="telegram")
    with pytest.raises(Permanent, match="larger than 5000000 bytes; Telegram takes image/jpeg"):
        await fetcher.fetch(Media(url=url(server, "/huge.jpg"), type="image/jpeg"))


async def test_the_served_type_must_match_the_declared_one(server: TestServer) -> None:
    fetcher, _ = fetcher_for(server)
    with pytest.raises(Permanent, match="declared image/jpeg but the host serves text/html"):
        await fetcher.fetch(Media(url=url(server, "/page.jpg"), type="image/jpeg"))
    with pytest.raises(Permanent, match="declared image/png but its bytes are image/jpeg"):
        await fetcher.fetch(Media(url=url(server, "/octet.jpg"), type="image/png"))
    got = await fetcher.fetch(Media(url=url(server, "/octet.jpg"), type="image/jpeg"))
    assert got.content_type == "image/jpeg"


async def test_host_trouble_is_temporary_and_a_missing_file_permanent(server: TestServer) -> None:
    fetcher, _ = fetcher_for(server)
    with pytest.raises(Temporary, match="HTTP 503"):
        await fetcher.fetch(Media(url=url(server, "/busy.jpg"), type="image/jpeg"))
    with pytest.raises(Permanent, match="HTTP 404"):
        await fetcher.fetch(Media(url=url(server, "/missing.jpg"), type="image/jpeg"))


async def test_a_large_video_is_spooled_to_disk_not_held_in_memory(
    server: TestServer, tmp_path: Path
) -> None:
    dns = RebindingDNS({"media.test": ["127.0.0.1"]})
    spool = tmp_path / "media-spool"
    fetcher = SafeMediaFetcher(
        "youtube",
        resolver=dns,
        allow_hosts=[f"media.test:{server.port}"],
        timeout_s=10,
        spill_bytes=256 * 1024,
        spool_dir=spool,
    )
    got = await fetcher.fetch(Media(url=url(server, "/speech.mp4"), type="video/mp4"))
    assert isinstance(got.data, memoryview)  # a read-only map of the spool file
    assert len(got.data) == len(VIDEO)
    assert bytes(got.data[:4096]) == VIDEO[:4096]
    assert bytes(got.data) == VIDEO
    assert list(spool.iterdir()) == []  # unlinked from the start: a crash leaves nothing behind
    assert "bytes)" in repr(got)  # and its repr still keeps the bytes out of logs


async def test_an_idn_media_host_is_fetched(server: TestServer) -> None:
    # The allow-list and the URL name the host in Unicode; aiohttp connects by its punycode name,
    # and the pinned resolver must recognise that as the host it vetted.
    dns = RebindingDNS({"xn--mdia-bpa.test": ["127.0.0.1"]})
    fetcher = SafeMediaFetcher(
        "mastodon", resolver=dns, allow_hosts=[f"média.test:{server.port}"], timeout_s=10
    )
    got = await fetcher.fetch(Media(url=f"http://média.test:{server.port}/a.jpg", type="image/jpeg"))
    assert got.data == JPEG
    assert dns.lookups == ["xn--mdia-bpa.test"]
