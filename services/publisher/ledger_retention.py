"""How long the attempt ledger keeps a settled entry, and why that is longer than the plan.

Pure: ``now`` is passed in. The ledger is the publisher's half of "nothing is posted twice": a
``JobDue`` for an attempt whose entry says it is settled is answered with that outcome and never
sent (``ledger_decision``). With the entry gone, the same ``JobDue`` would be sent. So an entry
may be forgotten (a tombstone on the compacted ``publish.<platform>.attempts``) only once no
``JobDue`` for its job can reach the publisher any more:

- the scheduler fires a job only while its plan holds it, forgets a finished job the plan's
  retention (``finished_retention_s``) after the job's last record, and never plans a forgotten
  job again (``services.scheduler.retention``); an operator's retry of a failed job within that
  retention fires a new attempt, whose entry starts this entry's clock again;
- a ``JobDue`` written before then can still be read from ``publish.<platform>`` for as long as
  that topic keeps it (``DAYS_RETENTION_MS``): a group whose committed offsets were lost reads
  the topic again from its start.

Hence ``ledger_retention`` = the plan's retention + the due topic's retention + ``LAG_MARGIN``,
which covers the time between the outcome the ledger records and the plan record that finishes
the job (the scheduler applying it, minutes normally; a day of scheduler outage at most). Both
services read the plan's retention from one setting (``CommonSettings.finished_retention_s``),
so the ledger always outlives the plan.

Only entries whose job nothing will move again are forgotten: published, failed, dead
(``FINAL``). An ``attempted`` entry (a call that may have reached the platform), an
``unconfirmed`` one (an operator may retry it at any time, and the retry reconciles against this
entry) and retry or needs-reauth ones (the scheduler fires the next attempt later) are kept,
whatever their age.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from shared.events import OutcomeStatus, PublishOutcome
from shared.topics import DAYS_RETENTION_MS

FINAL = frozenset({OutcomeStatus.PUBLISHED, OutcomeStatus.FAILED, OutcomeStatus.DEAD})
LAG_MARGIN = timedelta(days=1)
DUE_TOPIC_RETENTION = timedelta(milliseconds=DAYS_RETENTION_MS)


def ledger_retention(plan_retention: timedelta) -> timedelta:
    """How long a final entry is kept: the module docstring says why."""
    return plan_retention + DUE_TOPIC_RETENTION + LAG_MARGIN


def expired(
    entries: Iterable[PublishOutcome], now: datetime, retention: timedelta, limit: int
) -> list[PublishOutcome]:
    """Up to ``limit`` final entries written ``retention`` or longer before ``now``, oldest first."""
    old = [e for e in entries if e.status in FINAL and now - e.occurred_at >= retention]
    old.sort(key=lambda e: e.occurred_at)
    return old[:limit]
