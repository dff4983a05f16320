"""A poll's tally read from a platform's answer (pure; the adapters fetch, these read).

- Mastodon ``GET /api/v1/polls/:id`` answers a Poll entity (docs.joinmastodon.org,
  entities/Poll): ``options[].title`` and ``options[].votes_count`` (null while the author's
  instance hides totals before the end), ``expired``, and ``voters_count`` (null unless the poll
  allows several choices).
- X ``GET /2/tweets/:id?expansions=attachments.poll_ids&poll.fields=options,voting_status``
  answers the poll under ``includes.polls[]`` (docs.x.com, Poll object): ``options[]`` with
  ``position``, ``label`` and ``votes``, and ``voting_status`` "open" or "closed".
- Telegram ``stopPoll`` answers the stopped Poll (core.telegram.org/bots/api, types Poll and
  PollOption): ``options[].text`` and ``options[].voter_count``, ``is_closed``, and
  ``total_voter_count`` (people; apart from the votes only when ``allows_multiple_answers``).
- Threads ``GET /{threads-media-id}?fields=poll_attachment{...}`` (developers.facebook.com/docs/
  threads/create-posts/polls, "Media retrieval") answers ``option_a``..``option_d`` (c and d only
  when posted), ``option_x_votes_percentage`` as a fraction (the example: 0.10, 0.20, 0.15,
  0.55), ``total_votes`` and ``expiration_timestamp``: no count per option and no "closed" flag.
  An option's votes are its fraction of the total, rounded; the poll is closed once ``now`` has
  reached its expiry.
- LinkedIn ``GET /rest/posts/{urn}`` answers the post (Posts API "Retrieve Posts"), its poll in
  ``content.poll``: ``options[].text`` and, read-only, ``options[].voteCount`` and
  ``uniqueVotersCount`` (Poll API, "Poll" and "Poll Option" fields). No "closed" flag: the poll
  ends ``settings.duration`` after ``publishedAt``. An answer whose options carry no
  ``voteCount`` (a token that is not the author's: LinkedIn shows votes to the author only) is
  no tally, not zero votes.

A tally that names no option is not a tally: ``PollUnreadable`` (a ``Permanent`` error).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.publisher.adapters import port
from services.publisher.adapters.graph import parse_graph_time
from shared.json_values import as_int, as_list, as_object, epoch_time


class PollUnreadable(port.Permanent):
    """The platform's answer holds no poll, or a poll without options."""


def mastodon_tally(poll: Any) -> port.PollTally:
    body = as_object(poll)
    options = tuple(
        (str(o.get("title") or ""), as_int(o.get("votes_count")) or 0)
        for o in map(as_object, as_list(body.get("options")))
    )
    if not options or not all(label for label, _ in options):
        raise PollUnreadable("mastodon: the poll has no readable options", code="poll_unreadable")
    return port.PollTally(
        options=options, closed=body.get("expired") is True, voters=as_int(body.get("voters_count"))
    )


def x_tally(body: Any, post_id: str) -> port.PollTally:
    polls = as_list(as_object(as_object(body).get("includes")).get("polls"))
    if not polls:
        raise PollUnreadable(f"x: post {post_id} carries no poll", code="poll_unreadable")
    poll = as_object(polls[0])
    raw = sorted(map(as_object, as_list(poll.get("options"))), key=lambda o: as_int(o.get("position")) or 0)
    options = tuple((str(o.get("label") or ""), as_int(o.get("votes")) or 0) for o in raw)
    if not options or not all(label for label, _ in options):
        raise PollUnreadable(f"x: the poll of post {post_id} has no readable options", code="poll_unreadable")
    return port.PollTally(options=options, closed=poll.get("voting_status") == "closed")


def telegram_tally(poll: Any, post_id: str) -> port.PollTally:
    body = as_object(poll)
    options = tuple(
        (str(o.get("text") or ""), as_int(o.get("voter_count")) or 0)
        for o in map(as_object, as_list(body.get("options")))
    )
    if not options or not all(label for label, _ in options):
        raise PollUnreadable(f"telegram: message {post_id} carries no readable poll", code="poll_unreadable")
    multiple = body.get("allows_multiple_answers") is True
    return port.PollTally(
        options=options,
        closed=body.get("is_closed") is True,
        voters=as_int(body.get("total_voter_count")) if multiple else None,
    )


_THREADS_KEYS = ("a", "b", "c", "d")


def threads_tally(body: Any, post_id: str, now: datetime) -> port.PollTally:
    poll = as_object(as_object(body).get("poll_attachment"))
    total = as_int(poll.get("total_votes")) or 0
    options = tuple(
        (str(poll[f"option_{k}"]), round(_fraction(poll.get(f"option_{k}_votes_percentage")) * total))
        for k in _THREADS_KEYS
        if poll.get(f"option_{k}")
    )
    if not options:
        raise PollUnreadable(f"threads: post {post_id} carries no poll", code="poll_unreadable")
    ends = parse_graph_time(poll.get("expiration_timestamp"))
    return port.PollTally(options=options, closed=ends is not None and now >= ends)


def _fraction(value: object) -> float:
    """A share of the votes, 0..1; anything else (missing, negative, not a number) is none."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return min(1.0, max(0.0, float(value)))


_LINKEDIN_DURATIONS = {
    "ONE_DAY": timedelta(days=1),
    "THREE_DAYS": timedelta(days=3),
    "SEVEN_DAYS": timedelta(days=7),
    "FOURTEEN_DAYS": timedelta(days=14),
}


def linkedin_tally(body: Any, post_id: str, now: datetime) -> port.PollTally:
    post = as_object(body)
    poll = as_object(as_object(post.get("content")).get("poll"))
    raw = list(map(as_object, as_list(poll.get("options"))))
    if not raw or not all(o.get("text") for o in raw):
        raise PollUnreadable(f"linkedin: post {post_id} carries no poll", code="poll_unreadable")
    counts = [as_int(o.get("voteCount")) for o in raw]
    if any(c is None for c in counts):
        raise PollUnreadable(
            f"linkedin: the poll of post {post_id} shows no vote counts (only its author sees them)",
            code="poll_results_hidden",
        )
    published = epoch_time(as_int(post.get("publishedAt")) or post.get("createdAt"), per_second=1000)
    duration = _LINKEDIN_DURATIONS.get(str(as_object(poll.get("settings")).get("duration")))
    ends = (
        published + duration
        if published is not None and duration is not None and published.year < 9999
        else None
    )
    return port.PollTally(
        options=tuple((str(o["text"]), c or 0) for o, c in zip(raw, counts, strict=True)),
        closed=ends is not None and now >= ends,
        voters=as_int(poll.get("uniqueVotersCount")),
    )
