"""The clash rule: a newer approved version of a topic supersedes every unpublished job of an older
one (design guarantee 3, "No clashes").

Pure: no Kafka, no clock. Versions of a ``topic_key`` are ordered by ``(approved_at, accepted_at,
content_id)``: the later approval is the newer version, and of two approved at the same instant
(a correction submitted from the same item.yaml, whose ``approved_at`` the client writes), the
one ingest accepted later, ``accepted_at`` being the ``occurred_at`` ingest stamps on the
``ContentApproved`` record. Both are in every record that carries a version (a job's
``approved_at`` and ``arrived_at``, a ``TopicVersion``'s ``approved_at`` and ``accepted_at``), so
every channel and every replica, and a plan restored from its changelog, order two versions
alike, in whatever order they are read; the content id, random, only splits versions ingest
stamped with the same instant. A version concerns every channel, not only those it names: the router hands every
approval with a topic_key to every channel of the deployment (router.py), each channel's commands
in one partition, in the order routed. The newest version a channel knows of is the newest of
its jobs of the topic that is neither withdrawn nor superseded, and of the versions it heard of
from approvals that did not name it (``ChannelPlan.topics``, kept in the channel's snapshot on
``schedule.channels`` so that a restart keeps it). So an older version is superseded on every
channel, whichever of the two reaches a channel first.

What a channel heard of is kept for the plan's retention after ingest accepted it, as a
finished job is (retention.py; dropped once that has passed, when the channel next hears of a
version), and for ``MAX_TOPICS_REMEMBERED`` topics at most (those heard of last); a version whose approval was withdrawn still counts there, since the withdrawal need not
reach a channel the version never named.

A job is superseded whenever the scheduler holds it (``shared.lifecycle.HELD``) while a newer
version is known: when the newer version arrives, when the job itself arrives after it, when an
outcome hands it back (a publisher's retry, an operator's retry of a failed or dead job, a
needs-reauth park), and once more as it fires. An unconfirmed job an operator retries is looked
up first, and one whose look-ups went unanswered is left unconfirmed (withdrawals.py): only a
proven absence lets the rule end a job whose attempt may be on the platform. A job
handed to a publisher (due, attempted, unconfirmed, failed, dead) cannot be recalled, since the
platform may have it; a published one stays published.

``Plan`` calls ``stale`` from every place a held job may fire from, so the rule lives here once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.scheduler.job_book import JobBook
from services.scheduler.plan_state import ChannelPlan, S
from shared.channel_events import MAX_TOPICS_REMEMBERED
from shared.events import ContentApproved, JobPlanned, TopicVersion
from shared.lifecycle import HELD

Version = tuple[datetime, datetime, str]
"""(approved_at, accepted_at, content_id): the later approval is the newer version; of two
approved at the same instant, the one ingest accepted later."""

_GONE = frozenset({S.WITHDRAWN, S.SUPERSEDED})  # versions that no longer stand for their topic


def version_of(job: JobPlanned) -> Version:
    return job.approved_at, job.arrived_at, job.content_id


def version_heard(heard: TopicVersion) -> Version:
    return heard.approved_at, heard.accepted_at, heard.content_id


def version_approved(ev: ContentApproved) -> Version:
    return ev.approval.approved_at, ev.occurred_at, ev.content_id


class Supersession:
    def __init__(self, book: JobBook, retention: timedelta) -> None:
        self._book = book
        self._retention = retention

    def heard_elsewhere(
        self, plan: ChannelPlan, ev: ContentApproved, now: datetime
    ) -> tuple[list[JobPlanned], bool]:
        """A version of a topic that does not name ``plan``'s channel: the channel's older jobs of
        the topic it holds, superseded, and whether the channel remembers something new."""
        if ev.topic_key is None:
            return [], False
        version = version_approved(ev)
        jobs = self.older_held(plan, ev.topic_key, version, now)
        kept = {key: v for key, v in plan.topics.items() if now - v.accepted_at < self._retention}
        known = kept.get(ev.topic_key)
        if now - ev.occurred_at < self._retention and (known is None or version_heard(known) < version):
            kept.pop(ev.topic_key, None)  # re-inserted last: the most recently heard
            kept[ev.topic_key] = TopicVersion(
                content_id=ev.content_id, approved_at=ev.approval.approved_at, accepted_at=ev.occurred_at
            )
            for key in list(kept)[: max(0, len(kept) - MAX_TOPICS_REMEMBERED)]:
                del kept[key]
        if kept == plan.topics:
            return jobs, False
        plan.topics = kept  # a new dict: the step's undo puts the old one back
        return jobs, True

    def newer_than(self, plan: ChannelPlan, topic_key: str, version: Version) -> str | None:
        """The content id of the newest live version of ``topic_key`` known on ``plan``'s
        channel, when it is newer than ``version``; else None."""
        heard = plan.topics.get(topic_key)
        newest = version_heard(heard) if heard is not None else None
        for other in self._book.store.same_topic(plan.channel.id, topic_key):
            if other.state not in _GONE and (newest is None or version_of(other) > newest):
                newest = version_of(other)
        return newest[2] if newest is not None and newest > version else None

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
                out.append(self._supersede(plan, other, version[2], now))
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
