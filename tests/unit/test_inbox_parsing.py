"""The inbox's parsers read each platform's documented answer; bad items are set aside, not fatal.

The bodies are the fakes' own answers (sandbox/), which the platforms' clients
accept (tests/fidelity/test_comment_endpoints.py), plus hostile variants.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.inbox.errors import Unreadable
from services.inbox.parsing import (
    bluesky_thread,
    facebook_comments,
    html_text,
    instagram_comments,
    mastodon_context,
    youtube_threads,
)
from services.inbox.watched import WatchedPost, comment_key

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def post(platform: str, post_id: str = "P1") -> WatchedPost:
    return WatchedPost(f"{platform}-demo", platform, post_id, NOW, content_id="c1", job_id="c1:ch")


def status(sid: str, reply_to: str, html: str, when: str = "2026-12-04T02:00:00.000Z") -> dict[str, Any]:
    return {"id": sid, "in_reply_to_id": reply_to, "content": html, "created_at": when,
            "url": f"https://m/@w/{sid}", "account": {"id": "9", "acct": "warga1"}}  # fmt: skip


def test_mastodon_descendants_become_comments_with_text_and_parent() -> None:
    body = {"ancestors": [], "descendants": [status("11", "P1", "<p>Terima &amp; kasih<br>Pak</p>"),
                                             status("12", "11", "<p>Setuju</p>")]}  # fmt: skip
    parsed = mastodon_context(body, post("mastodon"), NOW)
    assert [c.comment_id for c in parsed.comments] == ["11", "12"]
    first, second = parsed.comments
    assert first.text == "Terima & kasih\nPak"
    assert first.parent_id is None  # a direct answer to the post
    assert second.parent_id == "11"
    assert first.content_id == "c1"
    assert first.via == "poll"
    assert first.event_id == comment_key("mastodon-demo", "11")
    assert parsed.problems == []


def test_a_broken_item_is_a_problem_and_the_rest_are_kept() -> None:
    body = {"descendants": [status("11", "P1", "ok"), {"id": "13"}, "junk",
                            status("14", "P1", "x", when="not a date"),
                            status("15", "P1", "y", when="2026-12-04T02:00:00")]}  # fmt: skip
    parsed = mastodon_context(body, post("mastodon"), NOW)
    assert [c.comment_id for c in parsed.comments] == ["11"]
    assert len(parsed.problems) == 4


@pytest.mark.parametrize("body", [None, [], {"ancestors": []}, {"descendants": "x"}])
def test_an_answer_without_its_envelope_is_unreadable(body: Any) -> None:
    with pytest.raises(Unreadable):
        mastodon_context(body, post("mastodon"), NOW)


def test_bluesky_replies_are_read_depth_first_and_deleted_ones_skipped() -> None:
    def view(uri: str, parent: str, replies: list[Any]) -> dict[str, Any]:
        record = {"text": f"t{uri[-1]}", "createdAt": "2026-12-04T02:00:00.000Z",
                  "reply": {"root": {"uri": "at://P"}, "parent": {"uri": parent}}}  # fmt: skip
        return {"$type": "app.bsky.feed.defs#threadViewPost", "replies": replies,
                "post": {"uri": uri, "author": {"did": "did:plc:w", "handle": "w.bsky.social"},
                         "record": record, "indexedAt": "2026-12-04T02:00:00.000Z"}}  # fmt: skip

    gone = {"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://x", "notFound": True}
    body = {
        "thread": {"post": {}, "replies": [view("at://a1", "at://P", [view("at://a2", "at://a1", [])]), gone]}
    }
    parsed = bluesky_thread(body, post("bluesky", "at://P"), NOW)
    assert [(c.comment_id, c.parent_id) for c in parsed.comments] == [
        ("at://a1", None),
        ("at://a2", "at://a1"),
    ]
    assert parsed.problems == []


def test_youtube_threads_and_their_replies_and_the_next_page() -> None:
    def comment(cid: str, parent: str | None = None) -> dict[str, Any]:
        snippet = {"textOriginal": f"text {cid}", "authorDisplayName": "@w",
                   "authorChannelId": {"value": "UCw"}, "publishedAt": "2026-12-04T02:00:00Z"}  # fmt: skip
        if parent:
            snippet["parentId"] = parent
        return {"kind": "youtube#comment", "id": cid, "snippet": snippet}

    body = {"kind": "youtube#commentThreadListResponse", "nextPageToken": "20",
            "items": [{"id": "T1", "snippet": {"topLevelComment": comment("T1")},
                       "replies": {"comments": [comment("T1.r", "T1")]}}]}  # fmt: skip
    parsed = youtube_threads(body, post("youtube"), NOW)
    assert [(c.comment_id, c.parent_id) for c in parsed.comments] == [("T1", None), ("T1.r", "T1")]
    assert parsed.next_page == "20"
    with pytest.raises(Unreadable):
        youtube_threads({"items": []}, post("youtube"), NOW)


def test_graph_comments_facebook_stream_and_instagram_replies() -> None:
    fb = {"data": [{"id": "1_2", "message": "Mantap", "created_time": "2026-12-04T02:00:00+0000",
                    "from": {"id": "77", "name": "Warga"}},
                   {"id": "1_3", "message": "Ya", "created_time": "2026-12-04T02:01:00+0000",
                    "parent": {"id": "1_2"}}],
          "paging": {"cursors": {"after": "2"}, "next": "https://graph/..."}}  # fmt: skip
    parsed = facebook_comments(fb, post("facebook", "1"), NOW)
    assert [(c.comment_id, c.parent_id, c.author.id) for c in parsed.comments] == [
        ("1_2", None, "77"),
        ("1_3", "1_2", "unknown"),  # "from" is absent without the MODERATE task
    ]
    assert parsed.next_page == "2"
    ig = {"data": [{"id": "9", "text": "Bagus", "timestamp": "2026-12-04T02:00:00+0000", "username": "w",
                    "replies": {"data": [{"id": "10", "text": "Ya", "timestamp": "2026-12-04T02:00:00+0000",
                                          "username": "v", "parent_id": "9"}]}}]}  # fmt: skip
    parsed = instagram_comments(ig, post("instagram", "M"), NOW)
    assert [(c.comment_id, c.parent_id) for c in parsed.comments] == [("9", None), ("10", "9")]
    assert parsed.next_page is None


def test_text_is_bounded_and_html_is_read_as_text() -> None:
    body = {"descendants": [status("11", "P1", "<p>" + "a" * 30_000 + "</p>")]}
    [comment] = mastodon_context(body, post("mastodon"), NOW).comments
    assert len(comment.text) == 20_000
    assert html_text("<p>a<script>x</script></p><p>b</p>") == "ax\n\nb"
