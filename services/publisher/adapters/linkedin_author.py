"""Who a LinkedIn share or comment is by: the channel's organization (or member) URN."""

from __future__ import annotations

from services.publisher.adapters import port


def author_urn(target: port.Target) -> str:
    """``options.author`` or the account; a bare id is an organization's."""
    author = target.options.get("author") or target.account
    return author if author.startswith("urn:li:") else f"urn:li:organization:{author}"
