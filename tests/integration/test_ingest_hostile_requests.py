"""Requests an attacker or an unlucky client sends, against the real ingest over the real broker:
each answers a 4xx with the errors body, never a 500, and a date no one means is never accepted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.http_auth import generate_dev_keys
from shared.topics import TopicRegistry
from tests.integration.ingest_app import Ingest, content_body, running_ingest

pytestmark = pytest.mark.integration


@pytest.fixture
async def ingest(kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path) -> AsyncIterator[Ingest]:
    async with running_ingest(kafka_bootstrap, topics, tmp_path) as app:
        yield app


async def raw_request(
    app: Ingest, method: str, path: str, headers: dict[str, bytes], body: bytes = b""
) -> tuple[int, Any]:
    """A request whose headers carry exactly these bytes (no client would send them)."""
    server = app.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: ingest", b"Connection: close"]
    lines += [name.encode() + b": " + value for name, value in headers.items()]
    if body:
        lines += [b"Content-Type: application/json", b"Content-Length: " + str(len(body)).encode()]
    try:
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    head, _, payload = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(payload)


async def raw_get(app: Ingest, path: str, authorization: bytes) -> tuple[int, Any]:
    return await raw_request(app, "GET", path, {"Authorization": authorization})


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(b"Bearer wk_\xff\xfe\xfd", id="invalid-utf8"),
        pytest.param("Bearer wk_ключ".encode(), id="utf8-beyond-latin-1"),
        pytest.param(b"Bearer wk_caf\xe9", id="latin-1"),
    ],
)
async def test_an_authorization_header_that_is_not_ascii_is_401(ingest: Ingest, authorization: bytes) -> None:
    status, body = await raw_get(ingest, "/v1/channels", authorization)
    assert status == 401, body
    assert [e["rule"] for e in body["errors"]] in (["malformed_key"], ["unknown_key"])


async def test_an_idempotency_key_that_is_not_utf8_is_422(ingest: Ingest) -> None:
    headers = {
        "Authorization": f"Bearer {ingest.keys['approver']}".encode(),
        "Idempotency-Key": b"k-\xff\xfe",
    }
    status, body = await raw_request(
        ingest, "POST", "/v1/content", headers, json.dumps(content_body()).encode()
    )
    assert status == 422, body
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [("Idempotency-Key", "type")]


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        pytest.param("cursor=%C2%B2", "cursor", "type", id="superscript-two-cursor"),
        pytest.param("cursor=" + "9" * 5000, "cursor", "type", id="cursor-past-ints-digit-limit"),
        pytest.param("from=0001-01-01T00:00:00%2B01:00", "from", "out_of_range", id="year-1-from"),
        pytest.param("to=9999-12-31T23:00:00-01:00", "to", "out_of_range", id="year-9999-to"),
    ],
)
async def test_list_query_parameters_out_of_bounds_are_422(
    ingest: Ingest, query: str, field: str, rule: str
) -> None:
    answer = await ingest.call("GET", f"/v1/content?{query}", role="operator")
    assert answer.status == 422, answer
    assert [(e["field"], e["rule"]) for e in answer.body["errors"]] == [(field, rule)]


@pytest.mark.parametrize(
    ("times", "field", "rule"),
    [
        pytest.param({"not_before": "9999-12-31T23:00:00+00:00"}, "not_before", "out_of_range", id="nb-9999"),
        pytest.param(
            {"deadline": "9999-12-31T23:00:00-01:00"}, "deadline", "out_of_range", id="deadline-9999"
        ),
        pytest.param(
            {"not_before": "0001-01-01T00:00:00+01:00"}, "not_before", "out_of_range", id="nb-year-1"
        ),
        pytest.param(
            {"deadline": "2150-01-01T00:00:00+07:00"}, "deadline", "beyond_horizon", id="deadline-2150"
        ),
    ],
)
async def test_a_date_no_one_means_is_422_and_never_accepted(
    ingest: Ingest, times: dict[str, Any], field: str, rule: str
) -> None:
    body = content_body(**times)
    answer = await ingest.call("POST", "/v1/content", body)
    assert answer.status == 422, answer
    assert (field, rule) in {(e["field"], e["rule"]) for e in answer.body["errors"]}
    draft = content_body(author=ingest.people["editor"], approved_by=None, **times)
    answer = await ingest.call("POST", "/v1/drafts", draft, role="editor")
    assert answer.status == 422, answer


async def test_keys_are_checked_with_the_configured_pepper(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    # The store holds peppered digests; only an ingest given the same pepper knows the keys.
    generate_dev_keys(tmp_path / "keys.json", tmp_path / "dev-keys.json", b"s3cr3t-p3pp3r")
    async with running_ingest(kafka_bootstrap, topics, tmp_path, key_pepper="s3cr3t-p3pp3r") as app:
        assert (await app.call("GET", "/v1/channels", role="editor")).status == 200
    async with running_ingest(kafka_bootstrap, topics, tmp_path) as app:
        assert (await app.call("GET", "/v1/channels", role="editor")).status == 401
