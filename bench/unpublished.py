"""Every job that ends unpublished, by final state, each with its reason: the chaos run's and the
kill tests' accounting, written once.

Their decks hold only faults a correct system recovers from (kills, broker restarts, platform
storms that end), so every job must end ``published``. One exception is no defect: an
``unconfirmed`` job whose platform cannot tell whether the cut-off attempt reached it (Telegram's
Bot API and WhatsApp list nothing; TikTok's drafts can't be searched). The publisher marks those
with the error code ``unconfirmed`` (``services/publisher/worker.py``, a ``NotSupported`` lookup);
an ``unconfirmed`` for any other reason (a lookup that timed out or failed) means the platform
could have told and the system did not ask again — a defect like ``failed`` or ``dead``.

Pure: the callers read the final states (the status view, or the last outcome per job).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

PUBLISHED = "published"
UNCONFIRMED = "unconfirmed"
# The error code of an unconfirmed outcome when the platform has no way to tell.
CANNOT_TELL = "unconfirmed"


@dataclass(frozen=True)
class Unpublished:
    job: str
    state: str
    code: str | None = None
    reason: str | None = None
    note: str = ""  # what happened next (e.g. how the run's operator settled it)

    @property
    def excused(self) -> bool:
        """An unconfirmed job whose platform truly cannot tell: an operator's call, not a defect."""
        return self.state == UNCONFIRMED and self.code == CANNOT_TELL

    def line(self) -> str:
        why = f"{self.code}: {self.reason}" if self.code or self.reason else "no reason recorded"
        verdict = "platform cannot tell" if self.excused else "DEFECT"
        tail = f" → {self.note}" if self.note else ""
        return f"{self.state:<13} {self.job}  [{verdict}] {why[:300]}{tail}"


@dataclass
class Accounting:
    rows: list[Unpublished] = field(default_factory=list)

    def add(
        self, job: str, state: str, code: str | None = None, reason: str | None = None, note: str = ""
    ) -> None:
        """Record ``job``'s final ``state``; a published job is not recorded."""
        if state != PUBLISHED:
            self.rows.append(Unpublished(job, state, code, reason, note))

    def by_state(self) -> dict[str, int]:
        return dict(sorted(Counter(r.state for r in self.rows).items()))

    def defects(self) -> list[Unpublished]:
        """Every unpublished job but the excused ``unconfirmed`` ones: must be none."""
        return [r for r in self.rows if not r.excused]

    def render(self, limit: int = 200) -> list[str]:
        lines = [
            f"ended unpublished: {len(self.rows)} {self.by_state()}; "
            f"platform cannot tell: {len(self.rows) - len(self.defects())}; defects: {len(self.defects())}"
        ]
        ordered = sorted(self.rows, key=lambda r: (r.excused, r.state, r.job))
        lines += [f"  {r.line()}" for r in ordered[:limit]]
        if len(ordered) > limit:
            lines.append(f"  … and {len(ordered) - limit} more")
        return lines
