"""LinkedIn comments reach the inbox's parser through the real reader, over real HTTP, from the
fake that plays the Comments API ("Get Comments on Shares"): every page read, replies linked to
their comment, authors named by URN; and on the real broker, a post with more comments than one
poll reads, listed oldest first, still has its newest collected."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.base import FakeComment, FakePost
from services.inbox.access import readability
from services.inbox.collector import MAX_PAGES
from services.inbox.errors import ReadRefused
from services.inbox.parsing import PARSERS
from services.inbox.readers import CommentReader
from services.inbox.watched import WatchedPost, comment_key
from shared.channels import Channel
from tests.integration.conftest_fakes import TOKEN, running_sandbox
from tests.integration.inbox_system import inbox_system
from tests.integration.poison_kit import eventually

pytestmark = pytest.mark.integration

POST = "urn:li:share:7300000000000000001"


async def test_every_page_of_a_posts_comments_is_read_with_replies_linked() -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        now = datetime.now(UTC)
        env.states["linkedin"].posts.append(FakePost(POST, "demo", "Jembatan", now, data={"author": "x"}))
        made = [
            (await env.admin("linkedin", "comments", {"post_id": POST, "text": f"komentar {n}", "author": f"w{n}"}))["id"]
            for n in range(130)
        ]  # fmt: skip
        reply = await env.admin(
            "linkedin", "comments", {"post_id": POST, "text": "setuju", "author": "w9", "parent_id": made[0]}
        )
        channel = Channel(id="linkedin-demo", platform="linkedin", account="demo", base_url=env.url("/linkedin"), secret="demo")  # fmt: skip
        assert readability(channel).polled
        post = WatchedPost("linkedin-demo", "linkedin", POST, published_at=now)
        reader = CommentReader(env.session, {"demo": TOKEN})
        comments, page, pages = [], None, 0
        while True:
            parsed = PARSERS["linkedin"](await reader.read(channel, post, page), post, now)
            assert parsed.problems == []
            comments += parsed.comments
            pages += 1
            if (page := parsed.next_page) is None:
                break
        assert pages == 2
        assert [c.comment_id for c in comments] == [*made, reply["id"]]
        last = comments[-1]
        assert (last.parent_id, last.author.id, last.text) == (made[0], "urn:li:person:w9", "setuju")
        assert {c.channel for c in comments} == {"linkedin-demo"}

        # A token the platform refuses stops that post's polling (ReadRefused), as on every platform.
        with pytest.raises(ReadRefused):
            await CommentReader(env.session, {"demo": "wrong"}).read(channel, post, None)


async def test_a_busy_posts_newest_comments_are_collected_though_linkedin_lists_oldest_first(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    # More comments than a poll reads (MAX_PAGES of 100): on a listing that runs oldest first,
    # each poll must go on from where the last one stopped, or the newest are never reached.
    async with inbox_system(kafka_bootstrap, run_id, tmp_path) as system:
        now = datetime.now(UTC)
        await system.published(
            "linkedin-demo", "linkedin", FakePost(POST, "demo", "Jembatan", now, data={"author": "o"})
        )
        state = system.env.states["linkedin"]
        earlier = (MAX_PAGES + 1) * 100 + 50
        state.comments += [
            FakeComment(state.new_comment_id(POST), POST, f"w{n}", f"komentar {n}", now) for n in range(earlier)
        ]  # fmt: skip
        book = system.inbox.keeper.book
        await eventually(lambda: len(book) == earlier, f"{earlier} comments in the inbox")
        newest = await system.comment("linkedin", POST, "Kapan selesai?", author="warga-baru")
        await eventually(lambda: comment_key("linkedin-demo", newest) in book, "the newest comment")
        assert len(book) == earlier + 1
