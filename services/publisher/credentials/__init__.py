"""Each account's credential: encrypted at rest, refreshed before it expires, one refresher each.

Modules: ``record`` (what is stored), ``keys`` (the operator's keys), ``vault`` (the encrypted
file and its per-account refresh lock), ``policy`` (when to refresh: pure, ``now`` passed in),
``token_client`` (the platforms' OAuth token endpoints), ``refresher`` (the loop that keeps
tokens alive), ``pkce`` (the authorization-code flow's pieces).

Errors::

    CredentialError               any trouble with a stored credential; never carries a secret
    ├── KeyringError              no key configured, a malformed key, or a vault no key opens
    ├── VaultError                the vault file is unreadable or not Warta's format
    └── RefreshError              the token endpoint did not give a new access token
        ├── RefreshTemporary      5xx, 429, a dropped connection: try again soon (``retriable``)
        └── RefreshRejected       invalid_grant, revoked, expired refresh token: for good; the
                                  channel needs re-connecting (``reason`` says why)
"""

from __future__ import annotations


class CredentialError(Exception):
    """Trouble with a stored credential. Messages name the account, never a token."""


class KeyringError(CredentialError):
    """No key is configured, a key is malformed, or no configured key opens the vault."""


class VaultError(CredentialError):
    """The vault file cannot be read or is not in Warta's format."""


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
