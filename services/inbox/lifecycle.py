"""The lifecycle of a comment in the inbox: one transition table and the rules around it (pure).

States: new → assigned → answered; any open entry may be hidden (abusive, with a reason) or
closed (nothing to answer); a closed or hidden entry may be reopened. The table says which
action each state allows and where it leads; ``decide`` adds the rules that need more than the
state, and returns the ``InboxChanged`` event (who, why, the entry after the change) or raises:

- receive: only for a comment the inbox does not hold yet (a repeat is no change: ``None``);
- assign: to a person; reassigning is allowed;
- draft_reply: a reply that waits for an approver, where the channel requires four eyes;
- reply: answers the comment. Where four eyes are required, only an approver who is not the
  draft's author may send the pending draft; elsewhere anyone may reply directly. A second
  answer to an answered comment needs ``override`` (the governor's account must not give a
  citizen two different answers by accident);
- hide and close need a reason; reopen returns to new (or assigned, if someone holds it).

``IllegalTransition`` (409) when the state forbids the action; ``ApprovalRequired`` (403) when
the four-eyes rule does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.inbox.errors import ApprovalRequired, IllegalTransition
from shared.events import CommentObserved, InboxAction, InboxChanged, InboxState, ReplyDraft

A, S = InboxAction, InboxState
OPEN = (S.NEW, S.ASSIGNED, S.ANSWERED)

TRANSITIONS: dict[tuple[InboxState | None, InboxAction], InboxState] = {
    (None, A.RECEIVE): S.NEW,
    **{(s, A.ASSIGN): S.ASSIGNED for s in (S.NEW, S.ASSIGNED)},
    **{(s, A.DRAFT_REPLY): s for s in (S.NEW, S.ASSIGNED, S.ANSWERED)},
    **{(s, A.REPLY): S.ANSWERED for s in (S.NEW, S.ASSIGNED, S.ANSWERED)},
    **{(s, A.HIDE): S.HIDDEN for s in OPEN},
    **{(s, A.CLOSE): S.CLOSED for s in (*OPEN, S.HIDDEN)},
    **{(s, A.REOPEN): S.NEW for s in (S.CLOSED, S.HIDDEN)},
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


def target(state: InboxState | None, action: InboxAction) -> InboxState:
    """The table's answer, or ``IllegalTransition``."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        before = state.value if state else "unknown"
        raise IllegalTransition(f"a comment that is {before} cannot be {action.value}ed") from None


def received(comment: CommentObserved, current: InboxChanged | None, now: datetime) -> InboxChanged | None:
    """The entry a newly seen comment opens, or None when the inbox already holds it."""
    if current is not None:
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
    after = target(current.state, action)
    assignee, reply = current.assignee, current.reply
    if action in (A.HIDE, A.CLOSE) and not command.reason.strip():
        raise IllegalTransition(f"{action.value} needs a reason")
    if action == A.ASSIGN:
        if not command.assignee:
            raise IllegalTransition("assign needs an assignee")
        assignee = command.assignee
    elif action == A.REOPEN and assignee is not None:
        after = S.ASSIGNED
    elif action in (A.DRAFT_REPLY, A.REPLY):
        _no_second_answer(current, command)
        reply = _reply(current, command, four_eyes=four_eyes, now=now)
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
        by=command.by,
        reason=command.reason,
        channel=current.channel,
    )


def _no_second_answer(current: InboxChanged, command: Command) -> None:
    if current.state == S.ANSWERED and not command.override:
        answered = current.reply.approved_by or current.reply.drafted_by if current.reply else "someone"
        raise IllegalTransition(
            f"{answered} has already answered this comment; a second answer needs override=true"
        )


def _reply(current: InboxChanged, command: Command, *, four_eyes: bool, now: datetime) -> ReplyDraft:
    if command.action == A.DRAFT_REPLY:
        if not command.text:
            raise IllegalTransition("a draft reply needs its text")
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
        draft = _pending(current)
        return draft.model_copy(update={"approved_by": command.by, "approved_at": now})
    # Four eyes: the reply sent is the draft someone else wrote, approved by an approver.
    if command.text:
        raise ApprovalRequired(
            f"replies on {current.channel} need an approver: submit a draft, another person approves it"
        )
    draft = _pending(current)
    if not command.by_approver:
        raise ApprovalRequired(f"{command.by} does not hold the approver role")
    if command.by == draft.drafted_by:
        raise ApprovalRequired(f"{command.by} wrote this draft and cannot approve it too")
    return draft.model_copy(update={"approved_by": command.by, "approved_at": now})


def _pending(current: InboxChanged) -> ReplyDraft:
    if current.reply is None or current.reply.approved_by is not None:
        raise IllegalTransition("there is no draft reply waiting for approval")
    return current.reply
