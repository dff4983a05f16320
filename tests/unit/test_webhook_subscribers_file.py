"""A subscribers file that breaks its format is refused with the field (or the line and column)
and the kind of problem, and nothing of what the console prints then quotes a signing secret:
not the message, not a chained pydantic or YAML error."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from services.console.webhooks import WebhookConfigError, load_subscribers

SECRET = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ1Njc4!"  # base64 but for a pasted '!'
SHORT = "short-secret-x"


def printed(path: Path) -> str:
    """What Python's default excepthook writes to stderr when the refusal ends the start."""
    with pytest.raises(WebhookConfigError) as refused:
        load_subscribers(path)
    return "".join(traceback.format_exception(refused.value))


def test_a_bad_secret_is_named_by_its_field_and_never_quoted(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.yaml"
    path.write_text(
        "subscribers:\n"
        f"  - {{name: lapor, url: 'https://hooks.example.go.id/warta', secret: '{SECRET}'}}\n"
        f"  - {{name: humas, url: 'https://h.example.go.id/x', secret: '{SHORT}', events: [{SHORT}]}}\n"
    )
    out = printed(path)
    assert SECRET not in out
    assert SHORT not in out
    assert "subscribers.0.secret: Value error, a whsec_ secret must be base64" in out
    assert "subscribers.1.secret: String should have at least 16 characters" in out
    assert "subscribers.1.events.0: Input should be 'scheduled'" in out


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (f"  - {{name: a, url: 'https://a.example', secret: '{SECRET}'x}}", "expected ',' or '}', but got"),
        (f"  - {{name: a, url: 'https://a.example', secret: !{SECRET[:20]} x}}", "the tag … at line 2"),
        (f"  - name: a\n   secret: {SECRET}: x", "expected <block end>, but found"),
    ],
)
def test_a_file_that_is_no_yaml_says_where_without_its_line(tmp_path: Path, line: str, said: str) -> None:
    path = tmp_path / "webhooks.yaml"
    path.write_text(f"subscribers:\n{line}\n")
    out = printed(path)
    assert SECRET[:20] not in out
    assert said in out
    assert ", column " in out
