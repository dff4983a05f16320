"""Refusals in the shape HTTP clients expect (RFC 9457, ``application/problem+json``), in the
language the caller reads: English or Bahasa Indonesia, chosen by ``Accept-Language``.

A refusal keeps Warta's per-field list as the extension member ``errors`` (channel, field,
stable ``rule``, message), so a client that reads only ``errors`` reads what it read before, and
one that knows RFC 9457 finds ``type``, ``title``, ``status``, ``detail`` and ``instance``.

Rules never change with the language; messages do. A ``FieldError`` made from the message
catalog (``shared.messages``: a key and its parameters) is rendered in the caller's language from
that catalog; nothing is parsed. Every refusal of ingest, the console and the inbox is made from
the catalog (``tests/unit/test_messages.py`` holds the code to it); an error given as a plain
mapping (a neighbour's answer passed through) is shown as it came.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from aiohttp import web

from shared.http_errors import FieldError, HttpRefusal, field_error
from shared.messages import Lang, negotiate

__all__ = [
    "PROBLEM_JSON",
    "TITLES",
    "http_error",
    "localized",
    "negotiate",
    "problem",
    "problem_response",
    "refusal_response",
    "title",
]

PROBLEM_JSON = "application/problem+json"

TITLES: Mapping[int, tuple[str, str]] = {
    400: ("Bad request", "Permintaan tidak valid"),
    401: ("Not authenticated", "Belum terautentikasi"),
    403: ("Forbidden", "Tidak diizinkan"),
    404: ("Not found", "Tidak ditemukan"),
    405: ("Method not allowed", "Metode tidak diizinkan"),
    409: ("Conflict", "Konflik"),
    412: ("Precondition failed", "Prasyarat tidak terpenuhi"),
    413: ("Payload too large", "Isi permintaan terlalu besar"),
    415: ("Unsupported media type", "Jenis media tidak didukung"),
    422: ("Validation failed", "Validasi gagal"),
    428: ("Precondition required", "Prasyarat diperlukan"),
    429: ("Too many requests", "Terlalu banyak permintaan"),
    500: ("Internal error", "Kesalahan internal"),
    502: ("Bad gateway", "Layanan tujuan gagal menjawab"),
    503: ("Service unavailable", "Layanan tidak tersedia"),
}


def title(status: int, lang: Lang) -> str:
    en, id_ = TITLES.get(status, ("Error", "Kesalahan"))
    return en if lang == "en" else id_


_HTTP_KEYS: Mapping[int, str] = {404: "http.not_found", 405: "http.method_not_allowed"}


def http_error(status: int, reason: str) -> FieldError:
    """aiohttp's own refusal (no route, a method the route lacks) as a problem of rule ``http``."""
    key = _HTTP_KEYS.get(status)
    return field_error(None, None, key) if key else field_error(None, None, "http", reason=reason)


def localized(error: FieldError | Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """One item of ``errors`` in ``lang``: from the catalog when the error carries its key."""
    if isinstance(error, FieldError):
        return error.to_json(lang)
    return dict(error)


def problem(
    status: int,
    errors: Sequence[FieldError | Mapping[str, Any]],
    lang: Lang,
    instance: str | None = None,
) -> dict[str, Any]:
    """The RFC 9457 body of a refusal, ``errors`` (channel, field, rule, message) localized."""
    localized_errors = [localized(e, lang) for e in errors]
    first = localized_errors[0]["rule"] if localized_errors else "error"
    body: dict[str, Any] = {
        "type": f"urn:warta:problem:{str(first).replace('_', '-')}",
        "title": title(status, lang),
        "status": status,
        "detail": "; ".join(str(e["message"]) for e in localized_errors) or title(status, lang),
        "errors": localized_errors,
    }
    if instance:
        body["instance"] = instance
    return body


def problem_response(
    request: web.Request,
    status: int,
    errors: Sequence[FieldError | Mapping[str, Any]],
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """The refusal as ``application/problem+json`` in the caller's language."""
    lang = negotiate(request.headers.get("Accept-Language"))
    return web.Response(
        body=orjson.dumps(problem(status, errors, lang, request.path)),
        status=status,
        content_type=PROBLEM_JSON,
        headers={**(headers or {}), "Content-Language": lang, "Vary": "Accept-Language"},
    )


def refusal_response(request: web.Request, exc: HttpRefusal | web.HTTPException) -> web.Response:
    """What a handler's refusal is answered with: an ``HttpRefusal`` with its own status, problems
    and headers (Retry-After, WWW-Authenticate); one of aiohttp's own (no such route, a method the
    route lacks) under the rule ``http``, keeping the ``Allow`` a 405 must carry (RFC 9110
    §15.5.6). aiohttp's answers below 400 (a redirect) are not refusals: they are raised again
    for aiohttp to send."""
    if isinstance(exc, HttpRefusal):
        return problem_response(request, exc.status, exc.errors, exc.headers())
    if exc.status < 400:
        raise exc
    allow = {k: v for k, v in exc.headers.items() if k == "Allow"}
    return problem_response(request, exc.status, [http_error(exc.status, exc.reason)], allow)
