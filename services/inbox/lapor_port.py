"""The port to SP4N-LAPOR!'s integration API: plain data in, a receipt or a typed error out.

LAPOR! offers agencies an integration API (blog.lapor.go.id/integrasi) whose endpoint and
credentials are given on the agency's registration with the KemenPANRB/LAPOR! team; it is not
public. ``lapor_http.HttpLapor`` speaks the contract below, which the sandbox's fake
(``sandbox/lapor.py``) implements: check its paths and fields against the documentation the
agency receives before turning it on.

``client_ref`` is Warta's id of the complaint, sent with every submission: LAPOR! answers a
second submission with the same reference with the first one's tracking id, so a forward
retried after a timeout or a crash never opens a second complaint.

Errors (``services.inbox.errors``): ``LaporRefused`` (4xx: the token, the body),
``LaporUnavailable`` (5xx, a timeout, no connection; ``retriable``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class LaporComplaint:
    client_ref: str
    title: str
    text: str
    channel: str
    reported_at: datetime  # when the citizen wrote
    reporter: str  # the name or handle the platform shows; never more than the citizen published
    source_url: str | None = None


@dataclass(frozen=True)
class LaporReceipt:
    tracking_id: str
    status: str


class LaporPort(Protocol):
    async def submit(self, complaint: LaporComplaint) -> LaporReceipt:
        """Hand the complaint to LAPOR!; the same ``client_ref`` again returns the same receipt."""
        ...

    async def status(self, tracking_id: str) -> LaporReceipt:
        """Where LAPOR! says the complaint stands."""
        ...
