"""Refusals in the shape HTTP clients expect (RFC 9457, ``application/problem+json``), in the
language the caller reads: English or Bahasa Indonesia, chosen by ``Accept-Language``.

A refusal keeps Warta's per-field list as the extension member ``errors`` (channel, field,
stable ``rule``, message), so a client that reads only ``errors`` reads what it read before, and
one that knows RFC 9457 finds ``type``, ``title``, ``status``, ``detail`` and ``instance``.

Rules never change with the language; messages do. The English message is what the code wrote;
its Indonesian form comes from ``CATALOG``: per rule, the shapes its English messages take (a
pattern with named parts) and the Indonesian sentence built from the same parts. A message the
catalog does not know stays in English (tests/unit/test_problems.py drives every rule ingest
and the console emit through it, so none is missed silently).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import orjson
from aiohttp import web

Lang = Literal["en", "id"]
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

# Per rule, the shapes of its English messages and their Indonesian sentences.
CATALOG: Mapping[str, Sequence[_Entry]] = {
    "required": [(r"(?P<f>\S+) is required", "{f} wajib diisi"), (r"is required", "wajib diisi")],
    "unknown_field": [(r"(?P<f>\S+) is not a field of this request", "{f} bukan kolom permintaan ini")],
    "offset_required": [
        (
            r"(?P<f>\S+) must carry a UTC offset, e\.g\. (?P<e>\S+)",
            "{f} harus menyertakan selisih UTC, mis. {e}",
        )
    ],
    "type": [
        (r"the body must be a JSON object", "isi permintaan harus berupa objek JSON"),
        (r"(?P<f>\S+): (?P<m>.+)", "{f}: tipe nilai salah ({m})"),
    ],
    "max_length": [
        (
            r"(?P<p>.+) counts (?P<n>\d+) (?P<u>.+?)(?P<cap> in a caption \(text with media\))?"
            r"(?P<link> including the link appended to the text)?; the limit is (?P<l>\d+)",
            "{p} menghitung {n} {u_id}{cap_id}{link_id}; batasnya {l}",
        ),
        (
            r"(?P<p>.+) poll questions are at most (?P<l>\d+) characters; this one has (?P<n>\d+)",
            "pertanyaan polling {p} paling banyak {l} karakter; yang ini {n}",
        ),
        (r"(?P<f>\S+): (?P<m>.+)", "{f}: terlalu panjang ({m})"),
    ],
    "video_required": [
        (
            r"(?P<p>.+) posts are videos: add a video media item \((?P<t>.*)\)",
            "unggahan {p} berupa video: tambahkan satu media video ({t})",
        )
    ],
    "media_required": [
        (
            r"(?P<p>.+) has no text-only posts: add at least one media item \((?P<t>.*)\)",
            "{p} tidak menerima unggahan teks saja: tambahkan minimal satu media ({t})",
        )
    ],
    "media_count": [
        (
            r"(?P<p>.+) takes at most (?P<l>\d+) media items per post; this one has (?P<n>\d+)",
            "{p} menerima paling banyak {l} media per unggahan; yang ini {n}",
        ),
        (
            r"(?P<p>.+) takes at most (?P<l>\d+) video per post; this one has (?P<n>\d+)",
            "{p} menerima paling banyak {l} video per unggahan; yang ini {n}",
        ),
        (
            r"(?P<p>.+) takes no video per post; this one has (?P<n>\d+)",
            "{p} tidak menerima video; yang ini {n}",
        ),
    ],
    "media_size": [
        (
            r"(?P<p>.+) takes (?P<t>\S+) up to (?P<l>\d+) bytes; this item is (?P<n>\S+)",
            "{p} menerima {t} sampai {l} byte; media ini {n}",
        )
    ],
    "media_duration": [
        (
            r"(?P<p>.+) takes videos up to (?P<l>\S+) s; this one is (?P<n>\S+) s",
            "{p} menerima video sampai {l} detik; yang ini {n} detik",
        )
    ],
    "poll_unsupported": [
        (
            r"(?P<p>.+) has no polls; remove the poll for this target .*",
            'polling tidak ada di {p}; hapus polling untuk tujuan ini ("poll": null)',
        )
    ],
    "poll_with_media": [
        (
            r"(?P<p>.+) cannot post a poll and media together; remove one for this target",
            "{p} tidak bisa memuat polling dan media bersamaan; hapus salah satunya untuk tujuan ini",
        )
    ],
    "poll_duration": [
        (
            r"(?P<p>.+) polls last one of (?P<c>.+) minutes; not (?P<n>\S+)",
            "polling {p} berlangsung salah satu dari {c} menit; bukan {n}",
        ),
        (
            r"(?P<p>.+) polls last (?P<lo>\d+) to (?P<hi>\d+) minutes; not (?P<n>\S+)",
            "polling {p} berlangsung {lo} sampai {hi} menit; bukan {n}",
        ),
    ],
    "min_length": [(r"(?P<f>\S+): (?P<m>.+)", "{f}: terlalu pendek ({m})")],
    "min_value": [(r"(?P<f>\S+): (?P<m>.+)", "{f}: nilai terlalu kecil ({m})")],
    "max_value": [(r"(?P<f>\S+): (?P<m>.+)", "{f}: nilai terlalu besar ({m})")],
    "pattern": [(r"(?P<f>\S+): (?P<m>.+)", "{f}: format tidak sesuai ({m})")],
    "enum": [(r"(?P<f>\S+): (?P<m>.+)", "{f}: nilai tidak dikenal ({m})")],
    "out_of_range": [(r"(?P<f>\S+): (?P<m>.+)", "{f}: di luar rentang yang diterima ({m})")],
    "beyond_horizon": [
        (
            r"(?P<n>\w+) (?P<v>.+) is more than (?P<d>\d+) days (?P<w>ahead|ago) \(now (?P<now>.+)\)",
            "{n} {v} lebih dari {d} hari {w_id} (sekarang {now})",
        )
    ],
    "deadline_before_not_before": [
        (
            r"deadline (?P<d>.+) must be after not_before (?P<n>.+)",
            "deadline {d} harus setelah not_before {n}",
        )
    ],
    "deadline_past": [
        (
            r"deadline (?P<d>.+) has already passed \(now (?P<now>.+)\)",
            "deadline {d} sudah lewat (sekarang {now})",
        )
    ],
    "approved_in_future": [
        (
            r"approval\.approved_at (?P<a>.+) is in the future \(now (?P<now>.+)\)",
            "approval.approved_at {a} ada di masa depan (sekarang {now})",
        )
    ],
    "four_eyes": [
        (
            r"four eyes: (?P<p>.+) wrote this item and cannot also approve it; .*",
            "empat mata: {p} menulis materi ini dan tidak boleh juga menyetujuinya; "
            "approval.approved_by harus orang lain",
        ),
        (r"(?P<m>.+)", "empat mata dilanggar: {m}"),
    ],
    "url": [(r"(?P<f>\S+) must be an http\(s\) URL", "{f} harus berupa URL http(s)")],
    "https_required": [(r"(?P<f>\S+) must use https://", "{f} harus memakai https://")],
    "media_type": [
        (
            r"(?P<f>\S+) (?P<t>.+) is not an image/… or video/… MIME type",
            "{f} {t} bukan jenis MIME image/… atau video/…",
        ),
        (
            r"(?P<p>.+) accepts (?P<a>.+); this item is (?P<t>\S+)",
            "{p} menerima {a}; media ini {t}",
        ),
    ],
    "poll_options": [
        (r"(?P<f>\S+) repeats an option", "{f} mengulang sebuah pilihan"),
        (
            r"(?P<p>.+) polls take (?P<lo>\d+) to (?P<hi>\d+) options; this one has (?P<n>\d+)",
            "polling {p} memuat {lo} sampai {hi} pilihan; yang ini {n}",
        ),
        (
            r"(?P<p>.+) poll options are at most (?P<l>\d+) characters; option (?P<i>\d+) has (?P<n>\d+)",
            "pilihan polling {p} paling banyak {l} karakter; pilihan {i} memuat {n}",
        ),
    ],
    "text_or_media_required": [
        (r"content needs text or at least one media item", "content memerlukan teks atau minimal satu media"),
        (
            r"(?P<f>\S+) leaves (?P<c>\S+) with neither text nor media",
            "{f} membuat {c} tanpa teks maupun media",
        ),
    ],
    "empty_targets": [
        (r"targets must name at least one channel", "targets harus menyebut minimal satu kanal")
    ],
    "duplicate_channel": [
        (r"channel (?P<c>\S+) is targeted more than once", "kanal {c} dituju lebih dari sekali")
    ],
    "unknown_channel": [
        (r"there is no channel (?P<c>.+); known: (?P<k>.*)", "tidak ada kanal {c}; yang dikenal: {k}")
    ],
    "missing_key": [
        (
            r"missing API key: send Authorization: Bearer <key>",
            "kunci API tidak ada: kirim Authorization: Bearer <kunci>",
        )
    ],
    "malformed_key": [(r"malformed API key: keys are ASCII", "kunci API rusak: kunci berupa ASCII")],
    "unknown_key": [(r"unknown API key", "kunci API tidak dikenal")],
    "rate_limited": [
        (r"too many requests for this API key", "terlalu banyak permintaan untuk kunci API ini")
    ],
    "idempotency_key": [
        (
            r"this Idempotency-Key was used with a different body",
            "Idempotency-Key ini sudah dipakai dengan isi yang berbeda",
        )
    ],
    "not_found": [
        (r"no (?P<what>content|draft|job|dead letter|file) (?P<id>.+)", "{what_id} {id} tidak ada"),
    ],
    "unsupported_media_type": [
        (
            r"Content-Type (?P<t>.+) is not supported; send application/json",
            "Content-Type {t} tidak didukung; kirim application/json",
        ),
        (
            r"charset (?P<c>.+) is not supported; send UTF-8 JSON",
            "charset {c} tidak didukung; kirim JSON UTF-8",
        ),
    ],
    "payload_too_large": [
        (r"the body is (?P<n>\d+) bytes; the limit is (?P<l>\d+)", "isi permintaan {n} byte; batasnya {l}"),
        (r"the body is over the (?P<l>\d+) byte limit", "isi permintaan melebihi batas {l} byte"),
    ],
    "bad_request": [
        (r"the body is empty; send a JSON object", "isi permintaan kosong; kirim objek JSON"),
        (
            r"a reason is required: the audit trail records why",
            "alasan wajib diisi: jejak audit mencatat alasannya",
        ),
    ],
    "malformed_json": [(r"(?P<m>.+)", "isi permintaan bukan JSON yang valid: {m}")],
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
    " in a caption (text with media)": " dalam keterangan (teks dengan media)",
    " including the link appended to the text": " termasuk tautan yang ditambahkan ke teks",
    "characters": "karakter",
    "weighted characters": "karakter berbobot",
    "graphemes": "grafem",
    "bytes": "byte",
    "characters (emoji as UTF-8 bytes)": "karakter (emoji dihitung sebagai byte UTF-8)",
    "UTF-16 code units": "unit kode UTF-16",
    "ahead": "ke depan",
    "ago": "ke belakang",
    "content": "konten",
    "draft": "draf",
    "job": "tugas",
    "dead letter": "dead letter",
    "file": "berkas",
}
_COMPILED = {rule: [(re.compile(p, re.DOTALL), t) for p, t in entries] for rule, entries in CATALOG.items()}


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


def problem(
    status: int, errors: Sequence[Mapping[str, Any]], lang: Lang, instance: str | None = None
) -> dict[str, Any]:
    """The RFC 9457 body of a refusal, ``errors`` (channel, field, rule, message) localized."""
    localized = [{**e, "message": localize(str(e.get("rule")), str(e.get("message")), lang)} for e in errors]
    first = localized[0]["rule"] if localized else "error"
    body: dict[str, Any] = {
        "type": f"urn:warta:problem:{str(first).replace('_', '-')}",
        "title": title(status, lang),
        "status": status,
        "detail": "; ".join(str(e["message"]) for e in localized) or title(status, lang),
        "errors": localized,
    }
    if instance:
        body["instance"] = instance
    return body


def problem_response(
    request: web.Request,
    status: int,
    errors: Sequence[Mapping[str, Any]],
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
