"""A hide job whose earlier attempt may have reached the platform is sent again, never looked
up: hiding twice is harmless. A reply in the same position is looked up first, with the time
its look-up's pages take."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from services.publisher.adapters.port import (
    Absent,
    Credentials,
    Lookup,
    NotSupported,
    Published,
    PublishRequest,
    Target,
)
from services.publisher.decide import RetryPolicy
from services.publisher.reconciler import Reconciler
from shared.events import Content, OutcomeStatus, ReplyTarget

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
TO = ReplyTarget(key="ib1", comment_id="c1", post_id="p1", approved_by="rina")
TARGET = Target("facebook-demo", "demo", "http://fake", Credentials("t"))


class CountingLookups:
    """An adapter that only counts the look-ups asked of it (proven absent each time)."""

    platform = "facebook"

    def __init__(self) -> None:
        self.lookups = 0

    async def find_reply(self, target: Target, request: PublishRequest) -> Lookup:
        self.lookups += 1
        return Absent("no reply of ours", safe_while_live=True)

    async def find_by_marker(self, target: Target, request: PublishRequest) -> Lookup:
        raise NotSupported("not a post")


def reconciler(adapter: CountingLookups) -> Reconciler:
    return Reconciler(
        adapter,  # type: ignore[arg-type]
        "facebook",
        call_timeout_s=1.0,
        longest_wait=timedelta(seconds=1),
        clock=lambda: NOW,
        retry=RetryPolicy(),
        rng=random.Random(0),
    )


async def test_a_hide_is_sent_again_without_a_lookup() -> None:
    adapter = CountingLookups()
    hide = PublishRequest("ib1.2:facebook-demo", 2, Content(), "w1", reply_to=TO, moderate="hide",
                          earlier_attempt_until=NOW)  # fmt: skip
    assert await reconciler(adapter).reconcile(TARGET, hide) is None
    assert adapter.lookups == 0


async def test_a_reply_is_looked_up_first() -> None:
    adapter = CountingLookups()
    reply = PublishRequest("ib1.2:facebook-demo", 2, Content(text="Besok."), "w1", reply_to=TO,
                           earlier_attempt_until=NOW - timedelta(minutes=5))  # fmt: skip
    assert await reconciler(adapter).reconcile(TARGET, reply) is None
    assert adapter.lookups == 1


class PagedListing:
    """A reply look-up that reads ``pages`` pages, each answered within one call's time limit,
    the reply on the last (LinkedIn's oldest-first listing of a busy post)."""

    def __init__(self, platform: str, pages: int, page_s: float) -> None:
        self.platform, self.pages, self.page_s = platform, pages, page_s

    async def find_reply(self, target: Target, request: PublishRequest) -> Lookup:
        for _ in range(self.pages):
            await asyncio.sleep(self.page_s)
        return Published("urn:li:comment:(urn:li:share:1,99)", None)

    async def find_by_marker(self, target: Target, request: PublishRequest) -> Lookup:
        raise NotSupported("not a post")


async def test_a_paged_reply_lookup_has_the_time_of_its_pages_not_of_one_call() -> None:
    reply = PublishRequest("ib1.2:linkedin-demo", 2, Content(text="Besok."), "w1", reply_to=TO,
                           earlier_attempt_until=NOW - timedelta(minutes=5))  # fmt: skip
    paged = PagedListing("linkedin", pages=4, page_s=0.05)  # 0.2 s in all, 0.05 s a call
    found = Reconciler(
        paged,  # type: ignore[arg-type]
        "linkedin",
        call_timeout_s=0.1,
        longest_wait=timedelta(seconds=1),
        clock=lambda: NOW,
        retry=RetryPolicy(),
        rng=random.Random(0),
    )
    decision = await found.reconcile(TARGET, reply)
    assert decision is not None
    assert (decision.status, decision.post_id) == (
        OutcomeStatus.PUBLISHED,
        "urn:li:comment:(urn:li:share:1,99)",
    )
