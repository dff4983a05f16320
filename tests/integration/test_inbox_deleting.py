"""Deleting an abusive comment through the inbox deletes it on the platform, on the real broker
and the fakes: a publisher job (``purpose="delete"``) under the hide's machinery (reopening is
in ``test_inbox_hiding.py``). The fake ends without the comment, the entry says so, the audit
trail on ``inbox.changes`` keeps who and why, a comment already gone counts as deleted, and
where the platform cannot delete, the inbox refuses in the caller's language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sandbox.base import FakePost
from shared.events import InboxAction, InboxChanged
from tests.integration.inbox_system import PAGE_ID, InboxSystem, inbox_system
from tests.integration.poison_kit import read_all
from tests.integration.test_inbox_cli import Terminal
from tests.integration.test_inbox_hiding import settled, shown
from tests.integration.test_inbox_replies import TOOT, comment_in_inbox

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


async def act(
    system: InboxSystem, key: str, verb: str, reason: str, lang: str = "en", role: str = "approver"
) -> tuple[int, dict[str, Any]]:
    headers = {**system.auth(role), "Accept-Language": lang}
    async with system.env.session.post(
        system.url(f"/v1/inbox/{key}/{verb}"), headers=headers, json={"reason": reason}
    ) as answer:
        body: dict[str, Any] = await answer.json(content_type=None)
        return answer.status, body


def on_fake(system: InboxSystem, platform: str, comment_id: str) -> bool:
    return any(c.id == comment_id for c in system.env.states[platform].comments)


async def test_a_delete_deletes_on_the_platform_with_who_and_why_in_the_audit_trail(
    kafka_bootstrap: str, run_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("facebook",)) as system:
        fb_post = FakePost(
            f"{PAGE_ID}_22", "demo", "Banjir", NOW, url="https://fb/22", data={"page": PAGE_ID}
        )
        await system.published("facebook-demo", "facebook", fb_post)
        comment_id, key = await comment_in_inbox(system, "facebook", fb_post.id)
        # An editor may hide it; deleting it for good takes an approver.
        status, refused = await act(system, key, "delete", "ancaman kekerasan", role="editor")
        assert (status, refused["errors"][0]["rule"]) == (403, "four_eyes")
        status, sending = await act(system, key, "delete", "ancaman kekerasan")
        assert (status, sending["state"], sending["platform_hide"]["status"]) == (200, "deleted", "sending")
        await settled(system, key, InboxAction.DELETED_ON_PLATFORM)
        assert not on_fake(system, "facebook", comment_id)
        entry = await shown(system, key)
        assert (entry["state"], entry["hidden_on_platform"], entry["platform_hide"]["status"]) == (
            "deleted",
            True,
            "deleted",
        )
        # Deleted for good: nothing more to do with it, in the caller's language.
        status, refused = await act(system, key, "reopen", "", lang="id")
        assert status == 409
        assert "sudah dihapus" in str(refused)
        changes = await read_all(
            kafka_bootstrap,
            system.topics.inbox_changes,
            lambda evs: any(
                isinstance(e, InboxChanged) and e.action == InboxAction.DELETED_ON_PLATFORM for e in evs
            ),
        )
        trail = [(e.action.value, e.by, e.reason) for e in changes if isinstance(e, InboxChanged)]
        assert ("delete", "yuyun", "ancaman kekerasan") in trail  # the approver key is yuyun's
        assert ("deleted_on_platform", "publisher", "deleted on facebook") in trail

        # A comment already gone (deleted in the platform's own app) counts as deleted; this
        # time from the terminal, ``warta inbox delete``.
        gone_id, gone_key = await comment_in_inbox(system, "facebook", fb_post.id)
        system.env.states["facebook"].comments[:] = [
            c for c in system.env.states["facebook"].comments if c.id != gone_id
        ]
        terminal = Terminal(system, capsys)
        deleted = await terminal.data("inbox", "delete", gone_key, "--reason", "spam", role="approver")
        assert (deleted["state"], deleted["reason"]) == ("deleted", "spam")
        await settled(system, gone_key, InboxAction.DELETED_ON_PLATFORM, InboxAction.DELETE_FAILED)
        assert (await shown(system, gone_key))["platform_hide"]["status"] == "deleted"

        # Where the platform cannot delete, the inbox refuses in the caller's language.
        await system.published("mastodon-demo", "mastodon", FakePost(TOOT, "demo", "Jembatan", NOW, url="u"))
        toot_reply, toot_key = await comment_in_inbox(system, "mastodon", TOOT)
        status, refused = await act(system, toot_key, "delete", "spam", lang="id")
        assert status == 422
        assert "tidak bisa menghapus komentar warga" in str(refused)
        assert (await shown(system, toot_key))["state"] == "new"
        assert on_fake(system, "mastodon", toot_reply)


async def test_a_telegram_comment_is_deleted_in_the_discussion_group(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("telegram",)) as system:
        post = FakePost(
            "41", "demo", "Pengumuman", NOW, data={"chat": {"id": -1001000000077, "type": "channel"}}
        )
        await system.published("telegram-talk", "telegram", post)
        comment_id, key = await comment_in_inbox(system, "telegram", post.id)
        status, _ = await act(system, key, "delete", "doxxing")
        assert status == 200
        await settled(system, key, InboxAction.DELETED_ON_PLATFORM, InboxAction.DELETE_FAILED)
        entry = await shown(system, key)
        assert (entry["action"], entry["platform_hide"]["status"]) == ("deleted_on_platform", "deleted")
        assert not on_fake(system, "telegram", comment_id)
