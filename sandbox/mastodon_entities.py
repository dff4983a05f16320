"""The Mastodon fake's JSON entities, shaped as a real instance answers them.

Follows mastodon/documentation ``entities/Instance.md`` (v2), ``entities/V1_Instance.md``,
``entities/Account.md``, ``entities/Status.md``, ``entities/MediaAttachment.md`` and
``entities/Poll.md``: every field those pages mark required is present, so a client that parses
them (Mastodon.py reads ``/api/v1/instance`` and ``/api/v2/instance`` before it uploads media) sees
a plausible server. The limits come from the fake's state, so tests can shrink an instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.mastodon import MastodonState

VERSION = "4.3.0"  # the server version the fake answers as; API version 2 came with 4.3.0
API_VERSION = 2
_EPOCH = "2022-11-01T00:00:00.000Z"


def _statuses(s: MastodonState) -> dict[str, Any]:
    return {
        "max_characters": s.max_characters,
        "max_media_attachments": s.max_media_attachments,
        "characters_reserved_per_url": s.characters_reserved_per_url,
    }


def _media(s: MastodonState) -> dict[str, Any]:
    return {
        "supported_mime_types": list(s.supported_mime_types),
        "description_limit": 1500,
        "image_size_limit": s.image_size_limit,
        "image_matrix_limit": 33_177_600,
        "video_size_limit": s.video_size_limit,
        "video_frame_rate_limit": 120,
        "video_matrix_limit": 8_294_400,
    }


def _polls(s: MastodonState) -> dict[str, Any]:
    return {
        "max_options": s.max_poll_options,
        "max_characters_per_option": s.max_poll_option_chars,
        "min_expiration": s.min_poll_expiration,
        "max_expiration": s.max_poll_expiration,
    }


def _accounts() -> dict[str, Any]:
    return {
        "max_featured_tags": 10,
        "max_pinned_statuses": 5,
        "max_display_name_length": 30,
        "max_note_length": 500,
        "max_avatar_description_length": 1500,
        "max_header_description_length": 1500,
        "max_profile_fields": 4,
        "profile_field_name_limit": 255,
        "profile_field_value_limit": 255,
    }


def instance_v2(s: MastodonState, base: str, domain: str) -> dict[str, Any]:
    """``GET /api/v2/instance`` (methods/instance.md#v2)."""
    streaming = base.replace("http", "ws", 1)
    return {
        "domain": domain,
        "title": "Warta sandbox",
        "version": VERSION,
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "A local Mastodon stand-in for Warta's tests and demo.",
        "usage": {"users": {"active_month": len(set(s.tokens.values()))}},
        "thumbnail": {
            "url": f"{base}/packs/media/images/preview.png",
            "description": "",
            "blurhash": None,
            "versions": {},
        },
        "icon": [{"src": f"{base}/packs/media/icons/android-chrome-36x36.png", "size": "36x36"}],
        "languages": ["id", "en"],
        "configuration": {
            "urls": {"streaming": streaming, "status": None, "about": f"{base}/about"},
            "vapid": {
                "public_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M="
            },
            "accounts": _accounts(),
            "statuses": _statuses(s),
            "media_attachments": _media(s),
            "polls": _polls(s),
            "translation": {"enabled": False},
            "limited_federation": False,
            "timelines_access": {
                "live_feeds": {"local": "public", "remote": "public"},
                "hashtag_feeds": {"local": "public", "remote": "public"},
                "trending_link_feeds": {"local": "public", "remote": "public"},
            },
        },
        "registrations": {"enabled": False, "approval_required": False, "message": None, "url": None},
        "api_versions": {"mastodon": API_VERSION},
        "contact": {"email": f"admin@{domain}", "account": None},
        "rules": [],
    }


def instance_v1(s: MastodonState, base: str, domain: str) -> dict[str, Any]:
    """``GET /api/v1/instance`` (methods/instance.md#v1, deprecated but still served)."""
    return {
        "uri": domain,
        "title": "Warta sandbox",
        "short_description": "A local Mastodon stand-in.",
        "description": "A local Mastodon stand-in for Warta's tests and demo.",
        "email": f"admin@{domain}",
        "version": VERSION,
        "urls": {"streaming_api": base.replace("http", "ws", 1)},
        "stats": {"user_count": len(set(s.tokens.values())), "status_count": len(s.posts), "domain_count": 1},
        "thumbnail": None,
        "languages": ["id", "en"],
        "registrations": False,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": {
            "accounts": _accounts(),
            "statuses": _statuses(s),
            "media_attachments": _media(s),
            "polls": _polls(s),
        },
        "contact_account": None,
        "rules": [],
    }


def account(base: str, account_id: str, username: str) -> dict[str, Any]:
    """entities/Account.md, as the public view of a local account."""
    url = f"{base}/@{username}"
    avatar = f"{base}/avatars/original/missing.png"
    return {
        "id": account_id,
        "username": username,
        "acct": username,
        "display_name": username,
        "locked": False,
        "bot": True,  # posted by software on the bureau's behalf
        "discoverable": True,
        "indexable": True,
        "group": False,
        "hide_collections": False,
        "noindex": False,
        "memorial": False,
        "created_at": _EPOCH,
        "note": "",
        "url": url,
        "uri": f"{base}/users/{username}",
        "avatar": avatar,
        "avatar_static": avatar,
        "avatar_description": "",
        "header": f"{base}/headers/original/missing.png",
        "header_static": f"{base}/headers/original/missing.png",
        "header_description": "",
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": 0,
        "last_status_at": None,
        "show_media": True,
        "show_media_replies": True,
        "show_featured": True,
        "feature_approval": {"automatic": [], "manual": [], "current_user": "missing"},
        "emojis": [],
        "fields": [],
    }


def media_meta(kind: str) -> dict[str, Any]:
    """``meta`` of a MediaAttachment: sizes the server read from the file (fixed in the fake)."""
    if kind in ("image", "gifv"):
        size = {"width": 640, "height": 480, "size": "640x480", "aspect": 640 / 480}
        return {"original": size, "small": size}
    if kind == "video":
        size = {"width": 640, "height": 360, "size": "640x360", "aspect": 640 / 360}
        return {
            "original": {**size, "frame_rate": "30/1", "duration": 5.0, "bitrate": 500_000},
            "small": size,
        }
    if kind == "audio":
        return {"original": {"duration": 5.0, "bitrate": 128_000}, "small": None}
    return {"original": None, "small": None}
