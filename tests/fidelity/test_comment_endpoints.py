"""The fakes' comment endpoints, read by the platforms' own clients and checked by their schemas.

Citizens comment through each fake's ``POST /_fake/comments``; Mastodon.py reads them with
``status_context`` (docs.joinmastodon.org/methods/statuses/#context), the atproto SDK with
``get_post_thread`` (app.bsky.feed.getPostThread) and google-api-python-client with
``commentThreads().list`` (developers.google.com/youtube/v3/docs/commentThreads/list).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pytest
import requests
from atproto import Client, models
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document

from sandbox.base import FakePost
from sandbox.bluesky import BlueskyState
from sandbox.meta_comments import sign, whatsapp_message_delivery, whatsapp_user_id
from tests.fidelity.atproto_lexicon import conforms
from tests.fidelity.discovery_schema import load_document, problems
from tests.fidelity.mastodon_schema import missing_fields
from tests.fidelity.sandbox_thread import ThreadedSandbox, threaded_sandbox
from tests.integration.conftest_fakes import TOKEN, running_sandbox

pytestmark = pytest.mark.fidelity

MASTODON_TOKEN = "mastodon-fidelity-token"
BSKY_PASSWORD = "abcd-efgh-ijkl-mnop"


@pytest.fixture
def sandbox() -> Iterator[ThreadedSandbox]:
    with threaded_sandbox({"demo": MASTODON_TOKEN}) as sandbox:
        yield sandbox


def comment(sandbox: ThreadedSandbox, platform: str, post_id: str, text: str, **kw: str) -> str:
    answer = requests.post(
        f"{sandbox.url(platform)}/_fake/comments", json={"post_id": post_id, "text": text, **kw}, timeout=5
    )
    assert answer.status_code == 201, answer.text
    comment_id: str = answer.json()["id"]
    return comment_id


def test_mastodon_context_lists_replies_depth_first(sandbox: ThreadedSandbox) -> None:
    from mastodon import Mastodon

    with requests.Session() as session:
        m = Mastodon(
            access_token=MASTODON_TOKEN,
            session=session,
            api_base_url=sandbox.url("mastodon"),
            version_check_mode="none",
        )
        status = m.status_post("Jembatan baru diresmikan")
        first = comment(sandbox, "mastodon", status.id, "Terima kasih Pak!", author="warga1")
        second = comment(sandbox, "mastodon", status.id, "Kapan dibuka?", author="warga2")
        nested = comment(sandbox, "mastodon", status.id, "Besok", author="warga3", parent_id=second)
        context = m.status_context(status.id)
        assert context.ancestors == []
        assert [s.id for s in context.descendants] == [first, second, nested]
        assert [s.in_reply_to_id for s in context.descendants] == [status.id, status.id, second]
        assert context.descendants[0].account.acct == "warga1"
        assert "Terima kasih" in context.descendants[0].content
        raw = session.get(f"{sandbox.url('mastodon')}/api/v1/statuses/{status.id}/context", timeout=5).json()
        assert missing_fields("Context", raw) == []
        below = m.status_context(nested)
        assert [s.id for s in below.ancestors] == [status.id, second]


def test_bluesky_thread_nests_replies_as_the_lexicon_says() -> None:
    account = "bluesky-demo"
    with threaded_sandbox({account: BSKY_PASSWORD}) as sandbox:
        client = Client(base_url=f"{sandbox.url('bluesky')}/xrpc")
        try:
            client.login(BlueskyState.handle(account), BSKY_PASSWORD)
            post = client.send_post("Jadwal vaksinasi")
            top = comment(sandbox, "bluesky", post.uri, "Di mana lokasinya?", author="warga1")
            reply = comment(sandbox, "bluesky", post.uri, "Puskesmas", author="warga2", parent_id=top)
            thread = client.get_post_thread(post.uri).thread
            assert isinstance(thread, models.AppBskyFeedDefs.ThreadViewPost)
            [first] = thread.replies or []
            assert isinstance(first, models.AppBskyFeedDefs.ThreadViewPost)
            assert first.post.uri == top
            assert first.post.record.reply.parent.uri == post.uri
            assert [r.post.uri for r in first.replies or [] if hasattr(r, "post")] == [reply]
            raw = requests.get(
                f"{sandbox.url('bluesky')}/xrpc/app.bsky.feed.getPostThread",
                params={"uri": post.uri},
                headers={"Authorization": f"Bearer {client._session.access_jwt}"},
                timeout=5,
            ).json()
            conforms(models.AppBskyFeedGetPostThread.Response, raw)
        finally:
            client.request.close()


async def test_youtube_comment_threads_follow_the_discovery_document() -> None:
    document = load_document("youtube.v3")
    async with running_sandbox() as env:
        state = env.states["youtube"]
        state.posts.append(
            FakePost(id="dQw4w9WgXcQ", account="demo", text="Pidato", created_at=datetime.now(UTC))
        )
        base = env.url("/youtube/_fake/comments")
        async with env.session.post(base, json={"post_id": "dQw4w9WgXcQ", "text": "Mantap"}) as answer:
            top = (await answer.json())["id"]
        async with env.session.post(
            base, json={"post_id": "dQw4w9WgXcQ", "text": "Setuju", "parent_id": top}
        ) as answer:
            reply = (await answer.json())["id"]

        def read() -> dict[str, object]:
            doc = document | {"rootUrl": env.url("/youtube/")}
            credentials = Credentials(token=TOKEN)  # type: ignore[no-untyped-call]  # google-auth: untyped
            with build_from_document(doc, credentials=credentials) as youtube:
                result: dict[str, object] = (
                    youtube.commentThreads().list(part="snippet,replies", videoId="dQw4w9WgXcQ").execute()
                )
                return result

        body = await asyncio.to_thread(read)
    assert problems(document, "CommentThreadListResponse", body) == []
    items = body["items"]
    assert isinstance(items, list)
    [thread] = items
    assert thread["snippet"]["topLevelComment"]["id"] == top
    assert thread["snippet"]["totalReplyCount"] == 1
    assert [c["id"] for c in thread["replies"]["comments"]] == [reply]


def test_pywa_accepts_the_whatsapp_delivery_and_its_signature() -> None:
    # pywa validates X-Hub-Signature-256 and parses the messages change as a Cloud API webhook.
    from pywa import handlers, utils
    from pywa.client import WhatsApp
    from pywa.types.message import Message

    body = orjson.dumps(
        whatsapp_message_delivery(
            "106540352242922", "6281234567890", "Budi", "wamid.HBgLNjI4", "Halo Pak", 1764820000
        )
    )
    assert utils.webhook_updates_validator(
        app_secret="s3cret", request_body=body, x_hub_signature=sign(body, "s3cret")
    )
    assert not utils.webhook_updates_validator(
        app_secret="s3cret", request_body=body, x_hub_signature=sign(body, "x")
    )
    got: list[Message] = []
    wa = WhatsApp(phone_id="106540352242922", token="t", server=None, verify_token="v", app_secret="s3cret")
    wa.add_handlers(handlers.MessageHandler(lambda _client, message: got.append(message)))
    assert wa.webhook_update_handler(body) == ("ok", 200)
    [message] = got
    assert (message.from_user.wa_id, message.from_user.name, message.text) == (
        "6281234567890",
        "Budi",
        "Halo Pak",
    )
    assert message.from_user.bsuid == whatsapp_user_id("6281234567890")
