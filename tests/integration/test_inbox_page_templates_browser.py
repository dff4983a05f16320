"""The inbox page's saved answers in headless Chromium, against a real inbox on the real broker:
choosing one puts it in the reply box filled in for the comment, in the page's language, and
what the person sends is posted on the platform."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.base import FakePost
from tests.e2e.browser import chromium, chromium_path
from tests.integration.inbox_system import inbox_system
from tests.integration.poison_kit import eventually

pytestmark = [
    pytest.mark.integration,
    pytest.mark.promised,  # the inbox page in Chromium: CI may not skip it
    pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed: run `make browser`"),
]


async def test_a_saved_answer_fills_the_reply_box_in_the_pages_language(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("mastodon",)) as system:
        post = FakePost(
            "110000000000000888", "demo", "Jembatan", datetime.now(UTC), url="https://m/@demo/888"
        )
        await system.published("mastodon-demo", "mastodon", post)
        await system.comment("mastodon", post.id, "Kapan dibuka?", author="warga1")
        book = system.inbox.keeper.book
        await eventually(lambda: len(book) == 1, "the comment in the inbox")
        texts = {"text_en": "Thank you, {name}.", "text_id": "Terima kasih, {name}."}
        async with system.env.session.put(
            system.url("/v1/inbox/templates/thanks"), json=texts, headers=system.auth("operator")
        ) as answer:
            assert answer.status == 200, await answer.text()
        (entry,) = book.select()
        expected = f"Terima kasih, {entry.comment.author.name or 'Bapak/Ibu'}."
        async with chromium() as page:
            await page.goto(system.url("/"))
            await page.evaluate("localStorage.setItem('warta.lang', 'id')")
            await page.goto(system.url("/"))
            await page.fill("#login-key", system.keys["editor"]["key"])
            await page.click("#login-form button")
            await page.wait_for(
                "document.querySelector('#entries select') !== null", what="the saved answers"
            )
            # The person reads the filled-in answer in the reply box and sends it as it is.
            await page.evaluate(
                "window.prompt = (question, drafted) => { window.drafted = drafted; return drafted; };"
                "const pick = document.querySelector('#entries select');"
                "pick.value = 'thanks'; pick.dispatchEvent(new Event('change'))"
            )
            await page.wait_for(
                "(document.querySelector('#entries .reply') || {textContent: ''}).textContent"
                ".includes('terkirim ke platform')",
                what="the reply posted",
            )
            assert await page.evaluate("window.drafted") == expected
        replies = [c for c in system.env.states["mastodon"].comments if c.author == "demo"]
        assert [c.text for c in replies] == [expected]
