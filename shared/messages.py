"""Every sentence a refusal of Warta's HTTP services says, in English and Bahasa Indonesia, kept in
one catalog keyed by the message's rule code.

A message is a key and its parameters, never English text to be parsed back: the code that
finds a problem calls ``field_error(channel, field, key, **params)`` (``shared.http_errors``)
and the renderer writes it in the caller's language. A key is a stable ``rule`` code, or
``rule.variant`` where one rule is said in more than one way (``max_length.poll_question``); the
part before the dot is the ``rule`` a client reads.

Templates are ``str.format`` strings over the parameters, with two additions the catalog needs:

- ``{flag:text}`` writes ``text`` when the boolean parameter ``flag`` is true, and nothing
  otherwise (an optional clause, such as "in a caption");
- ``{name!w}`` writes a word Warta chose (a unit, say) in the caller's language, from ``WORDS``.

``render`` never raises: a missing parameter shows as ``{name}`` (a missing flag is false), a
format spec that does not fit its value writes the value plainly, so a refusal always reaches
its caller.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.messages_services import SERVICE_MESSAGES, SERVICE_WORDS

Lang = Literal["en", "id"]
Param = str | int | float | bool | None

# key -> (English, Indonesian): a request's and a channel's rules (ingest); the console's, the
# inbox's and the analytics API's own sentences are in ``shared.messages_services``.
_REQUEST_MESSAGES: Mapping[str, tuple[str, str]] = {
    # --- a channel's capability rules (shared.capability_rules.Rule) ---------------------------
    "video_required": (
        "{platform} posts are videos: add a video media item ({types})",
        "unggahan {platform} berupa video: tambahkan satu media video ({types})",
    ),
    "media_required": (
        "{platform} has no text-only posts: add at least one media item ({types})",
        "{platform} tidak menerima unggahan teks saja: tambahkan minimal satu media ({types})",
    ),
    "media_count": (
        "{platform} takes at most {limit} media items per post; this one has {count}",
        "{platform} menerima paling banyak {limit} media per unggahan; yang ini {count}",
    ),
    "media_count.videos": (
        "{platform} takes at most {limit} video per post; this one has {count}",
        "{platform} menerima paling banyak {limit} video per unggahan; yang ini {count}",
    ),
    "media_count.no_video": (
        "{platform} takes no video per post; this one has {count}",
        "{platform} tidak menerima video; yang ini {count}",
    ),
    "media_type": (
        "{platform} accepts {accepted}; this item is {type}",
        "{platform} menerima {accepted}; media ini {type}",
    ),
    "media_type.none": (
        "{platform} accepts no media; this item is {type}",
        "{platform} tidak menerima media; media ini {type}",
    ),
    "media_type.not_mime": (
        "{field} {type!r} is not an image/… or video/… MIME type",
        "{field} {type!r} bukan jenis MIME image/… atau video/…",
    ),
    "media_size": (
        "{platform} takes {type} up to {limit} bytes; this item is {size}",
        "{platform} menerima {type} sampai {limit} byte; media ini {size}",
    ),
    "media_duration": (
        "{platform} takes videos up to {limit:g} s; this one is {seconds:g} s",
        "{platform} menerima video sampai {limit:g} detik; yang ini {seconds:g} detik",
    ),
    "max_length": (
        "{platform} counts {count} {unit!w}{in_caption: in a caption (text with media)}"
        "{link_appended: including the link appended to the text}; the limit is {limit}",
        "{platform} menghitung {count} {unit!w}{in_caption: dalam keterangan (teks dengan media)}"
        "{link_appended: termasuk tautan yang ditambahkan ke teks}; batasnya {limit}",
    ),
    "max_length.poll_question": (
        "{platform} poll questions are at most {limit} characters; this one has {count}",
        "pertanyaan polling {platform} paling banyak {limit} karakter; yang ini {count}",
    ),
    "max_length.idempotency_key": (
        "Idempotency-Key is {count} characters; the limit is {limit}",
        "Idempotency-Key memuat {count} karakter; batasnya {limit}",
    ),
    "max_length.schema": ("{field}: {detail}", "{field}: terlalu panjang ({detail})"),
    "hashtag_count": (
        "{platform} takes at most {limit} hashtags in a post's text; this one has {count}",
        "{platform} menerima paling banyak {limit} tagar dalam teks unggahan; yang ini memuat {count}",
    ),
    "mention_count": (
        "{platform} takes at most {limit} @mentions in a post's text; this one has {count}",
        "{platform} menerima paling banyak {limit} @sebutan dalam teks unggahan; yang ini memuat {count}",
    ),
    "poll_unsupported": (
        '{platform} has no polls; remove the poll for this target ("poll": null)',
        'polling tidak ada di {platform}; hapus polling untuk tujuan ini ("poll": null)',
    ),
    "poll_options": (
        "{platform} polls take {min} to {max} options; this one has {count}",
        "polling {platform} memuat {min} sampai {max} pilihan; yang ini {count}",
    ),
    "poll_options.length": (
        "{platform} poll options are at most {limit} characters; option {option} has {count}",
        "pilihan polling {platform} paling banyak {limit} karakter; pilihan {option} memuat {count}",
    ),
    "poll_options.repeated": ("{field} repeats an option", "{field} mengulang sebuah pilihan"),
    "poll_duration": (
        "{platform} polls last one of {choices} minutes; not {minutes}",
        "polling {platform} berlangsung salah satu dari {choices} menit; bukan {minutes}",
    ),
    "poll_duration.range": (
        "{platform} polls last {min} to {max} minutes; not {minutes}",
        "polling {platform} berlangsung {min} sampai {max} menit; bukan {minutes}",
    ),
    "poll_with_media": (
        "{platform} cannot post a poll and media together; remove one for this target",
        "{platform} tidak bisa memuat polling dan media bersamaan; hapus salah satunya untuk tujuan ini",
    ),
    # --- a submission's own rules (services.ingest.validation) ---------------------------------
    "beyond_horizon": (
        "{field} {value} is more than {days} days ahead (now {now})",
        "{field} {value} lebih dari {days} hari ke depan (sekarang {now})",
    ),
    "beyond_horizon.past": (
        "{field} {value} is more than {days} days ago (now {now})",
        "{field} {value} lebih dari {days} hari yang lalu (sekarang {now})",
    ),
    "deadline_before_not_before": (
        "deadline {deadline} must be after not_before {not_before}",
        "deadline {deadline} harus setelah not_before {not_before}",
    ),
    "deadline_past": (
        "deadline {deadline} has already passed (now {now})",
        "deadline {deadline} sudah lewat (sekarang {now})",
    ),
    "approved_in_future": (
        "approval.approved_at {approved_at} is in the future (now {now})",
        "approval.approved_at {approved_at} ada di masa depan (sekarang {now})",
    ),
    "four_eyes": (
        "four eyes: {author} wrote this item and cannot also approve it; "
        "approval.approved_by must be another person",
        "empat mata: {author} menulis materi ini dan tidak boleh juga menyetujuinya; "
        "approval.approved_by harus orang lain",
    ),
    "url": ("{field} must be an http(s) URL with a host", "{field} harus URL http(s) dengan host"),
    "https_required": ("{field} must use https://", "{field} harus memakai https://"),
    "text_or_media_required": (
        "content needs text or at least one media item",
        "content memerlukan teks atau minimal satu media",
    ),
    "text_or_media_required.blank": (
        "{field} holds only spaces or invisible characters and there is no media: nothing to post",
        "{field} hanya berisi spasi atau karakter tak terlihat dan tidak ada media: tidak ada yang diunggah",
    ),
    "text_or_media_required.target": (
        "{field} leaves {channel} with neither text nor media",
        "{field} membuat {channel} tanpa teks maupun media",
    ),
    "empty_targets": (
        "targets must name at least one channel",
        "targets harus menyebut minimal satu kanal",
    ),
    "duplicate_channel": (
        "channel {channel} is targeted more than once",
        "kanal {channel} dituju lebih dari sekali",
    ),
    "unknown_channel": (
        "there is no channel {channel!r}; known: {known}",
        "tidak ada kanal {channel!r}; yang dikenal: {known}",
    ),
    "unknown_channel.short": ("there is no channel {channel!r}", "tidak ada kanal {channel!r}"),
    "out_of_range": ("{field} {detail}", "{field} di luar rentang yang diterima ({detail})"),
    # --- the request's schema (shared.field_errors) and query parameters -----------------------
    "required": ("{field} is required", "{field} wajib diisi"),
    "unknown_field": ("{field} is not a field of this request", "{field} bukan kolom permintaan ini"),
    "offset_required": (
        "{field} must carry a UTC offset, e.g. 2026-11-27T08:00:00+08:00",
        "{field} harus menyertakan selisih UTC, mis. 2026-11-27T08:00:00+08:00",
    ),
    "offset_required.short": (
        "{field} must carry a UTC offset",
        "{field} harus menyertakan selisih UTC",
    ),
    # The inbox says it under malformed_json (the body it parsed is not an object): one wording.
    "type.object": SERVICE_MESSAGES["malformed_json.not_object"],
    "type.instant": (
        "{field} must be an ISO 8601 date-time",
        "{field} harus berupa tanggal-waktu ISO 8601",
    ),
    "type.cursor": (
        "cursor must be the value a previous page returned",
        "cursor harus berupa nilai yang diberikan halaman sebelumnya",
    ),
    "type.idempotency_key": (
        "Idempotency-Key must be UTF-8 text",
        "Idempotency-Key harus berupa teks UTF-8",
    ),
    "type.schema": ("{field}: {detail}", "{field}: tipe nilai salah ({detail})"),
    "min_length.schema": ("{field}: {detail}", "{field}: terlalu pendek ({detail})"),
    "min_value.schema": ("{field}: {detail}", "{field}: nilai terlalu kecil ({detail})"),
    "max_value.schema": ("{field}: {detail}", "{field}: nilai terlalu besar ({detail})"),
    "pattern.schema": ("{field}: {detail}", "{field}: format tidak sesuai ({detail})"),
    "enum.schema": ("{field}: {detail}", "{field}: nilai tidak dikenal ({detail})"),
    # Any other schema error pydantic reports: its own sentence, which has no Indonesian form.
    "schema": ("{field}: {detail}", "{field}: isi tidak valid ({detail})"),
    "schema.body": ("{detail}", "isi permintaan tidak valid ({detail})"),
    # --- ingest's routes (services.ingest) ------------------------------------------------------
    "payload_too_large.over": (
        "the body is over the {limit} byte limit",
        "isi permintaan melebihi batas {limit} byte",
    ),
    "payload_too_large.event": (
        "with its content copied for each of its {channels} channels, this item would be a "
        "{size} byte event; the limit is {limit}: send shorter content, or fewer channels per item",
        "dengan kontennya disalin untuk tiap {channels} kanalnya, item ini menjadi event {size} "
        "byte; batasnya {limit}: kirim konten yang lebih pendek, atau lebih sedikit kanal per item",
    ),
    "internal": ("internal error; it has been logged", "kesalahan internal; sudah dicatat di log"),
    "idempotency_key": (
        "this Idempotency-Key was used with a different body",
        "Idempotency-Key ini sudah dipakai dengan isi yang berbeda",
    ),
    "not_found.content": ("no content {id!r}", "konten {id!r} tidak ada"),
    "not_found.draft": ("no draft {id!r}", "draf {id!r} tidak ada"),
    "enum.draft_state": (
        "state must be {awaiting!r} or {approved!r}",
        "state harus {awaiting!r} atau {approved!r}",
    ),
    "type.next_cursor": (
        "cursor must be the next_cursor a previous page returned",
        "cursor harus berupa next_cursor yang diberikan halaman sebelumnya",
    ),
    "unknown_field.query": (
        "{field!r} is not a query parameter here",
        "{field!r} bukan parameter kueri di sini",
    ),
    "author_mismatch": (
        "a draft's author is its editor: {person!r}",
        "penulis draf adalah editornya: {person!r}",
    ),
    "already_approved": (
        "draft {draft_id!r} was already approved by {approved_by!r} at {at} (content {content_id})",
        "draf {draft_id!r} sudah disetujui oleh {approved_by!r} pada {at} (konten {content_id})",
    ),
    "if_match_required": (
        "approving needs If-Match with the ETag of the draft you read (GET /v1/drafts/{draft_id}); "
        "it binds your approval to that content",
        "persetujuan memerlukan If-Match berisi ETag draf yang Anda baca (GET /v1/drafts/{draft_id}); "
        "itu mengikat persetujuan Anda pada konten tersebut",
    ),
    "etag_mismatch": (
        "If-Match does not name this draft's content; it is now {etag}: read it again",
        "If-Match tidak menyebut konten draf ini; kini {etag}: baca lagi",
    ),
    "rate_limited": (
        "too many requests for this API key",
        "terlalu banyak permintaan untuk kunci API ini",
    ),
    "unavailable.not_acknowledged": (
        "the broker did not acknowledge in time, so this is not accepted yet; retry with the same "
        "Idempotency-Key, which never stores an item twice",
        "broker tidak mengonfirmasi tepat waktu, jadi ini belum diterima; coba lagi dengan "
        "Idempotency-Key yang sama, yang tidak pernah menyimpan materi dua kali",
    ),
    "unavailable.not_read": (
        "the broker could not say how far the drafts' log goes, so this answer might miss an "
        "approval given through another ingest instance; retry after Retry-After",
        "broker tidak dapat menyebut sejauh mana log draf, jadi jawaban ini bisa melewatkan "
        "persetujuan yang diberikan melalui instans ingest lain; coba lagi setelah Retry-After",
    ),
    # --- API keys and roles (shared.http_auth) -------------------------------------------------
    "missing_key": (
        "missing API key: send Authorization: Bearer <key>",
        "kunci API tidak ada: kirim Authorization: Bearer <kunci>",
    ),
    "malformed_key": ("malformed API key: keys are ASCII", "kunci API rusak: kunci berupa ASCII"),
    "unknown_key": ("unknown API key", "kunci API tidak dikenal"),
    "role": (
        "{person} holds the {role} role; only {allowed} may {action!w}",
        "{person} berperan {role}; hanya {allowed} yang boleh {action!w}",
    ),
    "four_eyes.draft": (
        "four eyes: {person} wrote this draft and cannot approve it; another approver must",
        "empat mata: {person} menulis draf ini dan tidak boleh menyetujuinya; penyetuju lain yang harus",
    ),
    "four_eyes.author": (
        "four eyes: {person} is the author and cannot also approve or send it as approved; "
        "another person must approve",
        "empat mata: {person} adalah penulisnya dan tidak boleh juga menyetujui atau mengirimnya sebagai "
        "disetujui; orang lain yang harus menyetujui",
    ),
    "channel_forbidden": (
        "{person}'s key may not act on channel {channel}",
        "kunci {person} tidak boleh bertindak pada kanal {channel}",
    ),
    "approver_mismatch": (
        "this key belongs to {person} but approval.approved_by is {approved_by}: "
        "a pre-approved item must be sent with its approver's own key",
        "kunci ini milik {person} tetapi approval.approved_by adalah {approved_by}: "
        "materi yang sudah disetujui harus dikirim dengan kunci penyetujunya sendiri",
    ),
    # --- the body as bytes (shared.http_errors.parse_json_body) --------------------------------
    "unsupported_media_type": (
        "Content-Type {type} is not supported; send application/json",
        "Content-Type {type} tidak didukung; kirim application/json",
    ),
    "unsupported_media_type.charset": (
        "charset {charset} is not supported; send UTF-8 JSON",
        "charset {charset} tidak didukung; kirim JSON UTF-8",
    ),
    "payload_too_large": (
        "the body is {size} bytes; the limit is {limit}",
        "isi permintaan {size} byte; batasnya {limit}",
    ),
    "malformed_json": (
        "malformed JSON at line {line}, column {column} (byte {byte}): {detail}",
        "isi permintaan bukan JSON yang valid di baris {line}, kolom {column} (byte {byte}): {detail}",
    ),
    "malformed_json.empty": (
        "the body is empty; send a JSON object",
        "isi permintaan kosong; kirim objek JSON",
    ),
}

CATALOG: Mapping[str, tuple[str, str]] = {**_REQUEST_MESSAGES, **SERVICE_MESSAGES}

# Words a message carries as a parameter (``{unit!w}``): English -> Indonesian.
_REQUEST_WORDS: Mapping[str, str] = {
    "characters": "karakter",
    "weighted characters": "karakter berbobot",
    "graphemes": "grafem",
    "bytes": "byte",
    "characters (emoji as UTF-8 bytes)": "karakter (emoji dihitung sebagai byte UTF-8)",
    "UTF-16 code units": "unit kode UTF-16",
    # what a role may do (shared.http_auth)
    "submit approved content": "mengirim konten yang sudah disetujui",
    "submit drafts": "mengirim draf",
    "approve drafts": "menyetujui draf",
    "withdraw content": "menarik konten",
    "pause channels": "menjeda kanal",
    "resume channels": "melanjutkan kanal",
    "read": "membaca",
}
WORDS: Mapping[str, str] = {**_REQUEST_WORDS, **SERVICE_WORDS}


def rule_of(key: str) -> str:
    """The stable rule code a key belongs to: ``max_length.poll_question`` -> ``max_length``."""
    return key.partition(".")[0]


class _Formatter(string.Formatter):
    """``str.format`` that never raises on a parameter, with ``!w`` and ``{flag:text}``."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        return kwargs[key] if isinstance(key, str) and key in kwargs else _Missing(str(key))

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if isinstance(value, _Missing):
            return value
        if conversion == "w":
            return WORDS.get(str(value), str(value)) if self.lang == "id" else str(value)
        if conversion == "r":
            return repr(value)
        return str(value) if conversion == "s" else value

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, _Missing):
            # An absent flag is false; any other absent parameter stays visible by name.
            return "" if format_spec else "{" + value.name + "}"
        if isinstance(value, bool):
            return format_spec if value else ""
        try:
            return format(value, format_spec)
        except (TypeError, ValueError):
            return str(value)


class _Missing:
    def __init__(self, name: str) -> None:
        self.name = name


def template(key: str, lang: Lang) -> str:
    """The template of ``key`` in ``lang``; an unknown key falls back to its rule's template."""
    entry = CATALOG.get(key) or CATALOG.get(rule_of(key)) or ("{detail}", "{detail}")
    return entry[0] if lang == "en" else entry[1]


def render(key: str, params: Mapping[str, Param], lang: Lang = "en") -> str:
    """The message ``key`` says with ``params``, in ``lang``; never raises."""
    return _Formatter(lang).vformat(template(key, lang), (), params)


@dataclass(frozen=True)
class Said:
    """A message as its catalog key and parameters: what an error raised far from the HTTP
    boundary carries, so the boundary renders it in the caller's language. ``str()`` is English."""

    key: str
    params: Mapping[str, Param] = field(default_factory=dict)

    @property
    def rule(self) -> str:
        return rule_of(self.key)

    def __str__(self) -> str:
        return render(self.key, self.params)

    def in_(self, lang: Lang) -> str:
        return render(self.key, self.params, lang)


def said(key: str, /, **params: Param) -> Said:
    """The message ``key`` of the catalog with ``params``."""
    return Said(key, params)


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
