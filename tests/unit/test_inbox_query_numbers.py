"""The inbox's numeric query parameters (``limit``, ``hours``) take numbers as its OpenAPI
document and JSON write them (RFC 8259 §6: ASCII digits), nothing that only Python's ``int`` or
``float`` would read ("٣", "+5", " 5", "5_0"): those are 422, as the document promises."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from services.inbox.http_query import bounded
from shared.http_errors import ValidationFailed
from tests.e2e.fuzz import EDGE_NUMBERS
from tests.unit.test_inbox_openapi import _app

NOT_JSON_NUMBERS = ("٣", "+5", " 5", "5 ", "5_0", "05", "0x10", "1,5", "١٢٣", "\U0001d7d9", "Infinity")


# 5,000 digits: Python's int() refuses them (over 4,300), which was a 500.
@pytest.mark.parametrize("raw", [*NOT_JSON_NUMBERS, *EDGE_NUMBERS, "1" * 5000])
def test_what_is_no_json_number_or_out_of_bounds_is_a_422_naming_the_field(raw: str) -> None:
    for whole in (True, False):
        with pytest.raises(ValidationFailed) as refused:
            bounded({"limit": raw}, "limit", "50", 1, 500, whole=whole)
        assert refused.value.errors[0].field == "limit"


@given(n=st.integers(min_value=-(10**6), max_value=10**6))
def test_a_whole_number_is_taken_exactly_when_within_bounds(n: int) -> None:
    try:
        taken = bounded({"limit": str(n)}, "limit", "50", 1, 500, whole=True) == n
    except ValidationFailed:
        taken = False
    assert taken == (1 <= n <= 500)


@given(x=st.floats(min_value=0.25, max_value=168, allow_nan=False))
def test_a_number_json_writes_is_taken_within_bounds(x: float) -> None:
    assert bounded({"hours": json.dumps(x)}, "hours", "6", 0.25, 168, whole=False) == x


async def test_the_routes_refuse_what_python_alone_would_read(tmp_path: Path) -> None:
    auth = {"Authorization": "Bearer k"}
    async with TestClient(TestServer(_app(tmp_path))) as client:
        for path, name in (
            ("/v1/inbox", "limit"),
            ("/v1/inbox/terms", "hours"),
            ("/v1/inbox/terms", "limit"),
        ):
            for raw in ("٣", "+5", " 5", "5_0"):
                answer = await client.get(f"{path}?{name}={quote(raw)}", headers=auth)
                assert answer.status == 422, (path, name, raw)
            assert (await client.get(f"{path}?{name}=6", headers=auth)).status == 200
