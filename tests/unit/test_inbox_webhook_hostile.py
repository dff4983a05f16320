"""Meta's webhook routes under hostile input: any verify token or signature header, in any
characters a client can send, is a refusal (403, 401), never a 500. ``hmac.compare_digest``
refuses to compare ``str`` with non-ASCII characters (a TypeError), so both checks compare bytes.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import orjson
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from sandbox.meta_comments import sign
from services.inbox.book import InboxBook
from services.inbox.errors import BadSignature
from services.inbox.http_api import create_app
from services.inbox.webhooks import challenge_answer, verify_signature
from tests.unit.inbox_app import editor_keys, offline_deps

TOKEN, SECRET = "tok-ñ", "app-secret"
# Any text, but what a query string or a Latin-1 header carries: no lone surrogates.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)


@given(token=TEXT)
def test_a_verify_token_in_any_characters_is_echoed_only_when_it_is_the_one(token: str) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}
    assert (challenge_answer(query, TOKEN) is not None) == (token == TOKEN)


@given(header=TEXT)
def test_a_signature_header_in_any_characters_is_refused_unless_it_is_the_hmac(header: str) -> None:
    body = b'{"entry": []}'
    try:
        verify_signature(body, "sha256=" + header, SECRET)
        believed = True
    except BadSignature:
        believed = False
    assert believed == ("sha256=" + header.strip().lower() == sign(body, SECRET))


async def test_the_routes_refuse_non_ascii_tokens_and_signatures(tmp_path: Path) -> None:
    deps = offline_deps(
        tmp_path, InboxBook(), editor_keys("rina"), meta_verify_token=TOKEN, meta_app_secret=SECRET
    )
    async with TestClient(TestServer(create_app(deps))) as client:
        for token in ("ö\x01°Ǝå", "tok-n", "é"):
            query = f"hub.mode=subscribe&hub.verify_token={quote(token)}&hub.challenge=5"
            assert (await client.get(f"/webhooks/meta?{query}")).status == 403, token
        query = f"hub.mode=subscribe&hub.verify_token={quote(TOKEN)}&hub.challenge=5"
        assert await (await client.get(f"/webhooks/meta?{query}")).text() == "5"
        body = orjson.dumps({"object": "page", "entry": []})
        for header in ("sha256=é", "sha256=\xff" * 3, "sha256=" + "ö" * 64):
            answer = await client.post("/webhooks/meta", data=body, headers={"X-Hub-Signature-256": header})
            assert answer.status == 401, header
