"""Refusals in the shape HTTP clients expect (RFC 9457, ``application/problem+json``), in the
language the caller reads: English or Bahasa Indonesia, chosen by ``Accept-Language``.

A refusal keeps Warta's per-field list as the extension member ``errors`` (channel, field,
stable ``rule``, message), so a client that reads only ``errors`` reads what it read before, and
one that knows RFC 9457 finds ``type``, ``title``, ``status``, ``detail`` and ``instance``.

Rules never change with the language; messages do. A ``FieldError`` made from the message
catalog (``shared.messages``: a key and its parameters) is rendered in the caller's language from
that catalog; nothing is parsed. For messages still written as plain English (the console's and
the inbox's own refusals), ``FALLBACK`` holds per rule the shapes those
messages take (a pattern with named parts) and the Indonesian sentence built from the same parts;
a message it does not know stays in English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from aiohttp import web

from shared.http_errors import FieldError
from shared.messages import Lang

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
    503: ("Service unavailable", "Layanan tidak tersedia"),
}

_Entry = tuple[str, str]  # (English pattern with named groups, Indonesian template)

# Per rule, the shapes of its plain English messages and their Indonesian sentences.
FALLBACK: Mapping[str, Sequence[_Entry]] = {
    "required": [
        (r"(?P<f>\S+) is required, e\.g\. (?P<e>\S+)", "{f} wajib diisi, mis. {e}"),
        (r"(?P<f>\S+) is required", "{f} wajib diisi"),
        (r"is required", "wajib diisi"),
    ],
    "type": [
        (r"the body must be a JSON object", "isi permintaan harus berupa objek JSON"),
        (r"(?P<f>\S+): (?P<m>.+)", "{f}: tipe nilai salah ({m})"),
    ],
    "out_of_range": [(r"(?P<f>\S+): (?P<m>.+)", "{f}: di luar rentang yang diterima ({m})")],
    "not_found": [
        (r"no (?P<what>content|draft|job|dead letter|file) (?P<id>.+)", "{what_id} {id} tidak ada"),
    ],
    "bad_request": [
        (
            r"a reason is required: the audit trail records why",
            "alasan wajib diisi: jejak audit mencatat alasannya",
        ),
    ],
    "cursor": [
        (
            r"cursor must be a next_cursor this endpoint returned",
            "cursor harus berupa next_cursor yang diberikan endpoint ini",
        ),
    ],
    "unavailable": [
        (
            r"the broker did not acknowledge; nothing was done",
            "broker tidak mengonfirmasi; tidak ada yang dilakukan",
        ),
        (r"no offsets read from the broker yet", "offset belum terbaca dari broker"),
        (r"ingest did not answer: (?P<e>.+)", "ingest tidak menjawab: {e}"),
        (r"(?P<m>.+)", "layanan sementara tidak tersedia; coba lagi dengan Idempotency-Key yang sama ({m})"),
    ],
    "internal": [
        (r"internal error; it has been logged", "kesalahan internal; sudah dicatat di log"),
    ],
    "http": [
        (r"Not Found", "Tidak ditemukan"),
        (r"Method Not Allowed", "Metode tidak diizinkan"),
        (r"(?P<m>.+)", "kesalahan HTTP: {m}"),
    ],
}

_WORDS_ID = {
    "content": "konten",
    "draft": "draf",
    "job": "tugas",
    "dead letter": "dead letter",
    "file": "berkas",
}
_COMPILED = {rule: [(re.compile(p, re.DOTALL), t) for p, t in entries] for rule, entries in FALLBACK.items()}


def negotiate(accept_language: str | None) -> Lang:
    """The caller's language: Indonesian when ``Accept-Language`` ranks ``id`` (or ``in``, its
    old code) above English, else English (RFC 9110 §12.5.4 quality values)."""
    best: tuple[float, Lang] = (0.0, "en")
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("id", "in", "en"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        lang: Lang = "en" if primary == "en" else "id"
        if q > best[0]:
            best = (q, lang)
    return best[1]


def localize(rule: str, message: str, lang: Lang) -> str:
    """``message`` (English, as the code wrote it) in ``lang``."""
    if lang == "en":
        return message
    for pattern, template in _COMPILED.get(rule, ()):
        match = pattern.fullmatch(message)
        if match is None:
            continue
        parts: dict[str, Any] = dict(match.groupdict())
        parts.update({f"{k}_id": _WORDS_ID.get(v, v) if v else "" for k, v in match.groupdict().items()})
        return template.format(**parts)
    return message


def title(status: int, lang: Lang) -> str:
    en, id_ = TITLES.get(status, ("Error", "Kesalahan"))
    return en if lang == "en" else id_


def localized(error: FieldError | Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """One item of ``errors`` in ``lang``: from the catalog when the error carries its key, else
    through the fallback patterns."""
    if isinstance(error, FieldError):
        if error.key is not None:
            return error.to_json(lang)
        error = error.to_json()
    return {**error, "message": localize(str(error.get("rule")), str(error.get("message")), lang)}


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
