"""Reconciling by reading the account's recent posts: when a listing proves a post absent.

Platforms without an idempotency key (X, Facebook, Instagram, Threads, LinkedIn, YouTube's
uploads playlist) can only be asked "what are your latest posts?". A listing proves that an
earlier attempt left *no* post only when all of these hold; otherwise the answer is ``Unknown``:

1. we know when the job was first attempted (else no listing can be bounded);
2. the listing reaches back past that moment: the page was not full, or its oldest entry by
   the listing's own order is older than the attempt (minus clock skew). A full page of newer
   posts says nothing about the attempt;
3. the earlier attempt is over and the platform has had ``settle`` to list what it made:
   listings lag creation (eventual consistency), and an upload of another worker may still be
   running. Asked too early, the answer is ``Unknown`` with ``ask_again_at``;
4. every post made since the attempt can be told apart from ours. A post with the same text is
   ours; a post with text is not ours when ours has none; but a media-only or link-only post
   of ours has no text to compare, and a post without text in the window *may* be ours unless
   the platform shows its link (``their_links``).

Pure: the adapters read the listing and hand it here, with ``now``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from services.publisher.adapters import port

# Clock skew allowed between us and the platform when bounding a lookup by the first attempt.
LOOKUP_SKEW = timedelta(minutes=10)
# How long a platform may take to list a post it created. No platform documents a bound; the
# listings we read show new posts within seconds, so 15 s is our margin, not their promise.
LISTING_SETTLE = timedelta(seconds=15)

_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")


class Verdict(Enum):
    OURS = "ours"
    NOT_OURS = "not_ours"
    MAYBE = "maybe"  # nothing to tell it apart from ours


@dataclass(frozen=True)
class Listed:
    """One post of a listing, newest first, judged against ours."""

    created_at: datetime | None
    verdict: Verdict
    found: port.Published | None = None  # the post as the port reports it; None when listed without an id
    # The listing's sort key when it is not the creation time (LinkedIn sorts by last change).
    sorted_at: datetime | None = None


def words(text: str) -> str:
    """Text as compared across platforms: URLs dropped (X rewrites them to t.co), spaces folded."""
    return _SPACE.sub(" ", _URL.sub("", text)).strip()


def verdict(
    ours: str,
    theirs: str,
    *,
    our_link: str | None = None,
    their_links: Collection[str] | None = None,
) -> Verdict:
    """Whether a listed post is the one we sent, as far as its text and links can tell."""
    if words(ours):
        return Verdict.OURS if words(ours) == words(theirs) else Verdict.NOT_OURS
    if words(theirs):
        return Verdict.NOT_OURS  # ours carries no words (media-only or link-only); theirs does
    if our_link and their_links is not None:
        # The links the platform reports, and any left in the text (a link in a photo caption).
        links = {u.rstrip("/") for u in [*their_links, *_URL.findall(theirs)]}
        return Verdict.OURS if our_link.rstrip("/") in links else Verdict.NOT_OURS
    return Verdict.MAYBE


def not_before(first_attempt_at: datetime | None) -> datetime | None:
    """The earliest creation time a post of this job can have, allowing for skew."""
    return first_attempt_at - LOOKUP_SKEW if first_attempt_at is not None else None


def judge_listing(
    platform: str,
    listed: Sequence[Listed],
    *,
    page_full: bool,
    request: port.PublishRequest,
    now: datetime,
    settle: timedelta = LISTING_SETTLE,
) -> port.Lookup:
    """Found, provably absent, or unknown (the rules in the module docstring)."""
    earliest = not_before(request.first_attempt_at)
    window = [p for p in listed if earliest is None or p.created_at is None or p.created_at >= earliest]
    ours = [p for p in window if p.verdict is Verdict.OURS]
    for post in ours:
        if post.found is not None:
            return post.found
    if ours:
        # Our post is there but the listing gives no id to report: posted, yet not reportable.
        return port.Unknown(f"{platform}: our post is listed without an id", code="listed_without_id")
    if earliest is None:
        return port.Unknown(
            f"{platform}: the first attempt's time is unknown, so no listing can show the post absent",
            code="attempt_time_unknown",
        )
    settled_at = (request.earlier_attempt_until or request.first_attempt_at or now) + settle
    if now < settled_at:
        return port.Unknown(
            f"{platform}: an earlier attempt ended too recently for the listing to show it",
            code="listing_not_settled",
            ask_again_at=settled_at,
        )
    oldest = [p.sorted_at or p.created_at for p in listed]
    reached_back = not page_full or any(t is not None and t < earliest for t in oldest)
    if not reached_back:
        return port.Unknown(
            f"{platform}: the listing's {len(listed)} newest posts do not reach back to the first "
            f"attempt at {request.first_attempt_at:%Y-%m-%d %H:%M:%S} UTC",
            code="listing_incomplete",
        )
    maybe = sum(1 for p in window if p.verdict is Verdict.MAYBE)
    if maybe:
        return port.Unknown(
            f"{platform}: {maybe} post(s) made since the attempt carry no text or link to tell "
            "them apart from ours (a media-only or link-only post)",
            code="indistinguishable",
        )
    return port.Absent(f"{platform}: the listing reaches back to the attempt and holds no post of ours")
