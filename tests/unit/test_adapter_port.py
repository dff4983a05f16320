"""The adapter port's defaults, as every adapter the publisher can build has them."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from services.publisher.adapters.registry import PLATFORM_ADAPTERS, build_adapter


async def test_only_resumable_video_uploads_get_the_upload_budget(tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as session:
        adapters = [build_adapter(p, session, state_dir=tmp_path) for p in PLATFORM_ADAPTERS]
    assert {a.platform for a in adapters if a.long_uploads} == {"youtube", "tiktok", "whatsapp"}
