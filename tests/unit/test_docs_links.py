"""Every relative link and image in the README and docs/ points at a file of the repository (the
guides show screenshots the Chromium test refreshes; a renamed one must not leave a hole)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.settings import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    missing = []
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = (doc.parent / target.split("#")[0]).resolve()
        if not path.exists():
            missing.append(target)
    assert not missing, f"{doc.name}: {missing}"


def test_both_guides_cover_the_same_sections() -> None:
    guide = re.findall(r"^## (\d+)\.", (ROOT / "docs" / "guide.md").read_text(), re.MULTILINE)
    panduan = re.findall(r"^## (\d+)\.", (ROOT / "docs" / "panduan.md").read_text(), re.MULTILINE)
    assert guide == panduan
    assert len(guide) >= 6
