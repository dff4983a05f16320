"""What the inbox can do on each channel, and why not where it cannot (pure).

Three facts meet here, each kept in its own place: what the platform's API allows with comments
(``shared.capabilities``, ``CommentRules``), how the inbox reads the channel with its access
(``services.inbox.access``), and on which platforms the publisher posts replies
(``shared.comment_rules.REPLIES_BUILT``). Each ability says ``can`` and a ``code`` the page
translates (English and Bahasa Indonesia), with an English ``detail`` for the curious:

- ``read``: ``ok``, or why not: ``needs_access`` (a paid tier, a linked discussion group),
  ``not_built`` (the platform allows it, the inbox has no reader yet), ``no_api``;
- ``reply``: ``ok``, ``window`` (free replies only within ``window_hours`` of the citizen's last
  message, ``after_window`` after it), ``needs_access`` (Telegram without its discussion group),
  ``not_built``, ``no_api``;
- ``hide`` on the platform: ``ok`` where the API allows it (``comment_rules.platform_hides``:
  the inbox's hide then hides it there too, and a reopen shows it again, through the
  publisher), ``no_api`` elsewhere (the hide only takes the comment out of the team's list);
- ``delete`` on the platform: ``ok`` where the API lets the account delete a citizen's comment
  (``comment_rules.platform_deletes``: the inbox's delete goes through the publisher),
  ``needs_access`` (Telegram without its discussion group), ``no_api`` elsewhere (the inbox
  refuses the delete);
- ``quota``: what a read, a reply and a hide cost of the daily quota, where the platform counts
  units.
"""

from __future__ import annotations

from typing import Any

from services.inbox.access import readability
from shared.capabilities import CAPABILITIES
from shared.channels import Channel
from shared.comment_rules import REPLIES_BUILT, platform_deletes, platform_hides


def abilities(channel: Channel) -> dict[str, Any]:
    row = CAPABILITIES.get(channel.platform)
    rules = row.comments if row is not None else None
    label = row.label if row is not None else channel.platform
    read = readability(channel)
    if rules is None:
        none = {"can": False, "code": "no_api", "detail": f"{label} has no comments API"}
        return {"read": none, "reply": none, "hide": none, "delete": none, "quota": None}
    code = {None: "ok", "access": "needs_access", "reader": "not_built", "api": "no_api"}[read.blocked_by]
    read_row: dict[str, Any] = {"can": read.blocked_by is None, "code": code, "detail": read.reason}
    if rules.read_needs:
        read_row["needs"] = rules.read_needs
    return {
        "read": read_row,
        "reply": _reply(channel, label, rules.reply, rules.reply_window_hours, rules.after_window),
        "hide": _hide(channel.platform, label),
        "delete": _delete(channel, label),
        "quota": (
            {
                "daily": rules.daily_quota,
                "read": rules.read_cost,
                "reply": rules.reply_cost,
                "hide": rules.hide_cost,
            }
            if rules.daily_quota is not None
            else None
        ),
        "source": rules.source,
    }


def _reply(
    channel: Channel, label: str, allowed: bool, window_hours: int | None, after: str | None
) -> dict[str, Any]:
    if not allowed:
        return {"can": False, "code": "no_api", "detail": f"{label}'s API takes no replies"}
    # The window is the platform's rule: shown even while the inbox cannot reply there yet.
    window: dict[str, Any] = {}
    if window_hours is not None:
        window = {
            "window_hours": window_hours,
            "after_window": after,
            "detail": f"free replies only within {window_hours} hours of the citizen's last message; "
            f"after that, {after}",
        }
    if channel.platform not in REPLIES_BUILT:
        detail = f"{label} takes replies, but the publisher's reply for it is not built yet"
        return {"can": False, "code": "not_built", **window, "detail": detail}
    if _no_discussion_group(channel):
        detail = "replies go to the channel's linked discussion group: set options.discussion_chat_id"
        return {"can": False, "code": "needs_access", "detail": detail}
    if window:
        return {"can": True, "code": "window", **window}
    return {"can": True, "code": "ok", "detail": "replies are posted through the publisher's rules"}


def _hide(platform: str, label: str) -> dict[str, Any]:
    if not platform_hides(platform):
        detail = f"{label}'s API cannot hide a citizen's comment: a hide only takes it out of the team's list"
        return {"can": False, "code": "no_api", "detail": detail}
    return {
        "can": True,
        "code": "ok",
        "detail": f"a hide also hides it on {label}, and a reopen shows it again, through the publisher",
    }


# Where a delete on the platform is not quite a delete, the page says what it does.
_DELETE_NOTE = {
    "youtube": " (rejected: off the video for good; YouTube deletes only the channel's own comments)",
    "telegram": " (in the discussion group, within 48 hours, by a bot that may delete messages there)",
}


def _delete(channel: Channel, label: str) -> dict[str, Any]:
    if not platform_deletes(channel.platform):
        detail = f"{label}'s API cannot delete a citizen's comment: hide it instead"
        return {"can": False, "code": "no_api", "detail": detail}
    if _no_discussion_group(channel):
        detail = (
            "comments are deleted in the channel's linked discussion group: set options.discussion_chat_id"
        )
        return {"can": False, "code": "needs_access", "detail": detail}
    note = _DELETE_NOTE.get(channel.platform, "")
    return {
        "can": True,
        "code": "ok",
        "detail": f"a delete deletes it on {label}{note}, through the publisher",
    }


def _no_discussion_group(channel: Channel) -> bool:
    """Telegram's comments live in the channel's linked group, which the channel must name."""
    return channel.platform == "telegram" and "discussion_chat_id" not in channel.options
