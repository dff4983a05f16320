"""Small helpers for driving the running system over HTTP in end-to-end tests."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp


def unique_text(prefix: str) -> str:
    return f"{prefix} #{uuid.uuid4().hex[:8]}"


def item(
    text: str,
    channels: list[str],
    *,
    priority: str = "urgent",
    not_before: datetime | None = None,
    topic_key: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "author": "rina",
        "approval": {"approved_by": "yuyun", "approved_at": datetime.now(UTC).isoformat()},
        "priority": priority,
        "content": {"text": text},
        "targets": [{"channel": c} for c in channels],
        **extra,
    }
    if not_before is not None:
        body["not_before"] = not_before.isoformat()
    if topic_key is not None:
        body["topic_key"] = topic_key
    return body


def in_seconds(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str, key: str) -> None:
        self.session = session
        self.base = base
        self.key = key

    def _headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    async def post(self, path: str, body: Any, key: str | None = None, **headers: str) -> tuple[int, Any]:
        async with self.session.post(
            f"{self.base}{path}", json=body, headers={**self._headers(key), **headers}
        ) as resp:
            return resp.status, await resp.json(content_type=None)

    async def get(self, path: str, key: str | None = None) -> tuple[int, Any]:
        async with self.session.get(f"{self.base}{path}", headers=self._headers(key)) as resp:
            return resp.status, await resp.json(content_type=None)

    async def submit(self, body: dict[str, Any]) -> str:
        status, answer = await self.post("/v1/content", body)
        assert status == 202, answer
        return str(answer["content_id"])

    async def channel(self, content_id: str, channel: str) -> dict[str, Any]:
        status, answer = await self.get(f"/v1/content/{content_id}")
        assert status == 200, answer
        return dict(next(c for c in answer["channels"] if c["channel"] == channel))

    async def wait_state(
        self, content_id: str, channel: str, *states: str, timeout: float = 30
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: dict[str, Any] = {}
        while loop.time() < deadline:
            last = await self.channel(content_id, channel)
            if last["state"] in states:
                return last
            await asyncio.sleep(0.2)
        raise AssertionError(f"{channel} of {content_id} never reached {states}: {last}")


class Sandbox:
    def __init__(self, session: aiohttp.ClientSession, base: str, platform: str) -> None:
        self.session = session
        self.base = f"{base}/{platform}/_fake"

    async def fault(self, **fault: Any) -> None:
        async with self.session.post(f"{self.base}/faults", json=fault) as resp:
            assert resp.status < 300, await resp.text()

    async def clear_faults(self) -> None:
        async with self.session.delete(f"{self.base}/faults") as resp:
            assert resp.status < 300

    async def posts_containing(self, text: str) -> list[dict[str, Any]]:
        async with self.session.get(f"{self.base}/posts") as resp:
            posts = await resp.json()
        return [p for p in posts if text in str(p)]
