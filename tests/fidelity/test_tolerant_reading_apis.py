"""Tolerant reading, continued: X, Telegram, Mastodon, Bluesky, YouTube, TikTok, WhatsApp, WordPress.

The same property as ``test_tolerant_reading`` (whose one-shot server this reuses, with the mutation
strategy of ``tests.json_mutations``): each reply documented for a call Warta makes is mutated by
hypothesis (unknown fields, missing fields, values of another JSON type, at any depth), success
replies and error replies alike, and the adapter must read it or refuse it with a classified
``AdapterError``. Documents:

- X: docs.x.com/x-api/posts/creation-of-a-post (201 ``{"data":{"id","text"}}``),
  posts/post-lookup-by-post-id (``public_metrics``), users/user-lookup-me, posts/user-posts-timeline,
  media/media-upload, fundamentals/response-codes-and-errors (``{"title","detail","type","status"}``
  and ``{"errors":[{"message","code"}]}``).
- Telegram: core.telegram.org/bots/api#making-requests (``{"ok","result"}`` /
  ``{"ok":false,"error_code","description","parameters":{"retry_after"}}``), #message.
- Mastodon: docs.joinmastodon.org/methods/statuses (Status), methods/instance/#v2,
  entities/Error (``{"error"}``).
- Bluesky: docs.bsky.app com.atproto.server.createSession, com.atproto.repo.createRecord,
  com.atproto.repo.getRecord, app.bsky.feed.getPosts, XRPC errors ``{"error","message"}``.
- YouTube: developers.google.com/youtube/v3/docs/videos/list, channels/list, playlistItems/list,
  and the Google JSON error envelope (docs/errors).
- TikTok: developers.tiktok.com/doc/tiktok-api-v2-video-query, content-posting-api-reference-get-
  video-status, and the ``{"data","error":{"code","message","log_id"}}`` envelope.
- WordPress: developer.wordpress.org/rest-api/reference/posts and the REST error shape.
- WhatsApp: developers.facebook.com/docs/whatsapp/cloud-api/reference/messages (the send reply)
  and cloud-api/support/error-codes (the Graph error envelope).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services.publisher.adapters.bluesky import BlueskyAdapter
from services.publisher.adapters.mastodon import MastodonAdapter
from services.publisher.adapters.port import Credentials, Target
from services.publisher.adapters.telegram import TelegramAdapter
from services.publisher.adapters.threads import ThreadsAdapter
from services.publisher.adapters.tiktok import TikTokAdapter
from services.publisher.adapters.whatsapp import WhatsAppAdapter
from services.publisher.adapters.wordpress import WordPressAdapter
from services.publisher.adapters.x import XAdapter
from services.publisher.adapters.youtube import YouTubeAdapter
from tests.fidelity.test_tolerant_reading import SETTINGS, request, run, target
from tests.json_mutations import mutated

# Each ``@example`` pins a reply the property once found to crash an adapter, so every run tries it.
pytestmark = pytest.mark.fidelity

ERROR_STATUSES = st.sampled_from([400, 401, 403, 404, 409, 422, 429, 500, 503])

# ---- X -------------------------------------------------------------------------------------
X_CREATED = {"data": {"id": "1445880548472328192", "text": "Hello", "edit_history_tweet_ids": ["1"]}}
X_POST = {
    "data": {
        "id": "1",
        "text": "Hello",
        "edit_history_tweet_ids": ["1"],
        "public_metrics": {
            "retweet_count": 1,
            "reply_count": 2,
            "like_count": 3,
            "quote_count": 4,
            "bookmark_count": 0,
            "impression_count": 90,
        },
    }
}
X_ME = {"data": {"id": "2244994945", "name": "Warta", "username": "warta"}}
X_TIMELINE = {
    "data": [
        {
            "id": "1",
            "text": "Hello https://t.co/x",
            "created_at": "2026-01-01T10:00:00.000Z",
            "edit_history_tweet_ids": ["1"],
            "entities": {
                "urls": [
                    {"start": 6, "end": 20, "url": "https://t.co/x", "expanded_url": "https://example.go.id"}
                ]
            },
        }
    ],
    "meta": {"result_count": 1, "newest_id": "1", "oldest_id": "1"},
}
X_PROBLEM = {
    "title": "Forbidden",
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "status": 403,
    "errors": [{"message": "duplicate", "code": 187}],
}


@SETTINGS
@example({"data": True})
@given(mutated(X_CREATED))
def test_x_publish_reads_any_created_reply(body: Any) -> None:
    run({"/2/tweets": (201, body, {})}, lambda s, base: XAdapter(s).publish(target(base), request()))


@SETTINGS
@example({"errors": [True]}, 403)
@given(mutated(X_PROBLEM), ERROR_STATUSES)
def test_x_classifies_any_error(body: Any, status: int) -> None:
    headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1767261600"}
    run({"/2/tweets": (status, body, headers)}, lambda s, base: XAdapter(s).publish(target(base), request()))


@SETTINGS
@example({"data": {"id": "1", "public_metrics": {"like_count": ":", "retweet_count": [1]}}})
@given(mutated(X_POST))
def test_x_engagement_reads_any_post(body: Any) -> None:
    run({"/2/tweets/1": body}, lambda s, base: XAdapter(s).engagement(target(base), "1"))


@SETTINGS
@example(X_ME, {"data": [{"id": "1", "text": "Hello", "entities": [], "created_at": 7}]})
@given(mutated(X_ME), mutated(X_TIMELINE))
def test_x_lookup_reads_any_timeline(me: Any, timeline: Any) -> None:
    run(
        {"/2/users/me": me, "/tweets": timeline},
        lambda s, base: XAdapter(s).find_by_marker(target(base), request()),
    )


# ---- Telegram --------------------------------------------------------------------------------
TG_MESSAGE = {
    "ok": True,
    "result": {
        "message_id": 42,
        "sender_chat": {"id": -1001234567890, "title": "Warta", "username": "warta_demo", "type": "channel"},
        "chat": {"id": -1001234567890, "title": "Warta", "username": "warta_demo", "type": "channel"},
        "date": 1767261600,
        "text": "Hello",
    },
}
TG_ERROR = {
    "ok": False,
    "error_code": 429,
    "description": "Too Many Requests: retry after 5",
    "parameters": {"retry_after": 5, "migrate_to_chat_id": -1001},
}


@SETTINGS
@example({"ok": True, "result": True})
@example({"ok": True, "result": {"message_id": 1, "chat": True}})
@given(mutated(TG_MESSAGE))
def test_telegram_publish_reads_any_message(body: Any) -> None:
    run(
        {"/sendMessage": body},
        lambda s, base: TelegramAdapter(s).publish(target(base, chat_id="@warta_demo"), request()),
    )


@SETTINGS
@given(mutated(TG_ERROR), ERROR_STATUSES)
def test_telegram_classifies_any_error(body: Any, status: int) -> None:
    run(
        {"/sendMessage": (status, body, {})},
        lambda s, base: TelegramAdapter(s).publish(target(base, chat_id="-1001234567890"), request()),
    )


# ---- Mastodon --------------------------------------------------------------------------------
MASTODON_INSTANCE = {
    "domain": "mastodon.example.go.id",
    "version": "4.3.0",
    "configuration": {
        "urls": {"streaming": "wss://mastodon.example.go.id"},
        "statuses": {"max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23},
        "media_attachments": {
            "supported_mime_types": ["image/jpeg", "image/png", "video/mp4"],
            "image_size_limit": 16777216,
            "video_size_limit": 103809024,
        },
        "polls": {
            "max_options": 4,
            "max_characters_per_option": 50,
            "min_expiration": 300,
            "max_expiration": 2629746,
        },
    },
}
MASTODON_STATUS = {
    "id": "103270115826048975",
    "created_at": "2026-01-01T10:00:00.000Z",
    "url": "https://mastodon.example.go.id/@warta/103270115826048975",
    "uri": "https://mastodon.example.go.id/users/warta/statuses/103270115826048975",
    "content": "<p>Hello</p>",
    "visibility": "public",
    "replies_count": 1,
    "reblogs_count": 2,
    "favourites_count": 3,
    "account": {"id": "1", "username": "warta", "acct": "warta"},
    "media_attachments": [],
}
MASTODON_ERROR = {"error": "Validation failed: Text character limit of 500 exceeded"}


@SETTINGS
@given(mutated(MASTODON_INSTANCE), mutated(MASTODON_STATUS))
def test_mastodon_publish_reads_any_instance_and_status(instance: Any, status: Any) -> None:
    run(
        {"/api/v2/instance": instance, "/api/v1/statuses": status},
        lambda s, base: MastodonAdapter(s).publish(target(base), request()),
    )


@SETTINGS
@given(mutated(MASTODON_ERROR), ERROR_STATUSES)
def test_mastodon_classifies_any_error(body: Any, status: int) -> None:
    headers = {"X-RateLimit-Reset": "2026-01-01T10:05:00.000Z"}
    run(
        {"/api/v2/instance": MASTODON_INSTANCE, "/api/v1/statuses": (status, body, headers)},
        lambda s, base: MastodonAdapter(s).publish(target(base), request()),
    )


@SETTINGS
@example({"favourites_count": ":", "replies_count": [1]})
@given(mutated(MASTODON_STATUS))
def test_mastodon_engagement_reads_any_status(body: Any) -> None:
    run({"/api/v1/statuses/1": body}, lambda s, base: MastodonAdapter(s).engagement(target(base), "1"))


# ---- Bluesky ---------------------------------------------------------------------------------
BSKY_URI = "at://did:plc:abc123/app.bsky.feed.post/3l4abcdefgh22"
BSKY_SESSION = {
    "did": "did:plc:abc123",
    "handle": "warta.example.go.id",
    "accessJwt": "eyJ.a.b",
    "refreshJwt": "eyJ.c.d",
    "active": True,
}
BSKY_CREATED = {
    "uri": "at://did:plc:abc123/app.bsky.feed.post/3l4abcdefgh22",
    "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
    "commit": {"cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm", "rev": "3l4"},
    "validationStatus": "valid",
}
BSKY_RECORD = {
    "uri": "at://did:plc:abc123/app.bsky.feed.post/3l4abcdefgh22",
    "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
    "value": {"$type": "app.bsky.feed.post", "text": "Hello", "createdAt": "2026-01-01T10:00:00.000Z"},
}
BSKY_POSTS = {
    "posts": [
        {
            "uri": "at://did:plc:abc123/app.bsky.feed.post/3l4abcdefgh22",
            "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
            "author": {"did": "did:plc:abc123", "handle": "warta.example.go.id"},
            "record": {"$type": "app.bsky.feed.post", "text": "Hello", "createdAt": "2026-01-01T10:00:00Z"},
            "replyCount": 1,
            "repostCount": 2,
            "likeCount": 3,
            "quoteCount": 4,
            "indexedAt": "2026-01-01T10:00:01.000Z",
        }
    ]
}
BSKY_ERROR = {"error": "RecordNotFound", "message": "Could not locate record"}


@SETTINGS
@example({**BSKY_SESSION, "accessJwt": "eyJ.a\n.b"}, BSKY_CREATED)  # a token no header can carry
@given(mutated(BSKY_SESSION), mutated(BSKY_CREATED))
def test_bluesky_publish_reads_any_session_and_created_record(session: Any, created: Any) -> None:
    run(
        {"createSession": session, "createRecord": created},
        lambda s, base: BlueskyAdapter(s).publish(target(base, did="did:plc:abc123"), request()),
    )


@SETTINGS
@given(mutated(BSKY_ERROR), ERROR_STATUSES, mutated(BSKY_RECORD))
def test_bluesky_classifies_any_error_then_reads_any_record(error: Any, status: int, record: Any) -> None:
    run(
        {
            "createSession": BSKY_SESSION,
            "createRecord": (status, error, {"RateLimit-Reset": "1767261600"}),
            "getRecord": record,
        },
        lambda s, base: BlueskyAdapter(s).publish(target(base), request()),
    )


@SETTINGS
@example({"posts": [{"likeCount": [1], "quoteCount": ":"}]})
@given(mutated(BSKY_POSTS))
def test_bluesky_engagement_reads_any_posts(body: Any) -> None:
    run(
        {"createSession": BSKY_SESSION, "getPosts": body},
        lambda s, base: BlueskyAdapter(s).engagement(target(base), BSKY_URI),
    )


# ---- YouTube ---------------------------------------------------------------------------------
YT_VIDEOS = {
    "kind": "youtube#videoListResponse",
    "etag": "e",
    "items": [
        {
            "kind": "youtube#video",
            "etag": "e",
            "id": "dQw4w9WgXcQ",
            "statistics": {"viewCount": "120", "likeCount": "9", "favoriteCount": "0", "commentCount": "2"},
        }
    ],
    "pageInfo": {"totalResults": 1, "resultsPerPage": 1},
}
YT_CHANNELS = {
    "kind": "youtube#channelListResponse",
    "items": [
        {"kind": "youtube#channel", "id": "UC1", "contentDetails": {"relatedPlaylists": {"uploads": "UU1"}}}
    ],
}
YT_PLAYLIST = {
    "kind": "youtube#playlistItemListResponse",
    "items": [
        {
            "kind": "youtube#playlistItem",
            "id": "p1",
            "snippet": {
                "publishedAt": "2026-01-01T10:00:00Z",
                "title": "Hello",
                "description": "Hello",
                "resourceId": {"kind": "youtube#video", "videoId": "dQw4w9WgXcQ"},
            },
        }
    ],
    "pageInfo": {"totalResults": 1, "resultsPerPage": 50},
}
YT_ERROR = {
    "error": {
        "code": 403,
        "message": "The request cannot be completed because you have exceeded your quota.",
        "errors": [{"message": "quota", "domain": "youtube.quota", "reason": "quotaExceeded"}],
    }
}


@SETTINGS
@example({"items": [{"statistics": {"likeCount": [1], "viewCount": ":"}}]})
@given(mutated(YT_VIDEOS))
def test_youtube_engagement_reads_any_video_list(body: Any) -> None:
    run({"/videos": body}, lambda s, base: YouTubeAdapter(s).engagement(target(base), "dQw4w9WgXcQ"))


@SETTINGS
@example(YT_CHANNELS, {**YT_PLAYLIST, "items": True})
@given(mutated(YT_CHANNELS), mutated(YT_PLAYLIST))
def test_youtube_lookup_reads_any_uploads_listing(channels: Any, playlist: Any) -> None:
    with tempfile.TemporaryDirectory() as state:
        run(
            {"/channels": channels, "/playlistItems": playlist},
            lambda s, base: YouTubeAdapter(s, state_dir=Path(state)).find_by_marker(target(base), request()),
        )


@SETTINGS
@given(mutated(YT_ERROR), ERROR_STATUSES)
def test_youtube_classifies_any_error(body: Any, status: int) -> None:
    run(
        {"/videos": (status, body, {"Retry-After": "30"})},
        lambda s, base: YouTubeAdapter(s).engagement(target(base), "dQw4w9WgXcQ"),
    )


# ---- TikTok ----------------------------------------------------------------------------------
TT_OK = {"code": "ok", "message": "", "log_id": "202601011000000000000000000000"}
TT_QUERY = {
    "data": {
        "videos": [{"id": "7", "like_count": 3, "comment_count": 2, "share_count": 1, "view_count": 90}],
        "cursor": 0,
        "has_more": False,
    },
    "error": TT_OK,
}
TT_STATUS = {
    "data": {
        "status": "PUBLISH_COMPLETE",
        "uploaded_bytes": 50000123,
        "publicaly_available_post_id": [7321],
        "fail_reason": "",
    },
    "error": TT_OK,
}
TT_ERROR = {
    "data": {},
    "error": {"code": "rate_limit_exceeded", "message": "Too many requests", "log_id": "2026"},
}


@SETTINGS
@example({"data": {"videos": [{"like_count": ":", "view_count": [1]}]}, "error": TT_OK})
@given(mutated(TT_QUERY))
def test_tiktok_engagement_reads_any_video_query(body: Any) -> None:
    run({"/video/query/": body}, lambda s, base: TikTokAdapter(s).engagement(target(base), "7"))


@SETTINGS
@given(mutated(TT_STATUS))
def test_tiktok_lookup_reads_any_post_status(body: Any) -> None:
    with tempfile.TemporaryDirectory() as state:
        adapter_state = Path(state)

        async def lookup(s: Any, base: str) -> object:
            adapter = TikTokAdapter(s, state_dir=adapter_state)
            entry = {
                "publish_id": "v_pub_file~v2-1.7",
                "upload_url": f"{base}/upload",
                "total": 50000123,
                "chunk": 10000000,
                "count": 5,
                "type": "video/mp4",
            }
            adapter._log.put("c:1", entry)
            return await adapter.find_by_marker(target(base, username="warta"), request())

        run({"/status/fetch/": body}, lookup)


@SETTINGS
@given(mutated(TT_ERROR), ERROR_STATUSES)
def test_tiktok_classifies_any_error(body: Any, status: int) -> None:
    run(
        {"/video/query/": (status, body, {"Retry-After": "60"})},
        lambda s, base: TikTokAdapter(s).engagement(target(base), "7"),
    )


# ---- WhatsApp --------------------------------------------------------------------------------
WA_SENT = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "+6281234567890", "wa_id": "6281234567890"}],
    "messages": [
        {"id": "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA", "message_status": "accepted"}
    ],
}
WA_ERROR = {
    "error": {
        "message": "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        "type": "OAuthException",
        "code": 131056,
        "error_data": {"messaging_product": "whatsapp", "details": "Message failed to send"},
        "fbtrace_id": "AbC",
    }
}


def _whatsapp(state: str) -> Any:
    options = {"subscribers": "+6281234567890", "template": "warta_update", "phone_number_id": "1055"}
    return lambda s, base: WhatsAppAdapter(s, state_dir=Path(state)).publish(
        target(base, **options), request()
    )


@SETTINGS
@given(mutated(WA_SENT))
def test_whatsapp_publish_reads_any_send_reply(body: Any) -> None:
    with tempfile.TemporaryDirectory() as state:
        run({"/messages": body}, _whatsapp(state))


@SETTINGS
@example({"error": {"code": [1], "message": "x"}}, 400)
@given(mutated(WA_ERROR), ERROR_STATUSES)
def test_whatsapp_classifies_any_error(body: Any, status: int) -> None:
    with tempfile.TemporaryDirectory() as state:
        run({"/messages": (status, body, {})}, _whatsapp(state))


# ---- WordPress -------------------------------------------------------------------------------
# developer.wordpress.org/rest-api/reference/posts (Create a Post: 201 with the post; List Posts
# with context=edit: content.raw) and the REST API's error shape {"code","message","data":{"status"}}.
WP_POST = {
    "id": 42,
    "date_gmt": "2026-01-01T10:00:00",
    "link": "https://warta.example.go.id/2026/01/01/hello/",
    "status": "publish",
    "title": {"raw": "Hello", "rendered": "Hello"},
    "content": {
        "raw": "<p>Hello</p>\n<!-- warta:wmarker0001 -->",
        "rendered": "<p>Hello</p>",
        "protected": False,
    },
}
WP_ERROR = {"code": "rest_cannot_create", "message": "Sorry, you are not allowed", "data": {"status": 401}}


def _wp_target(base: str) -> Target:
    return Target(
        channel="c",
        account="editor",
        base_url=base,
        credentials=Credentials(token="editor:abcd efgh"),
        options={},
    )


@SETTINGS
@example({"id": {"raw": 42}, "link": [1]})
@given(mutated(WP_POST))
def test_wordpress_publish_reads_any_created_post(body: Any) -> None:
    run(
        {"/wp/v2/posts": (201, body, {})},
        lambda s, base: WordPressAdapter(s).publish(_wp_target(base), request()),
    )


@SETTINGS
@example([True, {"id": 1, "content": "<!-- warta:wmarker0001 -->"}])
@given(st.lists(mutated(WP_POST), max_size=2))
def test_wordpress_lookup_reads_any_listing(posts: Any) -> None:
    run(
        {"/wp/v2/posts": posts},
        lambda s, base: WordPressAdapter(s).find_by_marker(_wp_target(base), request()),
    )


@SETTINGS
@given(mutated(WP_ERROR), ERROR_STATUSES)
def test_wordpress_classifies_any_error(body: Any, status: int) -> None:
    run(
        {"/wp/v2/posts": (status, body, {"Retry-After": "30"})},
        lambda s, base: WordPressAdapter(s).publish(_wp_target(base), request()),
    )


# ---- Threads: the publishing flow --------------------------------------------------------------
# developers.facebook.com/docs/threads: posts (container → {"id"}), troubleshooting/publishing-status
# ({"status","id","error_message"}), threads_publish → {"id"}, troubleshooting/rate-limiting
# (threads_publishing_limit), retrieve-posts (the user's threads with paging).
THREADS_QUOTA_USED = {"data": [{"quota_usage": 250, "config": {"quota_total": 250, "quota_duration": 86400}}]}
THREADS_QUOTA_FREE = {"data": [{"quota_usage": 3, "config": {"quota_total": 250, "quota_duration": 86400}}]}
THREADS_NODE = {
    "id": "18001",
    "status": "FINISHED",
    "permalink": "https://www.threads.net/@warta/post/ABC",
    "timestamp": "2026-01-01T10:00:00+0000",
}
THREADS_LISTING = {
    "data": [
        {
            "id": "18001",
            "text": "Hello",
            "permalink": "https://www.threads.net/@warta/post/ABC",
            "timestamp": "2026-01-01T10:00:00+0000",
            "link_attachment_url": "https://example.go.id",
        }
    ],
    "paging": {"cursors": {"before": "a", "after": "b"}},
}


def _threads(s: Any, base: str) -> Any:
    adapter = ThreadsAdapter(s, poll_interval=0.001, poll_limit=0.002)
    return adapter.publish(target(base, threads_user_id="7001"), request())


def _quota_lasting(duration: object) -> dict[str, Any]:
    return {"data": [{"quota_usage": 250, "config": {"quota_total": 250, "quota_duration": duration}}]}


@SETTINGS
@example(_quota_lasting([1]), THREADS_LISTING)
@example(_quota_lasting(":"), THREADS_LISTING)
@example(_quota_lasting(2**40), THREADS_LISTING)
@given(mutated(THREADS_QUOTA_USED), mutated(THREADS_LISTING))
def test_threads_reads_any_used_up_quota_and_listing(quota: Any, listing: Any) -> None:
    run({"/threads_publishing_limit": quota, "/threads": listing}, _threads)


@SETTINGS
@given(mutated({"id": "18000"}), mutated(THREADS_NODE), mutated({"id": "18001"}))
def test_threads_publish_reads_any_container_flow(created: Any, node: Any, published: Any) -> None:
    run(
        {
            "/threads_publishing_limit": THREADS_QUOTA_FREE,
            "/threads_publish": published,
            "/threads": created,
            "": node,  # the container's status, then the post's permalink
        },
        _threads,
    )
