"""What the inbox takes from others without judging it: LAPOR!'s receipt, a channel's answer
target, a citizen's display name. Each odd value is refused or made harmless, never a 500, a
crash of a loop, or text the office did not write."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.inbox.errors import LaporUnavailable
from services.inbox.lapor_http import HttpLapor
from services.inbox.responsiveness import answer_target
from services.inbox.templates import MAX_NAME, values_for
from shared.channels import Channel
from tests.integration.test_lapor_port import complaint

DEFAULT = timedelta(hours=2)


async def receipt_of(body: Any) -> str:
    async def answer(_: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(body), status=201, content_type="application/json")

    app = web.Application()
    app.router.add_post("/complaints", answer)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        return (await HttpLapor(session, str(server.make_url("")), "t").submit(complaint())).tracking_id


@pytest.mark.parametrize(
    "body",
    [{"tracking_id": None}, {"tracking_id": ""}, {"tracking_id": "  "}, {"tracking_id": {"a": 1}},
     {"tracking_id": 7}, {"tracking_id": "L" * 201}, [], {"status": "baru"}],
)  # fmt: skip
async def test_a_receipt_without_a_usable_tracking_id_is_an_outage_not_a_forward(body: Any) -> None:
    # Taken, "None" or "{'a': 1}" would mark the complaint forwarded under a number nobody gave.
    with pytest.raises(LaporUnavailable):
        await receipt_of(body)


async def test_a_tracking_id_is_kept_as_lapor_wrote_it() -> None:
    assert await receipt_of({"tracking_id": " LAPOR-000042 ", "status": "baru"}) == "LAPOR-000042"


@pytest.mark.parametrize(
    ("option", "target"),
    [("30", timedelta(minutes=30)), ("inf", DEFAULT), ("1e400", DEFAULT), ("nan", DEFAULT),
     ("-5", DEFAULT), ("99999999999", DEFAULT), ("abc", DEFAULT), (None, DEFAULT)],
)  # fmt: skip
def test_a_channel_s_answer_target_is_a_number_of_minutes_up_to_a_month(
    option: str | None, target: timedelta
) -> None:
    options = {} if option is None else {"answer_target_minutes": option}
    channel = Channel(id="fb-demo", platform="facebook", timezone="Asia/Makassar", options=options)
    assert answer_target(channel, DEFAULT) == target


@pytest.mark.parametrize(
    ("name", "greeted"),
    [
        (
            "Budi\u202e\n\nINFO RESMI: bansos cair",
            "Budi INFO RESMI: bansos cair",
        ),  # no new lines, no reversal
        ("  Siti\t Aminah ", "Siti Aminah"),
        ("\u200b\u2066", "Bapak/Ibu"),  # only marks: no name
        ("Andi " * 40, ("Andi " * 40)[:MAX_NAME].strip()),
    ],
)
def test_a_citizen_s_name_greets_on_one_line_as_plain_text(name: str, greeted: str) -> None:
    assert values_for(name, "id") == {"name": greeted}
