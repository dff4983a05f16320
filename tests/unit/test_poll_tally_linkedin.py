"""A LinkedIn poll read back (pure): ``content.poll`` of ``GET /rest/posts/{urn}`` as a tally;
the votes are the options' ``voteCount``; closed once ``settings.duration`` since ``publishedAt``
is over; options without counts are no tally (never zero votes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.publisher.adapters.poll_tally import PollUnreadable, linkedin_tally

PUBLISHED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def post(options: list[dict[str, Any]], duration: str = "THREE_DAYS", **poll: Any) -> dict[str, Any]:
    return {
        "id": "urn:li:share:1",
        "publishedAt": int(PUBLISHED.timestamp() * 1000),
        "content": {
            "poll": {"question": "Hadir?", "settings": {"duration": duration}, "options": options, **poll}
        },
    }


def test_the_counts_are_the_votes_and_the_poll_closes_after_its_duration() -> None:
    body = post([{"text": "Ya", "voteCount": 30}, {"text": "Tidak", "voteCount": 12}], uniqueVotersCount=42)
    ends = PUBLISHED + timedelta(days=3)
    open_ = linkedin_tally(body, "urn:li:share:1", ends - timedelta(seconds=1))
    assert (open_.options, open_.closed, open_.voters) == ((("Ya", 30), ("Tidak", 12)), False, 42)
    assert linkedin_tally(body, "urn:li:share:1", ends).closed is True


@pytest.mark.parametrize(("duration", "days"), [("ONE_DAY", 1), ("SEVEN_DAYS", 7), ("FOURTEEN_DAYS", 14)])
def test_each_documented_duration_sets_the_end(duration: str, days: int) -> None:
    body = post([{"text": "a", "voteCount": 0}, {"text": "b", "voteCount": 0}], duration)
    assert linkedin_tally(body, "u", PUBLISHED + timedelta(days=days)).closed is True
    assert linkedin_tally(body, "u", PUBLISHED + timedelta(days=days, seconds=-1)).closed is False


def test_an_unknown_duration_never_claims_the_tally_is_final() -> None:
    body = post([{"text": "a", "voteCount": 1}, {"text": "b", "voteCount": 2}], "FOREVER")
    assert linkedin_tally(body, "u", PUBLISHED + timedelta(days=400)).closed is False


def test_options_without_counts_are_hidden_results_not_zero_votes() -> None:
    body = post([{"text": "Ya"}, {"text": "Tidak", "voteCount": 3}])
    with pytest.raises(PollUnreadable) as hidden:
        linkedin_tally(body, "u", PUBLISHED)
    assert hidden.value.code == "poll_results_hidden"


@pytest.mark.parametrize(
    "body", [{"id": "u"}, {"content": {"article": {}}}, post([]), post([{"voteCount": 1}]), None]
)
def test_a_post_without_a_poll_is_unreadable(body: Any) -> None:
    with pytest.raises(PollUnreadable, match="no poll"):
        linkedin_tally(body, "u", PUBLISHED)
