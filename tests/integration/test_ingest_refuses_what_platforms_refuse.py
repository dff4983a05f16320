"""Items a platform would refuse after ingest accepted them are refused at the door instead, by
the real ingest over the real broker: once accepted, an approved item refused downstream is lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.topics import TopicRegistry
from tests.integration.ingest_app import Answer, Ingest, content_body, running_ingest

pytestmark = pytest.mark.integration

JPEG = {"url": "https://example.go.id/a.jpg", "type": "image/jpeg"}


def _found(answer: Answer) -> set[tuple[str | None, str | None, str]]:
    return {(e["channel"], e["field"], e["rule"]) for e in answer.body["errors"]}


async def _post(app: Ingest, body: dict[str, Any]) -> Answer:
    return await app.call("POST", "/v1/content", body)


async def test_what_a_platform_would_refuse_is_refused_at_the_door(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    async with running_ingest(kafka_bootstrap, topics, tmp_path) as app:
        # Mastodon strips a status and finds it blank; Telegram finds the message text empty.
        blank = await _post(app, content_body(("mastodon-demo", "telegram-demo"), text=" \n\t\u200b "))
        assert (blank.status, _found(blank)) == (422, {(None, "content.text", "text_or_media_required")})

        # Four eyes: YUYUN is yuyun, whose key sends it.
        approver = app.people["approver"]
        own = await _post(app, content_body(author=approver.upper(), approved_by=approver))
        assert own.status == 403
        assert {e["rule"] for e in own.body["errors"]} == {"four_eyes"}

        # platforms.md §2: at most 30 hashtags and 20 @mentions in an Instagram caption.
        text = " ".join(f"#tag{i}" for i in range(31)) + " " + " ".join(f"@akun{i}" for i in range(21))
        body = content_body(("instagram-demo",), text=text)
        body["content"]["media"] = [JPEG]
        tags = await _post(app, body)
        assert (tags.status, _found(tags)) == (
            422,
            {
                ("instagram-demo", "content.text", "hashtag_count"),
                ("instagram-demo", "content.text", "mention_count"),
            },
        )

        # A string of digits is no ISO 8601 date-time (pydantic alone reads it as Unix time).
        digits = await _post(app, content_body(deadline="1800000000"))
        assert (digits.status, _found(digits)) == (422, {(None, "deadline", "type")})

        for link in ("https://", "https:// bukan url", "http://?x"):
            body = content_body(("facebook-demo", "linkedin-demo", "bluesky-demo"))
            body["content"]["link"] = link
            no_url = await _post(app, body)
            assert (no_url.status, _found(no_url)) == (422, {(None, "content.link", "url")}), link

        # Each refusal above is the one rule: the same item, made right, is accepted.
        fine = content_body(("mastodon-demo", "telegram-demo"))
        fine["content"]["link"] = "https://example.go.id/berita/123"
        assert (await _post(app, fine)).status == 202
