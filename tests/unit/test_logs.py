"""Structured logs: every line is one JSON object with the item it concerns, and no secret."""

from __future__ import annotations

import asyncio
import logging

import orjson
import pytest
from aiohttp import ClientSession, web
from hypothesis import given
from hypothesis import strategies as st

from shared.access_log import app_runner
from shared.logs import JsonFormatter, _redact_all, bound, job_fields, redact


def line(message: str, *args: object, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("warta.test", logging.INFO, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    parsed = orjson.loads(JsonFormatter("publisher-x").format(record))
    assert isinstance(parsed, dict)
    return parsed


def test_a_line_names_its_service_level_logger_and_event() -> None:
    out = line("posted %s", "abc", attempt=2)
    assert out["service"] == "publisher-x"
    assert out["level"] == "info"
    assert out["logger"] == "warta.test"
    assert out["event"] == "posted abc"
    assert out["attempt"] == 2
    assert str(out["ts"]).endswith("+00:00")


def test_bound_fields_follow_each_task_separately() -> None:
    async def work(job: str) -> dict[str, object]:
        with bound(**job_fields(job.encode())):
            await asyncio.sleep(0)
            return line("handling")

    async def both() -> list[dict[str, object]]:
        return list(await asyncio.gather(work("c1:x-demo"), work("c2:facebook-demo")))

    first, second = asyncio.run(both())
    assert (first["content_id"], first["channel"], first["job_id"]) == ("c1", "x-demo", "c1:x-demo")
    assert (second["content_id"], second["channel"]) == ("c2", "facebook-demo")
    assert "job_id" not in line("outside any job")


def test_keys_that_are_not_job_ids_bind_nothing() -> None:
    assert job_fields(b"x-demo") == {}
    assert job_fields(None) == {}
    assert job_fields(b":x") == {}


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abcDEF123456789.xyz", "abcDEF123456789.xyz"),
        ("GET /oauth?access_token=EAAB12345secret&x=1", "EAAB12345secret"),
        ('{"access_token": "ya29.secretvalue", "expires_in": 3599}', "ya29.secretvalue"),
        (
            "POST https://api.telegram.org/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage",
            "AAHdqTcv",
        ),
        ("refresh_token=r0tat3d-token&grant_type=refresh_token", "r0tat3d-token"),
        ("X-Api-Key: wk_live_0123456789", "wk_live_0123456789"),
    ],
)
def test_credentials_never_reach_a_line(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert secret not in str(line(text)["event"])


def test_a_traceback_is_kept_and_redacted() -> None:
    try:
        raise RuntimeError("call failed with Bearer sekrit-token-123")
    except RuntimeError:
        import sys

        record = logging.LogRecord("warta.test", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    out = orjson.loads(JsonFormatter("ingest").format(record))
    assert "RuntimeError" in out["error"]
    assert "sekrit-token-123" not in out["error"]


async def test_access_log_has_the_request_but_never_its_query(caplog: pytest.LogCaptureFixture) -> None:
    app = web.Application()

    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"ok": True}, status=202)

    app.router.add_post("/v1/content", hello)
    runner = app_runner(app, access_log=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        with caplog.at_level(logging.INFO, logger="warta.access"):
            async with ClientSession() as session:
                url = f"http://127.0.0.1:{port}/v1/content?access_token=leaky"
                async with session.post(url, headers={"User-Agent": "pytest"}) as resp:
                    assert resp.status == 202
            for _ in range(50):
                if caplog.records:
                    break
                await asyncio.sleep(0.01)
    finally:
        await runner.cleanup()
    [record] = [r for r in caplog.records if r.name == "warta.access"]
    out = orjson.loads(JsonFormatter("ingest").format(record))
    assert (out["method"], out["path"], out["status"], out["user_agent"]) == (
        "POST",
        "/v1/content",
        202,
        "pytest",
    )
    assert isinstance(out["duration_ms"], float)
    assert "leaky" not in orjson.dumps(out).decode()


_FRAGMENTS = st.sampled_from(
    ["Bearer ", "basic ", "access_token=", "API_KEY=", "x-api-key: ", "Authorization=", '"refresh_token": "',
     "/bot123456:", "PassWord=", "hub.verify_token=", "abcdefghij0123456789_-ABCDEFGH", " ", "&", "\"",
     "POST /v1/content 202", "\u212a", "\u017f", "\u0130", "é"]  # Kelvin, long s, dotted I
)  # fmt: skip


@given(st.lists(_FRAGMENTS | st.text(max_size=8), max_size=12).map("".join))
def test_the_cheap_check_never_spares_a_line_the_patterns_would_change(text: str) -> None:
    assert redact(text) == _redact_all(text)


def test_a_line_without_a_secret_word_is_returned_as_it_is() -> None:
    line = "POST /v1/content 202"
    assert redact(line) is line


def test_every_http_service_logs_access_through_the_structured_logger() -> None:
    """aiohttp's own access line carries the query string (a token may travel there): every
    service's runner is ``shared.access_log.app_runner``."""
    from shared.settings import ROOT

    direct = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "services").rglob("*.py"))
        if "web.AppRunner(" in path.read_text(encoding="utf-8")
    ]
    assert not direct
