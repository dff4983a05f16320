"""Each account's credential, encrypted at rest: the library every service that needs a platform
token reads (the publishers, which also refresh them, and the inbox).

Modules: ``record`` (what is stored), ``keys`` (the operator's keys), ``vault`` (the encrypted
file and its per-account refresh lock), ``clear_import`` (the old clear-text file moved in once),
``secret_store`` (a channel's current token by secret name, from the vault or the clear file),
``opening`` (the store from a service's settings), ``credential_topic`` (the compacted,
encrypted topic every host's vault follows, and the writes to it). Connecting an account, which the CLI and the
console both run: ``token_client`` (the OAuth token endpoints), ``endpoints``,
``app_registration`` (Mastodon), ``oauth_flow`` (authorize URL, PKCE, the stored grant),
``meta_login`` (Facebook, Instagram, Threads), ``pasted`` (pasted or generated credentials),
``connect_flow`` (one start/finish for every platform), ``reconnect`` (the announcement).
Keeping tokens refreshed is the publisher's behaviour and lives there
(``services/publisher/credentials``).

Errors::

    CredentialError               any trouble with a stored credential; never carries a secret
    ├── KeyringError              no key configured, a malformed key, or a vault no key opens
    ├── VaultError                the vault file is unreadable or not Warta's format
    ├── SecretsError              a channel's secret is missing, unreadable, or its account needs
    │                             re-connecting (what ``SecretStore.get`` raises; also a ValueError)
    ├── RefreshError              a token endpoint gave no token (a refresh or a code exchange)
    │   ├── RefreshTemporary      5xx, 429, a dropped connection: try again soon (``retriable``;
    │   │   │                     ``retry_after``: the wait the endpoint asked for, if any)
    │   │   └── GrantUnreadable   a 200 whose grant cannot be read (no access token, an expiry
    │   │                         that is no number of seconds): try again; ``refresh_token``
    │   │                         keeps a rotated refresh token it did name, never in the message
    │   └── RefreshRejected       invalid_grant, revoked, expired: for good (``reason`` says why)
    ├── PasteRefused              a pasted credential the platform refused or that lacks what
    │                             publishing needs (``pasted``)
    └── ConnectRefused            a step of Meta's logins refused (``meta_login``)
"""

from __future__ import annotations


class CredentialError(Exception):
    """Trouble with a stored credential. Messages name the account, never a token."""


class KeyringError(CredentialError):
    """No key is configured, a key is malformed, or no configured key opens the vault."""


class VaultError(CredentialError):
    """The vault file cannot be read or is not in Warta's format."""


class SecretsError(CredentialError, ValueError):
    """A channel's secret is missing, unreadable, or its account needs re-connecting."""


class RefreshError(CredentialError):
    """The token endpoint did not give a new access token (a refresh or a code exchange)."""

    retriable = False


class RefreshTemporary(RefreshError):
    """The token endpoint failed in a way that may pass: 5xx, 429, no answer. ``retry_after``:
    the seconds its ``Retry-After`` asked to wait (already held to a bound), None when it gave none."""

    retriable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GrantUnreadable(RefreshTemporary):
    """The token endpoint answered success with a grant that cannot be read. Rotating platforms
    (X, TikTok) have already spent the old refresh token by then, so the new one, when the answer
    names it, is kept here for the caller to store; it is never part of the message."""

    def __init__(self, message: str, refresh_token: str | None = None) -> None:
        super().__init__(message)
        self.refresh_token = refresh_token


class RefreshRejected(RefreshError):
    """The authorization server refused for good (revoked, expired, rotated away, a bad code)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
