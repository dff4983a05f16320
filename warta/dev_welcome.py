"""What ``warta dev`` (``make run``) says once every service answers, in the CLI's language: the
sentences are ``dev_*`` messages of the CLI's catalog (``warta.cli_messages``), the commands to
copy are the same in both languages."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from services.publisher.credentials import local_setup
from shared.settings import ROOT
from warta.cli_messages import say

_CURL = """
  curl -s -X POST {ingest}/v1/content \\
    -H 'Authorization: Bearer {approver_key}' -H 'Content-Type: application/json' \\
    -d '{{"author": "rina", "approval": {{"approved_by": "{approver}", "approved_at": "2026-11-26T10:00:00+08:00"}},
         "priority": "urgent", "content": {{"text": "Gubernur meresmikan jembatan baru."}},
         "targets": [{{"channel": "mastodon-demo"}}]}}'

  curl -s {ingest}/v1/content/<content_id> -H 'Authorization: Bearer {approver_key}'
"""


def welcome(
    urls: Mapping[str, str],
    keys: Mapping[str, Mapping[str, str]],
    logs: str,
    keys_file: str,
    cli_env: str = "",
) -> str:
    """Where each service is, and a first item to post; ``urls`` by service, ``keys`` by role;
    ``cli_env`` the line that points ``warta`` commands in another shell at this system."""
    values = {
        "cli_env": cli_env,
        **urls,
        "logs": logs,
        "keys_file": keys_file,
        "operator_key": keys["operator"]["key"],
        "approver": keys["approver"]["person"],
        "approver_key": keys["approver"]["key"],
    }
    return say("dev_welcome", curl=_CURL.format(**values), **values)


def cli_env(
    urls: Mapping[str, str], var: Path, channels_file: Path, moves: Mapping[str, tuple[int, int]]
) -> str:
    """The ``export`` line that points ``warta …`` commands in another shell at this system: the
    commands' defaults are the fixed ports and files of a plain ``make run``, which a moved port
    or the vault's key file (read by ``warta channels``) do not match; then what moved."""
    env = {
        "PATH": f"{ROOT / '.venv' / 'bin'}:$PATH",
        "WARTA_URL": urls["ingest"],
        "WARTA_CONSOLE_URL": urls["console"],
        "WARTA_CREDENTIALS_FILE": str(var / local_setup.VAULT_FILE),
        "WARTA_CREDENTIALS_KEY_FILE": str(var / local_setup.KEY_FILE),
        "WARTA_CHANNELS_FILE": str(channels_file),
    }
    moved = "".join(f"\n  {what}: {old} was taken, using {new}" for what, (old, new) in moves.items())
    return "export " + " ".join(f"{k}={v}" for k, v in env.items()) + moved
