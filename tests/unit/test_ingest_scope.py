"""A key limited to some channels sees only them in ingest: pages of jobs and drafts hold only its
channels' rows (with the totals and cursors of those rows), and an item or a draft of other
channels only is as absent as one that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar, cast

import pytest

from services.ingest.decisions import APPROVED, AWAITING, DraftBook
from services.ingest.listing import Page, SortKey
from services.ingest.scope import channel_asked, draft_request, draft_seen, item_json, item_seen
from services.ingest.status_view import StatusView
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    DraftApproved,
    DraftSubmitted,
)
from shared.http_auth import ALL_CHANNELS, Principal, Role
from shared.http_errors import Forbidden, NotFound

R = TypeVar("R")
T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
MASTODON, X, TELEGRAM = "mastodon-demo", "x-demo", "telegram-demo"


def key(*channels: str) -> Principal:
    return Principal(person="opa", role=Role.OPERATOR, channels=frozenset(channels), key_id="k")


def approved(content_id: str, minute: int, *channels: str) -> ContentApproved:
    return ContentApproved(
        event_id=f"e-{content_id}",
        occurred_at=T0 + timedelta(minutes=minute),
        content_id=content_id,
        author="rina",
        approval=Approval(approved_by="yuyun", approved_at=T0),
        submitted_by="yuyun",
        variants=tuple(ChannelVariant(channel=c, content=Content(text="EMBARGOED")) for c in channels),
    )


def a_view() -> StatusView:
    view = StatusView()
    for n, channels in enumerate([(X,), (MASTODON, X), (TELEGRAM,), (MASTODON,), (X, TELEGRAM)]):
        view.apply(approved(f"c{n}", n, *channels))
    return view


def every_page(page_after: Callable[[SortKey | None], tuple[list[R], Page]]) -> list[R]:
    """Every row ``page_after`` pages through, in order; each page's total checked."""
    seen: list[R] = []
    after = None
    while True:
        rows, page = page_after(after)
        seen += rows
        if page.next_key is None:
            assert page.total == len(seen)
            return seen
        after = page.next_key


def all_jobs(
    view: StatusView, *, visible: Callable[[str], bool] | None = None, state: str | None = None
) -> list[tuple[str, str]]:
    def jobs(after: SortKey | None) -> tuple[list[tuple[str, str]], Page]:
        rows, page = view.jobs(limit=2, after=after, visible=visible, state=state)
        return [(item.content_id, status.channel) for item, status in rows], page

    return every_page(jobs)


def test_a_limited_key_pages_through_its_channels_jobs_only() -> None:
    view = a_view()
    mine = key(MASTODON, TELEGRAM).may_target
    assert all_jobs(view, visible=mine) == [
        ("c1", MASTODON),
        ("c2", TELEGRAM),
        ("c3", MASTODON),
        ("c4", TELEGRAM),
    ]
    assert all_jobs(view, visible=key(X).may_target, state="accepted") == [("c0", X), ("c1", X), ("c4", X)]
    assert all_jobs(view, visible=key("bluesky-demo").may_target) == []
    assert len(all_jobs(view, visible=key(ALL_CHANNELS).may_target)) == len(all_jobs(view)) == 7


def test_an_item_of_other_channels_only_is_absent_and_a_shared_one_shows_its_own_jobs() -> None:
    view = a_view()
    limited = key(MASTODON)
    with pytest.raises(NotFound) as absent:
        item_seen(limited, view.find("c0"), "c0")
    with pytest.raises(NotFound) as missing:
        item_seen(limited, view.find("nothing"), "c0")
    assert absent.value.errors == missing.value.errors  # nothing tells them apart
    shared = item_seen(limited, view.find("c1"), "c1")
    assert channels_of(item_json(limited, shared)) == [MASTODON]
    assert channels_of(item_json(key(ALL_CHANNELS), shared)) == [MASTODON, X]


def channels_of(body: dict[str, object]) -> list[object]:
    return [status["channel"] for status in cast("list[dict[str, object]]", body["channels"])]


def submitted(draft_id: str, minute: int, *channels: str) -> DraftSubmitted:
    request: dict[str, object] = {
        "author": "rina",
        "content": {"text": "EMBARGOED: reshuffle"},
        "targets": [{"channel": c} for c in channels],
    }
    at = T0 + timedelta(minutes=minute)
    return DraftSubmitted(
        event_id=f"s-{draft_id}", occurred_at=at, draft_id=draft_id, author="rina", request=request
    )


def a_book() -> DraftBook:
    book = DraftBook()
    for n, channels in enumerate(
        [(X,), (MASTODON, X), (TELEGRAM,), (MASTODON,), (X, TELEGRAM), (X, MASTODON)]
    ):
        book.submitted(submitted(f"d{n}", n, *channels))
    book.claimed(
        DraftApproved(
            event_id="a",
            occurred_at=T0 + timedelta(hours=1),
            draft_id="d3",
            content_id="c",
            approved_by="yuyun",
            content_sha256="x",
        )
    )
    return book


def all_drafts(book: DraftBook, state: str | None, principal: Principal | None) -> list[str]:
    visible = principal.may_target if principal is not None else None

    def drafts(after: SortKey | None) -> tuple[list[str], Page]:
        found, page = book.page(state, limit=2, after=after, visible=visible)
        return [d.draft_id for d in found], page

    return every_page(drafts)


def test_a_limited_key_pages_through_the_drafts_on_its_channels_once_each() -> None:
    book = a_book()
    assert all_drafts(book, None, key(MASTODON)) == ["d1", "d3", "d5"]
    assert all_drafts(book, AWAITING, key(MASTODON)) == ["d1", "d5"]
    assert all_drafts(book, APPROVED, key(MASTODON)) == ["d3"]
    assert all_drafts(book, None, key(X, TELEGRAM)) == ["d0", "d1", "d2", "d4", "d5"]
    assert all_drafts(book, None, key("bluesky-demo")) == []
    everyone = all_drafts(book, None, None)
    assert all_drafts(book, None, key(ALL_CHANNELS)) == everyone == [f"d{n}" for n in range(6)]


def test_a_draft_of_other_channels_only_is_absent_and_a_shared_one_shows_its_own_targets() -> None:
    book = a_book()
    with pytest.raises(NotFound):
        draft_seen(key(MASTODON), book.get("d0"), "d0")
    shared = draft_seen(key(MASTODON), book.get("d1"), "d1")
    assert draft_request(key(MASTODON), shared)["targets"] == [{"channel": MASTODON}]
    assert draft_request(key(ALL_CHANNELS), shared) == shared.request


def test_a_listing_filtered_by_another_channel_is_refused() -> None:
    channel_asked(key(MASTODON), MASTODON)
    channel_asked(key(MASTODON), None)
    channel_asked(key(ALL_CHANNELS), X)
    with pytest.raises(Forbidden) as refused:
        channel_asked(key(MASTODON), X)
    [error] = refused.value.errors
    assert (error.channel, error.rule) == (X, "channel_forbidden")
