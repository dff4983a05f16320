"""The probes every HTTP service answers (``shared.http_probes``): the routes, and the liveness and
readiness answers judged by the schemas ingest's and the console's published OpenAPI documents give
them, for any list of problems."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import orjson
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from services.console.openapi import openapi_document as console_document
from services.ingest.openapi import openapi_document as ingest_document
from shared.http_probes import add_probe_routes, alive, json_response, readiness

DOCUMENTS = {"ingest": ingest_document(), "console": console_document()}


def _schema(document: dict[str, Any], path: str, status: str) -> jsonschema_rs.Validator:
    answer = document["paths"][path]["get"]["responses"][status]
    schema = answer["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**schema, "components": document.get("components", {})})


def _body(response: web.Response) -> Any:
    assert isinstance(response.body, bytes)
    return orjson.loads(response.body)


@given(st.lists(st.text(max_size=40), max_size=5))
def test_readiness_is_503_with_its_problems_until_none_are_left(problems: list[str]) -> None:
    answer = readiness(problems)
    status = "503" if problems else "200"
    assert answer.status == int(status)
    assert answer.content_type == "application/json"
    body = _body(answer)
    assert body == ({"status": "not_ready", "problems": problems} if problems else {"status": "ready"})
    for name, document in DOCUMENTS.items():
        assert _schema(document, "/readyz", status).is_valid(body), name


async def test_the_four_probe_routes_answer_get_without_a_key() -> None:
    async def ready(request: web.Request) -> web.Response:
        return readiness(["view still replaying the topics"])

    async def named(request: web.Request) -> web.Response:
        return json_response({"route": request.path})

    app = web.Application()
    add_probe_routes(app, healthz=alive, readyz=ready, metrics=named, openapi=named)
    async with TestClient(TestServer(app)) as client:
        healthz = await client.get("/healthz")
        assert healthz.status == 200
        for name, document in DOCUMENTS.items():
            assert _schema(document, "/healthz", "200").is_valid(await healthz.json()), name
        assert (await client.get("/readyz")).status == 503
        for path in ("/metrics", "/openapi.json"):
            assert await (await client.get(path)).json() == {"route": path}
        assert (await client.post("/healthz")).status == 405
        assert {r.resource.canonical for r in app.router.routes() if r.method == "GET"} == {  # type: ignore[union-attr]
            "/healthz",
            "/readyz",
            "/metrics",
            "/openapi.json",
        }


def test_keys_that_are_not_strings_are_written_as_strings() -> None:
    # orjson refuses a key that is not a string unless told to write it as one.
    assert _body(json_response({3: 1}, 201)) == {"3": 1}
    assert json_response({}, headers={"ETag": '"x"'}).headers["ETag"] == '"x"'
