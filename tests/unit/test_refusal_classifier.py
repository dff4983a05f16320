"""A refused reply or moderation call is read by the same classifier as a refused post: each
adapter's public ``classify_error``, which ``refusals.refusal`` calls (narrowing only a refusal of
rights that is no refused credential to ``Permanent``), and nothing private of an adapter."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from services.publisher.adapters import port, refusals
from services.publisher.adapters.common import HttpAdapter
from services.publisher.adapters.refusals import refusal
from services.publisher.adapters.registry import PLATFORM_ADAPTERS
from shared.outbound_http import Reply

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
REPLYING = [
    "facebook",
    "instagram",
    "threads",
    "whatsapp",
    "youtube",
    "telegram",
    "x",
    "mastodon",
    "linkedin",
]


def answer(status: int, body: object, **headers: str) -> Reply:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return Reply(status, CIMultiDictProxy(CIMultiDict(headers)), raw)


def graph(code: int, sub: int = 0) -> dict[str, object]:
    return {"error": {"message": "refused", "code": code, **({"error_subcode": sub} if sub else {})}}


TELEGRAM_FLOOD = {"ok": False, "error_code": 429, "description": "Too Many", "parameters": {"retry_after": 5}}
BUC_SPENT = {"X-Business-Use-Case-Usage": '{"1":[{"call_count":100,"estimated_time_to_regain_access":7}]}'}
ANSWERS = [
    answer(400, graph(190, 460)),  # Graph: the token is dead
    answer(400, graph(200)),  # Graph: no permission on this object
    answer(400, graph(10)),
    answer(400, graph(32), **BUC_SPENT),
    answer(400, graph(131047)),  # WhatsApp: outside the 24-hour window
    answer(400, graph(131026)),  # WhatsApp: undeliverable
    answer(400, graph(131056)),  # WhatsApp: pair rate
    answer(400, graph(80007)),
    answer(401, {"error": "The access token is invalid"}),
    answer(403, {"detail": "You are not allowed to reply to this Tweet", "title": "Forbidden"}),
    answer(403, {"error": {"code": 403, "message": "quota", "errors": [{"reason": "quotaExceeded"}]}}),
    answer(403, {"ok": False, "error_code": 403, "description": "Forbidden: not enough rights"}),
    answer(404, {"error": "Record not found"}),
    answer(422, {"error": "Validation failed: Text can't be blank"}),
    answer(429, TELEGRAM_FLOOD, **{"Retry-After": "7", "X-RateLimit-Reset": "2026-03-02T09:45:00Z"}),
    answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: message to reply not found"}),
    answer(400, {"errorDetails": {"inputErrors": [{"code": "DUPLICATE_POST"}]}, "message": "dup"}),
    answer(400, b"<html>Bad gateway</html>"),
]


def read(error: port.AdapterError) -> tuple[object, ...]:
    return type(error), error.message, error.code, error.http_status, getattr(error, "retry_after", None)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


def adapter(platform: str, session: aiohttp.ClientSession, state_dir: Path) -> HttpAdapter:
    factory: Callable[..., port.Adapter] = PLATFORM_ADAPTERS[platform]  # each takes HttpOptions
    options: dict[str, object] = {"clock": lambda: NOW}
    if platform in ("youtube", "whatsapp"):
        options["state_dir"] = state_dir
    made = factory(session, None, **options)
    assert isinstance(made, HttpAdapter)
    return made


def target(platform: str) -> port.Target:
    return port.Target(f"{platform}-demo", "demo", "https://api.test", port.Credentials("t"), {})


@pytest.mark.parametrize("platform", REPLYING)
async def test_a_refused_reply_is_read_as_the_adapter_reads_a_refused_post(
    platform: str, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    made = adapter(platform, session, tmp_path)
    for refused in ANSWERS:
        as_post = made.classify_error(target(platform), refused)
        as_reply = refusal(made, target(platform), refused)
        if isinstance(as_post, port.AuthExpired) and type(as_reply) is port.Permanent:
            # A refusal of rights on someone else's comment; only the credential parks a channel.
            assert refused.status != 401
            assert (as_reply.message, as_reply.code, as_reply.http_status) == read(as_post)[1:4]
        else:
            assert read(as_reply) == read(as_post), (platform, refused.status, refused.body)


@pytest.mark.parametrize("platform", sorted(PLATFORM_ADAPTERS))
def test_every_adapter_reads_its_refusals_by_its_own_rules(platform: str) -> None:
    classifier = PLATFORM_ADAPTERS[platform].classify_error  # type: ignore[attr-defined]
    assert not getattr(classifier, "__isabstractmethod__", False), platform


def test_refusals_reads_no_adapter_private_member() -> None:
    tree = ast.parse(Path(refusals.__file__).read_text(encoding="utf-8"))
    private = [
        f"{ast.unparse(node.value)}.{node.attr} (line {node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
    ]
    assert private == []
