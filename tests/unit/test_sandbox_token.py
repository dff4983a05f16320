"""``warta sandbox token`` prints a grant only for a sandbox channel: never for a real account."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest
import yaml

from services.publisher.credentials.commands import CommandError, is_sandbox
from services.publisher.credentials.sandbox_token import sandbox_token
from shared.channels import Channel
from warta.cli_credentials import cmd_sandbox_token


@pytest.mark.parametrize(
    ("base_url", "sandbox"),
    [
        ("http://127.0.0.1:8090/x", True),
        ("http://localhost:8090/youtube", True),
        ("http://[::1]:8090/tiktok", True),
        (None, False),  # the platform's own API
        ("https://api.x.com", False),
        ("http://10.1.2.3:8090/x", False),  # another host: not this machine's sandbox
        ("http://127.0.0.1.example.net/x", False),
    ],
)
def test_a_sandbox_channel_is_one_on_this_hosts_loopback(base_url: str | None, sandbox: bool) -> None:
    assert is_sandbox(Channel(id="x-main", platform="x", base_url=base_url)) is sandbox


def test_a_real_channel_is_refused_before_any_request() -> None:
    # No server listens at these: a request would fail differently (connection refused).
    for base_url in (None, "https://api.x.invalid"):
        channel = Channel(id="x-main", platform="x", base_url=base_url)
        with pytest.raises(CommandError, match="x-main is not a sandbox channel"):
            asyncio.run(sandbox_token(channel))


def test_the_cli_prints_no_token_for_a_real_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    channels = {"channels": [{"id": "x-main", "platform": "x", "secret": "x-main"}]}
    (tmp_path / "channels.yaml").write_text(yaml.safe_dump(channels))
    monkeypatch.setenv("WARTA_CHANNELS_FILE", str(tmp_path / "channels.yaml"))
    assert cmd_sandbox_token(argparse.Namespace(channel="x-main", json=False)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "x-main is not a sandbox channel" in err
