"""Decisions by the log's order: a draft's first approval claim, an Idempotency-Key's first claim
and how long it is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.ingest.decisions import DraftBook, KeyBook, content_digest
from shared.events import ContentApproved, DraftApproved, DraftSubmitted, IdempotencyClaimed

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def claim(n: int, at: datetime, digest: str = "d1", key: str = "k") -> IdempotencyClaimed:
    return IdempotencyClaimed(
        event_id=f"e{n}",
        occurred_at=at,
        content_id=f"c{n}",
        person="yuyun",
        idempotency_key=key,
        request_sha256=digest,
    )


def test_the_first_claim_of_a_key_stands_for_its_time_then_the_key_is_new() -> None:
    book = KeyBook(DAY)
    book.claimed(claim(1, T0))
    book.claimed(claim(2, T0 + timedelta(seconds=1), digest="d2"))  # a concurrent request, later in the log
    found = book.find("yuyun", "k", T0 + timedelta(hours=23))
    assert found is not None
    assert (found.content_id, found.request_sha256) == ("c1", "d1")
    assert book.find("yuyun", "k", T0 + DAY) is None  # expired: a retry now is a new request
    book.claimed(claim(3, T0 + DAY + timedelta(seconds=1), digest="d3"))
    renewed = book.find("yuyun", "k", T0 + DAY + timedelta(seconds=2))
    assert renewed is not None
    assert renewed.content_id == "c3"


def test_expired_keys_are_dropped_as_time_moves_on() -> None:
    book = KeyBook(DAY)
    for n in range(100):
        book.claimed(claim(n, T0 + timedelta(minutes=n), key=f"k{n}"))
    book.claimed(claim(999, T0 + DAY + timedelta(minutes=50), key="late"))
    assert len(book) == 100 - 51 + 1


def test_an_item_accepted_before_keys_had_claims_still_holds_its_key() -> None:
    book = KeyBook(DAY)
    book.approved(
        ContentApproved.model_validate(
            {
                "event_id": "a1",
                "occurred_at": T0,
                "content_id": "old",
                "author": "rina",
                "approval": {"approved_by": "yuyun", "approved_at": T0},
                "submitted_by": "yuyun",
                "variants": [{"channel": "mastodon-demo", "content": {"text": "x"}}],
                "idempotency_key": "k",
                "request_sha256": "d0",
            }
        )
    )
    book.claimed(claim(1, T0 + timedelta(minutes=1)))
    found = book.find("yuyun", "k", T0 + timedelta(minutes=2))
    assert found is not None
    assert found.content_id == "old"


def test_a_draft_is_approved_by_its_first_claim_and_the_rest_are_refused_in_its_trail() -> None:
    book = DraftBook()
    request: dict[str, object] = {
        "author": "rina",
        "content": {"text": "Jembatan"},
        "targets": [{"channel": "x-demo"}],
    }
    book.submitted(
        DraftSubmitted(event_id="s", occurred_at=T0, draft_id="d1", author="rina", request=request)
    )
    digest = content_digest(request)
    assert digest == content_digest(dict(reversed(list(request.items()))))  # key order does not matter
    for n, who in enumerate(["wati", "yuyun", "wati"]):
        ev = DraftApproved(
            event_id=f"a{n}",
            occurred_at=T0 + timedelta(seconds=n),
            draft_id="d1",
            content_id="c1",
            approved_by=who,
            content_sha256=digest,
        )
        book.claimed(ev)
        book.claimed(ev)  # read again: counted once
    draft = book.get("d1")
    assert draft is not None
    assert draft.approval is not None
    assert draft.approval.approved_by == "wati"
    assert [(e["action"], e["by"]) for e in draft.history()] == [
        ("submitted", "rina"),
        ("approved", "wati"),
        ("approval_refused", "yuyun"),
        ("approval_refused", "wati"),
    ]
    drafts, page = book.page("approved", limit=10, after=None)
    assert ([d.draft_id for d in drafts], page.total) == (["d1"], 1)
    assert book.page("awaiting_approval", limit=10, after=None)[1].total == 0
