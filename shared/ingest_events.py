"""The records ingest keeps for itself: drafts waiting for approval and idempotency claims.

Topics ``content.drafts`` and ``ingest.idempotency``; every ingest instance reads the same log, so
the first claim in it decides. The union of every event is ``shared.events.Event``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.event_fields import EventBase, Identifier


class DraftSubmitted(EventBase):
    """A draft written by an editor, waiting for an approver (topic ``content.drafts``)."""

    event_type: Literal["draft.submitted"] = "draft.submitted"
    draft_id: Identifier
    author: Identifier
    request: dict[str, object]


class DraftApproved(EventBase):
    """An approver's claim on a draft (topic ``content.drafts``, key = draft id).

    Written before the item itself: the draft's events share one partition, so the first claim
    in the log is the approval, on every ingest instance alike; a later claim is refused.
    ``content_sha256`` is the digest of the draft the approver read (its ETag).
    """

    event_type: Literal["draft.approved"] = "draft.approved"
    draft_id: Identifier
    content_id: Identifier
    approved_by: Identifier
    content_sha256: str | None = Field(default=None, max_length=64)


class IdempotencyClaimed(EventBase):
    """A request's claim on its Idempotency-Key (topic ``ingest.idempotency``, key = the claim).

    The first claim of a (person, key) in the log names the item (``content_id``) and the body
    (``request_sha256``) that key stands for; every ingest instance reads the same first claim.
    """

    event_type: Literal["idempotency.claimed"] = "idempotency.claimed"
    content_id: Identifier
    person: Identifier
    idempotency_key: str = Field(min_length=1, max_length=200)
    request_sha256: str = Field(min_length=1, max_length=64)
