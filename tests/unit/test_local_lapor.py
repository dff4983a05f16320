"""A local system's inbox forwards complaints to the sandbox's SP4N-LAPOR! fake with a token
that fake takes, so a forward is answered as LAPOR! would answer it, not refused as unset."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from sandbox.sandbox import build_sandbox
from services.inbox.settings import InboxSettings
from warta.devrun import LocalSystem, ensure_secrets


async def test_the_local_inbox_is_given_the_sandbox_lapor_and_a_token_it_takes(tmp_path: Path) -> None:
    system = LocalSystem(bootstrap="127.0.0.1:1", var=tmp_path, sandbox_port=18090)
    assert system.lapor_env() == {}  # nothing prepared yet: nothing to point at
    ensure_secrets(system.sandbox_accounts_file, [("facebook-demo", "facebook"), ("x-demo", "x")])
    env = system.env()
    settings = InboxSettings(
        _env_file=None,
        lapor_base_url=env["WARTA_LAPOR_BASE_URL"],
        lapor_token=env["WARTA_LAPOR_TOKEN"],
    )
    assert settings.lapor_base_url == "http://127.0.0.1:18090/lapor"
    accounts = json.loads(system.sandbox_accounts_file.read_text())
    sandbox = build_sandbox({name: account["token"] for name, account in accounts.items()})
    complaint = {
        "client_reference": "ib1",
        "title": "Jalan rusak",
        "content": "Kapan diperbaiki?",
        "channel": "facebook-demo",
        "reported_at": "2026-12-04T03:00:00+00:00",
        "reporter": "warga1",
    }
    token = settings.lapor_token.get_secret_value()
    async with TestClient(TestServer(sandbox)) as client:
        taken = await client.post(
            "/lapor/complaints", json=complaint, headers={"Authorization": f"Bearer {token}"}
        )
        assert taken.status == 201, await taken.text()
