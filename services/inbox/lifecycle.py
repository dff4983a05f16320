"""The lifecycle of a comment in the inbox: one transition table and the rules around it (pure).

States: new → assigned → replying → answered; any open entry may be hidden (abusive, with a
reason) or closed (nothing to answer); a closed or hidden entry may be reopened. ``replying``
holds an approved reply on its way to the platform: only the replier's outcome moves it on
(``settle``: posted → answered; refused, or unconfirmed because the platform could not say
whether it took it → back to the state before the reply, the text kept as a draft waiting for a
new approval, the reason saying which), so nobody can answer, hide or close a comment mid-send,
and an unconfirmed reply is sent again only by a person who checked the platform and approves. The table says which
action each state allows and where it leads; ``decide`` adds the rules that need more than the
state, and returns the ``InboxChanged`` event (who, why, the entry after the change) or raises:

- receive: only for a comment the inbox does not hold yet (a repeat is no change: ``None``),
  and not for the channel's own account (its replies come back in the platform's listings);
- assign: to a person; reassigning is allowed;
- draft_reply: a reply that waits for an approver, where the channel requires four eyes;
- reply: answers the comment. Where four eyes are required, only an approver who is not the
  draft's author may send the pending draft; elsewhere anyone may reply directly. A second
  answer to an answered comment needs ``override`` (the governor's account must not give a
  citizen two different answers by accident), and so does a new text over another person's
  draft that waits for approval (``SomeoneAnswering``; ``services.inbox.answering`` marks who is
  writing before any draft exists);
- hide, close and delete need a reason; reopen returns to new (or assigned, if someone holds
  it). A hide also hides the comment on the platform where its API allows it
  (``moderation_jobs``: the entry's ``platform_hide`` is ``sending`` until the publisher's
  outcome makes it ``hidden`` or ``failed``, ``settle_hide``), and says ``local`` with the reason
  elsewhere. Reopening a comment the platform may hide shows it again (``visible``,
  ``moderation_jobs.on_reopen``).
- delete deletes the comment on the platform (``deleted``), asked by an approver (it cannot be
  undone, unlike a hide), only where the platform's API lets the account delete a citizen's comment (``NotOnPlatform`` elsewhere: the inbox alone cannot
  delete anything). A deleted entry is final unless the platform refused the delete: then it
  may be deleted again or reopened.

``IllegalTransition`` (409) when the state forbids the action; ``ApprovalRequired`` (403) when
the four-eyes rule does, or a delete comes from someone without the approver role;
``NotOnPlatform`` (422) when the platform cannot; ``ReasonRequired`` (422) when a hide, close or
delete says no reason, ``TextRequired`` (422) when a reply's text says nothing: either is blank
when it holds only spaces and invisible characters (``shared.blank_text``, the rule ingest reads
a post's text by).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from services.inbox.errors import (
    ApprovalRequired,
    IllegalTransition,
    NotOnPlatform,
    ReasonRequired,
    SomeoneAnswering,
    TextRequired,
)
from services.inbox.moderation_jobs import (
    WANTS,
    HideSettled,
    asking,
    on_platform,
    on_reopen,
    waiting_hide,
)
from shared.blank_text import is_blank
from shared.capabilities import CAPABILITIES
from shared.channels import Channel
from shared.comment_rules import platform_deletes
from shared.events import (
    CommentObserved,
    InboxAction,
    InboxChanged,
    InboxState,
    ReplyDraft,
    ReplyRequested,
    ReplySettled,
    ReplyStatus,
)
from shared.messages import said

A, S = InboxAction, InboxState
OPEN = (S.NEW, S.ASSIGNED, S.ANSWERED)
# The publisher's word on a hide, an un-hide or a delete on the platform.
_SETTLED = tuple(a for ask in WANTS.values() for a in (ask.done, ask.failed))
# Taking a citizen's comment out of view, or out of the work, is recorded with why (the API's
# document says so of these routes too: ``services.inbox.openapi``).
NEEDS_REASON = frozenset({A.HIDE, A.CLOSE, A.DELETE})
_NOT_OPERATORS = (A.RECEIVE, A.REPLY_POSTED, A.REPLY_FAILED, A.REPLY_UNCONFIRMED, *_SETTLED)

TRANSITIONS: dict[tuple[InboxState | None, InboxAction], InboxState] = {
    (None, A.RECEIVE): S.NEW,
    **{(s, A.ASSIGN): S.ASSIGNED for s in (S.NEW, S.ASSIGNED)},
    **{(s, A.DRAFT_REPLY): s for s in (S.NEW, S.ASSIGNED, S.ANSWERED)},
    **{(s, A.REPLY): S.REPLYING for s in (S.NEW, S.ASSIGNED, S.ANSWERED)},
    (S.REPLYING, A.REPLY_POSTED): S.ANSWERED,
    # A reply that did not surely reach the platform returns the entry to where it was before
    # (new, assigned or answered: ``settle`` reads ``from_state``); the table names the default.
    (S.REPLYING, A.REPLY_FAILED): S.NEW,
    (S.REPLYING, A.REPLY_UNCONFIRMED): S.NEW,
    **{(s, A.HIDE): S.HIDDEN for s in OPEN},
    # The publisher's word on the platform records what the platform did and moves nothing: the
    # entry may have been reopened or closed meanwhile (``moderation_jobs.waiting_hide``).
    **{(s, a): s for s in (*OPEN, S.HIDDEN, S.CLOSED, S.DELETED) for a in _SETTLED},
    **{(s, A.CLOSE): S.CLOSED for s in (*OPEN, S.HIDDEN)},
    # From deleted only when the platform refused the delete (``_deleted_for_good``).
    **{(s, A.REOPEN): S.NEW for s in (S.CLOSED, S.HIDDEN, S.DELETED)},
    **{(s, A.DELETE): S.DELETED for s in (*OPEN, S.HIDDEN, S.CLOSED, S.DELETED)},
}
"""(state before, action) → state after; a pair not in the table is illegal."""


@dataclass(frozen=True)
class Command:
    action: InboxAction
    by: str
    reason: str = ""
    assignee: str | None = None
    text: str | None = None  # a reply's text
    override: bool = False  # a second answer to an answered comment, on purpose
    by_approver: bool = False  # the caller holds the approver role
    read_draft_at: datetime | None = None  # on an approval: the draft the approver read


def target(state: InboxState | None, action: InboxAction) -> InboxState:
    """The table's answer, or ``IllegalTransition``."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        if state == S.REPLYING:
            raise IllegalTransition(said("illegal_transition.replying")) from None
        before = state.value if state else "unknown"
        raise IllegalTransition(said("illegal_transition", state=before, action=action.value)) from None


def received(
    comment: CommentObserved,
    current: InboxChanged | None,
    now: datetime,
    *,
    own_names: Collection[str] = (),
) -> InboxChanged | None:
    """The entry a newly seen comment opens, or None when the inbox already holds it or the
    channel's own account wrote it (a reply the bureau posted is not a citizen's comment)."""
    if current is not None:
        return None
    # The account may be named by its id, its name, or its handle (YouTube shows "@name").
    author = comment.author
    if {author.id, author.name, (author.name or "").removeprefix("@")} & set(own_names):
        return None
    return InboxChanged(
        event_id=f"{comment.event_id}.1",
        occurred_at=now,
        comment=comment,
        version=1,
        action=A.RECEIVE,
        state=target(None, A.RECEIVE),
        by="inbox",
        reason=f"collected by {comment.via}",
        channel=comment.channel,
    )


def decide(current: InboxChanged, command: Command, *, four_eyes: bool, now: datetime) -> InboxChanged:
    """The change ``command`` makes to ``current`` (pure), or the error that refuses it."""
    action = command.action
    if action in _NOT_OPERATORS:
        # Only the comment's arrival and the publisher's outcomes make these changes.
        raise IllegalTransition(said("illegal_transition.not_operator", action=action.value))
    after = target(current.state, action)
    _deleted_for_good(current, action)
    assignee, reply = current.assignee, current.reply
    if action in NEEDS_REASON and is_blank(command.reason):
        raise ReasonRequired(said("illegal_transition.needs_reason", action=action.value))
    if action == A.DELETE and not command.by_approver:
        # A hide can be undone; a citizen's comment deleted from the leader's account cannot.
        raise ApprovalRequired(said("four_eyes.delete_needs_approver", person=command.by))
    if action == A.ASSIGN:
        if not command.assignee:
            raise IllegalTransition(said("illegal_transition.needs_assignee"))
        assignee = command.assignee
    elif action == A.REOPEN and assignee is not None:
        after = S.ASSIGNED
    elif action in (A.DRAFT_REPLY, A.REPLY):
        _no_second_answer(current, command)
        reply = _reply(current, command, four_eyes=four_eyes, now=now)
    entry = _next(current, now, action, after, assignee, reply, command.by, command.reason)
    platform = current.comment.platform
    if action == A.HIDE:
        return entry.model_copy(update={"platform_hide": on_platform(platform, entry.event_id)})
    if action == A.REOPEN:
        return entry.model_copy(
            update={"platform_hide": on_reopen(current.platform_hide, platform, entry.event_id)}
        )
    if action == A.DELETE:
        if not platform_deletes(platform):
            row = CAPABILITIES.get(platform)
            raise NotOnPlatform(said("not_on_platform.delete", platform=row.label if row else platform))
        return entry.model_copy(update={"platform_hide": asking("deleted", entry.event_id)})
    return entry


def _deleted_for_good(current: InboxChanged, action: InboxAction) -> None:
    """A comment deleted on the platform (or on its way to be) stays deleted: only a delete the
    platform refused may be tried again or reopened."""
    hide = current.platform_hide
    if current.state == S.DELETED and (hide is None or hide.status != "failed"):
        raise IllegalTransition(said("illegal_transition.deleted", action=action.value))


def settle_hide(current: InboxChanged, outcome: HideSettled, now: datetime) -> InboxChanged | None:
    """The change the publisher's word on a hide, an un-hide or a delete makes, or None when
    the entry does not wait on it (a repeat, a later request's, or a reply on its way)."""
    hide = current.platform_hide
    if not waiting_hide(current, outcome.request_id) or hide is None:
        return None
    ask = WANTS[hide.want]
    action = ask.done if outcome.done else ask.failed
    after = target(current.state, action)
    entry = _next(current, now, action, after, current.assignee, current.reply, "publisher", outcome.detail)
    status = hide.want if outcome.done else "failed"
    return entry.model_copy(
        update={"platform_hide": hide.model_copy(update={"status": status, "detail": outcome.detail})}
    )


def settle(current: InboxChanged, outcome: ReplySettled, now: datetime) -> InboxChanged | None:
    """The change the replier's ``outcome`` makes, or None when the entry is not waiting for that
    reply (a repeat, or another reply's outcome)."""
    if current.state != S.REPLYING or current.event_id != outcome.reply_id or current.reply is None:
        return None
    if outcome.status == ReplyStatus.POSTED:
        action, after = A.REPLY_POSTED, S.ANSWERED
        reply = current.reply.model_copy(update={"posted_id": outcome.posted_id, "posted_at": now})
        reason = f"posted as {outcome.posted_id}"
    else:
        unconfirmed = outcome.status == ReplyStatus.UNCONFIRMED
        action = A.REPLY_UNCONFIRMED if unconfirmed else A.REPLY_FAILED
        before = current.from_state
        after = before if before in (S.NEW, S.ASSIGNED, S.ANSWERED) else target(S.REPLYING, action)
        reply = current.reply.model_copy(update={"approved_by": None, "approved_at": None})
        reason = outcome.error or "the platform refused the reply"
        if unconfirmed:
            reason = f"check the platform before answering again: {reason}"
        reason = reason[:2000]
    return _next(current, now, action, after, current.assignee, reply, "replier", reason)


def _next(
    current: InboxChanged,
    now: datetime,
    action: InboxAction,
    after: InboxState,
    assignee: str | None,
    reply: ReplyDraft | None,
    by: str,
    reason: str,
) -> InboxChanged:
    """The entry's next version: ``action`` by ``by`` took it from its state to ``after``."""
    return InboxChanged(
        event_id=f"{current.comment.event_id}.{current.version + 1}",
        occurred_at=now,
        comment=current.comment,
        version=current.version + 1,
        action=action,
        from_state=current.state,
        state=after,
        assignee=assignee,
        reply=reply,
        by=by,
        reason=reason,
        channel=current.channel,
        platform_hide=current.platform_hide,
    )


# The channel options that name the channel's own account on the platform, as its comment
# listings name authors: Meta's Page, Instagram and Threads user ids, Bluesky's DID, LinkedIn's
# person or organization URN (a reply's ``actor``), X's, Telegram's and TikTok's username, and
# the ids a listing gives instead of a name (Mastodon's account id, X's user id, YouTube's channel).
_OWN_OPTIONS = (
    "page_id",
    "ig_user_id",
    "threads_user_id",
    "did",
    "author",
    "username",
    "account_id",
    "user_id",
    "channel_id",
)


def own_names(channel: Channel) -> frozenset[str]:
    """What the channel's own account is called in the platform's listings: its account name and
    each option in ``_OWN_OPTIONS`` it sets (a Page's replies come "from" the Page, a LinkedIn
    organization's from its URN); on Mastodon the bare username an ``@name@instance`` account has
    as its ``acct`` there; on Bluesky its handle (a bare name is ``<name>.bsky.social``, the
    handle every account on the bsky.social PDS has)."""
    names = {channel.account}
    names |= {v.removeprefix("@") for k in _OWN_OPTIONS if (v := channel.options.get(k))}
    if channel.platform == "mastodon":
        names.add(channel.account.removeprefix("@").split("@", 1)[0])
    if channel.platform == "bluesky" and "." not in channel.account:
        names.add(f"{channel.account}.bsky.social")
    # A nameless author (LinkedIn names none) is read as "": it must never be the channel's own.
    return frozenset(names - {""})


def requested(entry: InboxChanged, key: str) -> ReplyRequested | None:
    """The request to post the reply ``entry`` approved, or None when it approved none.

    Its id is the approving change's: a re-request after a restart names the same reply."""
    if entry.state != S.REPLYING or entry.reply is None or entry.reply.approved_by is None:
        return None
    comment = entry.comment
    return ReplyRequested(
        event_id=entry.event_id,
        occurred_at=entry.occurred_at,
        key=key,
        channel=entry.channel,
        platform=comment.platform,
        comment_id=comment.comment_id,
        post_id=comment.post_id,
        parent_id=comment.parent_id,
        text=entry.reply.text,
        approved_by=entry.reply.approved_by,
    )


def _no_second_answer(current: InboxChanged, command: Command) -> None:
    if command.override:
        return
    if current.state == S.ANSWERED:
        answered = current.reply.approved_by or current.reply.drafted_by if current.reply else "someone"
        raise IllegalTransition(said("illegal_transition.answered", by=answered))
    # A new text (a draft, or a direct reply) over another person's draft that waits for approval
    # would replace their answer unseen; approving that draft (no text) is how it goes on.
    pending = current.reply
    if (
        command.text
        and pending is not None
        and pending.approved_by is None
        and pending.drafted_by != command.by
    ):
        raise SomeoneAnswering(said("someone_answering.draft", by=pending.drafted_by))


def _reply(current: InboxChanged, command: Command, *, four_eyes: bool, now: datetime) -> ReplyDraft:
    if command.text and is_blank(command.text):
        raise TextRequired(said("illegal_transition.blank_text"))
    if command.action == A.DRAFT_REPLY:
        if not command.text:
            raise IllegalTransition(said("illegal_transition.draft_text"))
        return ReplyDraft(text=command.text, drafted_by=command.by, drafted_at=now)
    if not four_eyes:
        if command.text:
            return ReplyDraft(
                text=command.text,
                drafted_by=command.by,
                drafted_at=now,
                approved_by=command.by,
                approved_at=now,
            )
        draft = _pending(current, command.read_draft_at)
        return draft.model_copy(update={"approved_by": command.by, "approved_at": now})
    # Four eyes: the reply sent is the draft someone else wrote, approved by an approver.
    if command.text:
        raise ApprovalRequired(said("four_eyes.reply_needs_approver", channel=current.channel))
    draft = _pending(current, command.read_draft_at)
    if not command.by_approver:
        raise ApprovalRequired(said("four_eyes.not_approver", person=command.by))
    if command.by == draft.drafted_by:
        raise ApprovalRequired(said("four_eyes.own_reply", person=command.by))
    return draft.model_copy(update={"approved_by": command.by, "approved_at": now})


def _pending(current: InboxChanged, read_at: datetime | None = None) -> ReplyDraft:
    if current.reply is None or current.reply.approved_by is not None:
        raise IllegalTransition(said("illegal_transition.no_draft"))
    if read_at is not None and current.reply.drafted_at != read_at:
        raise IllegalTransition(said("illegal_transition.draft_changed", by=current.reply.drafted_by))
    return current.reply
