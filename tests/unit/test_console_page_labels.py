"""The console's page: every label it or its script uses is in the script's table, in English and
Bahasa Indonesia."""

from __future__ import annotations

from pathlib import Path

import services.console
from tests.unit.page_labels import assert_every_label_in_both_languages

STATIC = Path(services.console.__file__).parent / "static"


def test_every_console_label_exists_in_english_and_bahasa_indonesia() -> None:
    assert_every_label_in_both_languages(STATIC / "index.html", [STATIC / "dashboard.js"])
