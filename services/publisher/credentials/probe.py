"""Which account a token reaches: each platform's own "who am I" call.

- X: ``GET /2/users/me`` → ``data.username``
- YouTube: ``GET /youtube/v3/channels?part=id&mine=true`` → ``items[0].id``
- TikTok: ``GET /v2/user/info/?fields=open_id,display_name`` → ``data.user.display_name``
- Mastodon: ``GET /api/v1/accounts/verify_credentials`` on the instance → ``acct``
- Threads: ``GET /v1.0/me?fields=id,username`` on graph.threads.net → ``username``
"""

from __future__ import annotations

from typing import Any

import aiohttp

from shared.api_base import api_base

PATHS = {
    "x": "/2/users/me",
    "youtube": "/youtube/v3/channels?part=id&mine=true",
    "tiktok": "/v2/user/info/?fields=open_id,display_name",
    "mastodon": "/api/v1/accounts/verify_credentials",
    "threads": "/v1.0/me?fields=id,username",
}


class ProbeFailed(Exception):
    """The platform refused the token or did not answer; the message says which, never the token."""


def _name(platform: str, body: Any) -> str | None:
    try:
        if platform == "x":
            return str(body["data"]["username"])
        if platform == "youtube":
            return str(body["items"][0]["id"])
        if platform == "mastodon":
            return str(body["acct"])
        if platform == "threads":
            return str(body["username"])
        return str(body["data"]["user"]["display_name"])
    except (KeyError, IndexError, TypeError):
        return None


def probes(platform: str) -> bool:
    return platform in PATHS


async def whoami(session: aiohttp.ClientSession, platform: str, base_url: str | None, token: str) -> str:
    url = api_base(platform, base_url) + PATHS[platform]
    try:
        async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            status = response.status
            body = await response.json(content_type=None) if status < 500 else None
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise ProbeFailed(f"{platform} did not answer: {type(exc).__name__}") from None
    if status >= 400:
        raise ProbeFailed(f"{platform} refused the credential (HTTP {status})")
    name = _name(platform, body)
    if name is None:
        raise ProbeFailed(f"{platform} answered without naming the account")
    return name
