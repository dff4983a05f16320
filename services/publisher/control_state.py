"""What the operators' commands say about a post as it would leave: the publisher's own copy.

The scheduler holds a paused channel's jobs and a withdrawn item's, but only those it still
holds: a job it has handed over (``due``) waits in the publisher, behind its account's other
calls (one at a time, ``platform_call``), for as long as a slow video upload takes. The publisher
therefore keeps its own copy of ``content.control``, folded here, and asks it right before a
post's call (``PlatformCaller``). Pure: no Kafka, no clock; ``control_follower`` feeds it.

- ``pause``/``resume`` name channels, or none for every channel; the channels they reach are
  ``ChannelDirectory.reached_by``'s, the rule by which the scheduler fans a command out and the
  status view folds it, so the three agree on which channels are paused.
- ``withdraw``/``supersede`` name an item: every post of it is stopped, on every channel. An item
  is remembered for ``WITHDRAWN_KEPT`` (30 days) after the command, then forgotten: by then no
  due job of it is left to read (``publish.<platform>`` keeps due jobs 7 days, and the plan ends
  a withdrawn job when the publisher hands it back), and the set stays bounded however many
  items are withdrawn over the years.
- ``reconnected`` lifts a park for re-authorisation, which the scheduler keeps: nothing here.

A stopped post is a ``Hold``; its ``decision`` sends nothing, spends no attempt, and hands the
job back to the scheduler as a deferred retry (``decide.held_back``) with the command's code:
``withdrawn`` or ``superseded`` (final: they win over the deadline check, and the scheduler ends
the job), ``paused`` (from now: the scheduler, which has the same pause, holds the job paused and
places it by the channel's rules on resume). ``unread`` is the hold of a publisher that could not
read the commands up to their end in time: it does not know whether the post may leave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.publisher.decide import Decision, held_back
from shared.channels import ChannelDirectory
from shared.events import ControlAction, ControlIssued

WITHDRAWN_KEPT = timedelta(days=30)
_ENDING = (ControlAction.WITHDRAW, ControlAction.SUPERSEDE)
# A withdrawn item's post handed back comes again no sooner than this if the scheduler fires it
# anyway (it should end it): a slow re-check, never a loop as fast as the broker.
WITHDRAWN_REFIRE = timedelta(hours=1)


@dataclass(frozen=True)
class Hold:
    """Why a post may not leave now, as its deferred retry will say it."""

    code: str  # paused, withdrawn, superseded, control_unread
    message: str
    final: bool = False  # the item's end: checked before the deadline
    retry_after: timedelta = timedelta(0)

    def decision(self, now: datetime) -> Decision:
        return held_back(self.code, self.message, now + self.retry_after)


def unread(wait_s: float) -> Hold:
    """The commands could not be read up to their end within ``wait_s``: the post waits as long
    again in the scheduler's hands rather than leave during a pause this publisher never read."""
    message = f"the operators' commands (content.control) could not be read within {wait_s:g} s"
    return Hold("control_unread", message, retry_after=timedelta(seconds=wait_s))


class ControlState:
    """The pauses in force and the items withdrawn or superseded, folded from the commands in
    the topic's order (all pauses and resumes share the key ``*``: one partition, one order)."""

    def __init__(self, channels: ChannelDirectory, kept: timedelta = WITHDRAWN_KEPT) -> None:
        self._channels = channels
        self._kept = kept
        self.paused: dict[str, ControlIssued] = {}  # channel → the pause in force
        self.stopped: dict[str, ControlIssued] = {}  # item → its withdrawal or supersession
        self.applied = 0

    def apply(self, event: ControlIssued, now: datetime) -> None:
        self.applied += 1
        self._channels.fold_pause(self.paused, event)
        if event.action in _ENDING and event.content_id and now - event.occurred_at < self._kept:
            self.stopped.pop(event.content_id, None)  # re-inserted last: the order is by age
            self.stopped[event.content_id] = event
        self._forget(now)

    def _forget(self, now: datetime) -> None:
        """Forget the items stopped longer ago than ``kept``, oldest first (commands arrive
        nearly in the order they were issued; one a little out of order waits for its turn)."""
        while self.stopped:
            oldest = next(iter(self.stopped.values()))
            if now - oldest.occurred_at < self._kept:
                return
            del self.stopped[next(iter(self.stopped))]

    def hold(self, channel: str, content_id: str, now: datetime) -> Hold | None:
        """Why a post of ``content_id`` on ``channel`` may not leave at ``now``; None: it may."""
        self._forget(now)
        stop = self.stopped.get(content_id)
        if stop is not None:
            return _stopped(stop)
        pause = self.paused.get(channel)
        if pause is not None:
            message = f"the channel is paused by {pause.by}: {pause.reason}"
            return Hold("paused", message[:4000])
        return None


def _stopped(event: ControlIssued) -> Hold:
    if event.action is ControlAction.SUPERSEDE:
        newer = f" by {event.superseded_by}" if event.superseded_by else ""
        message = f"the item was superseded{newer} ({event.by}: {event.reason})"
        return Hold("superseded", message[:4000], final=True, retry_after=WITHDRAWN_REFIRE)
    message = f"the item was withdrawn by {event.by}: {event.reason}"
    return Hold("withdrawn", message[:4000], final=True, retry_after=WITHDRAWN_REFIRE)
