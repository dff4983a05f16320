"""The local system (``warta dev``) keeps its credentials as a deployment does: a key file of its
own (0600), every demo account in the encrypted vault, the OAuth demo accounts connected through
their flows against the sandbox, and no credential of Warta's in clear under var/."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.publisher.credentials.local_setup import connect_demo_accounts, open_local_vault
from shared.kafka import delete_topics
from warta.devrun import LocalSystem, free_listen_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def system(kafka_bootstrap: str, tmp_path: Path, run_id: str) -> Iterator[LocalSystem]:
    # The real broker: the demo accounts' grants go on the credentials topic the publishers follow.
    system = LocalSystem(
        bootstrap=kafka_bootstrap,
        var=tmp_path / "var",
        sandbox_port=free_listen_port(),
        topic_prefix=f"t{run_id}.",
    )
    yield system
    system.stop()
    asyncio.run(delete_topics(kafka_bootstrap, f"t{run_id}."))


def _clear_under(var: Path, values: set[str]) -> list[str]:
    """Files under var/ (the sandbox's own accounts aside) holding any of ``values`` in clear."""
    hits = []
    for path in var.rglob("*"):
        if path.is_file() and path.name != "sandbox-accounts.json":
            data = path.read_bytes()
            hits += [f"{path.name}" for v in values if v.encode() in data]
    return hits


def test_prepare_makes_a_private_key_and_puts_every_demo_account_in_the_vault(system: LocalSystem) -> None:
    system.prepare()
    key = system.var / "credentials.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(system.sandbox_accounts_file.stat().st_mode) == 0o600
    assert not system.secrets_file.exists()  # Warta reads no clear file
    sandbox = json.loads(system.sandbox_accounts_file.read_text())
    vault = open_local_vault(system.var)
    assert {a: r.access_token for a, r in vault.load().items()} == {a: e["token"] for a, e in sandbox.items()}
    assert vault.load()["wordpress-demo"].extra["username"] == "warta"
    assert _clear_under(system.var, {e["token"] for e in sandbox.values()}) == []
    env = system.env()
    assert env["WARTA_CREDENTIALS_KEY_FILE"] == str(key)
    assert env["WARTA_CREDENTIALS_FILE"] == str(system.var / "credentials.vault")
    # A second start keeps the key and the stored records.
    before = key.read_bytes()
    system.prepare()
    assert key.read_bytes() == before
    assert open_local_vault(system.var).load().keys() == vault.load().keys()


def test_an_old_checkouts_clear_secrets_file_becomes_the_sandboxs_and_its_tokens_go_in_the_vault(
    system: LocalSystem,
) -> None:
    system.var.mkdir(parents=True)
    system.secrets_file.write_text(json.dumps({"mastodon-demo": {"token": "old-mastodon-token-123"}}))
    system.prepare()
    assert not system.secrets_file.exists()
    assert json.loads(system.sandbox_accounts_file.read_text())["mastodon-demo"]["token"] == (
        "old-mastodon-token-123"
    )
    assert open_local_vault(system.var).load()["mastodon-demo"].access_token == "old-mastodon-token-123"


def test_the_oauth_demo_accounts_connect_through_their_flows_and_check_finds_every_channel_usable(
    system: LocalSystem,
) -> None:
    system.prepare()
    static = {a: r.access_token for a, r in open_local_vault(system.var).load().items()}
    system._spawn(
        "sandbox",
        "sandbox",
        "--port",
        str(system.sandbox_port),
        "--secrets",
        str(system.sandbox_accounts_file),
    )
    env = system.env()
    assert connect_demo_accounts(system.sandbox_url, env, 30.0) == []
    records = open_local_vault(system.var).load()
    for account in ("x-demo", "youtube-demo", "tiktok-demo"):
        record = records[account]
        assert record.refresh_token is not None, account
        assert record.expires_at is not None, account
        assert record.access_token != static[account]  # the flow's grant, not the sandbox's file
        assert record.extra["client_id"] == "warta-local"
    # LinkedIn's flow (no PKCE, a refresh token) and Mastodon's (the app registers on the instance).
    assert records["linkedin-demo"].refresh_token is not None
    assert records["linkedin-demo"].access_token != static["linkedin-demo"]
    mastodon = records["mastodon-demo"]
    assert mastodon.access_token != static["mastodon-demo"]
    assert mastodon.expires_at is None
    assert mastodon.extra["client_id"] not in ("", "warta-local")  # registered on the instance
    # `warta channels check --json`, as the README tells a newcomer to run it.
    done = subprocess.run(
        [sys.executable, "-m", "warta.cli", "channels", "check", "--json"],
        cwd=ROOT,
        env={**env, "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])},
        capture_output=True,
        timeout=120,
        check=False,
    )
    rows = json.loads(done.stdout)
    assert done.returncode == 0, (done.stderr.decode()[-2000:], [r for r in rows if not r["usable"]])
    assert {r["channel"] for r in rows} >= {"x-demo", "youtube-demo", "tiktok-demo", "mastodon-demo"}
    secrets = {r.access_token for r in records.values()} | {
        r.refresh_token for r in records.values() if r.refresh_token
    }
    assert _clear_under(system.var, secrets) == []


def test_a_revived_sandbox_gets_the_demo_accounts_connected_again(system: LocalSystem) -> None:
    """The sandbox's grants live in its memory: when `warta dev` restarts a crashed sandbox, the
    OAuth demo accounts connect again, or every publisher would meet refused tokens and park."""
    system.prepare()
    args = ("sandbox", "--port", str(system.sandbox_port), "--secrets", str(system.sandbox_accounts_file))
    system._spawn("sandbox", *args)
    connect_demo_accounts(system.sandbox_url, system.env(), 30.0)
    before = open_local_vault(system.var).load()
    system.kill("sandbox")
    assert system.revive() == ["sandbox"]
    after = open_local_vault(system.var).load()
    for account in ("x-demo", "youtube-demo", "tiktok-demo", "linkedin-demo", "mastodon-demo"):
        assert after[account].access_token != before[account].access_token, account
        assert after[account].version > before[account].version, account
    done = subprocess.run(
        [sys.executable, "-m", "warta.cli", "channels", "check", "--json"],
        cwd=ROOT,
        env={**system.env(), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, [r for r in json.loads(done.stdout) if not r["usable"]]
