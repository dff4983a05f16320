"""Decisions taken by the order of a log: who approved a draft, what an Idempotency-Key stands for.

Pure. Several ingest instances may answer requests about the same draft or key at the same
moment, and none may decide alone what it saw in memory: each writes a *claim* keyed by the
draft or the key, so all claims of one draft (or key) sit on one partition, in one order. The
first claim in that order is the decision, and every instance that has read the partition that
far reads the same one (``services.ingest.feeder``). Later claims are kept as refused, for the
audit trail.

Drafts are bound to what their approver read: ``content_digest`` of the draft's request is its
ETag, and an approval names the digest it was given (``DraftApproved.content_sha256``).
Idempotency-Keys are kept ``ttl`` after their first claim, as payment APIs keep theirs; a key
reused after that is a new request.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson

from services.ingest.listing import Facet, FacetedIndex, Page, SortKey, instant
from shared.events import ContentApproved, DraftApproved, DraftSubmitted, IdempotencyClaimed

AWAITING, APPROVED = "awaiting_approval", "approved"
_TARGETS = "targets"  # the first part of a draft's facet of its state and channels


def content_digest(request: dict[str, object]) -> str:
    """The digest of a draft's content: SHA-256 of its canonical JSON (keys sorted)."""
    return hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()


def draft_content_id(draft_id: str) -> str:
    # From the draft alone, not its approver: whoever wins, the draft names one item.
    return hashlib.sha256(f"draft\0{draft_id}".encode()).hexdigest()[:24]


def key_claim(person: str, idempotency_key: str) -> str:
    """The Kafka key of a (person, Idempotency-Key)'s claims: one partition for all of them."""
    return hashlib.sha256(f"{person}\0{idempotency_key}".encode()).hexdigest()[:32]


@dataclass
class Draft:
    draft_id: str
    author: str
    submitted_at: datetime
    request: dict[str, object]
    content_sha256: str
    approval: DraftApproved | None = None  # the first claim in the log
    refused: list[DraftApproved] = field(default_factory=list)  # claims that came later

    @property
    def state(self) -> str:
        return APPROVED if self.approval is not None else AWAITING

    @property
    def targets(self) -> list[dict[str, object]]:
        """The request's targets (validated when the draft was submitted)."""
        targets = self.request.get("targets")
        return [t for t in targets if isinstance(t, dict)] if isinstance(targets, list) else []

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(c for t in self.targets if isinstance(c := t.get("channel"), str))

    def summary(self) -> dict[str, object]:
        approval = self.approval
        return {
            "draft_id": self.draft_id,
            "author": self.author,
            "submitted_at": self.submitted_at,
            "state": self.state,
            "content_sha256": self.content_sha256,
            "approved_by": approval.approved_by if approval else None,
            "approved_at": approval.occurred_at if approval else None,
            "content_id": approval.content_id if approval else None,
        }

    def history(self) -> list[dict[str, object]]:
        """The audit trail: who wrote it, who approved which digest and when, who was refused."""
        trail: list[dict[str, object]] = [
            {
                "action": "submitted",
                "by": self.author,
                "at": self.submitted_at,
                "content_sha256": self.content_sha256,
            }
        ]
        claims = ([self.approval] if self.approval else []) + self.refused
        for claim in sorted(claims, key=lambda c: c.occurred_at):
            entry: dict[str, object] = {
                "action": "approved" if claim is self.approval else "approval_refused",
                "by": claim.approved_by,
                "at": claim.occurred_at,
                "content_sha256": claim.content_sha256,
            }
            if claim is self.approval:
                entry["content_id"] = claim.content_id
            else:
                entry["reason"] = "the draft was already approved"
            trail.append(entry)
        return trail


class DraftBook:
    """Every draft, its approval and its refused claims, listable in submission order (all of
    them, or those on some channels)."""

    def __init__(self) -> None:
        self._drafts: dict[str, Draft] = {}
        self._order = FacetedIndex()

    def __len__(self) -> int:
        return len(self._drafts)

    def get(self, draft_id: str) -> Draft | None:
        return self._drafts.get(draft_id)

    def submitted(self, ev: DraftSubmitted) -> None:
        if ev.draft_id in self._drafts:
            return  # our own write read again, or a redelivery
        draft = Draft(ev.draft_id, ev.author, ev.occurred_at, ev.request, content_digest(ev.request))
        self._drafts[ev.draft_id] = draft
        self._place(draft)

    def claimed(self, ev: DraftApproved) -> None:
        draft = self._drafts.get(ev.draft_id)
        if draft is None:
            return  # a draft's events share its partition: a claim never comes before its draft
        if draft.approval is None:
            draft.approval = ev
            self._place(draft)
        elif ev.event_id != draft.approval.event_id and all(r.event_id != ev.event_id for r in draft.refused):
            draft.refused.append(ev)

    def page(
        self,
        state: str | None,
        *,
        limit: int,
        after: SortKey | None,
        visible: Callable[[str], bool] | None = None,
    ) -> tuple[list[Draft], Page]:
        """A page of the drafts in ``state`` (None: any); with ``visible``, of those that target
        at least one channel it accepts."""
        facets: list[Facet] = [(state,)]
        if visible is not None:
            facets = [
                f
                for f in self._order.facets()
                if f[0] == _TARGETS and state in (None, f[1]) and any(visible(str(c)) for c in f[2:])
            ]
        page = self._order.page(facets, limit=limit, after=after)
        return [self._drafts[key[1]] for key in page.keys], page

    def _place(self, draft: Draft) -> None:
        # A draft is also under one facet of its state and its set of channels: disjoint facets,
        # so a listing of the drafts a key may see merges them in order without duplicates.
        targeted = (_TARGETS, draft.state, *sorted(set(draft.channels)))
        self._order.put(
            draft.draft_id, (instant(draft.submitted_at), draft.draft_id), [(None,), (draft.state,), targeted]
        )


@dataclass(frozen=True)
class IdempotencyRecord:
    request_sha256: str
    content_id: str
    at: datetime  # when the key was first claimed: it is kept ``ttl`` from then


class KeyBook:
    """What each (person, Idempotency-Key) stands for, for ``ttl`` after its first claim."""

    def __init__(self, ttl: timedelta) -> None:
        self.ttl = ttl
        # Oldest claim first, so expired ones are dropped from the front as time moves on.
        self._records: OrderedDict[tuple[str, str], IdempotencyRecord] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def find(self, person: str, key: str, now: datetime) -> IdempotencyRecord | None:
        record = self._records.get((person, key))
        return record if record is not None and now < record.at + self.ttl else None

    def claimed(self, ev: IdempotencyClaimed) -> None:
        self._first(
            (ev.person, ev.idempotency_key),
            IdempotencyRecord(ev.request_sha256, ev.content_id, ev.occurred_at),
        )

    def approved(self, ev: ContentApproved) -> None:
        # Items accepted before keys were claimed on their own topic carry their key; a claim
        # read first wins, since it names the same item.
        if ev.idempotency_key and ev.request_sha256:
            record = IdempotencyRecord(ev.request_sha256, ev.content_id, ev.occurred_at)
            self._first((ev.submitted_by, ev.idempotency_key), record)

    def _first(self, slot: tuple[str, str], record: IdempotencyRecord) -> None:
        self._expire(record.at)
        earlier = self._records.get(slot)
        if earlier is not None and record.at < earlier.at + self.ttl:
            return  # the key is taken: the first claim stands
        self._records.pop(slot, None)
        self._records[slot] = record

    def _expire(self, now: datetime) -> None:
        while self._records:
            slot, oldest = next(iter(self._records.items()))
            if now < oldest.at + self.ttl:
                return
            del self._records[slot]
