"""The clear-text secrets file, read in one place for the publisher's store (and so the inbox's tokens)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.inbox.app import LiveTokens
from shared.channels import load_channels
from shared.credentials.connect_flow import FlowUnavailable, load_apps
from shared.credentials.secret_store import SecretStore
from shared.secrets_file import SecretsError, read_secrets_file

CHANNELS = Path(__file__).resolve().parents[2] / "deploy" / "channels.local.yaml"


def test_a_missing_file_holds_no_secret(tmp_path: Path) -> None:
    assert read_secrets_file(tmp_path / "absent.json") == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "cannot read secrets file"),
        ("[]", "must hold a JSON object"),
        ('{"a": {"token": 1}}', "secret 'a' must be an object with a string 'token'"),
        ('{"a": "t"}', "secret 'a' must be an object with a string 'token'"),
    ],
)
def test_a_bad_file_is_refused_by_name_never_by_value(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(text)
    with pytest.raises(SecretsError, match=says):
        read_secrets_file(path)
    with pytest.raises(SecretsError, match=says):
        SecretStore.load(path)


def test_the_publisher_and_the_inbox_read_the_same_tokens(tmp_path: Path) -> None:
    channels = load_channels(CHANNELS)
    named = [c.secret for c in channels.channels if c.secret]
    assert len(named) >= 2
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({named[0]: {"token": "t1", "username": "editor"}}))
    store = SecretStore.load(path)
    assert store.get(named[0]).token == "t1"
    assert store.get(named[0]).extra == {"username": "editor"}
    # The inbox reads the store at each use; a channel whose secret is absent has no token (its
    # reads answer 401).
    tokens = LiveTokens(channels, store)
    assert tokens[named[0]] == "t1"
    assert named[1] not in tokens


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200) | _JSON.map(lambda value: json.dumps(value).encode()))
def test_any_oauth_apps_file_is_read_or_refused_by_name_only(tmp_path: Path, content: bytes) -> None:
    """Hostile bytes in the OAuth apps file (which holds client secrets): the apps it names, or a
    FlowUnavailable naming the file, whose message never quotes the content."""
    path = tmp_path / "oauth-apps.json"
    path.write_bytes(content)
    try:
        apps = load_apps(path)
    except FlowUnavailable as exc:
        refused = str(exc)
    else:
        assert all(isinstance(app.client_id, str) for app in apps.values())
        return
    assert str(path) in refused
    said = refused.replace(str(path), "")
    quoted = [w for w in content.decode("utf-8", "replace").split('"') if len(w) >= 8]
    assert not [w for w in quoted if w in said]
