"""Job ids: ``split_job_id`` undoes ``job_id_for``, and every reader of a job key agrees with it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.publisher.lanes import lane_key
from shared.events import job_id_for, split_job_id
from shared.logs import job_fields

_IDENT = "ABCXYZabcxyz0189._@-"
# Content ids may hold the separator anywhere; a channel id may not (the one ambiguity of the join).
content_ids = st.text(alphabet=_IDENT + ":", min_size=1, max_size=200)
channels = st.text(alphabet=_IDENT, min_size=1, max_size=200)


@given(content_ids, channels)
def test_split_undoes_join(content_id: str, channel: str) -> None:
    assert split_job_id(job_id_for(content_id, channel)) == (content_id, channel)


@given(content_ids, channels)
def test_lane_and_log_fields_read_the_same_channel(content_id: str, channel: str) -> None:
    job_id = job_id_for(content_id, channel)
    assert lane_key(job_id.encode()) == channel.encode()
    assert job_fields(job_id.encode()) == {"job_id": job_id, "content_id": content_id, "channel": channel}


@pytest.mark.parametrize(
    ("job_id", "parts"),
    [
        ("c1:fb-a", ("c1", "fb-a")),
        ("press:2026:7:fb-a", ("press:2026:7", "fb-a")),
        ("c1:", None),
        (":fb-a", None),
        ("no-separator", None),
        ("", None),
    ],
)
def test_split_table(job_id: str, parts: tuple[str, str] | None) -> None:
    assert split_job_id(job_id) == parts
