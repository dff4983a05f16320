"""What each platform lets Warta do with the comments on its posts: read them, reply, hide,
delete, and what each costs (the capability table's ``comments`` column, joined in capabilities.py).

Sources: ``inbox-analytics.md``, cited per row."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from shared.capability_types import CommentRules

COMMENT_RULES: Mapping[str, CommentRules] = MappingProxyType(
    {
        # [F1] the Page "feed" webhook; [F2] comments?filter=stream, moderation needs the MODERATE
        # task (is_hidden, DELETE /{comment-id}).
        "facebook": CommentRules(
            read=True, reply=True, hide=True, delete=True, source="inbox-analytics.md [F1][F2]"
        ),
        # [I1] "comments can be listed, replied to, hidden and deleted" (top-level comments take replies).
        "instagram": CommentRules(
            read=True, reply=True, hide=True, delete=True, source="inbox-analytics.md [I1]"
        ),
        # [X1][X2] replies by conversation_id through recent search (7 days), [X3] a paid read
        # tier. Replies to the account's posts can be hidden (PUT /2/tweets/:id/hidden), not
        # deleted: they are other people's posts.
        "x": CommentRules(
            read=True,
            reply=True,
            hide=True,
            delete=False,
            read_needs="a paid read tier (pay-per-use, Basic or above): the free tier reads nothing",
            source="inbox-analytics.md [X1][X2][X3]",
        ),
        # [TG1][TG2] comments live in the channel's linked discussion group; a bot that is an admin
        # there can answer (reply_parameters) and delete (deleteMessage: "if the bot has
        # can_delete_messages in a supergroup, it can delete any message there", within 48 hours
        # of its sending, core.telegram.org/bots/api#deletemessage); there is no hiding.
        "telegram": CommentRules(
            read=True,
            reply=True,
            hide=False,
            delete=True,
            read_needs="a discussion group linked to the channel, with the bot in it",
            source="inbox-analytics.md [TG1][TG2]",
        ),
        # [MA1] statuses/:id/context; an account cannot hide or delete replies to its status on
        # another person's account (it can only block or report).
        "mastodon": CommentRules(
            read=True, reply=True, hide=False, delete=False, source="inbox-analytics.md [MA1]"
        ),
        # [Y1] 10,000 units a day; comments.list 1, comments.insert 50 (setModerationStatus 50
        # too, developers.google.com/youtube/v3/determine_quota_cost). Another person's comment is
        # moderated, not deleted (comments.delete is for the channel's own): a hide holds it for
        # review, a delete rejects it, which takes it off the video for good.
        "youtube": CommentRules(
            read=True,
            reply=True,
            hide=True,
            delete=True,
            daily_quota=10_000,
            read_cost=1,
            reply_cost=50,
            hide_cost=50,  # comments.setModerationStatus
            source="inbox-analytics.md [Y1]",
        ),
        # [L1] comments need r/w_organization_social_feed and a page role such as ADMINISTRATOR.
        # The Comments API's delete is for the actor's own comments: a citizen's stays.
        "linkedin": CommentRules(
            read=True,
            reply=True,
            hide=False,
            delete=False,
            read_needs="r_organization_social_feed and a page role such as ADMINISTRATOR",
            source="inbox-analytics.md [L1]",
        ),
        # [W1] the 24-hour window restarts with each user message; after it closes only templates.
        "whatsapp": CommentRules(
            read=True,
            reply=True,
            hide=False,
            delete=False,
            reply_window_hours=24,
            after_window="an approved message template",
            source="inbox-analytics.md [W1]",
        ),
        # [BS1] getPostThread to depth 6. Hiding a reply (a threadgate's hiddenReplies) is not in
        # inbox-analytics.md: not claimed here.
        "bluesky": CommentRules(
            read=True, reply=True, hide=False, delete=False, source="inbox-analytics.md [BS1]"
        ),
        # [T1][T2] /replies and manage_reply (hide, hide=false shows it again), 1,000 API replies
        # per 24 h; its delete is for the account's own posts, not a citizen's reply.
        "threads": CommentRules(
            read=True, reply=True, hide=True, delete=False, source="inbox-analytics.md [T1][T2]"
        ),
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
