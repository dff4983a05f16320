"""Every platform fake in one aiohttp server, each mounted under ``/<platform>``.

Run it::

    python -m sandbox.sandbox --host 127.0.0.1 --port 8090 --secrets var/secrets.json

A channel then points its ``base_url`` at its platform's mount, e.g.
``http://127.0.0.1:8090/mastodon`` (each fake's routes are relative to its mount).

Secrets file: the same JSON the publisher reads (``shared.credentials.secret_store``)::

    {
      "mastodon-demo":  {"token": "mastodon-token"},
      "telegram-demo":  {"token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"},
      "wordpress-demo": {"token": "app password", "username": "editor"},
      "webhook-demo":   {"token": "hmac-shared-secret"}
    }

Every ``token`` is accepted by every fake, as a bearer token, a bot token, a WordPress
application password (alone or as ``user:password``) or a webhook signing secret; the secret's
name is the account name the fakes report (Mastodon's ``@mastodon-demo``). Other keys are
ignored by the sandbox.

Besides each fake's ``/<platform>/_fake/...`` admin API (see ``sandbox.base``), the sandbox serves
``GET /healthz``, ``POST /_fake/reset`` (every fake at once, LAPOR! included) and ``GET /media/<name>``: a small
image to publish (``.png`` or ``.jpg``) or a sample video (``.mp4``, 1 MiB, or ``?size=N`` bytes
up to 64 MiB); names starting with ``missing`` answer 404. ``/lapor`` is SP4N-LAPOR!'s
integration API (``sandbox.lapor``), taking any of the tokens.

X, YouTube, TikTok, LinkedIn and Mastodon also play their authorization servers
(sandbox/oauth.py), Facebook, Instagram and Threads Meta's logins (sandbox/meta_login.py):
authorize, token and revoke endpoints with the platforms' lifetimes, which
``WARTA_SANDBOX_TOKEN_TTL_S`` shortens. Every fake mints a working credential of an account on
``POST /<platform>/_fake/mint`` {"account"}, as its developer portal would
(``warta sandbox token``; sandbox/developer_portal.py).

Ids (posts, comments, media, messages) start past ``WARTA_SANDBOX_ID_BASE``, which ``warta dev``
sets from the time it starts the sandbox, so a restarted sandbox never reuses an id; unset, they
start at 1 on every run (sandbox/ids.py).
"""

from __future__ import annotations

import argparse
import base64
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from sandbox import (
    bluesky,
    facebook,
    instagram,
    lapor,
    linkedin,
    mastodon,
    telegram,
    threads,
    tiktok,
    webhook,
    whatsapp,
    wordpress,
    x,
    youtube,
)
from sandbox.base import MAX_BODY_BYTES, FakeState, json_reply
from sandbox.ids import id_base_from_env

# A valid 1x1 PNG; the fakes don't decode images, but a real viewer can open it.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
# The start of an MP4 (an ``ftyp`` box, ISO/IEC 14496-12); the fakes check sizes, not frames.
MP4_HEAD = bytes.fromhex("0000001866747970") + b"isom" + bytes(4) + b"isommp41"
SAMPLE_VIDEO_BYTES = 1024 * 1024
MAX_SAMPLE_VIDEO_BYTES = 64 * 1024 * 1024


def sample_video(size: int) -> bytes:
    """``size`` bytes that start like an MP4, the same for the same size (chunk checks compare)."""
    size = max(len(MP4_HEAD), min(size, MAX_SAMPLE_VIDEO_BYTES))
    pattern = bytes(range(256))
    body = pattern * ((size - len(MP4_HEAD)) // len(pattern) + 1)
    return MP4_HEAD + body[: size - len(MP4_HEAD)]


FAKES: dict[str, tuple[Callable[..., FakeState], Callable[[Any], web.Application]]] = {
    "mastodon": (mastodon.MastodonState, mastodon.create_app),
    "telegram": (telegram.TelegramState, telegram.create_app),
    "facebook": (facebook.FacebookState, facebook.create_app),
    "instagram": (instagram.InstagramState, instagram.create_app),
    "x": (x.XState, x.create_app),
    "wordpress": (wordpress.WordPressState, wordpress.create_app),
    "webhook": (webhook.WebhookState, webhook.create_app),
    "youtube": (youtube.YouTubeState, youtube.create_app),
    "tiktok": (tiktok.TikTokState, tiktok.create_app),
    "linkedin": (linkedin.LinkedInState, linkedin.create_app),
    "whatsapp": (whatsapp.WhatsAppState, whatsapp.create_app),
    "bluesky": (bluesky.BlueskyState, bluesky.create_app),
    "threads": (threads.ThreadsState, threads.create_app),
}
"""Each platform's state class and app factory; each fake's ``create_app`` takes its own state."""

STATES: web.AppKey[dict[str, FakeState]] = web.AppKey("sandbox_states")
LAPOR: web.AppKey[lapor.LaporState] = web.AppKey("sandbox_lapor", lapor.LaporState)


async def _media(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name.startswith("missing"):
        return web.Response(status=404, text="not found")
    if name.endswith(".png"):
        return web.Response(body=PNG, content_type="image/png")
    if name.endswith(".mp4"):
        try:
            size = int(request.query.get("size", SAMPLE_VIDEO_BYTES))
        except ValueError:
            return web.Response(status=400, text="size must be a whole number of bytes")
        return web.Response(body=sample_video(size), content_type="video/mp4")
    return web.Response(body=JPEG, content_type="image/jpeg")


async def _healthz(request: web.Request) -> web.Response:
    states = request.app[STATES]
    return json_reply({"ok": True, "platforms": sorted(states)})


async def _reset_all(request: web.Request) -> web.Response:
    states = request.app[STATES]
    for state in states.values():
        state.reset()
    request.app[LAPOR].reset()  # not a platform, but a fake whose state a test expects fresh
    return json_reply({"reset": sorted([*states, "lapor"])})


def build_sandbox(
    tokens: dict[str, str],
    *,
    public_base: str | None = None,
    token_ttl_s: float | None = None,
    id_base: int = 0,
) -> web.Application:
    """The sandbox app. ``tokens`` maps each secret's name (the account) to its token;
    ``token_ttl_s`` shortens every access token the sandbox's authorization servers issue;
    every fake's ids start past ``id_base`` (sandbox/ids.py; 0: from 1)."""
    by_token = {token: name for name, token in tokens.items()}
    root = web.Application(client_max_size=MAX_BODY_BYTES)  # the root's limit applies to sub-apps
    states: dict[str, FakeState] = {}
    for platform, (make_state, create_app) in FAKES.items():
        state = make_state(
            tokens=dict(by_token),
            prefix=f"/{platform}",
            public_base=public_base,
            token_ttl_s=token_ttl_s,
            id_base=id_base,
        )
        states[platform] = state
        root.add_subapp(state.prefix, create_app(state))
    root[STATES] = states
    # SP4N-LAPOR!'s integration API (not a social platform: no posts, no comments).
    root[LAPOR] = lapor.LaporState(tokens=set(by_token), id_base=id_base)
    root.add_subapp("/lapor", lapor.create_app(root[LAPOR]))
    root.router.add_get("/healthz", _healthz)
    root.router.add_post("/_fake/reset", _reset_all)
    root.router.add_get("/media/{name}", _media)
    return root


def load_tokens(path: Path) -> dict[str, str]:
    raw = orjson.loads(path.read_bytes()) if path.exists() else {}
    if not isinstance(raw, dict):
        raise SystemExit(f"{path}: must hold a JSON object of secrets")
    return {
        name: entry["token"]
        for name, entry in raw.items()
        if isinstance(entry, dict) and isinstance(entry.get("token"), str)
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Warta's platform fakes in one server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--secrets", type=Path, default=Path("var/secrets.json"))
    args = parser.parse_args(argv)
    tokens = load_tokens(args.secrets)
    ttl = os.environ.get("WARTA_SANDBOX_TOKEN_TTL_S")
    id_base = id_base_from_env(datetime.now(UTC))
    # Names only: the tokens themselves are never printed.
    print(f"sandbox: {len(tokens)} accounts ({', '.join(sorted(tokens)) or 'none'})", flush=True)
    print(f"sandbox: ids start after {id_base}", flush=True)
    app = build_sandbox(tokens, token_ttl_s=float(ttl) if ttl else None, id_base=id_base)
    web.run_app(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
