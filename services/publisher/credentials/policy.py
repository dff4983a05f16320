"""When to refresh an access token: pure, ``now`` passed in.

The lead time scales with the token's own life (from ``expires_in``, never a hard-coded
lifetime): a fifth of it, at most ten minutes, so a 2-hour token is refreshed 10 minutes ahead
and a 20-second sandbox token 4 seconds ahead. A refresh that fails temporarily is tried again
after ``RETRY_AFTER`` while the old token still works.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.credentials.record import CredentialRecord
from shared.credentials.record import expires_at as expires_at  # named here for the refresher

MAX_LEAD = timedelta(minutes=10)
MIN_LEAD = timedelta(seconds=1)
RETRY_AFTER = timedelta(seconds=5)


def lead(record: CredentialRecord) -> timedelta:
    if record.expires_at is None or record.issued_at is None:
        return MAX_LEAD
    life = record.expires_at - record.issued_at
    return max(MIN_LEAD, min(MAX_LEAD, life / 5))


def refresh_at(record: CredentialRecord) -> datetime | None:
    """When this record's access token should be replaced; None: never (or cannot be)."""
    if not record.refreshable or record.expires_at is None:
        return None
    return record.expires_at - lead(record)


def refresh_due(record: CredentialRecord, now: datetime) -> bool:
    at = refresh_at(record)
    return at is not None and now >= at


def expired(record: CredentialRecord, now: datetime) -> bool:
    return record.expires_at is not None and now >= record.expires_at
