"""``LaporPort`` over HTTP: LAPOR!'s integration API at the base URL and token of the settings.

    POST {base}/complaints        Bearer token; {"client_reference", "title", "content", "channel",
                                  "reported_at", "reporter", "source_url"} → 201 (or 200 for a
                                  reference it already holds) {"tracking_id", "status"}
    GET  {base}/complaints/{id}   → {"tracking_id", "status"}

A 4xx is ``LaporRefused`` (nothing was opened); a 5xx, a timeout, a broken connection or an
answer without a tracking id is ``LaporUnavailable``: whether it was opened is unknown, and the
retry with the same client reference settles it (see ``lapor_port``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from services.inbox.errors import LaporRefused, LaporUnavailable
from services.inbox.lapor_port import LaporComplaint, LaporReceipt

MAX_TRACKING_ID = 200  # complaint_events.ComplaintChanged.tracking_id

TIMEOUT_S = 10.0


class HttpLapor:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._token = token

    async def submit(self, complaint: LaporComplaint) -> LaporReceipt:
        body = {
            "client_reference": complaint.client_ref,
            "title": complaint.title,
            "content": complaint.text,
            "channel": complaint.channel,
            "reported_at": complaint.reported_at.isoformat(),
            "reporter": complaint.reporter,
            "source_url": complaint.source_url,
        }
        return await self._call("POST", "/complaints", body)

    async def status(self, tracking_id: str) -> LaporReceipt:
        return await self._call("GET", f"/complaints/{quote(tracking_id, safe='')}", None)

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> LaporReceipt:
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with self._session.request(
                method,
                self._base + path,
                data=orjson.dumps(body) if body is not None else None,
                headers={**headers, "Content-Type": "application/json"} if body is not None else headers,
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise LaporUnavailable(f"LAPOR! could not be reached: {type(exc).__name__}") from exc
        if 400 <= status < 500:
            raise LaporRefused(f"LAPOR! refused it ({status}): {_message(raw)}", status)
        if status >= 300:
            raise LaporUnavailable(f"LAPOR! failed ({status})")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise LaporUnavailable("LAPOR! answered without a tracking id") from exc
        tracking = data.get("tracking_id") if isinstance(data, dict) else None
        # Only a tracking id LAPOR! really gave marks a complaint forwarded: null, "", a number's
        # text or an object's repr would be kept as one and shown to the citizen.
        if not isinstance(tracking, str) or not 0 < len(tracking.strip()) <= MAX_TRACKING_ID:
            raise LaporUnavailable(f"LAPOR! answered without a usable tracking id: {str(tracking)[:80]!r}")
        return LaporReceipt(tracking_id=tracking.strip(), status=str(data.get("status") or ""))


def _message(raw: bytes) -> str:
    """LAPOR!'s own message, shortened: it is kept on the record and shown to operators."""
    try:
        data = orjson.loads(raw)
        text = str(data.get("error") or data) if isinstance(data, dict) else str(data)
        if isinstance(data, dict) and isinstance(data.get("fields"), list):
            text += f": {', '.join(str(f) for f in data['fields'])}"
    except orjson.JSONDecodeError:
        text = raw.decode("utf-8", "replace")
    return text[:300]


class UnconfiguredLapor:
    """The port before the agency's registration: every forward is refused, saying what is missing."""

    async def submit(self, complaint: LaporComplaint) -> LaporReceipt:
        raise _unconfigured()

    async def status(self, tracking_id: str) -> LaporReceipt:
        raise _unconfigured()


def _unconfigured() -> LaporRefused:
    return LaporRefused(
        "LAPOR! integration is not configured: set WARTA_LAPOR_BASE_URL and WARTA_LAPOR_TOKEN"
        " from the agency's registration",
        0,
    )


def lapor_port(session: aiohttp.ClientSession, base_url: str, token: str) -> HttpLapor | UnconfiguredLapor:
    return HttpLapor(session, base_url, token) if base_url and token else UnconfiguredLapor()
