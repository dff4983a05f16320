"""Meta's webhook routes under hostile input: any verify token or signature header, in any
characters a client can send, is a refusal (403, 401), never a 500 (``hmac.compare_digest``
refuses to compare ``str`` with non-ASCII characters: both checks compare bytes); and a signed
delivery whose time no calendar holds is a problem to dead-letter, not a crash of the route.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import orjson
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from sandbox.meta_comments import (
    facebook_comment_delivery,
    instagram_comment_delivery,
    sign,
    whatsapp_message_delivery,
)
from services.inbox.book import InboxBook
from services.inbox.errors import BadSignature
from services.inbox.http_api import create_app
from services.inbox.parsing import epoch_instant
from services.inbox.webhooks import challenge_answer, comments_of, verify_signature
from tests.unit.inbox_app import NOW, editor_keys, offline_deps
from tests.unit.test_inbox_webhooks import CHANNELS, POST, comment, lookup

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


@given(
    body=st.binary(max_size=200),
    upper=st.booleans(),
    padding=st.sampled_from(["", " ", "\t", "  "]),
    flip=st.none() | st.integers(min_value=0, max_value=63),
)
def test_the_hmac_itself_is_believed_in_any_case_and_padding_and_one_hex_digit_off_is_not(
    body: bytes, upper: bool, padding: str, flip: int | None
) -> None:
    # The digest is the standard library's HMAC-SHA256 of the raw body (Meta's documented
    # signature), not the sandbox's signer: the accepted case is drawn, not left to chance.
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    if flip is not None:
        digest = digest[:flip] + ("0" if digest[flip] != "0" else "1") + digest[flip + 1 :]
    header = "sha256=" + padding + (digest.upper() if upper else digest) + padding
    try:
        verify_signature(body, header, SECRET)
        believed = True
    except BadSignature:
        believed = False
    assert believed == (flip is None)


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


# Unix times past any calendar: datetime raises OverflowError (or OSError) for these, not ValueError.
@given(seconds=st.one_of(st.integers(), st.sampled_from([10**20, -(10**20), 2**63, 10**308])))
def test_a_signed_delivery_with_a_time_past_any_calendar_is_a_problem_not_a_crash(seconds: int) -> None:
    fb = facebook_comment_delivery("100", POST, comment("5_1"))
    fb["entry"][0]["changes"][0]["value"]["created_time"] = seconds
    ig = instagram_comment_delivery("178", comment("1790", post_id="M1"))
    ig["entry"][0]["time"] = seconds
    wa = whatsapp_message_delivery("1065", "628123", "Budi", "wamid.A", "Halo", seconds)
    for body in (fb, ig, wa):
        parsed = comments_of(body, CHANNELS, lookup, NOW)
        assert len(parsed.comments) + len(parsed.problems) == 1
        if parsed.comments:  # Instagram's entry without a time (0 among them) is taken as now
            unset = body is ig and not seconds
            assert parsed.comments[0].created_at == (NOW if unset else datetime.fromtimestamp(seconds, UTC))


@given(raw=st.one_of(st.integers(), st.floats(allow_nan=False), st.sampled_from([float("inf"), "1e999"])))
def test_every_reader_s_unix_time_is_an_instant_or_a_value_error(raw: float | str) -> None:
    # Telegram's date, LinkedIn's milliseconds and Meta's times all go through epoch_instant.
    for per_second in (1, 1000):
        with contextlib.suppress(ValueError):
            assert epoch_instant(raw, per_second=per_second).tzinfo is UTC
