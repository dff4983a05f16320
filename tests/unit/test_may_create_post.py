"""The rule a lost reply is judged by: may the request have made a post?"""

from __future__ import annotations

import pytest

from services.publisher.adapters.common import may_create_post


@pytest.mark.parametrize(
    ("method", "creates_post", "ambiguous"),
    [
        ("POST", True, True),  # a post: never re-send blindly
        ("PUT", True, True),  # the last chunk of an upload that publishes
        ("POST", False, False),  # a media upload, a container: safe to send again
        ("PUT", False, False),
        ("GET", True, False),  # a safe method changes nothing, whatever the caller says
        ("get", True, False),
        ("HEAD", True, False),
        ("OPTIONS", True, False),
    ],
)
def test_may_create_post(method: str, creates_post: bool, ambiguous: bool) -> None:
    assert may_create_post(method, creates_post) is ambiguous
