"""What a platform's refusal of a reply, a hide, a reopen or a delete means: read by the rules
its adapter reads a refused post by, so that a throttle, a spent quota or a dead token means the
same to a reply as to a post.

Each platform signals "slow down" and "the token is dead" its own way, mostly not by the HTTP
status: Graph (Facebook, Instagram, Threads) sends an expired token as code 190 and its
throttles (4, 17, 32, 613, 8000x) under HTTP 400; WhatsApp adds 130429 and 131056; YouTube
sends its day of quota as 403 ``quotaExceeded``; Telegram's flood wait is 429 with the wait in
``parameters.retry_after``. So the adapter's own classifier reads the answer:

- Facebook, Instagram, Threads: ``graph.graph_error``;
- WhatsApp: the adapter's reading of a send (its throttles, then ``graph_error``); a recipient
  it would skip (outside the 24-hour window, undeliverable) is the reply refused: ``Permanent``;
- YouTube, Telegram, X, Mastodon, LinkedIn: the adapter's ``_error``;
- any other platform: by status (429 ``RateLimited`` with ``Retry-After``, 401 ``AuthExpired``,
  5xx ``Temporary``, the rest ``Permanent``).

One difference from a post, and why. ``AuthExpired`` parks every job of the channel, its posts
included, until someone connects the account again. A post is made on the account's own page,
so a refusal of rights there is the account's; a reply or a hide acts on someone else's
comment, in a discussion group or a conversation the account did not start, so a refusal of
rights there (Graph's permission codes 10 and 200-299, X's "not visible to you", Telegram's
"not enough rights" in the discussion group, a 403) is that comment's: ``Permanent``. Only a
refused credential parks the channel: HTTP 401, or Graph's token codes (102 session, 190
access token), which Graph sends under 400.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply
from services.publisher.adapters.graph import graph_error
from services.publisher.adapters.linkedin import LinkedInAdapter
from services.publisher.adapters.mastodon import MastodonAdapter
from services.publisher.adapters.telegram import TelegramAdapter
from services.publisher.adapters.whatsapp import WhatsAppAdapter
from services.publisher.adapters.x import XAdapter
from services.publisher.adapters.youtube import YouTubeAdapter
from shared.platform_throttles import graph_code
from shared.platform_throttles import retry_after as retry_after_header

if TYPE_CHECKING:
    from services.publisher.adapters.replying import CallsPlatform

GRAPH_PLATFORMS = frozenset({"facebook", "instagram", "threads"})
# Graph's codes for the credential itself (developers.facebook.com/docs/graph-api/guides/
# error-handling): 102 the session, 190 the access token. Its other auth codes (10, 200-299)
# refuse a permission for the object asked about.
GRAPH_TOKEN_CODES = frozenset({102, 190})


def refusal(adapter: CallsPlatform, target: port.Target, answer: Reply, what: str) -> port.AdapterError:
    """The error a refused reply or moderation call stands for (``answer``: not a 2xx, not a
    5xx); ``what`` names the call in a message read by status."""
    read = _as_publishing_reads(adapter, target, answer, what)
    if isinstance(read, port.AuthExpired) and not _credential_refused(adapter.platform, answer):
        return port.Permanent(read.message, code=read.code, http_status=read.http_status)
    return read


def _as_publishing_reads(
    adapter: CallsPlatform, target: port.Target, answer: Reply, what: str
) -> port.AdapterError:
    platform = adapter.platform
    if isinstance(adapter, WhatsAppAdapter):
        try:
            skipped = adapter._outcome(target, answer)
        except port.AdapterError as exc:
            return exc
        return port.Permanent(
            f"{platform}: refused {what}: {skipped.removeprefix('skipped:')}",
            code="recipient_skipped",
            http_status=answer.status,
        )
    if platform in GRAPH_PLATFORMS:
        return graph_error(platform, answer, adapter._clock())
    if isinstance(adapter, YouTubeAdapter | LinkedInAdapter):
        return adapter._error(target, answer)
    if isinstance(adapter, TelegramAdapter):
        return adapter._error(target, answer.status, answer.json_object())
    if isinstance(adapter, XAdapter | MastodonAdapter):
        return adapter._error(answer)
    return by_status(adapter, answer, what)


def _credential_refused(platform: str, answer: Reply) -> bool:
    if answer.status == 401:
        return True
    return platform in GRAPH_PLATFORMS | {"whatsapp"} and graph_code(answer.json()) in GRAPH_TOKEN_CODES


def by_status(adapter: CallsPlatform, answer: Reply, what: str) -> port.AdapterError:
    """A refusal read by its HTTP status alone, for a platform without a classifier of its own."""
    platform, status = adapter.platform, answer.status
    message = f"{platform}: refused {what}: {status} {_detail(answer)}".rstrip()
    if status == 429:
        wait = retry_after_header(answer.headers, adapter._clock())
        return port.RateLimited(message, code="rate_limited", http_status=status, retry_after=wait)
    if status == 401:
        return port.AuthExpired(message, code="unauthorized", http_status=status)
    if status >= 500:
        return port.Temporary(message, code="server_error", http_status=status)
    return port.Permanent(message, code=f"http_{status}", http_status=status)


def _detail(answer: Reply) -> str:
    body = answer.json_object()
    error = body.get("error") or body.get("description") or body.get("detail") or body.get("message")
    text = error.get("message") if isinstance(error, dict) else error
    return str(text or "")[:300]
