"""The fakes' reply endpoints, driven by the platforms' own clients, unchanged.

- Mastodon.py ``status_post(..., in_reply_to_id=..., idempotency_key=...)``
  (docs.joinmastodon.org/methods/statuses/#create): the reply is a Status of the entity's shape,
  listed under the comment by ``status_context``; the same Idempotency-Key answers the same status.
- atproto ``send_post(reply_to=ReplyRef(root, parent))``: threaded under the comment in
  ``getPostThread``, checked against the lexicon.
- google-api-python-client ``comments().insert`` / ``comments().list`` (docs/comments/insert,
  docs/comments/list), checked against the discovery document's schemas, quota units counted.
- facebook-business ``Comment.create_comment`` (graph-api/reference/object/comments, "Publishing")
  and ``IGComment.create_reply`` (instagram-platform/comment-moderation, "Reply to a comment"):
  the answer is the new comment's id, read back by the SDK's own listing calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
import requests
from atproto import Client, models
from facebook_business.adobjects.comment import Comment
from facebook_business.adobjects.igcomment import IGComment
from facebook_business.adobjects.page import Page
from facebook_business.adobjects.pagepost import PagePost
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError
from mastodon import Mastodon, MastodonNotFoundError

from sandbox.base import FakePost
from sandbox.bluesky import BlueskyState
from sandbox.youtube import YouTubeState
from shared.capabilities import capabilities_for
from tests.fidelity.atproto_lexicon import conforms
from tests.fidelity.discovery_schema import load_document, problems
from tests.fidelity.mastodon_schema import missing_fields
from tests.fidelity.sandbox_thread import ThreadedSandbox, threaded_sandbox
from tests.integration.conftest_fakes import TOKEN, FakeEnv, running_sandbox

pytestmark = pytest.mark.fidelity

T = TypeVar("T")
MASTODON_TOKEN = "mastodon-fidelity-token"
BSKY_PASSWORD = "abcd-efgh-ijkl-mnop"
PAGE = "1010"
IG_USER = "1784"


@pytest.fixture
def sandbox() -> Iterator[ThreadedSandbox]:
    with threaded_sandbox({"demo": MASTODON_TOKEN}) as sandbox:
        yield sandbox


def test_mastodon_reply_is_a_status_under_the_comment_and_idempotent(sandbox: ThreadedSandbox) -> None:
    with requests.Session() as session:
        m = Mastodon(
            access_token=MASTODON_TOKEN,
            session=session,
            api_base_url=sandbox.url("mastodon"),
            version_check_mode="none",
        )
        status = m.status_post("Jembatan baru diresmikan")
        answer = requests.post(
            f"{sandbox.url('mastodon')}/_fake/comments",
            json={"post_id": status.id, "text": "Kapan dibuka?", "author": "warga1"},
            timeout=5,
        )
        comment_id = answer.json()["id"]
        reply = m.status_post("Besok pagi.", in_reply_to_id=comment_id, idempotency_key="reply-1")
        assert reply.in_reply_to_id == comment_id
        assert reply.account.acct == "demo"
        again = m.status_post("Besok pagi.", in_reply_to_id=comment_id, idempotency_key="reply-1")
        assert again.id == reply.id  # the same key answers the first status, posts nothing new
        below = m.status_context(comment_id)
        assert [(s.id, s.in_reply_to_id, s.account.acct) for s in below.descendants] == [
            (reply.id, comment_id, "demo")
        ]
        raw = session.get(f"{sandbox.url('mastodon')}/api/v1/statuses/{reply.id}", timeout=5).json()
        assert missing_fields("Status", raw) == []
        assert raw["in_reply_to_id"] == comment_id
        with pytest.raises(MastodonNotFoundError):
            m.status_post("Salah alamat", in_reply_to_id="999999")


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


def graph_api(env: FakeEnv, platform: str) -> FacebookAdsApi:
    session = FacebookSession(access_token=TOKEN)
    session.GRAPH = env.url(f"/{platform}")
    return FacebookAdsApi(session, api_version=capabilities_for(platform).api_version)


async def sdk(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


async def test_facebook_page_replies_to_a_comment(env: FakeEnv) -> None:
    api = graph_api(env, "facebook")
    created = await sdk(lambda: Page(PAGE, api=api).create_feed(params={"message": "Banjir surut"}))
    post_id = str(created["id"])
    top = await env.admin("facebook", "comments", {"post_id": post_id, "text": "Kapan?", "author": "warga1"})
    reply = await sdk(lambda: Comment(top["id"], api=api).create_comment(params={"message": "Besok."}))
    assert reply["id"]
    fields = ["id", "message", "from", "parent"]
    stream = await sdk(
        lambda: list(PagePost(post_id, api=api).get_comments(fields=fields, params={"filter": "stream"}))
    )
    assert [(c["id"], c.get("parent", {}).get("id"), c["message"]) for c in stream] == [
        (top["id"], None, "Kapan?"),
        (reply["id"], top["id"], "Besok."),
    ]
    # Graph threads one level deep: a reply to the reply joins the top comment.
    nested = await sdk(lambda: Comment(reply["id"], api=api).create_comment(params={"message": "Ya."}))
    stream = await sdk(
        lambda: list(PagePost(post_id, api=api).get_comments(fields=fields, params={"filter": "stream"}))
    )
    assert next(c for c in stream if c["id"] == nested["id"])["parent"]["id"] == top["id"]
    with pytest.raises(FacebookRequestError) as refused:
        await sdk(lambda: Comment("nope", api=api).create_comment(params={"message": "?"}))
    assert refused.value.api_error_code() == 100


async def test_instagram_replies_to_top_level_comments_only(env: FakeEnv) -> None:
    ig = graph_api(env, "instagram")
    env.states["instagram"].posts.append(
        FakePost("17900000000000009", "demo", "Foto", datetime.now(UTC), data={"owner": IG_USER})
    )
    first = await env.admin("instagram", "comments", {"post_id": "17900000000000009", "text": "Bagus"})
    reply = await sdk(
        lambda: IGComment(first["id"], api=ig).create_reply(params={"message": "Terima kasih!"})
    )
    replies = await sdk(
        lambda: list(
            IGComment(first["id"], api=ig).get_replies(fields=["id", "text", "username", "parent_id"])
        )
    )
    assert [(r["id"], r["text"], r["username"], r["parent_id"]) for r in replies] == [
        (reply["id"], "Terima kasih!", "demo", first["id"])
    ]
    with pytest.raises(FacebookRequestError) as refused:
        await sdk(lambda: IGComment(reply["id"], api=ig).create_reply(params={"message": "Lagi"}))
    assert refused.value.api_error_code() == 100


async def test_youtube_comments_insert_and_list_follow_the_discovery_document() -> None:
    document = load_document("youtube.v3")
    async with running_sandbox() as env:
        state = env.states["youtube"]
        assert isinstance(state, YouTubeState)
        state.posts.append(
            FakePost(id="dQw4w9WgXcQ", account="demo", text="Pidato", created_at=datetime.now(UTC))
        )
        top = await env.admin(
            "youtube", "comments", {"post_id": "dQw4w9WgXcQ", "text": "Mantap", "author": "warga"}
        )
        units = state.read_units_left

        # google-auth's Credentials is untyped: the one ignore below says so.
        def calls() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
            doc = document | {"rootUrl": env.url("/youtube/")}
            with build_from_document(doc, credentials=Credentials(token=TOKEN)) as youtube:  # type: ignore[no-untyped-call]
                body = {"snippet": {"parentId": top["id"], "textOriginal": "Terima kasih!"}}
                inserted: dict[str, Any] = youtube.comments().insert(part="snippet", body=body).execute()
                # A reply to the reply joins the top-level comment's thread.
                nested_body = {"snippet": {"parentId": inserted["id"], "textOriginal": "Sama-sama"}}
                nested: dict[str, Any] = youtube.comments().insert(part="snippet", body=nested_body).execute()
                listed: dict[str, Any] = youtube.comments().list(part="snippet", parentId=top["id"]).execute()
                unknown = {"snippet": {"parentId": "nope", "textOriginal": "?"}}
                with pytest.raises(HttpError) as refused:
                    youtube.comments().insert(part="snippet", body=unknown).execute()
                assert refused.value.status_code == 404
                return inserted, nested, listed

        inserted, nested, listed = await asyncio.to_thread(calls)
    assert problems(document, "Comment", inserted) == []
    assert problems(document, "CommentListResponse", listed) == []
    assert inserted["snippet"]["parentId"] == top["id"]
    assert nested["snippet"]["parentId"] == top["id"]
    assert [c["snippet"]["textOriginal"] for c in listed["items"]] == ["Terima kasih!", "Sama-sama"]
    assert units - state.read_units_left == 2 * 50 + 1  # docs/determine_quota_cost


def test_bluesky_reply_refs_thread_the_reply_under_the_comment() -> None:
    # atproto ``send_post(reply_to=ReplyRef(root, parent))`` (lexicon app.bsky.feed.post#replyRef):
    # the reply appears under the comment in getPostThread, as the lexicon shapes it.
    account = "bluesky-demo"
    with threaded_sandbox({account: BSKY_PASSWORD}) as sandbox:
        client = Client(base_url=f"{sandbox.url('bluesky')}/xrpc")
        try:
            client.login(BlueskyState.handle(account), BSKY_PASSWORD)
            post = client.send_post("Jadwal vaksinasi")
            answer = requests.post(
                f"{sandbox.url('bluesky')}/_fake/comments",
                json={"post_id": post.uri, "text": "Di mana?", "author": "warga1"},
                timeout=5,
            )
            top_uri = answer.json()["id"]
            thread = client.get_post_thread(post.uri).thread
            assert isinstance(thread, models.AppBskyFeedDefs.ThreadViewPost)
            [top] = thread.replies or []
            assert isinstance(top, models.AppBskyFeedDefs.ThreadViewPost)
            root = models.ComAtprotoRepoStrongRef.Main(uri=post.uri, cid=post.cid)
            parent = models.ComAtprotoRepoStrongRef.Main(uri=top_uri, cid=top.post.cid)
            reply = client.send_post(
                "Di Puskesmas.", reply_to=models.AppBskyFeedPost.ReplyRef(root=root, parent=parent)
            )
            thread = client.get_post_thread(post.uri).thread
            assert isinstance(thread, models.AppBskyFeedDefs.ThreadViewPost)
            [top] = thread.replies or []
            assert isinstance(top, models.AppBskyFeedDefs.ThreadViewPost)
            [mine] = top.replies or []
            assert isinstance(mine, models.AppBskyFeedDefs.ThreadViewPost)
            assert (mine.post.uri, mine.post.author.handle) == (reply.uri, BlueskyState.handle(account))
            assert mine.post.record.reply.parent.uri == top_uri
            raw = requests.get(
                f"{sandbox.url('bluesky')}/xrpc/app.bsky.feed.getPostThread",
                params={"uri": post.uri},
                headers={"Authorization": f"Bearer {client._session.access_jwt}"},
                timeout=5,
            ).json()
            conforms(models.AppBskyFeedGetPostThread.Response, raw)
        finally:
            client.request.close()
