"""LinkedIn's comment listing read by the inbox (pure): the documented request, and answers of
other shapes refused item by item, never raised past the parser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.inbox.errors import Unreadable
from services.inbox.parsing import linkedin_comments
from services.inbox.readers import listing_request
from services.inbox.watched import WatchedPost
from shared.channels import Channel

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
POST = WatchedPost("linkedin-demo", "linkedin", "urn:li:share:7", published_at=NOW)


def test_the_request_names_the_post_urn_encoded_the_version_and_the_page() -> None:
    channel = Channel(id="linkedin-demo", platform="linkedin", base_url="https://api.linkedin.com")
    request = listing_request(channel, POST, "tok", "100")
    assert request.url == "https://api.linkedin.com/rest/socialActions/urn%3Ali%3Ashare%3A7/comments"
    assert request.params == {"start": "100", "count": "100"}
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert len(request.headers["LinkedIn-Version"]) == 6


def test_items_it_cannot_read_are_problems_and_the_rest_comments() -> None:
    good = {
        "id": "11", "actor": "urn:li:person:a", "message": {"text": "Mantap"},
        "created": {"time": 1764817200000}, "parentComment": "urn:li:comment:(urn:li:share:7,10)",
    }  # fmt: skip
    body = {"elements": [good, {"id": "12"}, "text", {**good, "created": {"time": "soon"}}], "paging": {}}
    parsed = linkedin_comments(body, POST, NOW)
    assert [(c.comment_id, c.parent_id, c.author.id) for c in parsed.comments] == [
        ("11", "10", "urn:li:person:a")
    ]
    assert len(parsed.problems) == 3
    assert parsed.next_page is None
    with pytest.raises(Unreadable):
        linkedin_comments({"elements": {"not": "a list"}}, POST, NOW)
