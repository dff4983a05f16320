"""Each platform's hide, un-hide and delete call, and what an answer must say before the
comment counts as hidden, shown again or deleted."""

from __future__ import annotations

import pytest

from services.publisher.adapters.moderation_calls import done, gone, moderation_call
from services.publisher.adapters.port import Credentials, Target
from services.publisher.adapters.reply_calls import NoReplyCall
from shared.comment_rules import COMMENT_RULES, platform_deletes, platform_hides
from shared.events import Moderation, ReplyTarget

TO = ReplyTarget(key="ib1", comment_id="c9", post_id="p1", approved_by="rina")
TARGET = Target("ch", "demo", "https://example.test", Credentials("t"), {"discussion_chat_id": "-100123"})
MODERATE = "/youtube/v3/comments/setModerationStatus"


@pytest.mark.parametrize(
    ("platform", "action", "method", "path", "kw"),
    [
        ("facebook", "hide", "POST", "/c9", {"data": {"is_hidden": "true"}}),
        ("facebook", "unhide", "POST", "/c9", {"data": {"is_hidden": "false"}}),
        ("facebook", "delete", "DELETE", "/c9", {}),
        ("instagram", "hide", "POST", "/c9", {"data": {"hide": "true"}}),
        ("instagram", "unhide", "POST", "/c9", {"data": {"hide": "false"}}),
        ("instagram", "delete", "DELETE", "/c9", {}),
        ("youtube", "hide", "POST", MODERATE, {"params": {"id": "c9", "moderationStatus": "heldForReview"}}),
        ("youtube", "unhide", "POST", MODERATE, {"params": {"id": "c9", "moderationStatus": "published"}}),
        ("youtube", "delete", "POST", MODERATE, {"params": {"id": "c9", "moderationStatus": "rejected"}}),
        ("x", "hide", "PUT", "/2/tweets/c9/hidden", {"json": {"hidden": True}}),
        ("x", "unhide", "PUT", "/2/tweets/c9/hidden", {"json": {"hidden": False}}),
        ("threads", "hide", "POST", "/c9/manage_reply", {"data": {"hide": "true"}}),
        ("threads", "unhide", "POST", "/c9/manage_reply", {"data": {"hide": "false"}}),
    ],
)
def test_the_documented_call(
    platform: str, action: Moderation, method: str, path: str, kw: dict[str, object]
) -> None:
    call = moderation_call(platform, action, TARGET, TO)
    assert (call.method, call.path, call.kw) == (method, path, kw)


def test_telegram_deletes_in_the_discussion_group_by_message_id() -> None:
    to = TO.model_copy(update={"comment_id": "101"})
    call = moderation_call("telegram", "delete", TARGET, to)
    assert (call.method, call.path, call.kw) == (
        "POST",
        "deleteMessage",
        {"json": {"chat_id": "-100123", "message_id": 101}},
    )
    with pytest.raises(NoReplyCall, match="discussion"):
        moderation_call("telegram", "delete", Target("ch", "demo", "", Credentials("t"), {}), to)
    with pytest.raises(NoReplyCall, match="not a message id"):
        moderation_call("telegram", "delete", TARGET, TO)


def test_a_call_for_every_platform_the_rules_allow_and_none_elsewhere() -> None:
    to = TO.model_copy(update={"comment_id": "101"})
    for platform in COMMENT_RULES:
        for action, allowed in (
            ("hide", platform_hides(platform)),
            ("unhide", platform_hides(platform)),
            ("delete", platform_deletes(platform)),
        ):
            if allowed:
                assert moderation_call(platform, action, TARGET, to).path  # type: ignore[arg-type]
            else:
                with pytest.raises(NoReplyCall, match="cannot"):
                    moderation_call(platform, action, TARGET, to)  # type: ignore[arg-type]
    assert not platform_hides("tiktok")
    assert not platform_deletes("tiktok")


@pytest.mark.parametrize(
    ("platform", "action", "status", "body", "said"),
    [
        ("facebook", "hide", 200, {"success": True}, True),
        ("facebook", "delete", 200, {"success": False}, False),
        ("instagram", "unhide", 200, {}, False),
        ("threads", "unhide", 200, {"success": True}, True),
        ("x", "hide", 200, {"data": {"hidden": True}}, True),
        ("x", "hide", 200, {"data": {"hidden": False}}, False),
        ("x", "unhide", 200, {"data": {"hidden": False}}, True),
        ("x", "unhide", 200, {"data": {"hidden": True}}, False),
        ("x", "hide", 200, None, False),
        ("youtube", "delete", 204, None, True),
        ("telegram", "delete", 200, {"ok": True, "result": True}, True),
        ("telegram", "delete", 200, {"ok": True, "result": False}, False),
    ],
)
def test_what_an_answer_says(
    platform: str, action: Moderation, status: int, body: object, said: bool
) -> None:
    assert done(platform, action, status, body) is said


@pytest.mark.parametrize(
    ("platform", "status", "body", "already_gone"),
    [
        ("facebook", 400, {"error": {"code": 100, "error_subcode": 33, "message": "does not exist"}}, True),
        ("instagram", 400, {"error": {"code": 100, "message": "Invalid parameter"}}, False),
        ("facebook", 403, {"error": {"code": 200, "message": "Permissions error"}}, False),
        ("youtube", 404, {"error": {"errors": [{"reason": "commentNotFound"}]}}, True),
        ("telegram", 400, {"ok": False, "description": "Bad Request: message to delete not found"}, True),
        ("telegram", 400, {"ok": False, "description": "Bad Request: message can't be deleted"}, False),
        ("facebook", 502, None, False),
    ],
)
def test_a_delete_of_a_comment_already_gone_is_done(
    platform: str, status: int, body: object, already_gone: bool
) -> None:
    assert gone(platform, status, body) is already_gone
