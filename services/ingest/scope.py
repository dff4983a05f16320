"""What a key limited to some channels sees of ingest's items, drafts and channels.

The rule is the one every service applies, ``Principal.may_target`` (``shared.http_auth``), and
the answers follow the console's and the inbox's:

- a listing holds only the key's channels: their jobs, the drafts that target one of them, their
  channels' pauses and health; a listing filtered by another channel is refused (403);
- an item or a draft none of whose channels the key may target is as absent as one that does not
  exist (404): a key learns nothing of another channel's work, embargoed text included;
- an item or a draft on several channels is seen by a key that may target one of them, with only
  those channels' jobs and targets in the answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.ingest.decisions import Draft
from services.ingest.status_view import ItemStatus
from shared.http_auth import Principal
from shared.http_errors import Forbidden, NotFound, field_error


def sees(principal: Principal, channels: Iterable[str]) -> bool:
    """Whether the key may see what targets ``channels``: one of them is the key's."""
    return any(principal.may_target(channel) for channel in channels)


def item_seen(principal: Principal, item: ItemStatus | None, content_id: str) -> ItemStatus:
    """The item, if the key may see it; 404 for one of other channels only, as for none."""
    if item is None or not sees(principal, item.channels):
        raise NotFound([field_error(None, None, "not_found.content", id=content_id)])
    return item


def draft_seen(principal: Principal, draft: Draft | None, draft_id: str) -> Draft:
    """The draft, if the key may see it; 404 for one of other channels only, as for none."""
    if draft is None or not sees(principal, draft.channels):
        raise NotFound([field_error(None, None, "not_found.draft", id=draft_id)])
    return draft


def item_json(principal: Principal, item: ItemStatus) -> dict[str, object]:
    """The item's status with the key's channels only."""
    mine = [s.to_json() for s in item.channels.values() if principal.may_target(s.channel)]
    return {**item.to_json(), "channels": mine}


def draft_request(principal: Principal, draft: Draft) -> dict[str, object]:
    """The draft's request with the key's targets only."""
    mine = [t for t in draft.targets if principal.may_target(str(t.get("channel")))]
    return {**draft.request, "targets": mine}


def channel_asked(principal: Principal, channel: str | None) -> None:
    """Refuse (403) a listing filtered by a channel the key may not read, as the inbox does."""
    if channel is not None and not principal.may_target(channel):
        said = field_error(
            channel, "channel", "channel_forbidden.read", person=principal.person, channel=channel
        )
        raise Forbidden([said])
