"""What the replier does next with one reply, from what its topic says happened to it (pure).

The log of a reply is its ``inbox.replies`` records: requested, each attempt, the settlement.

- settled → ``Skip``: a repeat of the request, after a restart or a re-request, posts nothing;
- never attempted → ``Post``;
- attempted with no settlement (the replier died between the call and the record) →
  ``Reconcile``: ask the platform before anything is sent again.

After an answer the platform could not make plain (a timeout, a 5xx once the request was sent)
or after a restart, ``after_lookup`` reads the look-up: found → posted; proven absent → post
again while attempts remain; no answer → unconfirmed, for a person to decide. Nothing is ever
re-sent on a guess (the publisher's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.events import ReplyAttempted, ReplyRequested, ReplySettled, ReplyStatus

MAX_ATTEMPTS = 3


class Step(StrEnum):
    SKIP = "skip"
    POST = "post"
    RECONCILE = "reconcile"


@dataclass
class ReplyLog:
    request: ReplyRequested | None = None
    attempts: int = 0
    settled: ReplySettled | None = None

    def apply(self, event: ReplyRequested | ReplyAttempted | ReplySettled) -> None:
        if isinstance(event, ReplyRequested):
            self.request = self.request or event
        elif isinstance(event, ReplyAttempted):
            self.attempts = max(self.attempts, event.attempt)
        elif self.settled is None:
            self.settled = event  # the first settlement stands; a later one is a repeat


def next_step(log: ReplyLog) -> Step:
    if log.settled is not None:
        return Step.SKIP
    return Step.RECONCILE if log.attempts else Step.POST


@dataclass(frozen=True)
class Settle:
    status: ReplyStatus
    posted_id: str | None = None
    error: str | None = None


def after_lookup(found: str | None, *, answered: bool, attempts: int, why: str) -> Settle | Step:
    """``found``: the reply's id in the look-up; ``answered``: whether the look-up could tell."""
    if found is not None:
        return Settle(ReplyStatus.POSTED, posted_id=found)
    if not answered:
        return Settle(
            ReplyStatus.UNCONFIRMED, error=f"{why}; the platform could not say whether it was posted"
        )
    if attempts >= MAX_ATTEMPTS:
        return Settle(ReplyStatus.FAILED, error=f"{why}; not posted after {attempts} attempts")
    return Step.POST
