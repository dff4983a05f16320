"""WhatsApp Cloud API: an approved template message to each opted-in subscriber (platforms.md §10).

WhatsApp Channels have no public API. The Cloud API is 1:1 business messaging, so a "post" on
WhatsApp is one message per subscriber who opted in, sent from the business phone number. A
channel that points at a WhatsApp Channel (an invite link, ``channel:`` account, ``channel_id``
option) is refused with a message that says so.

Contract (developers.facebook.com/documentation/business-messaging/whatsapp: messages,
template messages, support/error-codes):

- ``POST /{phone-number-id}/messages`` with ``{"messaging_product":"whatsapp","to","type",…}``
  answers ``{"messages":[{"id":"wamid…"}]}``. Delivery comes later by webhook only.
- The 24-hour customer-service window: free-form ``text`` reaches only someone who wrote to us
  in the last 24 h (else 131047 "re-engagement"); approved **templates** may be sent at any
  time. So the default is a template (``template``, ``template_language``), its body parameter
  the post's text; ``message_type: text`` sends free-form text and is meant for subscribers who
  keep a window open. Outside it, a recipient is skipped and reported, not retried.
- Errors: Graph envelope (``graph.py``). **130429** throughput and **131056** pair rate (about 1
  message per 6 s to one number) and **80007** WABA rate limit → ``RateLimited``; 190 →
  ``AuthExpired``; 131026 undeliverable and 131047 outside the window → that recipient is
  skipped; other 4xx → ``Permanent``. A 200 whose body is a Graph error envelope (no
  ``messages``) is that error, not a message sent.

Exactly once, per recipient. Each job's sends are written to its own note
(``upload_state.JobLog``, one file per job) — ``pending`` before a send, the ``wamid`` after — so a
retry skips everyone already reached and a crash leaves at most the in-flight recipients in
doubt. Only a refusal the platform words (a 4xx, a Graph error envelope) or a connection that
never opened takes a recipient off the note; a 5xx or a lost answer leaves it pending
(``Ambiguous``), since the message may have gone. ``find_by_marker``: all reached → published; nobody in doubt → surely not finished
(``publish`` carries on with the rest); someone in doubt → ``NotSupported`` (WhatsApp can't be
asked whether a message was sent; an operator decides), never a blind re-send.

Target options: ``phone_number_id`` (defaults to the account), ``subscribers`` (comma-separated
E.164 numbers that opted in), ``template``, ``template_language`` (default ``id``),
``message_type`` (``template`` | ``text``).
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply
from services.publisher.adapters.checks import check_content
from services.publisher.adapters.common import StatefulHttpAdapter
from services.publisher.adapters.graph import GraphAdapter, usage_info
from services.publisher.adapters.upload_state import JobLog
from shared.capabilities import post_text
from shared.json_values import as_int, as_object

NO_CHANNELS = (
    "WhatsApp Channels have no public API: Warta can only send template messages to opted-in "
    "subscribers through the Cloud API (platforms.md §10)"
)
_THROTTLE = {130429: 1.0, 131056: 6.0, 80007: None}  # code → seconds to wait (None: usage headers)
_SKIP = {131047: "outside the 24-hour window", 131026: "undeliverable"}
_E164 = re.compile(r"^\+?[1-9]\d{6,14}$")


def looks_like_channel(target: port.Target) -> bool:
    account = target.account.lower()
    return (
        "channel_id" in target.options
        or account.startswith("channel:")
        or "whatsapp.com/channel" in account
        or "whatsapp.com/channel" in target.options.get("subscribers", "")
    )


def template_parameter(text: str) -> str:
    """Template parameters may not hold newlines, tabs or more than four spaces in a row."""
    return re.sub(r"\s{2,}|\s", " ", text).strip()


class WhatsAppAdapter(GraphAdapter, StatefulHttpAdapter):
    platform = "whatsapp"
    # One call per subscriber: a broadcast list of a few hundred outlasts ``call_timeout_s``, and
    # a publish cut off mid-send leaves a recipient in doubt that no retry can settle.
    long_uploads = True

    @cached_property
    def _notes(self) -> JobLog:
        return JobLog(self.state_dir, self.platform)

    def _sent(self, job_id: str) -> dict[str, Any] | None:
        # A job begun before the notes were kept per job is in the old shared file: without it, a
        # retry would message again everyone that job had reached.
        return self._notes.get(job_id) or self._log.get(job_id)

    async def publish(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        self._notes.prune(self._clock())
        recipients = self._recipients(target)
        caps = check_content(self.platform, request.content)
        message = self._message(target, post_text(caps, request.content), request)
        sent = dict(self._sent(request.job_id) or {})
        for number in recipients:
            if sent.get(number, "pending") != "pending":
                continue  # reached (or skipped) by an earlier attempt
            if number in sent:
                raise port.Ambiguous(
                    f"whatsapp: an earlier send to {_mask(number)} may have gone out", code="ambiguous"
                )
            sent[number] = "pending"
            self._notes.put(request.job_id, sent)
            try:
                path = f"/{target.options.get('phone_number_id') or target.account}/messages"
                reply = await self.call(
                    target, "POST", path, creates_post=True, json={**message, "to": number}
                )
            except port.Ambiguous:
                raise  # a lost answer or a 5xx: stays pending, reconciliation can't tell
            except port.Temporary:
                del sent[number]  # never left: nothing to doubt
                self._notes.put(request.job_id, sent)
                raise
            try:
                sent[number] = self._outcome(target, reply)
            except port.AdapterError:
                # Only a refusal the platform worded (a 4xx, or a Graph error envelope) proves
                # the message did not go; ``call`` raised every 5xx above, still pending.
                del sent[number]
                self._notes.put(request.job_id, sent)
                raise
            self._notes.put(request.job_id, sent)
        return self._result(request.job_id, sent)

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        sent = self._sent(request.job_id)
        if not sent:
            # Nothing was ever about to be sent for this job from a publisher sharing this state
            # dir; a worker still sending elsewhere is covered by the attempt's lease.
            return port.Absent("whatsapp: no send was ever started for this job")
        if any(v == "pending" for v in sent.values()):
            doubt = ", ".join(_mask(n) for n, v in sent.items() if v == "pending")
            raise port.NotSupported(
                f"whatsapp: can't tell whether the message reached {doubt}", code="unconfirmed"
            )
        if all(n in sent for n in self._recipients(target)):
            return self._result(request.job_id, sent)
        # Nobody in doubt: ``publish`` skips those reached and carries on with the rest, once no
        # other worker can still be sending to them (the attempt's lease).
        return port.Absent("whatsapp: some recipients are not reached yet, none in doubt")

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        raise port.NotSupported(
            "whatsapp: messages have no engagement counts (delivery status comes by webhook)"
        )

    def _recipients(self, target: port.Target) -> list[str]:
        if looks_like_channel(target):
            raise port.Permanent(f"whatsapp: {NO_CHANNELS}", code="whatsapp_channels_unsupported")
        numbers = [n.strip() for n in target.options.get("subscribers", "").split(",") if n.strip()]
        bad = [n for n in numbers if not _E164.match(n)]
        if bad or not numbers:
            raise port.Permanent(
                f"whatsapp: channel {target.channel} needs 'subscribers', opted-in numbers in E.164 "
                f"(bad: {', '.join(bad) or 'none given'}). {NO_CHANNELS}",
                code="no_subscribers",
            )
        return numbers

    def _message(self, target: port.Target, text: str, request: port.PublishRequest) -> dict[str, Any]:
        base: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
        content = request.content
        if target.options.get("message_type") == "text":
            if content.media:
                image: dict[str, str] = {"link": content.media[0].url}
                if text:
                    image["caption"] = text
                return {**base, "type": "image", "image": image}
            return {**base, "type": "text", "text": {"preview_url": bool(content.link), "body": text}}
        name = target.options.get("template")
        if not name:
            raise port.Permanent(
                f"whatsapp: channel {target.channel} needs an approved 'template' (templates are the only "
                "messages allowed outside the 24-hour window)",
                code="no_template",
            )
        components: list[dict[str, Any]] = []
        if content.media:
            components.append(
                {"type": "header", "parameters": [{"type": "image", "image": {"link": content.media[0].url}}]}
            )
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": template_parameter(text)}]}
        )
        template = {
            "name": name,
            "language": {"code": target.options.get("template_language", "id")},
            "components": components,
        }
        return {**base, "type": "template", "template": template}

    def _outcome(self, target: port.Target, reply: Reply) -> str:
        """What one send did: the message's ``wamid`` ("sent" when a 200 names none), a skipped
        recipient, or the platform's refusal raised (``classify_error``). A 200 carrying a Graph
        error envelope and no ``messages`` is that error: the message was not sent."""
        body = reply.json_object()
        messages = body.get("messages")
        if reply.status == 200 and (messages is not None or not isinstance(body.get("error"), dict)):
            wamid = as_object(messages[0]).get("id") if isinstance(messages, list) and messages else None
            return str(wamid) if wamid else "sent"
        skipped = _skipped(reply)
        if skipped is not None:
            return f"skipped:{skipped}"
        raise self.classify_error(target, reply)

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        """A refused send read by WhatsApp's rules: its throttles (130429, 131056, 80007) →
        ``RateLimited``; a recipient it cannot reach (outside the 24-hour window, undeliverable)
        → ``Permanent`` ``recipient_skipped`` (a broadcast skips that recipient instead, in
        ``_outcome``); anything else as Graph reads it (``graph.graph_error``)."""
        skipped = _skipped(reply)
        if skipped is not None:
            return port.Permanent(
                f"whatsapp: refused the message: {skipped}",
                code="recipient_skipped",
                http_status=reply.status,
            )
        err = as_object(reply.json_object().get("error"))
        code = as_int(err.get("code")) or 0
        if code in _THROTTLE:
            wait = _THROTTLE[code]
            message = f"whatsapp: (#{code}) {str(err.get('message') or '')[:500]}"
            if wait is None:
                now = self._clock()
                info = usage_info(reply.headers, now)
                wait = (info.reset_at - now).total_seconds() if info and info.reset_at else None
            return port.RateLimited(message, code=f"graph_{code}", http_status=reply.status, retry_after=wait)
        return super().classify_error(target, reply)

    def _result(self, job_id: str, sent: dict[str, str]) -> port.Published:
        reached = [v for v in sent.values() if not v.startswith(("skipped", "pending"))]
        if not reached:
            reasons = sorted({v.removeprefix("skipped:") for v in sent.values()})
            raise port.Permanent(
                f"whatsapp: no subscriber could be reached ({'; '.join(reasons)})", code="no_recipient"
            )
        # The first message id stands for the post; delivery to each number is the webhook's story.
        return port.Published(reached[0], None)


def _skipped(reply: Reply) -> str | None:
    """Why the answer's recipient is skipped, if its Graph error code says so (``_SKIP``)."""
    code = as_int(as_object(reply.json_object().get("error")).get("code")) or 0
    return _SKIP.get(code)


def _mask(number: str) -> str:
    """Enough of a phone number to find it, not enough to spread it."""
    return f"…{number[-4:]}"
