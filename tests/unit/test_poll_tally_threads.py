"""A Threads poll read back (pure): the documented answer of ``GET /{threads-media-id}?fields=
poll_attachment{...}`` (developers.facebook.com/docs/threads/create-posts/polls, "Media
retrieval") read as a tally; shares times the total are the votes; closed from the expiry on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.publisher.adapters.poll_tally import PollUnreadable, threads_tally

# The documented example response, as the page gives it.
DOCUMENTED = {
    "id": "1234567",
    "poll_attachment": {
        "option_a": "first option",
        "option_b": "second option",
        "option_c": "third option",
        "option_d": "fourth option",
        "option_a_votes_percentage": 0.10,
        "option_b_votes_percentage": 0.20,
        "option_c_votes_percentage": 0.15,
        "option_d_votes_percentage": 0.55,
        "total_votes": 100,
        "expiration_timestamp": "2025-01-01T23:00:00+0000",
    },
}
BEFORE = datetime(2025, 1, 1, 22, 59, 59, tzinfo=UTC)
AT_EXPIRY = datetime(2025, 1, 1, 23, 0, tzinfo=UTC)


def test_the_documented_answer_reads_as_votes_per_option() -> None:
    tally = threads_tally(DOCUMENTED, "1234567", AT_EXPIRY)
    assert tally.options == (
        ("first option", 10),
        ("second option", 20),
        ("third option", 15),
        ("fourth option", 55),
    )
    assert (tally.closed, tally.voters) == (True, None)  # Threads counts votes, not voters apart
    assert threads_tally(DOCUMENTED, "1234567", BEFORE).closed is False


def test_a_two_option_poll_has_no_c_or_d_and_no_expiry_means_still_open() -> None:
    body = {
        "poll_attachment": {
            "option_a": "Ya",
            "option_b": "Tidak",
            "option_a_votes_percentage": 0.25,
            "option_b_votes_percentage": 0.75,
            "total_votes": 8,
        }
    }
    tally = threads_tally(body, "1", AT_EXPIRY)
    assert (tally.options, tally.closed) == ((("Ya", 2), ("Tidak", 6)), False)


def test_nobody_voted_is_zero_votes_not_an_error() -> None:
    body = {"poll_attachment": {"option_a": "Ya", "option_b": "Tidak", "total_votes": 0}}
    assert threads_tally(body, "1", AT_EXPIRY).options == (("Ya", 0), ("Tidak", 0))


@pytest.mark.parametrize(
    "body",
    [{"id": "1"}, {"poll_attachment": {}}, {"poll_attachment": {"total_votes": 3}}, None, []],
)
def test_an_answer_without_a_poll_is_unreadable(body: Any) -> None:
    with pytest.raises(PollUnreadable, match="no poll"):
        threads_tally(body, "1", AT_EXPIRY)


@given(
    counts=st.lists(st.integers(min_value=0, max_value=10**6), min_size=2, max_size=4),
    noise=st.sampled_from([None, "x", -0.5, 1.5, True]),
)
def test_votes_are_the_shares_of_the_total_within_rounding(counts: list[int], noise: Any) -> None:
    total = sum(counts)
    keys = "abcd"[: len(counts)]
    poll: dict[str, Any] = {"total_votes": total}
    for key, count in zip(keys, counts, strict=True):
        poll[f"option_{key}"] = key.upper()
        poll[f"option_{key}_votes_percentage"] = round(count / total, 4) if total else 0.0
    read = threads_tally({"poll_attachment": poll}, "1", AT_EXPIRY)
    # four-decimal shares: each count is exact to a ten-thousandth of the total, plus rounding
    assert all(abs(v - c) <= total / 10_000 + 1 for (_, v), c in zip(read.options, counts, strict=True))
    poll["option_a_votes_percentage"] = noise  # a share that is not one counts nothing
    clamped = threads_tally({"poll_attachment": poll}, "1", AT_EXPIRY).options[0][1]
    assert clamped == (total if noise == 1.5 else 0)
