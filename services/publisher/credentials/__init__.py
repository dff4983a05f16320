"""Keeping each account's credential alive: refreshed before it expires, one refresher each.

The stored credential itself (record, keys, the encrypted vault, the secret store) is library
code the inbox reads too: ``shared/credentials``. Here: ``policy`` (when to refresh: pure,
``now`` passed in), ``token_client`` (the platforms' OAuth token endpoints), ``refresher`` (the
loop that keeps tokens alive), ``auth_retry`` (the one 401-retry rule), ``commands`` (the
operator's connect / check / rotate-key), ``wiring`` (the refresher from the settings).

Errors: the refresh branch of ``shared.credentials``' tree::

    CredentialError (shared.credentials)
    └── RefreshError              the token endpoint did not give a new access token
        ├── RefreshTemporary      5xx, 429, a dropped connection: try again soon (``retriable``)
        └── RefreshRejected       invalid_grant, revoked, expired refresh token: for good; the
                                  channel needs re-connecting (``reason`` says why)
"""

from __future__ import annotations

from shared.credentials import CredentialError


class RefreshError(CredentialError):
    retriable = False


class RefreshTemporary(RefreshError):
    """The token endpoint failed in a way that may pass: 5xx, 429, no answer."""

    retriable = True


class RefreshRejected(RefreshError):
    """The authorization server refused the refresh for good (revoked, expired, rotated away)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
