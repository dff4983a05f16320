"""Every way Warta's HTTP services (ingest, the console, the inbox) say no, and the one body shape
every refusal takes.

Errors (each carries ``status``, a list of ``FieldError`` and ``to_body()``)::

    HttpRefusal                    anything these services answer with an error status
    ├── RequestRejected            the request can't be accepted as sent (4xx); resending it unchanged won't help
    │   ├── BadRequest             400: the body is not JSON (the message gives line and column)
    │   ├── Unauthenticated        401: no API key, or a key we don't know
    │   ├── Forbidden              403: the key's role or channels don't allow this, or four eyes is broken
    │   ├── NotFound               404: no such content, draft or route
    │   ├── Conflict               409: an Idempotency-Key reused with a different body, a draft already approved
    │   ├── PreconditionFailed     412: If-Match names content other than the draft's (it is not what you read)
    │   ├── PayloadTooLarge        413: the body is over the size limit
    │   ├── UnsupportedMediaType   415: the body is not application/json
    │   ├── ValidationFailed       422: JSON that breaks the request schema or a channel's rules (all of them)
    │   ├── PreconditionRequired   428: an approval without If-Match: the draft's ETag it approves
    │   └── TooManyRequests        429: this key's rate limit; ``retry_after`` seconds
    └── ServiceUnavailable         503: the broker did not acknowledge; retry with the same Idempotency-Key

Every one answers RFC 9457 problem details (``shared.problems``: ``application/problem+json``,
in English or Bahasa Indonesia by ``Accept-Language``) whose extension member
``errors`` is ``[{"channel", "field", "rule", "message"}]``: ``channel`` is the
target channel a problem belongs to (or null), ``field`` a dotted path into the request
(``targets[1].content.poll.options``; null when the problem is not about one field), ``rule`` a
stable machine name and ``message`` a sentence for the person who has to fix it. A message made
from the catalog (``shared.messages``, by ``field_error``) also carries ``params``, the numbers
and names it states (``{"platform": "X", "count": 301, "limit": 280}``), so a client can
render its own sentence; the service renders it in the caller's language.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson

from shared.messages import Lang, Param, Said, render, rule_of


@dataclass(frozen=True)
class FieldError:
    """One problem. ``key`` and ``params`` are set when the message comes from the catalog; the
    English ``message`` is then their rendering, and equality ignores them (it follows from them)."""

    channel: str | None
    field: str | None
    rule: str
    message: str
    params: Mapping[str, Param] | None = dataclasses.field(default=None, compare=False)
    key: str | None = dataclasses.field(default=None, compare=False)

    def to_json(self, lang: Lang = "en") -> dict[str, Any]:
        message = self.message
        if self.key is not None and lang != "en":
            message = render(self.key, self.params or {}, lang)
        out: dict[str, Any] = {
            "channel": self.channel,
            "field": self.field,
            "rule": self.rule,
            "message": message,
        }
        if self.params is not None:
            out["params"] = dict(self.params)
        return out


def field_error(channel: str | None, field: str | None, key: str, /, **params: Param) -> FieldError:
    """The problem ``key`` of the catalog (``shared.messages``) with its parameters; the rule is the
    key's part before the dot."""
    return FieldError(channel, field, rule_of(key), render(key, params), params, key)


def said_error(channel: str | None, field: str | None, message: Said) -> FieldError:
    """The problem a ``Said`` (a catalog key and its parameters, raised by a pure core) names."""
    return field_error(channel, field, message.key, **message.params)


class HttpRefusal(Exception):
    """Base of the HTTP APIs' refusals (ingest, console, inbox): one message (best a ``Said``, from
    the catalog, which every caller reads in its language) or a list of ``FieldError``.

    A subclass states its status and the rule of a bare message in its header,
    ``class NotFound(RequestRejected, status=404, rule="not_found")``: one row per refusal."""

    status: ClassVar[int] = 500
    default_rule: ClassVar[str] = "internal"
    retriable: ClassVar[bool] = False

    def __init_subclass__(cls, *, status: int | None = None, rule: str | None = None, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if status is not None:
            cls.status = status
        if rule is not None:
            cls.default_rule = rule

    def __init__(
        self,
        message: str | Said | Sequence[FieldError],
        *,
        field: str | None = None,
        channel: str | None = None,
        rule: str | None = None,
    ) -> None:
        if isinstance(message, Said):
            self.errors: tuple[FieldError, ...] = (said_error(channel, field, message),)
        elif isinstance(message, str):
            self.errors = (
                FieldError(channel=channel, field=field, rule=rule or self.default_rule, message=message),
            )
        else:
            self.errors = tuple(message)
        super().__init__("; ".join(e.message for e in self.errors))

    def to_body(self) -> dict[str, list[dict[str, Any]]]:
        return {"errors": [e.to_json() for e in self.errors]}

    def headers(self) -> dict[str, str]:
        """Response headers the status calls for (Retry-After, WWW-Authenticate)."""
        return {}


# The tree of the module docstring, one row each (what each means is said there).
class RequestRejected(HttpRefusal, status=400, rule="rejected"): ...


class BadRequest(RequestRejected, status=400, rule="malformed_json"): ...


class Unauthenticated(RequestRejected, status=401, rule="unauthenticated"):
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="warta"'}


class Forbidden(RequestRejected, status=403, rule="forbidden"): ...


class NotFound(RequestRejected, status=404, rule="not_found"): ...


class Conflict(RequestRejected, status=409, rule="idempotency_key_reused"): ...


class PreconditionFailed(RequestRejected, status=412, rule="etag_mismatch"): ...


class PreconditionRequired(RequestRejected, status=428, rule="if_match_required"): ...


class PayloadTooLarge(RequestRejected, status=413, rule="payload_too_large"): ...


class UnsupportedMediaType(RequestRejected, status=415, rule="unsupported_media_type"): ...


class ValidationFailed(RequestRejected, status=422, rule="invalid"): ...


class _RetryAfter(HttpRefusal):
    """A refusal that says when to come back, in seconds (Retry-After takes whole seconds)."""

    retriable = True

    def __init__(
        self, message: str | Said | Sequence[FieldError], *, retry_after: float, **kw: str | None
    ) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))}


class TooManyRequests(_RetryAfter, RequestRejected, status=429, rule="rate_limited"): ...


class ServiceUnavailable(_RetryAfter, status=503, rule="unavailable"): ...


_JSON_TYPES = ("application/json",)


def parse_json_body(raw: bytes, content_type: str | None, max_bytes: int) -> object:
    """Decode a request body, or raise 415 (not JSON), 413 (too large) or 400 (malformed).

    ``content_type`` is the raw header; parameters are allowed but the charset, if given, must
    be UTF-8 (RFC 8259 §8.1). The result may be any JSON value: the caller checks its shape.
    """
    media_type, _, params = (content_type or "").partition(";")
    media_type = media_type.strip().lower()
    if media_type not in _JSON_TYPES and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        shown = media_type or "none"
        raise UnsupportedMediaType([field_error(None, None, "unsupported_media_type", type=shown)])
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            charset = value.strip()
            raise UnsupportedMediaType(
                [field_error(None, None, "unsupported_media_type.charset", charset=charset)]
            )
    if len(raw) > max_bytes:
        raise PayloadTooLarge([field_error(None, None, "payload_too_large", size=len(raw), limit=max_bytes)])
    if not raw.strip():
        raise BadRequest([field_error(None, None, "malformed_json.empty")])
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        where = {"line": exc.lineno, "column": exc.colno, "byte": exc.pos}
        raise BadRequest([field_error(None, None, "malformed_json", **where, detail=exc.msg)]) from exc
