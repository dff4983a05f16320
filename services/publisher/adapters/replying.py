"""Posting a reply and looking for it afterwards, on any HTTP adapter (``Adapter.reply`` and
``Adapter.find_reply``), with the calls of ``reply_calls``.

What an answer proves, for the posting call:

- 2xx with the reply's id → ``Published`` (the id is the reply's ``post_id``);
- 2xx without an id, a 5xx, a lost connection → ``Ambiguous``: the platform may hold the reply,
  so the publisher looks it up before anything is sent again;
- any other answer is read by the platform's own rules, as a refused post is
  (``refusals.refusal``): a throttle or a spent quota → ``RateLimited`` with the platform's
  wait, a dead token → ``AuthExpired``, a refusal of this comment → ``Permanent``.

A call made before the posting one (Threads' container) posted nothing: a failure there is
never ``Ambiguous`` (a 5xx is ``Temporary``).

The look-up reads the listing of ``reply_calls.lookup_call``, page after page where the listing
pages (``reply_calls.next_lookup``): found → ``Published``; absent → ``Absent``,
once the platform has had its listing delay since the earlier attempt ended (before that,
``Unknown`` with a time to ask again); on X, whose search indexes late, "not found" is
``Unknown``; a throttled or failing listing is ``Temporary`` (ask again later), any other
refusal of it ``Unknown``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply
from services.publisher.adapters.refusals import refusal
from services.publisher.adapters.reply_calls import (
    ABSENCE_UNPROVEN,
    MAX_LOOKUP_PAGES,
    NoReplyCall,
    NotListed,
    ReplyCall,
    found_reply,
    lookup_call,
    next_lookup,
    posted_id,
    reply_call,
    threads_container,
    threads_publish,
)


class CallsPlatform(Protocol):
    platform: str
    _clock: Callable[[], datetime]
    _listing_settle: timedelta

    async def call(
        self, target: port.Target, method: str, path: str = "", *, creates_post: bool = True, **kw: Any
    ) -> Reply: ...

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError: ...


async def post_reply(
    adapter: CallsPlatform, target: port.Target, request: port.PublishRequest
) -> port.Published:
    platform = adapter.platform
    try:
        if platform == "threads":
            call = threads_publish(target, await _threads_container(adapter, target, request))
        else:
            call = reply_call(platform, target, request)
    except NoReplyCall as exc:
        raise port.NotSupported(str(exc), code="no_replies") from None
    answer = await _send(adapter, target, call, creates_post=True)
    if 200 <= answer.status < 300:
        found = posted_id(answer.json())
        if found is None:
            raise port.Ambiguous(
                f"{platform}: the reply was answered {answer.status} without an id", code="no_id"
            )
        return port.Published(found, None)
    if answer.status >= 500:
        raise port.Ambiguous(f"{platform}: answered {answer.status} to the reply", code="server_error")
    raise refusal(adapter, target, answer)


async def _threads_container(
    adapter: CallsPlatform, target: port.Target, request: port.PublishRequest
) -> str:
    """A reply container: nothing is posted until it is published."""
    answer = await _send(adapter, target, threads_container(target, request), creates_post=False)
    creation = posted_id(answer.json()) if answer.status == 200 else None
    if creation is not None:
        return creation
    if answer.status >= 500:
        raise port.Temporary(f"threads: answered {answer.status} to the reply container", code="server_error")
    raise refusal(adapter, target, answer)


async def find_reply(
    adapter: CallsPlatform, target: port.Target, request: port.PublishRequest
) -> port.Lookup:
    platform = adapter.platform
    try:
        call = lookup_call(platform, target, request)
    except NoReplyCall as exc:
        raise port.NotSupported(str(exc), code="no_reply_lookup") from None
    found = await _search(adapter, target, request, call)
    if isinstance(found, port.Unknown):
        return found
    if found is not None:
        return port.Published(found, None)
    if platform in ABSENCE_UNPROVEN:
        return port.Unknown(f"{platform}: its search lists replies late; not found proves nothing")
    settled_at = (request.earlier_attempt_until or adapter._clock()) + adapter._listing_settle
    if call.folds_resends or adapter._clock() >= settled_at:
        return port.Absent(
            f"{platform}: the comment's replies hold none of ours", safe_while_live=call.folds_resends
        )
    return port.Unknown(f"{platform}: a reply this recent may not be listed yet", ask_again_at=settled_at)


async def _search(
    adapter: CallsPlatform, target: port.Target, request: port.PublishRequest, call: ReplyCall
) -> str | port.Unknown | None:
    """The reply's id in the listing, read page after page where it pages (LinkedIn); None when
    every page was read without it; ``Unknown`` when an answer proves nothing. A listing longer
    than ``MAX_LOOKUP_PAGES`` proves nothing either: absence must be read to the end."""
    platform = adapter.platform
    for _ in range(MAX_LOOKUP_PAGES):
        answer = await _send(adapter, target, call, creates_post=False)
        if answer.status >= 500:
            raise port.Temporary(
                f"{platform}: the reply look-up answered {answer.status}", code="server_error"
            )
        if answer.status != 200:
            why = refusal(adapter, target, answer)
            if isinstance(why, port.Temporary):
                raise why  # a throttle or a spent quota: ask again once it lifts
            return port.Unknown(
                f"{platform}: the reply look-up answered {answer.status}", code="lookup_refused"
            )
        body = answer.json()
        try:
            found = found_reply(platform, target, request, body)
        except NotListed as exc:
            return port.Unknown(f"{platform}: {exc}", code="lookup_unreadable")
        following = next_lookup(platform, call, body)
        if found is not None or following is None:
            return found
        call = following
    return port.Unknown(
        f"{platform}: the comment's listing runs past {MAX_LOOKUP_PAGES} pages", code="lookup_too_long"
    )


async def _send(adapter: CallsPlatform, target: port.Target, call: ReplyCall, *, creates_post: bool) -> Reply:
    return await adapter.call(target, call.method, call.path, creates_post=creates_post, **call.kw)
