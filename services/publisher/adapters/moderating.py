"""Hiding a citizen's comment on the platform, showing it again or deleting it
(``Adapter.moderate``), with the calls of ``moderation_calls``.

Each is harmless to repeat: a hidden comment stays hidden, a shown one shown, and a deleted one
is gone (the platform's "not found" to a delete is the delete done). So the call is made with
``creates_post=False``, and one whose answer was lost (a 5xx, a cut connection, a timeout) is
``Temporary``: simply sent again, never looked up first (``Reconciler.reconcile`` sends a
moderation job again for the same reason).

- 2xx that says it is done → ``Published`` (the comment's own id as ``post_id``);
- 2xx that does not say so → ``Permanent`` (the platform kept the comment as it was);
- a delete's "not found" → ``Published``: already gone;
- any other refusal is read by the platform's own rules, as a refused post is
  (``refusals.refusal``): a throttle or a spent quota (Graph's codes under HTTP 400, YouTube's
  ``quotaExceeded``) → ``RateLimited``, a dead token → ``AuthExpired``; an unknown comment, a
  comment not under the account's posts → ``Permanent`` with the platform's words.
"""

from __future__ import annotations

from services.publisher.adapters import port
from services.publisher.adapters.moderation_calls import done, gone, moderation_call
from services.publisher.adapters.refusals import refusal
from services.publisher.adapters.reply_calls import NoReplyCall
from services.publisher.adapters.replying import CallsPlatform

_DONE = {"hide": "hide", "unhide": "show again", "delete": "delete"}


async def moderate_comment(
    adapter: CallsPlatform, target: port.Target, request: port.PublishRequest
) -> port.Published:
    platform, to, action = adapter.platform, request.reply_to, request.moderate
    if to is None or action is None:
        raise port.Permanent(f"{platform}: a moderation job names no comment", code="no_hide_target")
    verb = _DONE[action]
    try:
        call = moderation_call(platform, action, target, to)
    except NoReplyCall as exc:
        code = "no_deleting" if action == "delete" else "no_hiding"
        raise port.NotSupported(str(exc), code=code) from None
    answer = await adapter.call(target, call.method, call.path, creates_post=False, **call.kw)
    body = answer.json()
    if 200 <= answer.status < 300:
        if done(platform, action, answer.status, body):
            return port.Published(to.comment_id, None)
        raise port.Permanent(
            f"{platform}: answered {answer.status} but did not {verb} the comment", code="not_done"
        )
    if action == "delete" and gone(platform, answer.status, body):
        return port.Published(to.comment_id, None)
    if answer.status >= 500:
        raise port.Temporary(f"{platform}: answered {answer.status} to the {action}", code="server_error")
    raise refusal(adapter, target, answer)
