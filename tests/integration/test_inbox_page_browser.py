"""The inbox page in headless Chromium against a real inbox on the real broker.

A citizen's comment carrying markup is shown as text (no element is made of it); the page lists
channels with the reason one is not collected and what each cannot do, the comments' frequent
terms, and speaks Bahasa Indonesia when asked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.base import FakePost
from tests.e2e.browser import chromium, chromium_path, screenshot_for_docs
from tests.integration.inbox_system import inbox_system
from tests.integration.poison_kit import eventually

pytestmark = [
    pytest.mark.integration,
    pytest.mark.promised,  # the inbox page in Chromium: CI may not skip it
    pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed: run `make browser`"),
]

HOSTILE = '<img src=x onerror="document.body.dataset.owned=1">Jalan rusak'


async def test_the_page_shows_comments_as_text_in_both_languages(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("mastodon",)) as system:
        post = FakePost(
            "110000000000000777", "demo", "Jembatan", datetime.now(UTC), url="https://m/@demo/777"
        )
        await system.published("mastodon-demo", "mastodon", post)
        await system.comment("mastodon", post.id, HOSTILE, author="warga1")
        await eventually(lambda: len(system.inbox.keeper.book) == 1, "the comment in the inbox")
        async with chromium() as page:
            await page.goto(system.url("/"))
            await page.fill("#login-key", system.keys["operator"]["key"])
            await page.click("#login-form button")
            text = await page.wait_for(
                "document.querySelector('#entries .text') && document.querySelector('#entries .text').textContent",
                what="the comment on the page",
            )
            # Mastodon sends HTML; the inbox keeps its text, and the page never parses it again.
            assert "Jalan rusak" in text
            assert await page.evaluate("document.querySelectorAll('#entries img').length") == 0
            assert await page.evaluate("document.body.dataset.owned || null") is None
            reasons = await page.evaluate("document.querySelector('#channels').textContent")
            assert "paid read tier" in reasons
            # What a channel cannot do, and what the comments are about.
            assert "cannot read comments (needs more access)" in reasons
            terms = await page.wait_for(
                "document.querySelector('#terms li') && document.querySelector('#terms').textContent",
                what="the frequent terms",
            )
            assert "jalan (1)" in terms
            assert "rusak (1)" in terms
            await screenshot_for_docs(page, "inbox-en.png")
            await page.evaluate(
                "document.querySelector('#lang').value = 'id';"
                "document.querySelector('#lang').dispatchEvent(new Event('change'))"
            )
            await page.wait_for(
                "document.querySelector('h2[data-i18n=comments]').textContent === 'Komentar'", what="Bahasa"
            )
            assert await page.evaluate("document.documentElement.lang") == "id"
            await page.wait_for(
                "document.querySelector('#channels').textContent.includes('tidak bisa membaca komentar')",
                what="the limits in Bahasa",
            )
            # The entries are drawn again after the page re-reads them in the new language.
            await page.wait_for(
                "document.querySelector('#entries .state').textContent.includes('Baru')", what="Baru"
            )
            await screenshot_for_docs(page, "inbox-id.png")
            # A refusal reaches the page in the page's language, whatever the browser's.
            refused = await page.evaluate(
                "api('GET', '/v1/inbox?limit=abc').then(() => 'ok', (e) => e.message)"
            )
            assert refused == "limit harus bilangan bulat"
            # Reply from the page: the reply is posted on the fake and the entry shows it answered.
            await page.evaluate(
                "window.prompt = () => 'Besok pagi.';"
                "[...document.querySelectorAll('#entries button')].find(b => b.textContent === 'Balas').click()"
            )
            await page.wait_for(
                "(document.querySelector('#entries .reply') || {textContent: ''}).textContent"
                ".includes('terkirim ke platform')",
                what="the reply posted",
            )
            assert await page.evaluate("document.querySelector('#entries .state').textContent") == "Dijawab"
            # The comment recorded as a complaint shows in the complaints list with its deadline.
            await page.evaluate(
                "window.prompt = () => 'jalan rusak';"
                "[...document.querySelectorAll('#entries button')]"
                ".find(b => b.textContent === 'Catat sebagai pengaduan').click()"
            )
            shown = await page.wait_for(
                "(document.querySelector('#complaints .meta') || {textContent: ''}).textContent"
                ".includes('Tercatat') && document.querySelector('#complaints').textContent",
                what="the complaint listed",
            )
            assert "tenggat" in shown
            assert "Jalan rusak" in shown
        replies = [c for c in system.env.states["mastodon"].comments if c.author == "demo"]
        assert [c.text for c in replies] == ["Besok pagi."]
