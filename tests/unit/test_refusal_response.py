"""A handler's refusal as problem details (``shared.problems.refusal_response``), the one mapping
ingest's, the console's and the inbox's middlewares share: every refusal of the tree and every
error aiohttp itself defines keeps its status, in the caller's language."""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus
from typing import TypeVar

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from shared import http_errors
from shared.http_errors import HttpRefusal, RequestRejected, ServiceUnavailable, TooManyRequests
from shared.messages import said
from shared.problems import PROBLEM_JSON, refusal_response

T = TypeVar("T")


def _subclasses(cls: type[T]) -> list[type[T]]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


def _refusal(cls: type[HttpRefusal]) -> HttpRefusal:
    if issubclass(cls, TooManyRequests | ServiceUnavailable):
        return cls(said("internal"), field="x", retry_after=2.5)
    return cls(said("internal"), field="x")


def _body(response: web.Response) -> dict[str, object]:
    assert isinstance(response.body, bytes)
    decoded = orjson.loads(response.body)
    assert isinstance(decoded, dict)
    return decoded


# The tree's public classes, each once (a private base such as the Retry-After one is never raised
# itself; a class under two bases is reached twice).
_TREE: list[type[HttpRefusal]] = [HttpRefusal, *_subclasses(HttpRefusal)]
REFUSALS = [
    c for c in dict.fromkeys(_TREE) if c.__module__ == http_errors.__name__ and not c.__name__.startswith("_")
]
# aiohttp's own error answers, as aiohttp lists them (not a list written here).
AIOHTTP_ERRORS = [
    c for c in _subclasses(web.HTTPError) if "status_code" in vars(c) and c is not web.HTTPMethodNotAllowed
]
# The few that aiohttp builds only with what they report.
MADE: dict[type[web.HTTPError], Callable[[], web.HTTPError]] = {
    web.HTTPRequestEntityTooLarge: lambda: web.HTTPRequestEntityTooLarge(max_size=1024, actual_size=2048),
    web.HTTPUnavailableForLegalReasons: lambda: web.HTTPUnavailableForLegalReasons(link=None),
}


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda c: c.__name__)
def test_each_refusal_answers_its_status_its_problems_and_its_headers(refusal: type[HttpRefusal]) -> None:
    exc = _refusal(refusal)
    answer = refusal_response(make_mocked_request("GET", "/v1/x", headers={"Accept-Language": "id"}), exc)
    assert (answer.status, answer.content_type) == (refusal.status, PROBLEM_JSON)
    for name, value in exc.headers().items():
        assert answer.headers[name] == value
    body = _body(answer)
    assert body["status"] == refusal.status
    assert body["errors"] == [e.to_json("id") for e in exc.errors]
    assert answer.headers["Content-Language"] == "id"


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda c: c.__name__)
def test_each_refusal_has_the_status_its_docstring_draws_and_http_defines(refusal: type[HttpRefusal]) -> None:
    status = HTTPStatus(refusal.status)  # a status HTTP itself defines
    assert issubclass(refusal, RequestRejected) == (400 <= status < 500)
    assert refusal.retriable == (status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE))
    drawn = re.search(rf"\b{refusal.__name__}\s+(\d{{3}}):", http_errors.__doc__ or "")
    if refusal not in (HttpRefusal, RequestRejected):  # the two bases stand for a range
        assert drawn is not None, f"{refusal.__name__} is missing from the tree in the docstring"
        assert int(drawn.group(1)) == refusal.status


@pytest.mark.parametrize("error", AIOHTTP_ERRORS, ids=lambda c: c.__name__)
def test_aiohttps_own_errors_keep_their_status_under_the_rule_http(error: type[web.HTTPError]) -> None:
    answer = refusal_response(make_mocked_request("GET", "/nowhere"), MADE.get(error, error)())
    assert answer.status == error.status_code
    errors = _body(answer)["errors"]
    assert isinstance(errors, list)
    assert [e["rule"] for e in errors] == ["http"]


def test_a_method_the_route_lacks_and_no_route_are_said_in_indonesian() -> None:
    request = make_mocked_request("POST", "/healthz", headers={"Accept-Language": "id-ID"})
    answer = refusal_response(request, web.HTTPMethodNotAllowed("POST", ["GET"]))
    assert answer.headers["Allow"] == "GET"  # RFC 9110 §15.5.6: a 405 says what the route allows
    lacking = _body(answer)
    assert lacking["errors"] == [
        {"channel": None, "field": None, "rule": "http", "message": "Metode tidak diizinkan", "params": {}}
    ]
    missing = _body(refusal_response(request, web.HTTPNotFound()))
    assert missing["status"] == 404


def test_an_answer_below_400_is_not_a_refusal() -> None:
    with pytest.raises(web.HTTPFound):
        refusal_response(make_mocked_request("GET", "/"), web.HTTPFound("/elsewhere"))


# The rule each refusal answers with when its raiser names none: API clients read it, so each is
# pinned here, apart from the class headers that state them.
DEFAULT_RULES = {
    "HttpRefusal": (500, "internal"),
    "RequestRejected": (400, "rejected"),
    "BadRequest": (400, "malformed_json"),
    "Unauthenticated": (401, "unauthenticated"),
    "Forbidden": (403, "forbidden"),
    "NotFound": (404, "not_found"),
    "Conflict": (409, "idempotency_key_reused"),
    "PreconditionFailed": (412, "etag_mismatch"),
    "PreconditionRequired": (428, "if_match_required"),
    "PayloadTooLarge": (413, "payload_too_large"),
    "UnsupportedMediaType": (415, "unsupported_media_type"),
    "ValidationFailed": (422, "invalid"),
    "TooManyRequests": (429, "rate_limited"),
    "ServiceUnavailable": (503, "unavailable"),
}


def test_each_refusal_keeps_its_status_and_default_rule() -> None:
    assert {c.__name__: (c.status, c.default_rule) for c in REFUSALS} == DEFAULT_RULES
