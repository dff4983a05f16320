"""Hiding a comment on the platform, showing it again and deleting it, as publisher jobs, and
what the outcome means (pure).

One rule each decides where, in ``shared.comment_rules``: ``platform_hides`` (the platform's API
hides comments, and shows them again) and ``platform_deletes`` (it lets the account delete a
citizen's comment). There the change sends a ``JobDue`` on ``publish.<platform>`` with the
``purpose`` its ``PlatformHide.want`` names (``WANTS``), due now (urgent, under the account's rate
limit and the attempt ledger like a reply):

- a hide: ``purpose="hide"``; elsewhere the hide stays the team's own and the entry says why
  (``PlatformHide.status == "local"``);
- a reopen of a comment the inbox asked the platform to hide (or delete) and does not know
  visible: ``purpose="unhide"`` (``on_reopen``); where the platform cannot hide, or the comment
  is known visible, a reopen sends nothing;
- a delete: ``purpose="delete"``; elsewhere ``lifecycle.decide`` refuses it.

Each is harmless to repeat (hidden stays hidden, shown stays shown, deleted stays gone), so none
is held back for fear of a duplicate: the publisher sends one whose answer was lost again instead
of looking it up, and a restarted inbox sends every one still ``sending`` again. The job's id is
``<asking change id>:<channel>``, its content id the asking change's id (``<comment key>.<version>``,
so ``reply_jobs.reply_key`` finds the entry). Its record key is not its id but the comment's
(``partition_key``): a hide and the later un-hide of one comment are two jobs, and only on one
partition does the publisher carry them out in the order the inbox asked.

Outcomes on ``inbox.replies`` with the job's purpose:

    published                          → done on the platform
    failed, dead, needs_reauth,
    unconfirmed                        → not done there: the reason is kept on the entry
    retry (at ``retry_at``)            → the inbox sends the job again then
    attempted, unschedulable           → nothing yet
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.inbox.reply_jobs import RetryAt, comment_job, retry_step
from shared.capabilities import CAPABILITIES
from shared.comment_rules import platform_hides
from shared.events import (
    MODERATIONS,
    Content,
    InboxAction,
    InboxChanged,
    InboxState,
    JobDue,
    Moderation,
    OutcomeStatus,
    PlatformHide,
    PlatformWant,
    PublishOutcome,
    ReplyTarget,
    job_id_for,
)


@dataclass(frozen=True)
class Ask:
    """What one wanted state asks of the publisher, and the entry's words for its outcome."""

    purpose: Moderation
    done: InboxAction
    failed: InboxAction
    done_words: str
    sending_words: str


WANTS: dict[PlatformWant, Ask] = {
    "hidden": Ask(
        "hide", InboxAction.HIDDEN_ON_PLATFORM, InboxAction.HIDE_FAILED, "hidden", "hiding it on the platform"
    ),
    "visible": Ask(
        "unhide",
        InboxAction.SHOWN_ON_PLATFORM,
        InboxAction.UNHIDE_FAILED,
        "shown again",
        "showing it again on the platform",
    ),
    "deleted": Ask(
        "delete",
        InboxAction.DELETED_ON_PLATFORM,
        InboxAction.DELETE_FAILED,
        "deleted",
        "deleting it on the platform",
    ),
}
_BY_PURPOSE = {ask.purpose: ask for ask in WANTS.values()}


def asking(want: PlatformWant, request_id: str) -> PlatformHide:
    """The platform state a change (``request_id``) asks for, on its way."""
    return PlatformHide(status="sending", request_id=request_id, detail=WANTS[want].sending_words, want=want)


def on_platform(platform: str, request_id: str) -> PlatformHide:
    """What a hide made now (the change ``request_id``) does on ``platform``."""
    if platform_hides(platform):
        return asking("hidden", request_id)
    row = CAPABILITIES.get(platform)
    label = row.label if row is not None else platform
    detail = f"{label}'s API cannot hide a citizen's comment: hidden in the inbox only"
    return PlatformHide(status="local", detail=detail)


def on_reopen(current: PlatformHide | None, platform: str, request_id: str) -> PlatformHide | None:
    """What a reopen does on the platform: shows the comment again wherever the inbox ever asked
    the platform to hide or delete it and does not know it visible. Not only after a hide that
    settled: an outcome that came after a later request was not recorded (a hide that landed
    before a refused delete, say), and showing a visible comment again is harmless."""
    if current is None or current.status in ("visible", "local") or not platform_hides(platform):
        return current
    return asking("visible", request_id)


def moderation_job(entry: InboxChanged, key: str, attempt: int, now: datetime) -> JobDue | None:
    """The publisher's job ``entry`` waits on, or None when it waits on none."""
    hide = entry.platform_hide
    if hide is None or hide.status != "sending" or hide.request_id is None:
        return None
    comment = entry.comment
    target = ReplyTarget(
        key=key,
        comment_id=comment.comment_id,
        post_id=comment.post_id,
        parent_id=comment.parent_id,
        approved_by=entry.by,
    )
    return comment_job(
        WANTS[hide.want].purpose,
        hide.request_id,
        entry.channel,
        comment.platform,
        target,
        attempt=attempt,
        now=now,
        slot=now,
        content=Content(),
    )


def partition_key(job: JobDue) -> bytes:
    """The record key of ``job`` on ``publish.<platform>``.

    Every moderation job of one comment has the same one, ``<comment key>:<channel>``, so they
    share a partition, and the publisher handles a partition's jobs of one channel in offset order
    (one lane a channel, ``publisher.lanes``): a hide cannot land after the un-hide asked later
    and leave the comment hidden while the inbox shows it visible. The channel stays last, where
    ``lanes.lane_key`` reads a job's lane. The attempt ledger files a job under the partition it
    came on, and each attempt of one request has the same key, so it still meets its entry.
    Other jobs keep their id: a reply asked again after this rule came in must reach the
    partition whose ledger knows it was posted, while a moderation repeated is harmless."""
    target = job.reply_to
    if job.purpose not in MODERATIONS or target is None:
        return job.job_id.encode()
    return job_id_for(target.key, job.channel).encode()


@dataclass(frozen=True)
class HideSettled:
    """The publisher's last word on the moderation ``request_id``: ``done`` as asked, or not."""

    request_id: str
    done: bool
    detail: str


def hide_settlement(outcome: PublishOutcome) -> HideSettled | RetryAt | None:
    if outcome.status is OutcomeStatus.RETRY:
        return retry_step(outcome)
    words = _BY_PURPOSE[outcome.purpose].done_words if outcome.purpose in _BY_PURPOSE else "done"
    if outcome.status is OutcomeStatus.PUBLISHED:
        return HideSettled(outcome.content_id, True, f"{words} on {outcome.platform}")
    if outcome.status in (OutcomeStatus.ATTEMPTED, OutcomeStatus.UNSCHEDULABLE):
        return None
    error = outcome.error
    why = (
        f"{error.message} ({error.code})"
        if error is not None
        else f"the publisher gave up ({outcome.status.value})"
    )
    return HideSettled(outcome.content_id, False, f"not {words} on {outcome.platform}: {why}"[:2000])


def sends_moderation(entry: InboxChanged) -> bool:
    """Whether writing ``entry`` must send the moderation job it waits on (pure): the change that
    asks the platform for it, or the settling of a reply while it was on its way. ``waiting_hide``
    takes no moderation outcome while a reply is posted, so one that arrived then was dropped;
    the same job sent again is answered again by the publisher's ledger (repeating a hide, an
    un-hide or a delete is harmless). Every other change carries the request on without sending."""
    hide = entry.platform_hide
    if hide is None or hide.status != "sending":
        return False
    reply_settled = entry.from_state == InboxState.REPLYING and entry.state != InboxState.REPLYING
    return hide.request_id == entry.event_id or reply_settled


def waiting_hide(entry: InboxChanged, request_id: str) -> bool:
    """Whether ``entry`` waits on the moderation ``request_id`` and may take its outcome now: not
    while a reply is on its way (the reply's outcome is matched on the entry's latest change)."""
    hide = entry.platform_hide
    return (
        hide is not None
        and hide.status == "sending"
        and hide.request_id == request_id
        and entry.state != InboxState.REPLYING
    )
