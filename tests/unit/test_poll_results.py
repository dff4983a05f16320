"""Poll results: when they are read (the scheduler's measure instants), how a platform's answer
becomes a tally (the platforms' documented examples), and how the report shows them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema_rs
import pytest

from services.analytics.ledger import Position, apply
from services.analytics.reach_render import render_csv, render_html
from services.analytics.weekly import REPORT_SCHEMA, weekly_report
from services.publisher.adapters.poll_tally import PollUnreadable, mastodon_tally, telegram_tally, x_tally
from services.scheduler.plan_records import measure_instants
from shared.events import Poll, PollOptionResult, PollResultsObserved
from tests.unit.test_analytics_figures import REPORT, ZONES
from tests.unit.test_reach_report import parse

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tuesday of 2026-W49, 10:00 WIB
HORIZONS = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24))


def test_a_poll_adds_one_reading_a_minute_after_it_closes() -> None:
    assert measure_instants(T0, HORIZONS, None) == tuple(T0 + h for h in HORIZONS)
    poll = Poll(question="?", options=("a", "b"), duration_minutes=180)
    assert measure_instants(T0, HORIZONS, poll) == (
        T0 + timedelta(hours=1),
        T0 + timedelta(minutes=181),
        T0 + timedelta(hours=6),
        T0 + timedelta(hours=24),
    )
    day = Poll(question="?", options=("a", "b"), duration_minutes=1439)  # closes at +24 h exactly
    assert measure_instants(T0, HORIZONS, day)[-1] == T0 + timedelta(hours=24)
    assert len(measure_instants(T0, HORIZONS, day)) == 3


# docs.joinmastodon.org/entities/Poll/#example
MASTODON_POLL = {
    "id": "34830",
    "expires_at": "2019-12-05T04:05:08.302Z",
    "expired": True,
    "multiple": False,
    "votes_count": 10,
    "voters_count": None,
    "voted": True,
    "own_votes": [1],
    "options": [{"title": "accept", "votes_count": 6}, {"title": "deny", "votes_count": 4}],
    "emojis": [],
}
# docs.x.com, data dictionary, Poll object (with the expansion's post around it)
X_ANSWER = {
    "data": {"id": "1199786642791452673", "text": "C#", "attachments": {"poll_ids": ["1199786642468413448"]}},
    "includes": {
        "polls": [
            {
                "id": "1199786642468413448",
                "voting_status": "closed",
                "duration_minutes": 1440,
                "options": [
                    {"position": 2, "label": "“C Sharp”", "votes": 795},
                    {"position": 1, "label": "“C Hashtag”", "votes": 156},
                ],
                "end_datetime": "2019-11-28T20:26:41.000Z",
            }
        ]
    },
}


def test_the_platforms_documented_polls_read_as_tallies() -> None:
    m = mastodon_tally(MASTODON_POLL)
    assert (m.options, m.closed, m.voters) == ((("accept", 6), ("deny", 4)), True, None)
    x = x_tally(X_ANSWER, "1199786642791452673")
    assert x.options == (("“C Hashtag”", 156), ("“C Sharp”", 795))  # in the order posted
    assert x.closed is True
    assert (
        x_tally(
            {
                **X_ANSWER,
                "includes": {
                    "polls": [
                        {
                            "id": "1",
                            "voting_status": "open",
                            "options": [{"position": 1, "label": "a", "votes": 0}],
                        }
                    ]
                },
            },
            "p",
        ).closed
        is False
    )


# core.telegram.org/bots/api, type Poll: what stopPoll answers for a stopped poll.
TELEGRAM_POLL = {
    "id": "5000000000000000001",
    "question": "Jam layanan?",
    "options": [
        {"text": "Pagi", "voter_count": 12, "persistent_id": "1-0"},
        {"text": "Sore", "voter_count": 5, "persistent_id": "1-1"},
    ],
    "total_voter_count": 15,
    "is_closed": True,
    "is_anonymous": True,
    "type": "regular",
    "allows_multiple_answers": True,
}


def test_a_stopped_telegram_poll_reads_as_a_closed_tally() -> None:
    t = telegram_tally(TELEGRAM_POLL, "1")
    assert (t.options, t.closed, t.voters) == ((("Pagi", 12), ("Sore", 5)), True, 15)
    single = telegram_tally({**TELEGRAM_POLL, "allows_multiple_answers": False}, "1")
    assert single.voters is None  # one answer each: the votes are the voters


@pytest.mark.parametrize(
    "read",
    [
        lambda: mastodon_tally({"options": []}),
        lambda: mastodon_tally({"options": [{"title": "", "votes_count": 1}]}),
        lambda: x_tally({"data": {"id": "1"}}, "1"),
        lambda: x_tally({"includes": {"polls": [{"id": "1"}]}}, "1"),
        lambda: telegram_tally({"id": "1", "options": []}, "1"),
        lambda: telegram_tally(None, "1"),
    ],
)
def test_an_answer_without_a_readable_poll_is_a_permanent_error(read: Any) -> None:
    with pytest.raises(PollUnreadable):
        read()


def tally(
    job: str, votes: tuple[int, ...], closed: bool, at: datetime, published: datetime = T0
) -> PollResultsObserved:
    return PollResultsObserved(
        event_id=f"p-{job}-{at.timestamp()}",
        occurred_at=at,
        job_id=job,
        content_id=job.split(":")[0],
        channel=job.split(":")[1],
        platform="mastodon",
        published_at=published,
        question="Jam layanan?",
        options=tuple(
            PollOptionResult(label=label, votes=v) for label, v in zip(("Pagi", "Sore"), votes, strict=False)
        ),
        closed=closed,
        voters=sum(votes),
    )


def test_the_final_tally_wins_whatever_order_the_readings_come_in() -> None:
    store: dict[str, Any] = {}
    final = tally("c1:ig", (30, 10), True, T0 + timedelta(hours=3))
    running = tally("c1:ig", (3, 1), False, T0 + timedelta(hours=6))  # read before it closed, delivered after
    assert apply(store, final, Position("engagement", 0, 9), ZONES)
    assert not apply(store, running, Position("engagement", 0, 3), ZONES)
    assert not apply(store, final, Position("engagement", 0, 9), ZONES)  # replayed
    assert store["poll|c1:ig"]["s"]["options"] == [
        {"label": "Pagi", "votes": 30},
        {"label": "Sore", "votes": 10},
    ]
    later = tally("c1:ig", (31, 10), True, T0 + timedelta(hours=24))
    assert apply(store, later, Position("engagement", 0, 12), ZONES)


@pytest.fixture
def doc() -> dict[str, Any]:
    store: dict[str, Any] = {}
    apply(store, tally("c1:ig", (30, 10), True, T0 + timedelta(hours=3)), Position("engagement", 0, 0), ZONES)
    apply(store, tally("c2:x", (0, 0), False, T0 + timedelta(hours=1)), Position("engagement", 1, 0), ZONES)
    last_week = tally("c0:ig", (5, 5), True, T0, published=T0 - timedelta(days=7))
    apply(store, last_week, Position("engagement", 2, 0), ZONES)
    return weekly_report(store.items(), "2026-W49", REPORT)


def test_the_report_shows_the_weeks_polls_with_their_shares(doc: dict[str, Any]) -> None:
    jsonschema_rs.validator_for(dict(REPORT_SCHEMA)).validate(doc)
    assert [(p["content_id"], p["closed"], p["votes"]) for p in doc["polls"]] == [
        ("c2", False, 0),
        ("c1", True, 40),
    ]
    c1 = doc["polls"][1]
    assert [(o["label"], o["votes"], o["share"]) for o in c1["options"]] == [
        ("Pagi", 30, 0.75),
        ("Sore", 10, 0.25),
    ]
    assert doc["polls"][0]["options"][0]["share"] is None  # nobody voted: no share, not 0 %


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Poll results", "75%", "final", "still open", "40 votes"]),
        ("id", ["Hasil jajak pendapat", "75%", "40 suara"]),
    ],
)
def test_the_html_and_csv_show_each_polls_options(doc: dict[str, Any], lang: str, words: list[str]) -> None:
    s = parse(render_html(doc, lang))
    assert s.h2[-1] == words[0]
    text = "".join(s.text)
    for word in words:
        assert word in text, word
    rows = [r for r in csv.DictReader(io.StringIO(render_csv(doc))) if r["section"] == "polls"]
    assert [(r["key"], r["option"], r["votes"]) for r in rows] == [
        ("c2", "Pagi", "0"),
        ("c2", "Sore", "0"),
        ("c1", "Pagi", "30"),
        ("c1", "Sore", "10"),
    ]
