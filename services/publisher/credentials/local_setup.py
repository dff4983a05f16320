"""The credentials of a system run on one machine (``warta dev``, the end-to-end tests).

The same path as a deployment: a key file (``var/credentials.key``, mode 0600, made once), the
encrypted vault (``var/credentials.vault``) every publisher and the inbox read, and the accounts
of every demo channel connected through its platform's own flow against the sandbox, which
consents at once (``sandbox_connect``).

The sandbox plays the platforms, so it keeps its demo accounts' static credentials (Telegram's
bot token, Bluesky's app password, the webhook's signing secret…) in a file of its own
(``var/sandbox-accounts.json``, 0600): that file is the platforms' side, as their own databases
are. Warta's copy of those credentials is the vault, filled by the flows; only the webhook's
secret, which has no flow (the receiver holds it), is copied from that file. Warta reads no
clear file.

An old checkout's ``var/secrets.json`` (from before the vault) becomes the sandbox's file, so the
tokens the sandbox knows and the tokens imported into the vault stay the same.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson

from services.publisher.credentials.sandbox_connect import connect_through_sandbox, flow_accounts
from services.publisher.settings import PublisherSettings
from shared.channels import Channel
from shared.credentials.clear_import import add_missing
from shared.credentials.credential_topic import share_accounts
from shared.credentials.keys import LOCAL_KEY_FILE, generate_key, keyring, load_keys
from shared.credentials.reconnect import announce_reconnected
from shared.credentials.vault import CredentialVault
from shared.private_file import write_private

KEY_FILE = LOCAL_KEY_FILE
VAULT_FILE = "credentials.vault"
SANDBOX_ACCOUNTS_FILE = "sandbox-accounts.json"
LEGACY_SECRETS_FILE = "secrets.json"


def ensure_key(var: Path) -> bool:
    """A key file readable by its owner only, made when none exists; True when made now."""
    path = var / KEY_FILE
    if path.exists():
        return False
    write_private(path, generate_key() + "\n")
    return True


def adopt_legacy_secrets(var: Path) -> None:
    """Before the vault, the sandbox and the publishers shared ``secrets.json``: it becomes the
    sandbox's own file, and its tokens go into the vault (``seed_vault``)."""
    legacy, accounts = var / LEGACY_SECRETS_FILE, var / SANDBOX_ACCOUNTS_FILE
    if legacy.exists() and not accounts.exists():
        legacy.rename(accounts)


def open_local_vault(var: Path, env_key: str | None = None) -> CredentialVault:
    """The local vault, with the key the services will use (``WARTA_CREDENTIALS_KEY`` wins over
    the key file, as in ``keys.load_keys``)."""
    return CredentialVault(var / VAULT_FILE, keyring(load_keys(env_key, var / KEY_FILE)))


def seed_vault(vault: CredentialVault, entries: dict[str, dict[str, str]]) -> int:
    """Put each sandbox account the vault lacks; returns how many. A stored record is newer
    (refreshed, connected, parked) and stays as it is."""
    with vault.import_lock():
        return len(add_missing(vault, entries))


def open_vault_of(settings: PublisherSettings) -> CredentialVault:
    env_key = settings.credentials_key.get_secret_value() if settings.credentials_key else None
    return CredentialVault(
        settings.credentials_file, keyring(load_keys(env_key, settings.credentials_key_file))
    )


def prepare_vault(
    var: Path, sandbox_accounts: Path, env_key: str | None, channels: Iterable[Channel] = ()
) -> int:
    """The key (made once) and the vault holding the sandbox accounts no flow connects (the
    webhook's shared secret; every account, when no channels are named); returns how many
    accounts were new to the vault."""
    if not env_key:
        ensure_key(var)
    by_flow = flow_accounts(channels)
    entries = {a: e for a, e in _sandbox_accounts(sandbox_accounts).items() if a not in by_flow}
    return seed_vault(open_local_vault(var, env_key), entries)


def _sandbox_accounts(path: Path) -> dict[str, dict[str, str]]:
    return dict(orjson.loads(path.read_bytes())) if path.exists() else {}


def connect_demo_accounts(sandbox_url: str, env: dict[str, str], timeout_s: float) -> list[str]:
    """Wait for the sandbox, then connect every demo channel through its platform's flow;
    returns the accounts that were parked before (their jobs wait for a re-connect announcement).
    What a person would paste is read from the sandbox's file beside the vault."""
    _wait_healthy(sandbox_url, timeout_s)
    settings = PublisherSettings(
        channels_file=Path(env["WARTA_CHANNELS_FILE"]),
        secrets_file=Path(env["WARTA_SECRETS_FILE"]),
        credentials_file=Path(env["WARTA_CREDENTIALS_FILE"]),
        credentials_key_file=Path(env["WARTA_CREDENTIALS_KEY_FILE"]),
        credentials_key=env.get("WARTA_CREDENTIALS_KEY") or None,
        kafka_bootstrap=env["KAFKA_BOOTSTRAP_SERVERS"],
        topic_prefix=env.get("WARTA_TOPIC_PREFIX", ""),
    )
    channels = settings.load_channels().channels
    accounts = _sandbox_accounts(settings.credentials_file.parent / SANDBOX_ACCOUNTS_FILE)

    async def run() -> list[str]:
        done = await connect_through_sandbox(settings, channels, accounts, timeout_s)
        # On the credentials topic too: the publishers follow it, and a previous run's grants
        # there (which this sandbox no longer knows) must not win over these.
        await share_accounts(settings, open_vault_of(settings), [after.account for _, after in done])
        parked = [
            after.account for before, after in done if before is not None and before.status == "needs_reauth"
        ]
        # Jobs a previous run parked for these accounts are re-planned by the scheduler.
        await announce_reconnected(settings, parked)
        return parked

    with ThreadPoolExecutor(1) as pool:  # its own loop: the caller may run inside one (async tests)
        return pool.submit(asyncio.run, run()).result()


def _wait_healthy(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sandbox at {url} did not answer within {timeout_s} s") from None
        time.sleep(0.2)
