"""The label tables of the inbox's and the console's pages, read the way the scripts keep them:
``const …I18N = {`` with one ``key: ["English", "Bahasa Indonesia"],`` a line."""

from __future__ import annotations

import json
import re
from pathlib import Path


def labels(script: str) -> dict[str, list[str]]:
    """Every label of a page script's tables (``const …I18N = {`` one ``key: ["en", "id"],`` a
    line), read as the JSON its string literals are."""
    found: dict[str, list[str]] = {}
    for table in re.findall(r"\nconst [A-Z_]*I18N = \{\n(.*?)\n\};", script, re.S):
        for line in table.splitlines():
            if line.lstrip().startswith("//"):
                continue
            entry = re.fullmatch(r"  ([a-z_]+): (\[.*\]),", line)
            assert entry is not None, line
            key, words = entry.groups()
            assert key not in found, key
            found[key] = json.loads(words)
    return found


def assert_every_label_in_both_languages(page: Path, scripts: list[Path]) -> None:
    """Each label has its words in both languages, and every label the page or its scripts use
    (``data-i18n``, ``t("…")``; a key built from a prefix is not checked) is in the tables."""
    script = "\n".join(path.read_text(encoding="utf-8") for path in scripts)
    table = labels(script)
    for key, words in table.items():
        assert len(words) == 2, key
        assert all(isinstance(w, str) and w.strip() for w in words), key
    html = page.read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n(?:-placeholder)?="([a-z_]+)"', html)) | set(
        re.findall(r'\bt\("([a-z_]+)"[,)]', script)
    )
    assert used <= set(table), used - set(table)
