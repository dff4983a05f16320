"""`warta console` started with a subscribers file it refuses: the start fails, saying which field
or which line, and its stderr (the journal under systemd) holds none of the signing secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.settings import ROOT
from shared.topics import TopicRegistry

pytestmark = pytest.mark.integration

SECRET = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ1Njc4!"  # base64 but for a pasted '!'
GOOD = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LWdvb2QtMTIzNA"


def start_console(kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path, subscribers: str) -> str:
    hooks = tmp_path / "webhooks.yaml"
    hooks.write_text(subscribers)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "WARTA_TOPIC_PREFIX": topics.prefix,
        "WARTA_WEBHOOKS_FILE": str(hooks),
        "WARTA_CONSOLE_PORT": "0",
        "WARTA_KEYS_FILE": str(tmp_path / "keys.json"),
    }
    run = subprocess.run(
        [sys.executable, "-m", "warta.cli", "console"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode != 0, run.stderr[-2000:]
    assert "WebhookConfigError" in run.stderr, run.stderr[-2000:]
    return run.stderr


@pytest.mark.parametrize(
    ("subscribers", "said"),
    [
        (
            "subscribers:\n"
            f"  - {{name: lapor, url: 'https://hooks.example.go.id/warta', secret: '{GOOD}'}}\n"
            f"  - {{name: humas, url: 'https://h.example.go.id/x', secret: '{SECRET}'}}\n",
            "subscribers.1.secret: Value error, a whsec_ secret must be base64",
        ),
        (  # no YAML: the line and column, not the parser's copy of the line
            f"subscribers:\n  - {{name: humas, url: 'https://h.example.go.id/x', secret: '{GOOD}'x}}\n",
            "but got '<scalar>' at line 2, column ",
        ),
    ],
)
async def test_a_refused_file_is_told_by_field_or_line_not_by_its_secrets(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path, subscribers: str, said: str
) -> None:
    stderr = start_console(kafka_bootstrap, topics, tmp_path, subscribers)
    assert SECRET not in stderr
    assert GOOD not in stderr
    assert said in stderr
