"""Drafts over HTTP: an editor writes one, approvers list and read them, another approves it.

Four eyes means the approver saw what they approve: ``GET /v1/drafts/{id}`` answers the draft
with an ETag, the digest of its content (``decisions.content_digest``), and an approval must send
it back as ``If-Match`` (RFC 9110 §13.1.1): 428 without it, 412 when it names other content.
The approval is decided by the log (``handling.decide``), so two approvers at once, or one
approver through two ingest instances, get one 202; the others 409 with who approved. The draft's
audit trail (written by, approved by which digest and when, refused claims) is part of its read,
and a read or a listing holds every claim written before it through any instance
(``handling.read_latest``).
"""

from __future__ import annotations

from aiohttp import web

from services.ingest.decisions import APPROVED, AWAITING, Draft, draft_content_id
from services.ingest.handling import DEPS, decide, principal_of, read_body, read_latest, send, settle
from services.ingest.listing import decode_cursor, encode_cursor
from services.ingest.scope import draft_request, draft_seen
from services.ingest.validation import check_event_size, validate_submission
from shared.events import Approval, ContentApproved, DraftApproved, DraftSubmitted
from shared.http_auth import Principal, authorize
from shared.http_errors import (
    Conflict,
    PreconditionFailed,
    PreconditionRequired,
    ValidationFailed,
    field_error,
)
from shared.http_probes import json_response
from shared.ids import new_event_id, random_hex
from shared.messages import Param
from shared.tracing import current_traceparent


async def post_draft(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await principal_of(request)
    _, body = await read_body(request)
    submission = validate_submission(
        body, deps.channels, deps.clock(), require_approval=False, horizon=deps.settings.schedule_horizon
    )
    authorize(
        principal,
        "submit_draft",
        channels=[v.channel for v in submission.variants],
        author=submission.request.author,
    )
    if submission.request.author != principal.person:
        raise ValidationFailed([field_error(None, "author", "author_mismatch", person=principal.person)])
    draft_id = random_hex(24)
    assert isinstance(body, dict)
    event = DraftSubmitted(
        event_id=new_event_id(),
        occurred_at=deps.clock(),
        draft_id=draft_id,
        author=principal.person,
        request=body,
    )
    await send(deps, deps.topics.content_drafts, draft_id, event)
    deps.view.apply(event)
    draft = deps.view.drafts.get(draft_id)
    assert draft is not None
    return json_response(
        {"draft_id": draft_id, "state": AWAITING, "content_sha256": draft.content_sha256},
        201,
        {"ETag": _etag(draft), "Location": f"/v1/drafts/{draft_id}"},
    )


_LIST_QUERY = frozenset({"state", "cursor"})


async def list_drafts(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await principal_of(request, deps.list_throttle)
    problems = [
        field_error(None, name, "unknown_field.query", field=name)
        for name in request.query
        if name not in _LIST_QUERY
    ]
    state = request.query.get("state")
    if state is not None and state not in (AWAITING, APPROVED):
        state_error = field_error(None, "state", "enum.draft_state", awaiting=AWAITING, approved=APPROVED)
        problems.append(state_error)
    if problems:
        raise ValidationFailed(problems)
    after = None
    if request.query.get("cursor"):
        try:
            after = decode_cursor(request.query["cursor"], 2)
        except ValueError:
            raise ValidationFailed([field_error(None, "cursor", "type.next_cursor")]) from None
    await deps.caught_up.wait()
    await read_latest(deps, deps.topics.content_drafts)  # a draft approved through another instance
    drafts, page = deps.view.drafts.page(
        state, limit=deps.settings.page_size, after=after, visible=principal.may_target
    )
    return json_response(
        {
            "drafts": [d.summary() for d in drafts],
            "next_cursor": encode_cursor(page.next_key) if page.next_key else None,
            "total": page.total,
        }
    )


async def get_draft(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await principal_of(request)
    await deps.caught_up.wait()
    # Another instance may have answered an approval moments ago: its claim is in this read.
    await read_latest(deps, deps.topics.content_drafts)
    draft = _draft(request, principal)
    body = {**draft.summary(), "request": draft_request(principal, draft), "history": draft.history()}
    return json_response(body, headers={"ETag": _etag(draft)})


async def approve_draft(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await principal_of(request)
    await deps.caught_up.wait()  # a draft approved before a restart must be known as such
    draft = _draft(request, principal)
    now = deps.clock()
    approval, won = draft.approval, False
    # An approved draft is judged as of its approval: its approver's retry answers the item
    # accepted then, past its deadline even, and another approver learns who approved it.
    submission = validate_submission(
        draft.request,
        deps.channels,
        approval.occurred_at if approval is not None else now,
        require_approval=False,
        horizon=deps.settings.schedule_horizon,
    )
    authorize(
        principal,
        "approve_draft",
        channels=[v.channel for v in submission.variants],
        author=draft.author,
        approved_by=principal.person,
    )
    _require_read(request, draft)

    def item(decided: DraftApproved) -> ContentApproved:
        return submission.approved_event(
            content_id=decided.content_id,
            event_id=new_event_id(),
            occurred_at=now,
            submitted_by=principal.person,
            approval=Approval(approved_by=decided.approved_by, approved_at=decided.occurred_at),
            draft_id=draft.draft_id,
            traceparent=current_traceparent(),
        )

    if approval is None:
        claim = DraftApproved(
            event_id=new_event_id(),
            occurred_at=now,
            draft_id=draft.draft_id,
            content_id=draft_content_id(draft.draft_id),
            approved_by=principal.person,
            content_sha256=draft.content_sha256,
        )
        # Before the claim: a draft whose item the broker would refuse must not be approved.
        check_event_size(item(claim), deps.settings.max_event_bytes)
        await decide(deps, deps.topics.content_drafts, draft.draft_id, claim)
        approval = draft.approval
        assert approval is not None  # our own claim, at the latest, was read
        won = approval.event_id == claim.event_id
    if approval.approved_by != principal.person:
        params: dict[str, Param] = {"draft_id": draft.draft_id, "approved_by": approval.approved_by}
        at, content_id = approval.occurred_at.isoformat(), approval.content_id
        raise Conflict([field_error(None, None, "already_approved", **params, at=at, content_id=content_id)])
    decided = approval  # the same approver again (a retry) gets the same item
    return await settle(deps, decided.content_id, won=won, make=lambda: item(decided))


def _draft(request: web.Request, principal: Principal) -> Draft:
    draft_id = request.match_info["draft_id"]
    return draft_seen(principal, request.app[DEPS].view.drafts.get(draft_id), draft_id)


def _etag(draft: Draft) -> str:
    return f'"{draft.content_sha256}"'


def _require_read(request: web.Request, draft: Draft) -> None:
    """The approval names the content its approver read: If-Match with the draft's ETag."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        raise PreconditionRequired(
            [field_error(None, "If-Match", "if_match_required", draft_id=draft.draft_id)]
        )
    tags = {tag.strip() for tag in header.split(",")}
    # Strong comparison (RFC 9110 §8.8.3.2): a weak W/"..." never matches. A bare digest is
    # taken too: it names the same content, and shells make quoting easy to lose.
    if _etag(draft) not in tags and draft.content_sha256 not in tags:
        raise PreconditionFailed([field_error(None, "If-Match", "etag_mismatch", etag=_etag(draft))])


def add_draft_routes(app: web.Application) -> None:
    app.router.add_post("/v1/drafts", post_draft)
    app.router.add_get("/v1/drafts", list_drafts)
    app.router.add_get("/v1/drafts/{draft_id}", get_draft)
    app.router.add_post("/v1/drafts/{draft_id}/approve", approve_draft)
