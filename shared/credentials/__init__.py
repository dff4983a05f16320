"""Each account's credential, encrypted at rest: the library every service that needs a platform
token reads (the publishers, which also refresh them, and the inbox).

Modules: ``record`` (what is stored), ``keys`` (the operator's keys), ``vault`` (the encrypted
file and its per-account refresh lock), ``clear_import`` (the old clear-text file moved in once),
``secret_store`` (a channel's current token by secret name, from the vault or the clear file),
``opening`` (the store from a service's settings). Refreshing tokens is the publisher's
behaviour and lives there (``services/publisher/credentials``).

Errors::

    CredentialError               any trouble with a stored credential; never carries a secret
    ├── KeyringError              no key configured, a malformed key, or a vault no key opens
    ├── VaultError                the vault file is unreadable or not Warta's format
    ├── SecretsError              a channel's secret is missing, unreadable, or its account needs
    │                             re-connecting (what ``SecretStore.get`` raises; also a ValueError)
    └── RefreshError              the publisher's refresher: the token endpoint gave no new token
                                  (``services.publisher.credentials``: RefreshTemporary, RefreshRejected)
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
