"""The operator dashboard in a real headless Chromium (Debian's package, installed by `make browser`):
sign in with an operator key, watch the charts move while items flow, settle an unconfirmed post,
pause and resume from the page, and switch to Bahasa Indonesia.

Screenshots go to test-artifacts/ (git-ignored); those also written to docs/screenshots/ are the
ones the guides (docs/guide.md, docs/panduan.md) and the README show, refreshed by every run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from shared.settings import ROOT
from tests.e2e.browser import Page, chromium, chromium_path
from tests.e2e.client import Api, Sandbox, item, unique_text
from tests.e2e.conftest import Keys
from warta.devrun import LocalSystem

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.promised,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="Chromium is not installed: run `make browser` (apt-get install chromium chromium-driver)",
    ),
]
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs" / "screenshots"


@pytest.fixture
async def api(system: LocalSystem, keys: Keys) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, system.ingest_url, keys.approver)


async def signed_in(page: Page, system: LocalSystem, key: str) -> None:
    await page.goto(system.console_url + "/")
    await page.fill("#login-key", key)
    await page.click("#login-button")


async def refreshes(page: Page) -> int:
    return int(await page.evaluate("Number(document.body.dataset.refreshed || 0)"))


async def test_only_operator_keys_open_the_dashboard(system: LocalSystem, keys: Keys) -> None:
    async with chromium() as page:
        await signed_in(page, system, keys.approver)
        error = await page.wait_for("document.querySelector('#login-error').textContent", what="a refusal")
        assert "operator" in error
        assert await page.evaluate("document.querySelector('#app').hidden") is True
        assert await page.evaluate("sessionStorage.getItem('warta.key')") is None
        await page.screenshot(ARTIFACTS / "dashboard-refused.png")


async def test_operator_watches_items_flow_and_acts(system: LocalSystem, keys: Keys, api: Api) -> None:
    async with chromium() as page, aiohttp.ClientSession() as http:
        await signed_in(page, system, keys.operator)
        await page.wait_for("Number(document.body.dataset.refreshed || 0) >= 1", what="the first refresh")
        assert await page.evaluate("sessionStorage.getItem('warta.key')") == keys.operator
        total_before = int(
            await page.evaluate("Number(document.querySelector('#chart-throughput').dataset.total)")
        )

        # Items flow: the throughput chart's totals and lines follow the topics' end offsets.
        ids = [await api.submit(item(unique_text("Dashboard flow"), ["mastodon-demo"])) for _ in range(3)]
        for content_id in ids:
            await api.wait_state(content_id, "mastodon-demo", "published", timeout=60)
        await page.wait_for(
            f"Number(document.querySelector('#chart-throughput').dataset.total) >= {total_before + 9}",
            what="the throughput chart to count the new messages",
        )
        await page.wait_for(
            "Number(document.querySelector('#chart-throughput').dataset.lines) > 0 &&"
            " document.querySelectorAll('#chart-throughput polyline').length > 0",
            what="lines on the throughput chart",
        )
        await page.wait_for(
            "document.querySelector('#health tr[data-platform=mastodon] .badge.ok') !== null",
            what="mastodon healthy",
        )
        await page.wait_for(
            f"document.querySelector('#calendar [data-job=\"{ids[0]}:mastodon-demo\"]') !== null",
            what="the published job in today's calendar",
        )

        # An unconfirmed post (Telegram can't be asked what it posted): mark it published from the page.
        telegram = Sandbox(http, system.sandbox_url, "telegram")
        await telegram.fault(path_contains="/sendMessage", method="POST", mode="drop_after_processing")
        try:
            unsure = await api.submit(item(unique_text("Answer lost"), ["telegram-demo"]))
            await api.wait_state(unsure, "telegram-demo", "unconfirmed", timeout=60)
        finally:
            await telegram.clear_faults()
        job = f"{unsure}:telegram-demo"
        row = f'#problems tr[data-job="{job}"]'
        await page.wait_for(
            f"document.querySelector('{row} .action-mark_published') !== null", what="the action"
        )
        await page.screenshot(ARTIFACTS / "dashboard-unconfirmed.png", DOCS / "dashboard-unconfirmed.png")
        await page.fill(f"{row} .action-url", "https://t.me/warta_demo/999")
        await page.fill(f"{row} .action-reason", "seen on the channel")
        await page.click(f"{row} .action-mark_published")
        settled = await api.wait_state(unsure, "telegram-demo", "published", timeout=60)
        assert settled["url"] == "https://t.me/warta_demo/999"
        await page.wait_for(
            "[...document.querySelectorAll('#audit td')].some(td => td.textContent === 'mark_published')",
            what="the operator's action in the audit trail",
        )

        # Pause from the page; the API agrees; resume from the page.
        await page.click("#pause-channels input[value=mastodon-demo]")
        await page.fill("#pause-reason", "press conference running late")
        await page.click("#pause-button")
        await page.wait_for("document.querySelector('#pause-result').dataset.done === 'pause'", what="pause")
        status, channels = await api.get("/v1/channels", key=keys.operator)
        assert status == 200
        paused = next(c for c in channels["channels"] if c["channel"] == "mastodon-demo")["paused"]
        assert paused == {"by": "opa", "reason": "press conference running late"}
        await page.wait_for(
            "document.querySelector('#pause-state [data-paused=mastodon-demo]') !== null",
            what="the pause shown",
        )
        await page.screenshot(ARTIFACTS / "dashboard-paused-en.png", DOCS / "dashboard-paused-en.png")

        await page.evaluate(
            "(() => { const s = document.querySelector('#lang'); s.value = 'id';"
            " s.dispatchEvent(new Event('change')); return true; })()"
        )
        assert await page.evaluate("document.documentElement.lang") == "id"
        assert await page.evaluate("document.querySelector('[data-i18n=pause_title]').textContent") == (
            "Jeda dan lanjutkan"
        )
        await page.screenshot(ARTIFACTS / "dashboard-paused-id.png", DOCS / "dashboard-paused-id.png")

        await page.fill("#pause-reason", "selesai")
        await page.click("#resume-button")
        await page.wait_for(
            "document.querySelector('#pause-result').dataset.done === 'resume'", what="resume"
        )
        status, channels = await api.get("/v1/channels", key=keys.operator)
        assert next(c for c in channels["channels"] if c["channel"] == "mastodon-demo")["paused"] is None
        await page.wait_for(
            "document.querySelector('#pause-state [data-paused=mastodon-demo]') === null",
            what="the pause lifted",
        )
        after = await api.submit(item(unique_text("After the resume"), ["mastodon-demo"]))
        await api.wait_state(after, "mastodon-demo", "published", timeout=60)

        # The docs' screenshots: both languages, with the flow, the health and the audit trail.
        seen = await refreshes(page)
        await page.wait_for(f"Number(document.body.dataset.refreshed) > {seen + 1}", what="a fresh refresh")
        await page.screenshot(ARTIFACTS / "dashboard-id.png", DOCS / "dashboard-id.png")
        await page.evaluate(
            "(() => { const s = document.querySelector('#lang'); s.value = 'en';"
            " s.dispatchEvent(new Event('change')); return true; })()"
        )
        seen = await refreshes(page)
        await page.wait_for(f"Number(document.body.dataset.refreshed) > {seen}", what="a refresh in English")
        await page.screenshot(ARTIFACTS / "dashboard-en.png", DOCS / "dashboard-en.png")
        assert page.errors == [], page.errors
