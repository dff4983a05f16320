"""The local system (``warta dev``) keeps its credentials as a deployment does: a key file of its
own (0600), the encrypted vault, every demo account connected through its platform's own flow
against the sandbox (Meta's logins and the pasted kinds' checks included; only the webhook's
shared secret is copied from the sandbox's file), and no credential of Warta's in clear under var/."""

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
from shared.channels import load_channels
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


def test_prepare_makes_a_private_key_and_copies_only_the_account_no_flow_connects(
    system: LocalSystem,
) -> None:
    system.prepare()
    key = system.var / "credentials.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(system.sandbox_accounts_file.stat().st_mode) == 0o600
    assert not system.secrets_file.exists()  # Warta reads no clear file
    sandbox = json.loads(system.sandbox_accounts_file.read_text())
    vault = open_local_vault(system.var)
    # The webhook's signing secret is the receiver's: the one account without a flow to run.
    assert {a: r.access_token for a, r in vault.load().items()} == {
        "webhook-demo": sandbox["webhook-demo"]["token"]
    }
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
    system.secrets_file.write_text(json.dumps({"webhook-demo": {"token": "old-webhook-secret-123"}}))
    system.prepare()
    assert not system.secrets_file.exists()
    assert json.loads(system.sandbox_accounts_file.read_text())["webhook-demo"]["token"] == (
        "old-webhook-secret-123"
    )
    assert open_local_vault(system.var).load()["webhook-demo"].access_token == "old-webhook-secret-123"


def test_the_oauth_demo_accounts_connect_through_their_flows_and_check_finds_every_channel_usable(
    system: LocalSystem,
) -> None:
    system.prepare()
    static = {a: e["token"] for a, e in json.loads(system.sandbox_accounts_file.read_text()).items()}
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
    # Meta's logins: the Page token derived from a long-lived user token (no expiry), the
    # Instagram account found through the Page, Threads' 60-day token that refreshes itself.
    for account in ("facebook-demo", "instagram-demo"):
        assert records[account].access_token != static[account], account
        assert records[account].expires_at is None, account
        assert records[account].extra["page_id"] == "100000000000001", account
    assert records["instagram-demo"].extra["ig_user_id"] == "17841400000000001"
    threads = records["threads-demo"]
    assert (threads.refresh_token, threads.extra["reached"]) == (threads.access_token, "27000000000000001")
    assert threads.access_token != static["threads-demo"]
    # The pasted kinds: the sandbox's credential, stored after the platform's own check said what
    # it reaches (a bot that may post, a Bluesky session, a WordPress editor, a phone number).
    for account in ("telegram-demo", "bluesky-demo", "wordpress-demo", "whatsapp-demo"):
        assert records[account].access_token == static[account], account
        assert records[account].scope, account
    assert records["bluesky-demo"].extra["did"].startswith("did:")
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
    assert {r["channel"] for r in rows} == {c.id for c in load_channels(system.channels_file).channels}
    assert {r["status"] for r in rows} <= {"ok", "stored"}
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
    logins = ("x-demo", "youtube-demo", "tiktok-demo", "linkedin-demo", "mastodon-demo")
    for account in (*logins, "facebook-demo", "instagram-demo", "threads-demo"):
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
