"""An inbox on the real broker, reading the sandbox's fakes: what the inbox integration tests share.

The sandbox runs in-process (``running_sandbox``); the inbox is ``running_inbox`` with its HTTP app
on a test server; posts are placed in the fakes and announced on ``publish.outcomes`` as a
publisher would. Every test gets fresh topics (deleted afterwards) and consumer groups.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import BaseTestServer, TestServer
from aiokafka import AIOKafkaProducer

from sandbox.base import FakePost
from sandbox.telegram_discussion import DISCUSSION_CHAT_ID
from services.inbox.app import Inbox, running_inbox
from services.inbox.settings import InboxSettings
from shared.channels import ChannelDirectory
from shared.events import OutcomeStatus, PublishOutcome
from shared.http_auth import KeyStore, generate_dev_keys
from shared.kafka import delete_topics, make_producer, send_event
from shared.topics import TopicRegistry
from tests.integration.conftest_fakes import TOKEN, FakeEnv, running_sandbox
from tests.integration.poison_kit import eventually
from tests.integration.reply_publishers import Publishers, reply_publishers

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-me"
PAGE_ID = "100000000000001"
IG_USER = "17841400000000001"
PHONE_ID = "106540352242922"


def channels_yaml(env: FakeEnv, *, four_eyes: tuple[str, ...] = ()) -> dict[str, Any]:
    def channel(cid: str, platform: str, **options: str) -> dict[str, Any]:
        return {
            "id": cid,
            "platform": platform,
            "account": "demo",
            "base_url": env.url(f"/{platform}"),
            "secret": "demo",
            "options": options,
            "replies_need_approval": cid in four_eyes,
        }

    return {
        "channels": [
            channel("mastodon-demo", "mastodon"),
            channel("bluesky-demo", "bluesky"),
            channel("youtube-demo", "youtube"),
            channel("facebook-demo", "facebook", page_id=PAGE_ID),
            channel("instagram-demo", "instagram", ig_user_id=IG_USER),
            channel("whatsapp-demo", "whatsapp", phone_number_id=PHONE_ID),
            channel("x-demo", "x"),
            channel("x-basic", "x", x_read_tier="basic"),
            channel("threads-demo", "threads"),
            channel("telegram-demo", "telegram", chat_id="@warta"),
            # A channel with its linked discussion group, where Telegram's comments are.
            channel(
                "telegram-talk", "telegram", chat_id="@wartatalk", discussion_chat_id=str(DISCUSSION_CHAT_ID)
            ),
            channel("linkedin-demo", "linkedin"),
        ]
    }


@dataclass
class InboxSystem:
    env: FakeEnv
    inbox: Inbox
    server: BaseTestServer
    producer: AIOKafkaProducer
    topics: TopicRegistry
    keys: dict[str, dict[str, str]]  # role → {"person", "key"}
    settings: InboxSettings
    stop: asyncio.Event  # set: the inbox's loops end (its HTTP app stays up until the test ends)
    publishers: Publishers  # the publisher workers that post the inbox's replies

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]['key']}"}

    async def published(self, channel: str, platform: str, post: FakePost) -> None:
        """Place ``post`` in its fake and announce it as a publisher does."""
        self.env.states[platform].posts.append(post)
        outcome = PublishOutcome(
            event_id=f"o-{channel}-{post.id[-12:]}".replace("/", "-").replace(":", "-"),
            occurred_at=datetime.now(UTC),
            job_id=f"c1:{channel}",
            content_id="c1",
            channel=channel,
            platform=platform,
            attempt=1,
            status=OutcomeStatus.PUBLISHED,
            post_id=post.id,
            url=post.url,
        )
        await send_event(self.producer, self.topics.publish_outcomes, "c1", outcome)
        # Comments name the Warta item only once the collector has read the publication.
        await eventually(
            lambda: self.inbox.collector.knows(channel, post.id), f"{channel} watching {post.id}"
        )

    async def comment(self, platform: str, post_id: str, text: str, **kw: Any) -> str:
        body = {"post_id": post_id, "text": text, **kw}
        async with self.env.session.post(self.env.url(f"/{platform}/_fake/comments"), json=body) as answer:
            assert answer.status == 201, await answer.text()
            comment_id: str = (await answer.json())["id"]
            return comment_id


@asynccontextmanager
async def inbox_system(
    bootstrap: str,
    run_id: str,
    tmp_path: Path,
    *,
    four_eyes: tuple[str, ...] = (),
    publishing: tuple[str, ...] = (),
    credentials_key: str | None = None,
) -> AsyncIterator[InboxSystem]:
    """The inbox, and a publisher worker for each platform in ``publishing`` (replies are
    posted by them: without one, a reply stays ``replying``). With ``credentials_key`` the inbox
    reads an encrypted vault of its own under ``tmp_path/inbox-host`` (a host of its own, without
    a publisher) and follows the credentials topic into it."""
    prefix = f"t{run_id}."
    async with running_sandbox({"demo": TOKEN}) as env:
        channels = tmp_path / "channels.json"
        channels.write_text(json.dumps(channels_yaml(env, four_eyes=four_eyes)))
        secrets = tmp_path / "secrets.json"
        secrets.write_text(json.dumps({"demo": {"token": TOKEN}}))
        generate_dev_keys(tmp_path / "keys.json", tmp_path / "dev-keys.json")
        settings = InboxSettings(
            _env_file=None,
            kafka_bootstrap=bootstrap,
            topic_prefix=prefix,
            group_prefix=f"t{run_id}",
            partitions=3,
            channels_file=channels,
            secrets_file=secrets,
            keys_file=tmp_path / "keys.json",
            meta_app_secret=APP_SECRET,
            meta_verify_token=VERIFY_TOKEN,
            poll_interval_s=0.3,
            poll_tick_s=0.1,
            lapor_base_url=env.url("/lapor"),
            lapor_token=TOKEN,
            credentials_key=credentials_key,
            credentials_file=tmp_path / "inbox-host" / "credentials.vault",
        )
        stop = asyncio.Event()
        producer = make_producer(bootstrap, "inbox-test")
        try:
            directory = ChannelDirectory.model_validate(channels_yaml(env, four_eyes=four_eyes))
            async with (
                running_inbox(settings, stop, keys=KeyStore.load(tmp_path / "keys.json")) as inbox,
                reply_publishers(
                    bootstrap, settings.topics, directory, f"t{run_id}-pub", list(publishing), tmp_path
                ) as publishers,
            ):
                await producer.start()
                async with TestServer(inbox.app) as server:
                    keys = json.loads((tmp_path / "dev-keys.json").read_text())
                    yield InboxSystem(
                        env, inbox, server, producer, settings.topics, keys, settings, stop, publishers
                    )
        finally:
            await producer.stop()
            await delete_topics(bootstrap, prefix)
