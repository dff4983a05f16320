"""An https media host for end-to-end tests, so media can go through the whole system.

Ingest accepts only https media URLs (platforms fetch media themselves from public URLs), and
the sandbox serves its sample media over plain http. This host serves the sandbox's own sample
bytes (``sandbox.sandbox.sample_video``, ``JPEG``) over TLS with a throwaway self-signed
certificate for 127.0.0.1. The publishers trust it through ``SSL_CERT_FILE`` and may fetch from
it through ``WARTA_MEDIA_ALLOW_HOSTS`` (``media_env``); nothing else changes in the system.
"""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from sandbox.sandbox import JPEG, SAMPLE_VIDEO_BYTES, sample_video
from warta.devrun import free_port


@dataclass(frozen=True)
class MediaHost:
    base: str  # https://127.0.0.1:<port>
    authority: str  # 127.0.0.1:<port>
    cert: Path

    def video(self, name: str, size: int) -> str:
        return f"{self.base}/media/{name}.mp4?size={size}"

    def image(self, name: str) -> str:
        return f"{self.base}/media/{name}.jpg"

    def media_env(self) -> dict[str, str]:
        return {"SSL_CERT_FILE": str(self.cert), "WARTA_MEDIA_ALLOW_HOSTS": self.authority}


def _self_signed(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "media-cert.pem", directory / "media-key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@asynccontextmanager
async def https_media_host(directory: Path) -> AsyncIterator[MediaHost]:
    cert, key = _self_signed(directory)
    cache: dict[int, bytes] = {}

    async def media(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name.endswith(".mp4"):
            size = int(request.query.get("size", SAMPLE_VIDEO_BYTES))
            body = cache.get(size) or cache.setdefault(size, sample_video(size))
            return web.Response(body=body, content_type="video/mp4")
        return web.Response(body=JPEG, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/media/{name}", media)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    try:
        yield MediaHost(f"https://127.0.0.1:{port}", f"127.0.0.1:{port}", cert)
    finally:
        await runner.cleanup()
