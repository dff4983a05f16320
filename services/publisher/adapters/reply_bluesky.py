"""A Bluesky reply's refs (pure): the thread's ``root`` and the ``parent`` it answers.

A reply is an ``app.bsky.feed.post`` record whose ``reply`` names both, each a strong ref (uri
and cid; lexicon app.bsky.feed.post#replyRef). Their cids come from ``getPostThread`` of the
root post. The record goes at the job's own record key (``bluesky.rkey_for`` of its marker), so
a re-sent reply lands at the same ``at://`` URI and ``getRecord`` of that key says whether it
exists: the look-up is the post's own.
"""

from __future__ import annotations

from typing import Any


class NoRefs(ValueError):
    """The thread does not hold the post to answer (deleted, or not in this thread)."""


def refs(thread_body: Any, parent_uri: str) -> tuple[dict[str, str], dict[str, str]]:
    """(root, parent) strong refs from a ``getPostThread`` answer of the root post."""
    thread = thread_body.get("thread") if isinstance(thread_body, dict) else None
    if not isinstance(thread, dict) or not isinstance(thread.get("post"), dict):
        raise NoRefs("the answer is not a threadViewPost")
    root = _ref(thread["post"])
    stack = [thread]
    while stack:
        node = stack.pop()
        post = node.get("post")
        if isinstance(post, dict) and post.get("uri") == parent_uri:
            return root, _ref(post)
        stack += [r for r in node.get("replies") or [] if isinstance(r, dict)]
    raise NoRefs(f"{parent_uri} is not in the thread")


def _ref(post: dict[str, Any]) -> dict[str, str]:
    uri, cid = post.get("uri"), post.get("cid")
    if not isinstance(uri, str) or not isinstance(cid, str):
        raise NoRefs("a post without its uri and cid")
    return {"uri": uri, "cid": cid}
