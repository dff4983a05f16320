"""The inbox polls with each channel's token as the vault holds it now, not as it was at start."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from services.inbox.app import LiveTokens
from shared.channels import Channel, ChannelDirectory
from shared.credentials.keys import generate_key, keyring
from shared.credentials.record import CredentialRecord
from shared.credentials.secret_store import SecretStore
from shared.credentials.vault import CredentialVault

CHANNELS = ChannelDirectory(
    channels=(
        Channel(id="x-demo", platform="x", secret="x-demo"),
        Channel(id="mastodon-demo", platform="mastodon", secret="mastodon-demo"),
    )
)


def test_a_refreshed_or_reconnected_token_is_the_one_the_next_poll_uses(tmp_path: Path) -> None:
    vault = CredentialVault(tmp_path / "credentials.vault", keyring([generate_key()]))
    first = CredentialRecord(account="x-demo", access_token="first-token", platform="x")
    vault.put(first)
    tokens = LiveTokens(CHANNELS, SecretStore.from_vault(vault))
    assert tokens.get("x-demo") == "first-token"
    assert tokens.get("mastodon-demo", "") == ""  # no credential: its reads answer 401
    vault.put(replace(first, access_token="refreshed-token", version=1))  # another process refreshed
    assert tokens.get("x-demo") == "refreshed-token"
    vault.put(replace(first, status="needs_reauth", version=2))
    assert tokens.get("x-demo") is None  # parked: no token to poll with
    assert sorted(tokens) == ["mastodon-demo", "x-demo"]
