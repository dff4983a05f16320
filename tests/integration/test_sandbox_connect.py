"""The local system's demo accounts connect through their flows whatever Page, Instagram account
or Threads profile their channels name (the e2e and chaos systems run many): the sandbox's
account is given it first, as a test user is in Meta's app dashboard, then the login derives the
token, and ``channels check`` finds each channel usable."""

from __future__ import annotations

from pathlib import Path

import yaml
from aiohttp.test_utils import TestServer

from sandbox.sandbox import build_sandbox
from services.publisher.credentials.commands import check
from services.publisher.credentials.sandbox_connect import connect_through_sandbox
from services.publisher.settings import PublisherSettings
from shared.credentials.keys import generate_key
from shared.credentials.opening import open_vault

CHANNELS = [
    ("facebook-1", "facebook", {"page_id": "100000000000001"}),
    ("facebook-2", "facebook", {"page_id": "100000000000002"}),
    ("instagram-1", "instagram", {}),  # no ig_user_id: the channel's account is its id
    ("threads-2", "threads", {"threads_user_id": "27000000000000002"}),
]


async def test_every_meta_channel_connects_through_its_login_whatever_it_names(tmp_path: Path) -> None:
    accounts = {name: {"token": f"static-{name}-0123456789"} for name, _, _ in CHANNELS}
    app = build_sandbox({name: entry["token"] for name, entry in accounts.items()})
    async with TestServer(app) as server:
        channels = [
            {
                "id": name,
                "platform": platform,
                "base_url": str(server.make_url(f"/{platform}")),
                "secret": name,
                "options": options,
            }
            for name, platform, options in CHANNELS
        ]
        (tmp_path / "channels.yaml").write_text(yaml.safe_dump({"channels": channels}))
        settings = PublisherSettings(
            channels_file=tmp_path / "channels.yaml",
            credentials_file=tmp_path / "credentials.vault",
            credentials_key=generate_key(),
            secrets_file=tmp_path / "secrets.json",
        )
        done = await connect_through_sandbox(settings, settings.load_channels().channels, accounts)
        rows = {row["channel"]: row for row in await check(settings)}
    assert [after.account for _, after in done] == [name for name, _, _ in CHANNELS]
    vault = open_vault(settings)
    assert vault is not None
    records = vault.load()
    assert records["facebook-2"].extra["page_id"] == "100000000000002"
    assert records["instagram-1"].extra["ig_user_id"] == "default"  # the channel's account
    assert records["threads-2"].extra["reached"] == "27000000000000002"
    assert {name: (row["status"], row["usable"]) for name, row in rows.items()} == {
        name: ("ok", True) for name, _, _ in CHANNELS
    }
