"""Comments on the LinkedIn fake, as the Community Management API's Comments API documents them
("Get Comments on Shares", learn.microsoft.com/linkedin/marketing/community-management/shares/
comments-api)::

    GET /rest/socialActions/{share or ugcPost URN}/comments?start=0&count=10
        → {"paging": {"start", "count", "total", "links"}, "elements": [comment, ...]}

Each comment: ``id``, ``$URN`` and ``commentUrn`` (``urn:li:comment:(<post URN>,<id>)``),
``actor`` (a person or organization URN: the API names no display name), ``object`` (the post),
``message {text, attributes}``, ``created``/``lastModified`` ``{actor, time}`` in epoch
milliseconds, and ``parentComment`` on a reply to a comment. Oldest first; ``count`` is at most 100
(a larger one is a 400, as the API's collection limit). Citizens' comments are the sandbox's
``/_fake/comments`` on a LinkedIn post.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.base import FakeComment, json_reply

if TYPE_CHECKING:
    from sandbox.linkedin import LinkedInState

MAX_COUNT = 100


def comment_urn(post_id: str, comment_id: str) -> str:
    return f"urn:li:comment:({post_id},{comment_id})"


def _person(author: str) -> str:
    return author if author.startswith("urn:li:") else f"urn:li:person:{author}"


def comment_json(comment: FakeComment) -> dict[str, Any]:
    urn = comment_urn(comment.post_id, comment.id)
    stamp = {"actor": _person(comment.author), "time": int(comment.created_at.timestamp() * 1000)}
    body: dict[str, Any] = {
        "id": comment.id,
        "$URN": urn,
        "commentUrn": urn,
        "actor": _person(comment.author),
        "object": comment.post_id,
        "message": {"text": comment.text, "attributes": []},
        "created": stamp,
        "lastModified": stamp,
    }
    if comment.parent_id:
        body["parentComment"] = comment_urn(comment.post_id, comment.parent_id)
    return body


def list_comments(
    state: LinkedInState, request: web.Request, error: Callable[[int, str], web.Response]
) -> web.Response:
    """``error(status, message)`` is the fake's LinkedIn error body (its auth ran before)."""
    post = state.find_post(request.match_info["urn"])
    if post is None:
        return error(404, f"Not Found: {request.match_info['urn']}")
    try:
        start, count = int(request.query.get("start", "0")), int(request.query.get("count", "10"))
    except ValueError:
        return error(400, "start and count are integers")
    if start < 0 or not 1 <= count <= MAX_COUNT:
        return error(400, f"count must be 1-{MAX_COUNT} and start at least 0")
    found = sorted(state.comments_on(post.id), key=lambda c: c.created_at)
    page = found[start : start + count]
    links = []
    if start + count < len(found):
        links.append(
            {"rel": "next", "type": "application/json", "href": f"?start={start + count}&count={count}"}
        )
    paging = {"start": start, "count": count, "total": len(found), "links": links}
    return json_reply({"paging": paging, "elements": [comment_json(c) for c in page]})
