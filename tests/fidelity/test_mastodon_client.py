"""Mastodon.py, unchanged, against the Mastodon fake: every call Warta's adapter relies on.

Each test names the mastodon/documentation page (docs.joinmastodon.org) its calls exercise, and
the fake's JSON is checked against Mastodon.py's typed entities (``mastodon_schema``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from mastodon import Mastodon, MastodonAPIError, MastodonRatelimitError, MastodonUnauthorizedError

from sandbox.base import SlidingWindow
from sandbox.mastodon import MastodonState
from tests.fidelity.mastodon_schema import missing_fields
from tests.fidelity.sandbox_thread import ThreadedSandbox, threaded_sandbox

pytestmark = pytest.mark.fidelity

TOKEN = "mastodon-fidelity-token"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(64)


_SESSIONS: list[requests.Session] = []


@pytest.fixture
def sandbox() -> Iterator[ThreadedSandbox]:
    with threaded_sandbox({"demo": TOKEN}) as sandbox:
        try:
            yield sandbox
        finally:
            # Closed here, not left to the garbage collector: an unclosed socket's ResourceWarning
            # would surface (as an error) in whichever test happens to run next.
            while _SESSIONS:
                _SESSIONS.pop().close()


@pytest.fixture
def state(sandbox: ThreadedSandbox) -> MastodonState:
    state = sandbox.states["mastodon"]
    assert isinstance(state, MastodonState)
    state.media_processing_polls = 0
    return state


def client(sandbox: ThreadedSandbox, token: str = TOKEN) -> Mastodon:
    # "created": the client reads /api/v1/instance and /api/v2/instance at once, as apps do.
    session = requests.Session()
    _SESSIONS.append(session)
    return Mastodon(
        access_token=token,
        session=session,
        api_base_url=sandbox.url("mastodon"),
        version_check_mode="created",
        ratelimit_method="throw",
    )


def test_instance_v1_and_v2_parse_and_state_the_limits(
    sandbox: ThreadedSandbox, state: MastodonState
) -> None:
    # docs.joinmastodon.org/methods/instance/#v2 and #v1 (entities/Instance, entities/V1_Instance)
    state.max_characters = 5000
    m = client(sandbox)
    assert (m.mastodon_major, m.mastodon_minor) >= (4, 3)
    assert m.mastodon_api_version == 2
    config = m.instance_v2().configuration
    assert config.statuses.max_characters == 5000
    assert config.statuses.max_media_attachments == 4
    assert config.statuses.characters_reserved_per_url == 23
    assert config.media_attachments.image_size_limit == state.image_size_limit
    assert "video/mp4" in config.media_attachments.supported_mime_types
    assert config.polls.max_options == 4
    base = sandbox.url("mastodon")
    assert missing_fields("InstanceV2", requests.get(f"{base}/api/v2/instance", timeout=5).json()) == []
    assert missing_fields("Instance", requests.get(f"{base}/api/v1/instance", timeout=5).json()) == []


def test_verify_credentials(sandbox: ThreadedSandbox, state: MastodonState) -> None:
    # docs.joinmastodon.org/methods/accounts/#verify_credentials
    account = client(sandbox).account_verify_credentials()
    assert account.username == "demo"
    raw = requests.get(
        f"{sandbox.url('mastodon')}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    ).json()
    assert missing_fields("Account", raw) == []


def test_text_status_with_idempotency_key_posts_once(sandbox: ThreadedSandbox, state: MastodonState) -> None:
    # docs.joinmastodon.org/methods/statuses/#create ("Idempotency-Key", kept 1 hour)
    m = client(sandbox)
    first = m.status_post("Jadwal vaksinasi https://example.go.id/v", idempotency_key="wmarker-1")
    again = m.status_post("Jadwal vaksinasi https://example.go.id/v", idempotency_key="wmarker-1")
    assert again.id == first.id
    assert len(state.posts) == 1
    assert missing_fields("Status", _raw_status(sandbox, first.id)) == []


@pytest.mark.parametrize(
    ("data", "mime", "name", "kind"),
    [
        (PNG, "image/png", "a.png", "image"),
        (GIF, "image/gif", "a.gif", "image"),
        (MP4, "video/mp4", "a.mp4", "video"),
    ],
)
def test_each_media_kind_then_status_with_media_ids(
    sandbox: ThreadedSandbox, state: MastodonState, data: bytes, mime: str, name: str, kind: str
) -> None:
    # docs.joinmastodon.org/methods/media/#v2, #get (206 while processing), statuses/#create
    state.media_processing_polls = 1 if kind == "video" else 0
    m = client(sandbox)
    media = m.media_post(data, mime_type=mime, file_name=name, description="Peta banjir")
    while media.url is None:  # the client's own synchronous=True sleeps 5 s between polls
        media = m.media(media.id)
    assert media.type == kind
    status = m.status_post("Peta", media_ids=[media.id])
    assert [a.id for a in status.media_attachments] == [media.id]
    assert missing_fields("Status", _raw_status(sandbox, status.id)) == []


def test_poll(sandbox: ThreadedSandbox, state: MastodonState) -> None:
    # docs.joinmastodon.org/methods/statuses/#create (poll[options][], poll[expires_in]), entities/Poll
    m = client(sandbox)
    status = m.status_post("Pilih jadwal", poll=m.make_poll(["Pagi", "Sore"], expires_in=600))
    assert [o.title for o in status.poll.options] == ["Pagi", "Sore"]
    assert missing_fields("Status", _raw_status(sandbox, status.id)) == []


def test_a_polls_results_by_mastodon_py_poll(sandbox: ThreadedSandbox, state: MastodonState) -> None:
    # docs.joinmastodon.org/methods/polls/#get (GET /api/v1/polls/:id), entities/Poll
    m = client(sandbox)
    status = m.status_post("Pilih jadwal", poll=m.make_poll(["Pagi", "Sore"], expires_in=600))
    assert m.poll(status.poll.id).expired is False
    state.offset += timedelta(minutes=11)
    poll = m.poll(status.poll.id)
    assert poll.expired is True
    assert [o.title for o in poll.options] == ["Pagi", "Sore"]
    assert poll.options[0].votes_count > poll.options[1].votes_count > 0
    assert poll.votes_count == sum(o.votes_count for o in poll.options)
    raw = requests.get(f"{sandbox.url('mastodon')}/api/v1/polls/{status.poll.id}", timeout=5).json()
    assert missing_fields("Poll", raw) == []
    assert m.status(status.id).poll.expired is True  # the status embeds the same poll
    assert requests.get(f"{sandbox.url('mastodon')}/api/v1/polls/404", timeout=5).status_code == 404


def test_read_back_and_counts(sandbox: ThreadedSandbox, state: MastodonState) -> None:
    # docs.joinmastodon.org/methods/statuses/#get (favourites_count, replies_count, reblogs_count)
    m = client(sandbox)
    posted = m.status_post("Hello")
    post = state.find_post(str(posted.id))
    assert post is not None
    post.reactions, post.comments, post.shares = 7, 2, 3
    read = m.status(posted.id)
    assert (read.favourites_count, read.replies_count, read.reblogs_count) == (7, 2, 3)
    assert read.account.acct == "demo"


def test_invalid_token_is_401(sandbox: ThreadedSandbox, state: MastodonState) -> None:
    # docs.joinmastodon.org/methods/statuses/#create 401 "The access token is invalid", entities/Error
    with pytest.raises(MastodonUnauthorizedError) as err:
        client(sandbox, token="revoked").status_post("Hello")
    assert "access token is invalid" in str(err.value)


def test_too_long_is_422(sandbox: ThreadedSandbox, state: MastodonState) -> None:
    # docs.joinmastodon.org/methods/statuses/#create 422 "Validation failed: Text character limit…"
    with pytest.raises(MastodonAPIError) as err:
        client(sandbox).status_post("x" * (state.max_characters + 1))
    assert err.value.args[1] == 422
    assert "character limit" in str(err.value)


def test_rate_limit_is_429_with_headers_the_client_reads(
    sandbox: ThreadedSandbox, state: MastodonState
) -> None:
    # docs.joinmastodon.org/api/rate-limits/ (X-RateLimit-Limit/-Remaining/-Reset, reset ISO 8601)
    state.statuses = SlidingWindow(1, timedelta(hours=3))
    client(sandbox).status_post("first")
    fresh = client(sandbox)  # no remaining=0 remembered: the 429 itself must be answered
    with pytest.raises(MastodonRatelimitError):
        fresh.status_post("second")
    assert fresh.ratelimit_remaining == 0
    assert fresh.ratelimit_limit == 1
    assert fresh.ratelimit_reset > time.time() + 3 * 3600 - 60  # parsed from the ISO reset


def _raw_status(sandbox: ThreadedSandbox, status_id: object) -> object:
    reply = requests.get(f"{sandbox.url('mastodon')}/api/v1/statuses/{status_id}", timeout=5)
    return reply.json()
