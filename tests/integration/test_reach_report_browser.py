"""The reach report as a press officer opens it (the file ``warta report`` writes, the page the
analytics worker serves are the same rendering) in Chromium, in both languages: no script error,
every chart drawn; the guides' screenshots are taken here."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.analytics.reach_render import render_html
from services.analytics.weekly import weekly_report
from tests.e2e.browser import chromium, chromium_path, screenshot_for_docs
from tests.unit.test_analytics_figures import REPORT
from tests.unit.test_reach_report import WEEK, folded, sample_events

pytestmark = [
    pytest.mark.integration,
    pytest.mark.promised,  # a page people read, in Chromium: CI may not skip it
    pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed: run `make browser`"),
]


@pytest.mark.parametrize("lang", ["en", "id"])
async def test_the_reach_report_opens_in_a_browser(lang: str, tmp_path: Path) -> None:
    doc = weekly_report(folded(sample_events()).items(), WEEK, REPORT)
    report = tmp_path / f"warta-reach-{WEEK}-{lang}.html"
    report.write_text(render_html(doc, lang), encoding="utf-8")
    async with chromium() as page:
        await page.goto(report.as_uri())
        assert await page.evaluate("document.documentElement.lang") == lang
        assert await page.evaluate("document.querySelectorAll('svg').length") >= 2
        await screenshot_for_docs(page, f"reach-report-{lang}.png")
        assert page.errors == []
