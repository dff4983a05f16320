"""The week's poll results for the report (pure): each post with a poll published in the week,
its question, its options' votes and their shares, and whether the tally is final.

A poll is one post's (one channel's): the same question asked on Mastodon and X has two tallies,
shown side by side, not added up (the audiences differ, and a person may vote on both).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

POLL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["content_id", "channel", "published_at", "question", "closed", "votes", "voters", "options"],
    "additionalProperties": False,
    "properties": {
        "content_id": {"type": "string"},
        "channel": {"type": "string"},
        "published_at": {"type": "string"},
        "question": {"type": ["string", "null"]},
        "closed": {"type": "boolean"},  # false: voting was still open at the last reading
        "votes": {"type": "integer", "minimum": 0},
        "voters": {"type": ["integer", "null"], "minimum": 0},
        "options": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["label", "votes", "share"],
                "additionalProperties": False,
                "properties": {
                    "label": {"type": "string"},
                    "votes": {"type": "integer", "minimum": 0},
                    # votes / all the poll's votes, 0..1; null when nobody voted
                    "share": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                },
            },
        },
    },
}


def week_polls(entries: Iterable[tuple[str, Any]], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The tallies (``poll|`` entries) of posts published in [start, end), newest post first."""
    out = []
    for key, entry in entries:
        if not key.startswith("poll|"):
            continue
        poll = entry["s"]
        if not start <= datetime.fromisoformat(poll["published_at"]) < end:
            continue
        total = sum(o["votes"] for o in poll["options"])
        out.append(
            {
                "content_id": poll["content_id"],
                "channel": poll["channel"],
                "published_at": poll["published_at"],
                "question": poll["question"],
                "closed": poll["closed"],
                "votes": total,
                "voters": poll["voters"],
                "options": [
                    {
                        "label": o["label"],
                        "votes": o["votes"],
                        "share": round(o["votes"] / total, 4) if total else None,
                    }
                    for o in poll["options"]
                ],
            }
        )
    out.sort(key=lambda p: (p["published_at"], p["content_id"], p["channel"]), reverse=True)
    return out
