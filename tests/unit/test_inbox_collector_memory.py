"""What the collector keeps between polls stays bounded: the resume page of a post it no longer
polls, and a publication past ``REMEMBER_POSTS_FOR``, are forgotten, and each channel's count of
watched posts follows the schedule (no broker: these polls find no new comment to write)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.inbox.collector import REMEMBER_POSTS_FOR, Collector
from services.inbox.schedule import PollSchedule
from services.inbox.watched import WatchedPost
from shared.channels import Channel, ChannelDirectory
from shared.events import OutcomeStatus, PublishOutcome
from shared.topics import TopicRegistry

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
LINKEDIN = Channel(id="li", platform="linkedin", base_url="https://api.linkedin.com")


class PagedListing:
    """A LinkedIn post whose comments fill ``pages`` pages (already in the inbox: none is new)."""

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.asked: list[str | None] = []

    async def read(self, channel: Channel, post: WatchedPost, page: str | None) -> Any:
        self.asked.append(page)
        start = int(page or 0)
        more = start + 100 < self.pages * 100
        links = [{"rel": "next", "href": f"?start={start + 100}"}] if more else []
        return {"elements": [], "paging": {"start": start, "count": 100, "links": links}}


def outcome(post_id: str, at: datetime) -> PublishOutcome:
    return PublishOutcome(
        event_id=f"o-{post_id}", occurred_at=at, job_id=f"c-{post_id}:li", content_id=f"c-{post_id}",
        channel="li", platform="linkedin", attempt=1, status=OutcomeStatus.PUBLISHED, post_id=post_id,
    )  # fmt: skip


def collector(reader: PagedListing) -> Collector:
    none: Any = None  # no comment is new, so nothing is written
    listing: Any = reader  # reads as CommentReader.read does
    return Collector(
        producer=none, topics=TopicRegistry(), channels=ChannelDirectory(channels=(LINKEDIN,)),
        reader=listing, schedule=PollSchedule(interval=timedelta(minutes=1)), known=lambda _: True,
    )  # fmt: skip


async def test_a_busy_post_resumes_where_it_stopped_until_its_watch_ends_then_is_forgotten() -> None:
    reader = PagedListing(pages=8)
    inbox = collector(reader)
    inbox.watch(outcome("urn:li:share:1", NOW), NOW)
    await inbox.poll_due(lambda: NOW)
    assert reader.asked == [None, "100", "200", "300", "400"]  # five pages a poll
    reader.asked.clear()
    await inbox.poll_due(lambda: NOW + timedelta(minutes=1))
    first = reader.asked[0]
    assert first is not None
    assert 300 <= int(first) < 400  # a little before the last page read
    assert inbox.status["li"].watched == 1
    # After its week the schedule stops polling it: its resume page and its count go with it.
    later = NOW + timedelta(days=8)
    await inbox.poll_due(lambda: later)
    assert inbox.status["li"].watched == 0
    assert not inbox._resume
    assert inbox.knows("li", "urn:li:share:1")  # a webhook comment still names the item
    await inbox.poll_due(lambda: NOW + REMEMBER_POSTS_FOR + timedelta(hours=1))
    assert not inbox.knows("li", "urn:li:share:1")


async def test_a_post_whose_comments_fit_one_page_keeps_no_resume_page() -> None:
    inbox = collector(PagedListing(pages=1))
    inbox.watch(outcome("urn:li:share:2", NOW), NOW)
    await inbox.poll_due(lambda: NOW)
    assert not inbox._resume


def test_publications_older_than_the_memory_are_not_remembered_at_start() -> None:
    inbox = collector(PagedListing(pages=1))
    inbox.watch(outcome("urn:li:share:3", NOW - REMEMBER_POSTS_FOR), NOW)
    assert not inbox.knows("li", "urn:li:share:3")


def test_a_watch_longer_than_the_memory_keeps_its_posts_remembered() -> None:
    inbox = collector(PagedListing(pages=1))
    inbox.schedule.watch_for = timedelta(days=60)
    inbox.watch(outcome("urn:li:share:4", NOW - timedelta(days=45)), NOW)
    assert inbox.knows("li", "urn:li:share:4")
    assert inbox.status["li"].watched == 1
