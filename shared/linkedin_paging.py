"""LinkedIn's collection paging (Rest.li ``start``/``count``), read the same way by the inbox's
collector and the publisher's reply look-up (pure).

A collection answers ``paging {start, count, total, links}``; a ``rel: "next"`` link says another
page follows, at ``start + count`` (Microsoft Learn, LinkedIn API "Pagination": "count" at most
the API's maximum, 100 for comments)."""

from __future__ import annotations

from typing import Any

PAGE_SIZE = 100
"""Comments per page: the Comments API's largest ``count``."""


def next_start(body: Any) -> int | None:
    """Where the next page starts, or None when the answer names no next page (or its paging is
    not numbers: a garbled answer ends the paging rather than looping)."""
    paging = body.get("paging") if isinstance(body, dict) else None
    if not isinstance(paging, dict):
        return None
    links = paging.get("links")
    if not isinstance(links, list) or not any(
        isinstance(link, dict) and link.get("rel") == "next" for link in links
    ):
        return None
    try:
        start, count = int(paging.get("start", 0)), int(paging.get("count", 0))
    except (TypeError, ValueError, OverflowError):
        return None
    return start + count if start >= 0 and count > 0 else None
