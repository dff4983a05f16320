"""A key limited to some channels reads only them through the real ingest over the real broker:
an item or a draft of other channels only answers as one that does not exist, one shared with
them shows the key's channels only, and every listing (the calendar, drafts, channels) holds the
key's channels alone."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from shared.http_auth import ALL_CHANNELS, KeyRecord, KeyStore, Role, digest_key
from shared.topics import TopicRegistry
from tests.integration.ingest_app import Answer, Ingest, content_body, running_ingest, wait_for

pytestmark = pytest.mark.integration

MINE, OTHER = "mastodon-demo", "x-demo"


def problem_rules(answer: Answer) -> list[tuple[str | None, str]]:
    return [(e["channel"], e["rule"]) for e in answer.body["errors"]]


async def _post(app: Ingest, channels: tuple[str, ...], text: str) -> str:
    posted = await app.call("POST", "/v1/content", content_body(channels, text=text), role="approver")
    assert posted.status == 202, posted
    content_id: str = posted.body["content_id"]
    await wait_for(lambda: app.deps.view.find(content_id) is not None, what="the item in the view")
    return content_id


async def _draft(app: Ingest, channels: tuple[str, ...], text: str) -> str:
    body = content_body(channels, approved_by=None, text=text)
    posted = await app.call("POST", "/v1/drafts", body, role="editor")
    assert posted.status == 201, posted
    draft_id: str = posted.body["draft_id"]
    return draft_id


async def test_a_key_limited_to_one_channel_reads_only_that_channel(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    plain = {
        role: f"wk_{role}_{uuid.uuid4().hex}" for role in ("approver", "editor", "admin", "scoped", "wati")
    }
    every = frozenset({ALL_CHANNELS})
    store = KeyStore(
        records=(
            KeyRecord(digest_key(plain["approver"]), "yuyun", Role.APPROVER, every),
            KeyRecord(digest_key(plain["editor"]), "rina", Role.EDITOR, every),
            KeyRecord(digest_key(plain["admin"]), "adi", Role.ADMIN, every),
            KeyRecord(digest_key(plain["scoped"]), "opa", Role.OPERATOR, frozenset({MINE})),
            KeyRecord(digest_key(plain["wati"]), "wati", Role.APPROVER, frozenset({MINE})),
        )
    )
    async with running_ingest(kafka_bootstrap, topics, tmp_path, keys=store, plain_keys=plain) as app:
        secret = f"EMBARGOED: reshuffle kabinet {uuid.uuid4().hex[:6]}"
        theirs = await _post(app, (OTHER,), secret)
        shared = await _post(app, (MINE, OTHER), "Jembatan Mahakam IV diresmikan")
        their_draft = await _draft(app, (OTHER,), secret + " (draft)")
        shared_draft = await _draft(app, (OTHER, MINE), "Jadwal vaksinasi")
        pause_reason = f"sengketa akun {uuid.uuid4().hex[:6]}"
        paused = await app.call(
            "POST", "/v1/pause", {"reason": pause_reason, "channels": [OTHER]}, role="admin"
        )
        assert paused.status == 202, paused
        await wait_for(lambda: OTHER in app.deps.view.paused, what="the pause in the view")

        # Another channel's item and draft are as absent as ones that do not exist.
        for path, missing in [
            (f"/v1/content/{theirs}", "/v1/content/c0ffee"),
            (f"/v1/drafts/{their_draft}", "/v1/drafts/c0ffee"),
        ]:
            hidden, none = (
                await app.call("GET", path, role="scoped"),
                await app.call("GET", missing, role="scoped"),
            )
            assert (hidden.status, none.status) == (404, 404), (hidden, none)
            assert problem_rules(hidden) == problem_rules(none) == [(None, "not_found")]
            assert secret not in str(hidden.body)
        # Nor can it be acted on: the refusal is the same 404, not a 403 naming its channels.
        withdrawn = await app.call("POST", f"/v1/content/{theirs}/withdraw", {"reason": "x"}, role="scoped")
        assert withdrawn.status == 404, withdrawn
        etag = {"If-Match": "*"}
        approved = await app.call("POST", f"/v1/drafts/{their_draft}/approve", role="wati", headers=etag)
        assert approved.status == 404, approved

        # What is shared with the key's channel shows that channel only.
        item = await app.call("GET", f"/v1/content/{shared}", role="scoped")
        assert item.status == 200, item
        assert [c["channel"] for c in item.body["channels"]] == [MINE]
        draft = await app.call("GET", f"/v1/drafts/{shared_draft}", role="scoped")
        assert draft.status == 200, draft
        assert draft.body["request"]["targets"] == [{"channel": MINE}]

        # Listings hold the key's channels only, and refuse a filter by another.
        calendar = await app.call("GET", "/v1/content", role="scoped")
        assert [(j["content_id"], j["channel"]) for j in calendar.body["jobs"]] == [(shared, MINE)]
        assert calendar.body["total"] == 1
        filtered = await app.call("GET", f"/v1/content?channel={OTHER}", role="scoped")
        assert filtered.status == 403, filtered
        assert problem_rules(filtered) == [(OTHER, "channel_forbidden")]
        drafts = await app.call("GET", "/v1/drafts", role="scoped")
        assert [d["draft_id"] for d in drafts.body["drafts"]] == [shared_draft]
        assert drafts.body["total"] == 1
        channels = await app.call("GET", "/v1/channels", role="scoped")
        assert [c["channel"] for c in channels.body["channels"]] == [MINE]
        assert pause_reason not in str(channels.body)

        # A key for every channel still reads everything.
        everything = await app.call("GET", "/v1/content", role="approver")
        assert everything.body["total"] == 3
        assert (await app.call("GET", "/v1/drafts", role="approver")).body["total"] == 2
        whole = await app.call("GET", f"/v1/drafts/{their_draft}", role="approver")
        assert secret in str(whole.body["request"])
        listed = await app.call("GET", "/v1/channels", role="approver")
        assert len(listed.body["channels"]) == len(app.deps.channels.ids)
