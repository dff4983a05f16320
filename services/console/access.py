"""Who may use the console and see what.

Every ``/v1`` route needs an operator's or an admin's key, and a key's channel scope (ingest's
``Principal.may_target``, the one rule for it) holds on every route that reads or acts on a job
or a channel: lists are filtered, and naming or acting on another channel's job is refused.

Every response — pages, the API, errors, aiohttp's own 404 — carries the security headers of
``shared.security_headers`` (the inbox's page carries the same).
"""

from __future__ import annotations

from shared.http_auth import ALL_CHANNELS, KeyStore, Principal, Role, authenticate
from shared.http_errors import Forbidden
from shared.messages import said

OPERATOR_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})


def operator_of(keys: KeyStore, authorization: str | None) -> Principal:
    """The caller, if an operator or an admin: 401 without a known key, 403 for other roles."""
    principal = authenticate(keys, authorization)
    if principal.role not in OPERATOR_ROLES:
        raise Forbidden(said("role.console", person=principal.person, role=principal.role.value))
    return principal


def in_scope(principal: Principal, channel: str | None, what: str, ident: str = "") -> None:
    """Refuse (403) what concerns a channel outside the key's scope; no channel = every channel.
    ``what`` is a word of the catalog (``shared.messages_services.SERVICE_WORDS``): "job", "dead
    letter", "the plan of channel", and ``ident`` the one it names."""
    if channel is None and ALL_CHANNELS in principal.channels:
        return
    if channel is not None and principal.may_target(channel):
        return
    if channel is None:
        said_ = said("channel_forbidden.every_channel", person=principal.person, what=what)
    else:
        said_ = said("channel_forbidden.scope", person=principal.person, what=what, id=ident, channel=channel)
    raise Forbidden(said_, channel=channel)
