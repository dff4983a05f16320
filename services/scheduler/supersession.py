"""The clash rule: a newer approved version of a topic supersedes every unpublished job of an older
one (design guarantee 3, "No clashes").

Pure: no Kafka, no clock. Versions of a ``topic_key`` are ordered by ``(approved_at,
content_id)``; the newest one a channel knows of is the newest of its jobs of the topic that is
neither withdrawn nor superseded.

A job is superseded whenever the scheduler holds it (``shared.lifecycle.HELD``) while a newer
version is known: when the newer version arrives, when the job itself arrives after it, when an
outcome hands it back (a publisher's retry, an operator's retry of a failed or dead job, an
unconfirmed one settled as a retry, a needs-reauth park), and once more as it fires. A job
handed to a publisher (due, attempted, unconfirmed, failed, dead) cannot be recalled, since the
platform may have it; a published one stays published.

``Plan`` calls ``stale`` from every place a held job may fire from, so the rule lives here once.
"""

from __future__ import annotations

from datetime import datetime

from services.scheduler.job_book import JobBook
from services.scheduler.plan_state import ChannelPlan, S
from shared.events import JobPlanned
from shared.lifecycle import HELD

Version = tuple[datetime, str]
"""(approved_at, content_id): the later approval is the newer version; the content id breaks ties."""

_GONE = frozenset({S.WITHDRAWN, S.SUPERSEDED})  # versions that no longer stand for their topic


def version_of(job: JobPlanned) -> Version:
    return job.approved_at, job.content_id


class Supersession:
    def __init__(self, book: JobBook) -> None:
        self._book = book

    def newer_than(self, plan: ChannelPlan, topic_key: str, version: Version) -> str | None:
        """The content id of the newest live version of ``topic_key`` on ``plan``'s channel, when
        it is newer than ``version``; else None."""
        newest: Version | None = None
        for other in self._book.store.same_topic(plan.channel.id, topic_key):
            if other.state not in _GONE and (newest is None or version_of(other) > newest):
                newest = version_of(other)
        return newest[1] if newest is not None and newest > version else None

    def stale(self, plan: ChannelPlan, job: JobPlanned, now: datetime) -> JobPlanned | None:
        """``job`` superseded, when it is held and a newer version of its topic is known; else None."""
        if job.topic_key is None or job.state not in HELD:
            return None
        newer = self.newer_than(plan, job.topic_key, version_of(job))
        if newer is None:
            return None
        return self._supersede(plan, job, newer, now)

    def older_held(
        self, plan: ChannelPlan, topic_key: str, version: Version, now: datetime
    ) -> list[JobPlanned]:
        """Supersede the channel's held jobs of ``topic_key`` older than ``version``."""
        out = []
        for other in self._book.store.same_topic(plan.channel.id, topic_key):
            if other.state in HELD and version_of(other) < version:
                out.append(self._supersede(plan, other, version[1], now))
        return out

    def _supersede(self, plan: ChannelPlan, job: JobPlanned, newer: str, now: datetime) -> JobPlanned:
        return self._book.set(
            plan,
            job,
            now,
            state=S.SUPERSEDED,
            superseded_by=newer,
            note=f"replaced by {newer}, a newer approved version of topic {job.topic_key}",
        )
