"""Who is answering a comment right now, so two people never answer one citizen at once (pure).

Opening a reply marks the comment as being answered by that person (``claim``) for ``CLAIM_FOR``;
every listing and view of the comment shows ``answering: {by, since, until}``, so everyone else
sees who is writing. While the mark holds, another person's reply or draft is refused with
``SomeoneAnswering`` (409, rule ``someone_answering``) unless it says ``override``: taking over a
colleague's answer is a decision, never an accident. The mark ends when its holder answers (or
drafts), releases it, or lets it run out (a closed browser tab must not block the comment).

Marks live in the process's memory: they are presence, not history (every change of the comment
is on ``inbox.changes``), and the inbox runs one process per installation. A restart forgets
them; a pending draft keeps protecting the comment (``lifecycle``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.inbox.errors import SomeoneAnswering
from shared.messages import said

CLAIM_FOR = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    by: str
    since: datetime
    until: datetime

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by, "since": self.since.isoformat(), "until": self.until.isoformat()}


class AnswerClaims:
    def __init__(self, hold_for: timedelta = CLAIM_FOR) -> None:
        self._hold_for = hold_for
        self._claims: dict[str, Claim] = {}

    def holder(self, key: str, now: datetime) -> Claim | None:
        claim = self._claims.get(key)
        if claim is not None and claim.until <= now:
            del self._claims[key]
            return None
        return claim

    def check(self, key: str, by: str, now: datetime, *, override: bool) -> None:
        """``SomeoneAnswering`` when another person's mark holds and ``override`` is not said."""
        claim = self.holder(key, now)
        if claim is not None and claim.by != by and not override:
            raise SomeoneAnswering(said("someone_answering", by=claim.by, since=f"{claim.since:%H:%M}"))

    def claim(self, key: str, by: str, now: datetime, *, override: bool = False) -> Claim:
        """Mark ``key`` as answered by ``by`` (renewed when ``by`` holds it already)."""
        self.check(key, by, now, override=override)
        current = self.holder(key, now)
        since = current.since if current is not None and current.by == by else now
        self._claims[key] = Claim(by, since, now + self._hold_for)
        return self._claims[key]

    def release(self, key: str, by: str) -> bool:
        """End ``by``'s mark on ``key``; False when ``by`` held none."""
        claim = self._claims.get(key)
        if claim is None or claim.by != by:
            return False
        del self._claims[key]
        return True

    def shown(self, entry: dict[str, Any], now: datetime) -> dict[str, Any]:
        """An entry as the API shows it (with its ``key``), plus who is answering it now."""
        if (claim := self.holder(entry["key"], now)) is not None:
            entry["answering"] = claim.to_json()
        return entry

    def prune(self, now: datetime) -> None:
        """Forget the marks that ran out (called at each listing, so memory stays bounded)."""
        for key in [k for k, c in self._claims.items() if c.until <= now]:
            del self._claims[key]
