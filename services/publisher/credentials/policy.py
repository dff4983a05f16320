"""When to refresh an access token: pure, ``now`` passed in.

The lead time scales with the token's own life (from ``expires_in``, never a hard-coded
lifetime): a fifth of it, at most ten minutes, so a 2-hour token is refreshed 10 minutes ahead
and a 20-second sandbox token 4 seconds ahead. A refresh that fails temporarily is tried again
while the old token still works (``retry_at``): after the wait the token endpoint asked for
(``Retry-After``), else after ``RETRY_AFTER``, doubled with each failure in a row up to
``MAX_RETRY_WAIT``, a fifth of ``MAX_LEAD``, so a token refreshed ten minutes ahead still gets
several tries before it expires.

A token that is its own refresh credential (Threads' long-lived token: ``th_refresh_token``
takes the token itself) is the exception. Threads refreshes such a token only while it is still
valid and at least 24 hours old, and an expired one only a person's new consent replaces
(https://developers.facebook.com/docs/threads/get-started/long-lived-tokens). Minutes of lead
would let a short outage of the publisher or of Meta's endpoint near expiry park the account,
so it is refreshed ``SELF_REFRESH_LEAD`` (a week) before it expires, never before it is
``SELF_REFRESH_MIN_AGE`` old: a 60-day token is renewed on day 53, which leaves a week of
retries and costs about seven renewals a year (refreshing it daily would cost 365).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.credentials.record import CredentialRecord
from shared.credentials.record import expires_at as expires_at  # named here for the refresher

MAX_LEAD = timedelta(minutes=10)
MIN_LEAD = timedelta(seconds=1)
RETRY_AFTER = timedelta(seconds=5)
MAX_RETRY_WAIT = MAX_LEAD / 5
SELF_REFRESH_LEAD = timedelta(days=7)
SELF_REFRESH_MIN_AGE = timedelta(hours=24)


def refreshes_itself(record: CredentialRecord) -> bool:
    """The access token is also the credential that renews it (no separate refresh token)."""
    return record.refresh_token is not None and record.refresh_token == record.access_token


def lead(record: CredentialRecord) -> timedelta:
    if record.expires_at is None:
        return MAX_LEAD
    life = record.expires_at - record.issued_at if record.issued_at is not None else None
    if refreshes_itself(record) and (life is None or life > SELF_REFRESH_MIN_AGE):
        return SELF_REFRESH_LEAD if life is None else min(SELF_REFRESH_LEAD, life - SELF_REFRESH_MIN_AGE)
    if life is None:
        return MAX_LEAD
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


def retry_at(now: datetime, failures: int, asked_s: float | None) -> datetime:
    """When to try again a refresh that failed for now at ``now``, its ``failures``-th in a row;
    ``asked_s``: the seconds the token endpoint's ``Retry-After`` asked for (held to a bound by
    its parser), which is honoured as given."""
    if asked_s is not None:
        return now + timedelta(seconds=asked_s)
    doublings = min(max(failures - 1, 0), 16)  # past the cap long before 2**16: no overflow
    return now + min(MAX_RETRY_WAIT, RETRY_AFTER * (1 << doublings))
