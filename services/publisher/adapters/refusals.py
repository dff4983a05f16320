"""What a platform's refusal of a reply, a hide, a reopen or a delete means: read by the rules
its adapter reads a refused post by, so that a throttle, a spent quota or a dead token means the
same to a reply as to a post.

Each platform signals "slow down" and "the token is dead" its own way, mostly not by the HTTP
status: Graph (Facebook, Instagram, Threads) sends an expired token as code 190 and its
throttles (4, 17, 32, 613, 8000x) under HTTP 400; WhatsApp adds 130429 and 131056; YouTube
sends its day of quota as 403 ``quotaExceeded``; Telegram's flood wait is 429 with the wait in
``parameters.retry_after``. So the answer is read by the adapter's own classifier, the one its
posts are read by: its public ``classify_error`` (``common.HttpAdapter``; Graph's is
``graph.graph_error``; WhatsApp's reads a recipient it cannot reach, outside the 24-hour window
or undeliverable, as the reply refused: ``Permanent``).

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
from shared.platform_throttles import graph_code

if TYPE_CHECKING:
    from services.publisher.adapters.replying import CallsPlatform

GRAPH_PLATFORMS = frozenset({"facebook", "instagram", "threads"})
# Graph's codes for the credential itself (developers.facebook.com/docs/graph-api/guides/
# error-handling): 102 the session, 190 the access token. Its other auth codes (10, 200-299)
# refuse a permission for the object asked about.
GRAPH_TOKEN_CODES = frozenset({102, 190})


def refusal(adapter: CallsPlatform, target: port.Target, answer: Reply) -> port.AdapterError:
    """The error a refused reply or moderation call stands for (``answer``: not a 2xx, not a
    5xx): the adapter's ``classify_error``, with a refusal of rights that is no refused
    credential narrowed to the comment (``Permanent``)."""
    read = adapter.classify_error(target, answer)
    if isinstance(read, port.AuthExpired) and not _credential_refused(adapter.platform, answer):
        return port.Permanent(read.message, code=read.code, http_status=read.http_status)
    return read


def _credential_refused(platform: str, answer: Reply) -> bool:
    if answer.status == 401:
        return True
    return platform in GRAPH_PLATFORMS | {"whatsapp"} and graph_code(answer.json()) in GRAPH_TOKEN_CODES
