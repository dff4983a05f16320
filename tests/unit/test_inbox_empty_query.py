"""An empty query parameter is one not given: ``?channel=&state=`` (as a browser's form sends
every field it has) lists every channel and state the caller may read, through the real app."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.inbox.app import inbox_app
from services.inbox.book import InboxBook
from services.inbox.complaint_desk import ComplaintDesk
from services.inbox.template_store import TemplateStore
from services.inbox.working_time import WorkingHours
from shared.http_auth import KeyRecord, KeyStore, Role, digest_key
from shared.topics import TopicRegistry
from tests.unit.inbox_app import new_entry, offline_deps


@pytest.mark.parametrize(
    ("path", "items"),
    [
        ("/v1/inbox?channel=&state=&post=&assignee=&tag=&cursor=&limit=", 1),
        ("/v1/inbox?channel=&state=new", 1),
        ("/v1/inbox/volume?channel=", None),
        ("/v1/inbox/terms?hours=6&channel=&limit=", None),
        ("/v1/inbox/terms?hours=", None),
        ("/v1/complaints?state=&channel=&overdue=", 0),
    ],
)
async def test_an_empty_parameter_means_not_given(tmp_path: Path, path: str, items: int | None) -> None:
    none: Any = None  # no broker: nothing is written
    book = InboxBook()
    book.apply(new_entry())
    admin = KeyStore((KeyRecord(digest_key("k"), "rina", Role.ADMIN, frozenset({"*"})),))
    desk = ComplaintDesk(
        producer=none, topics=TopicRegistry(), port=none, hours=WorkingHours(), zone_of=lambda _: UTC
    )
    app = inbox_app(offline_deps(tmp_path, book, admin), TemplateStore(producer=none, topic="t"), desk)
    async with TestClient(TestServer(app)) as client:
        answer = await client.get(path, headers={"Authorization": "Bearer k"})
        assert answer.status == 200, await answer.text()
        body = await answer.json()
    if items is not None:
        assert len(body["items"]) == items
    if "/terms" in path:
        assert body["channel"] is None
