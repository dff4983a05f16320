"""An inbox on a host without a publisher follows the credentials topic: a token reconnected
elsewhere (the old one revoked by the platform) is in its vault and in its next poll."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.base import FakePost
from shared.credentials.credential_topic import share
from shared.credentials.keys import generate_key, keyring
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from tests.integration.conftest_fakes import TOKEN
from tests.integration.inbox_system import inbox_system
from tests.integration.poison_kit import eventually

pytestmark = pytest.mark.integration

TOOT = "110000000000000042"


async def test_a_token_shared_on_the_topic_is_the_one_the_inbox_polls_with(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    key = generate_key()
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, credentials_key=key) as system:
        mastodon = system.env.states["mastodon"]
        assert mastodon.authority is not None
        inbox_vault = CredentialVault(system.settings.credentials_file, keyring([key]))
        imported = inbox_vault.fresh("demo")
        assert imported is not None  # the clear file moved into the inbox's own vault
        assert imported.access_token == TOKEN

        # Reconnected on another machine: the platform revoked the old token and issued a new one,
        # which only the topic carries to this host.
        del mastodon.tokens[TOKEN]
        new_token = str(mastodon.authority.mint("demo")["access_token"])
        console = CredentialVault(tmp_path / "console-host" / "credentials.vault", keyring([key]))
        reconnected = CredentialRecord(
            account="demo", access_token=new_token, platform="mastodon", version=imported.version + 1
        )
        await share(system.producer, system.topics.credentials, console, reconnected)

        def followed() -> bool:
            record = inbox_vault.fresh("demo")
            return record is not None and record.access_token == new_token

        await eventually(followed, "the reconnected token in the inbox's vault")
        await system.published(
            "mastodon-demo", "mastodon", FakePost(TOOT, "demo", "Jembatan", datetime.now(UTC), url="u")
        )
        comment_id = await system.comment("mastodon", TOOT, "Kapan dibuka?", author="warga1")
        book = system.inbox.keeper.book
        await eventually(
            lambda: any(e.comment.comment_id == comment_id for e in book.select()), "the comment"
        )
        status = system.inbox.collector.status["mastodon-demo"]
        assert status.last_error is None
