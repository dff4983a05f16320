"""How the inbox can read each platform's comments, and why not where it cannot (pure).

One table: a platform the inbox polls per post, one that pushes (Meta's webhooks), one whose
bot receives its comments as updates (Telegram's discussion groups), one it cannot read with the
channel's access, and one whose reader is not built yet. The inbox shows the reason
on every channel it does not collect, instead of silently showing no comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.channels import Channel

Mode = Literal["poll", "poll_and_webhook", "webhook", "updates", "unreadable"]
# What stands in the way of an unreadable channel: the account's access, the inbox's missing
# reader, or the platform, which has no comments API.
Blocker = Literal["access", "reader", "api"]

# X's read access by tier (docs.x.com/x-api/getting-started/pricing): the free tier reads
# nothing; replies come through recent search by conversation_id (7 days) on a paid tier.
X_PAID_TIERS = frozenset({"pay_per_use", "basic", "pro", "enterprise"})


@dataclass(frozen=True)
class Readability:
    mode: Mode
    reason: str
    blocked_by: Blocker | None = None

    @property
    def polled(self) -> bool:
        return self.mode in ("poll", "poll_and_webhook")


def readability(channel: Channel) -> Readability:
    if channel.platform == "x":
        return _x(channel.options.get("x_read_tier", "free"))
    if channel.platform == "telegram":
        return _telegram("discussion_chat_id" in channel.options)
    fixed = _FIXED.get(channel.platform)
    if fixed is not None:
        return fixed
    return Readability("unreadable", f"{channel.platform} has no comments API the inbox reads", "api")


def _x(tier: str) -> Readability:
    if tier not in X_PAID_TIERS:
        return Readability(
            "unreadable",
            f"X's {tier} tier cannot read replies: they need a paid read tier (pay-per-use, "
            "Basic or above) to search a post's conversation_id, 7 days back",
            "access",
        )
    return Readability(
        "poll",
        f"replies read from GET /2/tweets/search/recent by conversation_id ({tier} tier): "
        "7 days back, each poll counted on the account's read limit",
    )


def _telegram(has_discussion_group: bool) -> Readability:
    if not has_discussion_group:
        return Readability(
            "unreadable",
            "this Telegram channel has no linked discussion group: comments exist only in a "
            "discussion group linked to the channel (linked_chat_id); link one and set "
            "options.discussion_chat_id",
            "access",
        )
    return Readability(
        "updates",
        "comments read from the linked discussion group by the bot's getUpdates: the bot must "
        "be a member of the group with privacy mode off, or an administrator",
    )


_META_PUSH = Readability(
    "poll_and_webhook",
    "Meta pushes new comments by webhook (signed); a slower poll of /{post-id}/comments "
    "catches what a lost delivery missed",
)
# The platforms whose readability does not depend on the channel's options.
_FIXED = {
    "mastodon": Readability("poll", "replies read from GET /api/v1/statuses/:id/context"),
    "bluesky": Readability("poll", "replies read from app.bsky.feed.getPostThread (6 levels deep)"),
    "youtube": Readability("poll", "comments read from commentThreads.list (1 quota unit a page)"),
    "facebook": _META_PUSH,
    "instagram": _META_PUSH,
    "whatsapp": Readability("webhook", "incoming messages arrive by the Cloud API's messages webhook"),
    "threads": Readability("poll", "replies read from GET /{media-id}/replies (a post's direct replies)"),
    "linkedin": Readability(
        "poll",
        "comments read from GET /rest/socialActions/{post}/comments (an organization's posts: "
        "r_organization_social_feed and a page role such as ADMINISTRATOR)",
    ),
}
