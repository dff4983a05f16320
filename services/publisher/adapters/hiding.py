"""Hiding a citizen's comment on the platform (``Adapter.hide``), with the calls of ``hide_calls``.

Hiding twice is harmless: a comment already hidden stays hidden and the platform says so again.
So the call is made with ``creates_post=False``, and a hide whose answer was lost (a 5xx, a cut
connection, a timeout) is ``Temporary``: simply sent again, never looked up first
(``Reconciler.reconcile`` sends a hide job again for the same reason).

- 2xx that says hidden → ``Published`` (the comment's own id as ``post_id``);
- 2xx that does not say so → ``Permanent`` (the platform kept the comment visible);
- 429 → ``RateLimited``; 401 → ``AuthExpired``; any other 4xx (an unknown comment, a comment
  not under the account's posts) → ``Permanent`` with the platform's words.
"""

from __future__ import annotations

from services.publisher.adapters import port
from services.publisher.adapters.hide_calls import hid, hide_call
from services.publisher.adapters.reply_calls import NoReplyCall
from services.publisher.adapters.replying import CallsPlatform, refused


async def hide_comment(
    adapter: CallsPlatform, target: port.Target, request: port.PublishRequest
) -> port.Published:
    platform, to = adapter.platform, request.reply_to
    if to is None:
        raise port.Permanent(f"{platform}: a hide job names no comment", code="no_hide_target")
    try:
        call = hide_call(platform, to)
    except NoReplyCall as exc:
        raise port.NotSupported(str(exc), code="no_hiding") from None
    answer = await adapter.call(target, call.method, call.path, creates_post=False, **call.kw)
    if 200 <= answer.status < 300:
        if hid(platform, answer.status, answer.json()):
            return port.Published(to.comment_id, None)
        raise port.Permanent(
            f"{platform}: answered {answer.status} but did not hide the comment", code="not_hidden"
        )
    if answer.status >= 500:
        raise port.Temporary(f"{platform}: answered {answer.status} to the hide", code="server_error")
    raise refused(adapter, answer, "to hide the comment")
