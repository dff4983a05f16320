"""Each platform's hide call, and what a 2xx answer must say before a comment counts as hidden."""

from __future__ import annotations

import pytest

from services.publisher.adapters.hide_calls import hid, hide_call
from services.publisher.adapters.reply_calls import NoReplyCall
from shared.comment_rules import COMMENT_RULES, platform_hides
from shared.events import ReplyTarget

TO = ReplyTarget(key="ib1", comment_id="c9", post_id="p1", approved_by="rina")


@pytest.mark.parametrize(
    ("platform", "method", "path", "kw"),
    [
        ("facebook", "POST", "/c9", {"data": {"is_hidden": "true"}}),
        ("instagram", "POST", "/c9", {"data": {"hide": "true"}}),
        (
            "youtube",
            "POST",
            "/youtube/v3/comments/setModerationStatus",
            {"params": {"id": "c9", "moderationStatus": "heldForReview"}},
        ),
        ("x", "PUT", "/2/tweets/c9/hidden", {"json": {"hidden": True}}),
        ("threads", "POST", "/c9/manage_reply", {"data": {"hide": "true"}}),
    ],
)
def test_the_documented_call(platform: str, method: str, path: str, kw: dict[str, object]) -> None:
    call = hide_call(platform, TO)
    assert (call.method, call.path, call.kw) == (method, path, kw)


def test_a_call_for_every_platform_the_rule_lets_hide_and_none_elsewhere() -> None:
    for platform in COMMENT_RULES:
        if platform_hides(platform):
            assert hide_call(platform, TO).path
        else:
            with pytest.raises(NoReplyCall, match="cannot hide"):
                hide_call(platform, TO)
    assert not platform_hides("tiktok")  # no comment rules at all


@pytest.mark.parametrize(
    ("platform", "status", "body", "hidden"),
    [
        ("facebook", 200, {"success": True}, True),
        ("facebook", 200, {"success": False}, False),
        ("instagram", 200, {}, False),
        ("threads", 200, {"success": True}, True),
        ("x", 200, {"data": {"hidden": True}}, True),
        ("x", 200, {"data": {"hidden": False}}, False),
        ("x", 200, None, False),
        ("youtube", 204, None, True),
    ],
)
def test_what_an_answer_says(platform: str, status: int, body: object, hidden: bool) -> None:
    assert hid(platform, status, body) is hidden
