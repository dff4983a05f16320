"""The reply look-up against a hostile LinkedIn listing: one that always names a next page is
read at most ``MAX_LOOKUP_PAGES`` times and proves nothing, and the pages it reads advance by
``start`` (never the same page twice)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from services.publisher.adapters import port
from services.publisher.adapters.reply_calls import MAX_LOOKUP_PAGES
from services.publisher.adapters.replying import find_reply
from shared.events import Content, ReplyTarget
from shared.outbound_http import Reply

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
TARGET = port.Target("linkedin-demo", "demo", "https://api.test", port.Credentials("t"),
                     {"author": "urn:li:organization:5"})  # fmt: skip
TO = ReplyTarget(key="ib1", comment_id="1", post_id="urn:li:share:7", approved_by="rina")


class EndlessListing:
    """A LinkedIn that answers every page with a stranger's comment and a ``next`` link."""

    platform = "linkedin"
    _listing_settle = timedelta(seconds=30)

    def __init__(self) -> None:
        self.starts: list[str] = []
        self._clock = lambda: NOW

    async def call(
        self, target: port.Target, method: str, path: str = "", *, creates_post: bool = True, **kw: Any
    ) -> Reply:
        start = kw["params"]["start"]
        self.starts.append(start)
        body = {
            "paging": {"start": int(start), "count": 100, "links": [{"rel": "next"}]},
            "elements": [{"id": start, "actor": "urn:li:person:x", "message": {"text": "bukan kami"}}],
        }
        return Reply(200, CIMultiDictProxy(CIMultiDict()), orjson.dumps(body))

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        return port.Permanent(f"linkedin: HTTP {reply.status}")  # never asked: every page is a 200


async def test_an_endless_listing_is_read_to_the_bound_and_proves_nothing() -> None:
    listing = EndlessListing()
    request = port.PublishRequest("ib1.2:ch", 1, Content(text="Terima kasih."), "w1", reply_to=TO,
                                  earlier_attempt_until=NOW - timedelta(hours=1))  # fmt: skip
    found = await find_reply(listing, TARGET, request)
    assert isinstance(found, port.Unknown)
    assert listing.starts == [str(100 * n) for n in range(MAX_LOOKUP_PAGES)]
