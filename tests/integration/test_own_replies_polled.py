"""The bureau's own reply, read back by the inbox's poll, is not a citizen's comment: for each
channel ``make run`` starts on a platform the inbox polls, the reply is posted by the publisher's
adapter to the sandbox with that channel's token, the inbox reads the post's comments with its
own request and parser, and only the citizen's comment opens an entry (``lifecycle.own_names``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.base import FakePost
from services.inbox.lifecycle import own_names, received
from services.inbox.parsing import PARSERS
from services.inbox.readers import listing_request
from services.inbox.watched import WatchedPost
from services.publisher.adapters.port import Credentials, PublishRequest, Target
from services.publisher.adapters.registry import build_adapter
from shared.channels import Channel, load_channels
from shared.events import Content, ReplyTarget
from tests.integration.conftest_fakes import FakeEnv, running_sandbox

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC)
DEMO = {c.id: c for c in load_channels(ROOT / "deploy" / "channels.local.yaml").channels}
# Posts the fakes know as the account's, with the owner fields their comment edges read.
POSTS = {
    "mastodon": "110000000000000777",
    "x": "1800000000000000777",
    "youtube": "dQw4w9WgXc7",
    "facebook": "100000000000001_777",
    "instagram": "17900000000000777",
    "threads": "18000000000000777",
    "linkedin": "urn:li:share:7100000000000000777",
}
POLLED = [
    c.id for c in sorted(DEMO.values(), key=lambda c: c.id) if c.platform in PARSERS and c.platform in POSTS
]


def token(channel: Channel) -> str:
    return f"tok-{channel.secret}"


async def comments_read(env: FakeEnv, channel: Channel, post_id: str) -> list[tuple[str, bool]]:
    """(comment id, opens an entry) for each comment the inbox's poll reads on ``post_id``."""
    post = WatchedPost(channel.id, channel.platform, post_id, NOW)
    live = channel.model_copy(update={"base_url": env.url(f"/{channel.platform}")})
    request = listing_request(live, post, token(channel), None)
    async with env.session.get(request.url, params=request.params, headers=request.headers) as answer:
        assert answer.status == 200, await answer.text()
        parsed = PARSERS[channel.platform](await answer.json(), post, NOW)
    own = own_names(channel)
    return [(c.comment_id, received(c, None, NOW, own_names=own) is not None) for c in parsed.comments]


@pytest.mark.parametrize("channel_id", POLLED)
async def test_the_channels_own_reply_read_back_opens_no_entry(channel_id: str) -> None:
    channel = DEMO[channel_id]
    assert channel.secret is not None
    platform, post_id = channel.platform, POSTS[channel.platform]
    # make run's sandbox names each account by its secret's name (sandbox.sandbox.build_sandbox).
    async with running_sandbox({channel.secret: token(channel)}) as env:
        owner = channel.options.get("page_id") or channel.options.get("ig_user_id") or channel.secret
        data = {"page": owner, "owner": channel.options.get("threads_user_id") or owner}
        env.states[platform].posts.append(FakePost(post_id, channel.secret, "Pengumuman", NOW, data=data))
        body = {"post_id": post_id, "text": "Kapan jembatan dibuka?", "author": "warga1"}
        async with env.session.post(env.url(f"/{platform}/_fake/comments"), json=body) as answer:
            assert answer.status == 201, await answer.text()
            citizen = str((await answer.json())["id"])
        target = Target(channel.id, channel.account, env.url(f"/{platform}"), Credentials(token(channel)),
                        dict(channel.options))  # fmt: skip
        to = ReplyTarget(key="ib1", comment_id=citizen, post_id=post_id, approved_by="rina")
        text = Content(text="Terima kasih, kami cek.")
        request = PublishRequest(f"ib1.2:{channel.id}", 1, text, "w1", reply_to=to)
        await build_adapter(platform, env.session).reply(target, request)
        read = await comments_read(env, channel, post_id)
    # Threads' replies edge lists only a post's direct replies: the answer under the comment is
    # not among them there. Everywhere else it is read back, and opens nothing.
    assert len(read) == (1 if platform == "threads" else 2), read
    assert [c for c, opens in read if opens] == [citizen], read
