"""One rule for a text that says nothing (``shared.blank_text``), judged against Unicode's own
properties as other code computes them: White_Space by ``str.isspace``, the controls by
``unicodedata``, Default_Ignorable_Code_Point by the ``regex`` module's property tables. Its
OpenAPI pattern means the same in every regex dialect a client may check it with."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import unicodedata

import jsonschema_rs
import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from services.ingest import content_checks
from shared import blank_text
from shared.blank_text import INVISIBLE, SAYS_SOMETHING, is_blank

_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")


def invisible(c: str) -> bool:
    """The oracle, from tables this project did not write."""
    return c.isspace() or unicodedata.category(c) == "Cc" or _IGNORABLE.match(c) is not None


def past_the_bmp(text: str) -> bool:
    """A blank text the pattern cannot refuse: some of its invisible characters are past the BMP."""
    return any(ord(c) > 0xFFFF for c in text)


_SAMPLES = [chr(cp) for first, last in INVISIBLE for cp in range(first, min(last, first + 3) + 1)]
TEXTS = st.text(st.characters(codec="utf-8") | st.sampled_from(_SAMPLES), max_size=8)
BLANKS = st.text(st.sampled_from(_SAMPLES), max_size=8)


def test_every_code_point_is_invisible_exactly_when_unicode_says_so() -> None:
    differ = [
        f"U+{cp:04X}"
        for cp in range(sys.maxunicode + 1)
        if not 0xD800 <= cp <= 0xDFFF and is_blank(chr(cp)) != invisible(chr(cp))
    ]
    assert differ == []


@given(TEXTS)
def test_a_text_is_blank_exactly_when_each_character_is_invisible(text: str) -> None:
    assert is_blank(text) == all(invisible(c) for c in text)


def test_ingest_reads_a_post_by_the_same_rule() -> None:
    assert content_checks.is_blank is blank_text.is_blank
    assert is_blank(None)


_SCHEMA = jsonschema_rs.validator_for({"type": "string", "pattern": SAYS_SOMETHING})


@given(TEXTS | BLANKS)
def test_the_pattern_says_what_is_blank_in_python_and_jsonschema_rs(text: str) -> None:
    found = re.search(SAYS_SOMETHING, text) is not None
    assert found == _SCHEMA.is_valid(text), repr(text)
    assert found == (not is_blank(text) or past_the_bmp(text)), repr(text)


def test_the_pattern_holds_no_code_point_past_the_bmp_and_no_literal_character() -> None:
    assert SAYS_SOMETHING.isascii()
    assert not re.search(r"\\U|\\u\{|\\x\{", SAYS_SOMETHING)


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to judge ECMA-262 with")
def test_the_pattern_means_the_same_in_ecmascript_with_and_without_the_u_flag() -> None:
    texts = ["", " ", "\u200b", "\u200b\u00a0\ufeff\u3164", "\x00\x1f\x85", "a", "\u200bé", "\U0001d11e",
             "\U000e0041", "\u2066\u2069", "\ufff8", "\ufff9"]  # fmt: skip
    script = """
        const [pattern, texts] = JSON.parse(process.argv[1]);
        console.log(JSON.stringify(["", "u", "v"].map(flags => texts.map(t => new RegExp(pattern, flags).test(t)))));
    """
    argument = json.dumps([SAYS_SOMETHING, texts])
    ran = subprocess.run(["node", "-e", script, argument], capture_output=True, text=True, check=True)
    expected = [re.search(SAYS_SOMETHING, t) is not None for t in texts]
    assert json.loads(ran.stdout) == [expected] * 3
    assert expected == [not is_blank(t) or past_the_bmp(t) for t in texts]
