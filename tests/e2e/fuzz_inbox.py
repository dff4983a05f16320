"""What the hostile run needs to drive the inbox's routes past their 404s: a real entry (a
citizen's comment on the Facebook demo page, delivered by Meta's webhook, signed with the app
secret the run gives the inbox), a complaint made of it and a saved answer, and a request each
route accepts (``Seed``) for the fuzzer's hostile pass to spoil one value at a time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import aiohttp
import orjson

from sandbox.base import FakeComment, FakePost
from sandbox.meta_comments import facebook_comment_delivery, sign
from shared.channels import load_channels
from tests.e2e.client import Api
from tests.e2e.fuzz import Seed
from warta.devrun import LocalSystem

META_APP_SECRET = "fuzz-app-secret"
META_VERIFY_TOKEN = "fuzz-verify-token"
CHANNEL = "facebook-demo"
TEMPLATE = "salam"
INBOX_ENV = {"WARTA_META_APP_SECRET": META_APP_SECRET, "WARTA_META_VERIFY_TOKEN": META_VERIFY_TOKEN}


async def inbox_ids(system: LocalSystem, key: str) -> dict[str, str]:
    """An entry's key (also its complaint's id) and a template's name, made through the API."""
    async with aiohttp.ClientSession() as session:
        api = Api(session, system.inbox_url, key)
        entry = await _delivered_entry(system, session, api)
        status, answer = await api.post(f"/v1/inbox/{entry}/complaint", {"reason": "aduan jalan"})
        assert status == 201, answer
        texts = {"text_en": "Thank you, {name}.", "text_id": "Terima kasih, {name}."}
        url, auth = f"{system.inbox_url}/v1/inbox/templates/{TEMPLATE}", {"Authorization": f"Bearer {key}"}
        async with session.put(url, json=texts, headers=auth) as saved:
            assert saved.status == 200, await saved.text()
    return {"key": entry, "complaint_id": entry, "name": TEMPLATE}


async def _delivered_entry(system: LocalSystem, session: aiohttp.ClientSession, api: Api) -> str:
    """The key of a comment Meta's webhook brought in, once the inbox lists it."""
    [page] = [c.options["page_id"] for c in load_channels(system.channels_file).channels if c.id == CHANNEL]
    now = datetime.now(UTC)
    post = FakePost(id=f"{page}_1", account="demo", text="Jembatan", created_at=now, url="https://fb/1")
    comment = FakeComment(f"{page}_1_{uuid.uuid4().hex[:8]}", post.id, "warga1", "Kapan dibuka?", now)
    body = orjson.dumps(facebook_comment_delivery(page, post, comment))
    headers = {"X-Hub-Signature-256": sign(body, META_APP_SECRET), "Content-Type": "application/json"}
    async with session.post(f"{system.inbox_url}/webhooks/meta", data=body, headers=headers) as answer:
        assert answer.status == 200, await answer.text()
    deadline = time.monotonic() + 30
    while True:
        status, page_of = await api.get(f"/v1/inbox?channel={CHANNEL}")
        if status == 200 and page_of["items"]:
            return str(page_of["items"][0]["key"])
        assert time.monotonic() < deadline, (status, page_of)
        await asyncio.sleep(0.3)


def inbox_seeds(person: str, ids: dict[str, str]) -> dict[str, Seed]:
    """Requests each inbox route accepts from the fuzzer's key (``person``, an admin), on the
    entry and template of ``ids`` (``inbox_ids``)."""
    why = Seed(body={"reason": "komentar berulang"})
    return {
        "GET /v1/inbox": Seed(
            query={"channel": CHANNEL, "state": "new", "post": "p", "assignee": person, "limit": "50"}
        ),
        "GET /v1/inbox/terms": Seed(query={"channel": CHANNEL, "hours": "6", "limit": "20"}),
        "GET /v1/inbox/volume": Seed(query={"channel": CHANNEL}),
        "POST /v1/inbox/{key}/assign": Seed(body={"assignee": person, "reason": "giliran jaga"}),
        "POST /v1/inbox/{key}/reply": Seed(body={"text": "Terima kasih, segera dibuka.", "override": True}),
        "POST /v1/inbox/{key}/approve": Seed(body={"override": True, "reason": "sudah diperiksa"}),
        **{f"POST /v1/inbox/{{key}}/{verb}": why for verb in ("hide", "close", "reopen", "delete")},
        "POST /v1/inbox/{key}/answering": Seed(body={"override": True}),
        "POST /v1/inbox/{key}/complaint": why,
        "GET /v1/complaints": Seed(query={"channel": CHANNEL, "state": "recorded", "overdue": "false"}),
        **{f"POST /v1/complaints/{{complaint_id}}/{verb}": why for verb in ("forward", "answer", "close")},
        "GET /v1/inbox/templates/{name}": Seed(query={"comment": ids["key"], "lang": "id"}),
        "PUT /v1/inbox/templates/{name}": Seed(body={"text_en": "Hello {name}.", "text_id": "Halo {name}."}),
        "DELETE /v1/inbox/templates/{name}": why,
        "GET /webhooks/meta": Seed(
            query={
                "hub.mode": "subscribe",
                "hub.verify_token": META_VERIFY_TOKEN,
                "hub.challenge": "1158201444",
            }
        ),
    }
