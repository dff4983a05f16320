"""The credentials of a system run on one machine (``warta dev``, the end-to-end tests).

The same path as a deployment: a key file (``var/credentials.key``, mode 0600, made once), the
encrypted vault (``var/credentials.vault``) every publisher and the inbox read, and the accounts
whose platform has an OAuth flow (X, YouTube, TikTok) connected through that flow against the
sandbox, which consents at once.

The sandbox plays the platforms, so it keeps its demo accounts' static tokens (Mastodon's access
token, Telegram's bot token, the webhook's signing secret…) in a file of its own
(``var/sandbox-accounts.json``, 0600): that file is the platforms' side, as their own databases
are. Warta's copy of those credentials is the vault; Warta reads no clear file.

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

import aiohttp
import orjson

from services.publisher.credentials.commands import ConnectRequest, connect
from services.publisher.credentials.wiring import account_of
from services.publisher.settings import PublisherSettings
from shared.capabilities import capabilities_for
from shared.channels import Channel
from shared.credentials.clear_import import add_missing
from shared.credentials.credential_topic import share_accounts
from shared.credentials.keys import generate_key, keyring, load_keys
from shared.credentials.reconnect import announce_reconnected
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.private_file import write_private

KEY_FILE = "credentials.key"
VAULT_FILE = "credentials.vault"
SANDBOX_ACCOUNTS_FILE = "sandbox-accounts.json"
LEGACY_SECRETS_FILE = "secrets.json"
# The client id the local system registers with the sandbox's authorization servers.
SANDBOX_CLIENT_ID = "warta-local"


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


def oauth_channels(channels: Iterable[Channel]) -> list[Channel]:
    """The channels whose platform has an OAuth flow Warta runs, served by the sandbox."""
    return [c for c in channels if capabilities_for(c.platform).tokens is not None and c.base_url]


async def connect_through_sandbox(
    settings: PublisherSettings, channels: Iterable[Channel], timeout_s: float = 30.0
) -> list[tuple[CredentialRecord | None, CredentialRecord]]:
    """Run each channel's own flow against the sandbox (one account each): the sandbox consents
    when its authorize page is fetched. Returns (the record before, the record now) per account,
    so the caller can tell a re-connect of a parked account."""
    done: list[tuple[CredentialRecord | None, CredentialRecord]] = []
    seen: set[str] = set()
    async with aiohttp.ClientSession() as browser:

        async def consent(url: str) -> None:
            async with browser.get(url) as resp:  # follows the redirect to the loopback callback
                await resp.read()

        for channel in channels:
            if account_of(channel) in seen:
                continue
            seen.add(account_of(channel))
            before = open_vault_of(settings).fresh(account_of(channel))
            rules = capabilities_for(channel.platform).tokens
            request = ConnectRequest(
                channel=channel,
                # Where the app registers on the server (Mastodon), the flow does it, as for real.
                client_id="" if rules is not None and rules.registers_app else SANDBOX_CLIENT_ID,
                client_secret=None,
                redirect_uri=None,
                timeout_s=timeout_s,
            )
            done.append((before, await connect(settings, request, consent)))
    return done


def open_vault_of(settings: PublisherSettings) -> CredentialVault:
    env_key = settings.credentials_key.get_secret_value() if settings.credentials_key else None
    return CredentialVault(
        settings.credentials_file, keyring(load_keys(env_key, settings.credentials_key_file))
    )


def prepare_vault(var: Path, sandbox_accounts: Path, env_key: str | None) -> int:
    """The key (made once) and the vault holding every sandbox account; returns how many
    accounts were new to the vault."""
    if not env_key:
        ensure_key(var)
    entries = orjson.loads(sandbox_accounts.read_bytes()) if sandbox_accounts.exists() else {}
    return seed_vault(open_local_vault(var, env_key), entries)


def connect_demo_accounts(sandbox_url: str, env: dict[str, str], timeout_s: float) -> list[str]:
    """Wait for the sandbox, then connect every OAuth demo channel through its flow; returns the
    channels whose account was parked before (their jobs wait for a re-connect announcement)."""
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
    channels = oauth_channels(settings.load_channels().channels)

    async def run() -> list[str]:
        done = await connect_through_sandbox(settings, channels, timeout_s)
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
