"""What each platform lets Warta do with the comments on its posts: read them, reply, hide,
delete, and what each costs (the capability table's ``comments`` column, joined in capabilities.py).

Sources: ``inbox-analytics.md``, cited per row."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from shared.capability_types import CommentRules


def _row(tags: str, *, hide: bool, delete: bool, **more: Any) -> CommentRules:
    """A platform's row: every platform here lets the account read the comments on its posts and
    reply to them; ``tags`` cite inbox-analytics.md. ``more`` are CommentRules' own optional fields,
    which its constructor checks (a misspelt one fails at import)."""
    return CommentRules(
        read=True, reply=True, hide=hide, delete=delete, source=f"inbox-analytics.md {tags}", **more
    )


COMMENT_RULES: Mapping[str, CommentRules] = MappingProxyType(
    {
        # [F1] the Page "feed" webhook; [F2] comments?filter=stream, moderation needs the MODERATE
        # task (is_hidden, DELETE /{comment-id}).
        "facebook": _row("[F1][F2]", hide=True, delete=True),
        # [I1] "comments can be listed, replied to, hidden and deleted" (top-level comments take replies).
        "instagram": _row("[I1]", hide=True, delete=True),
        # [X1][X2] replies by conversation_id through recent search (7 days), [X3] a paid read
        # tier. Replies to the account's posts can be hidden (PUT /2/tweets/:id/hidden), not
        # deleted: they are other people's posts.
        "x": _row(
            "[X1][X2][X3]",
            hide=True,
            delete=False,
            read_needs="a paid read tier (pay-per-use, Basic or above): the free tier reads nothing",
        ),
        # [TG1][TG2] comments live in the channel's linked discussion group; a bot that is an admin
        # there can answer (reply_parameters) and delete (deleteMessage: "if the bot has
        # can_delete_messages in a supergroup, it can delete any message there", within 48 hours
        # of its sending, core.telegram.org/bots/api#deletemessage); there is no hiding.
        "telegram": _row(
            "[TG1][TG2]",
            hide=False,
            delete=True,
            read_needs="a discussion group linked to the channel, with the bot in it",
        ),
        # [MA1] statuses/:id/context; an account cannot hide or delete replies to its status on
        # another person's account (it can only block or report).
        "mastodon": _row("[MA1]", hide=False, delete=False),
        # [Y1] 10,000 units a day; comments.list 1, comments.insert 50 (setModerationStatus 50
        # too, developers.google.com/youtube/v3/determine_quota_cost). Another person's comment is
        # moderated, not deleted (comments.delete is for the channel's own): a hide holds it for
        # review, a delete rejects it, which takes it off the video for good.
        "youtube": _row(
            "[Y1]",
            hide=True,
            delete=True,
            daily_quota=10_000,
            read_cost=1,
            reply_cost=50,
            hide_cost=50,  # comments.setModerationStatus
        ),
        # [L1] comments need r/w_organization_social_feed and a page role such as ADMINISTRATOR.
        # The Comments API's delete is for the actor's own comments: a citizen's stays.
        "linkedin": _row(
            "[L1]",
            hide=False,
            delete=False,
            read_needs="r_organization_social_feed and a page role such as ADMINISTRATOR",
        ),
        # [W1] the 24-hour window restarts with each user message; after it closes only templates.
        "whatsapp": _row(
            "[W1]",
            hide=False,
            delete=False,
            reply_window_hours=24,
            after_window="an approved message template",
        ),
        # [BS1] getPostThread to depth 6. Hiding a reply (a threadgate's hiddenReplies) is not in
        # inbox-analytics.md: not claimed here.
        "bluesky": _row("[BS1]", hide=False, delete=False),
        # [T1][T2] /replies and manage_reply (hide, hide=false shows it again), 1,000 API replies
        # per 24 h; its delete is for the account's own posts, not a citizen's reply.
        "threads": _row("[T1][T2]", hide=True, delete=False),
    }
)

# The platforms whose publisher adapter posts a reply job (``Adapter.reply``): where the API
# takes replies and Warta has written the call. Telegram replies in the channel's discussion
# group and needs ``options.discussion_chat_id``.
REPLIES_BUILT: frozenset[str] = frozenset(
    {
        "mastodon",
        "facebook",
        "instagram",
        "youtube",
        "bluesky",
        "x",
        "threads",
        "linkedin",
        "telegram",
        "whatsapp",
    }
)


def platform_hides(platform: str) -> bool:
    """Whether the inbox hides a comment on ``platform`` itself (a publisher job with
    ``purpose="hide"``, and ``"unhide"`` when it is reopened): exactly where the platform's API
    allows hiding. Elsewhere a hide only takes the comment out of the team's list, and the entry
    says so."""
    rules = COMMENT_RULES.get(platform)
    return rules is not None and rules.hide


def platform_deletes(platform: str) -> bool:
    """Whether the inbox deletes a comment on ``platform`` (a publisher job with
    ``purpose="delete"``): exactly where the platform's API lets the account delete a citizen's
    comment. Elsewhere a delete is refused, since the inbox alone cannot delete anything."""
    rules = COMMENT_RULES.get(platform)
    return rules is not None and rules.delete
