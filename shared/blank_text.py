"""What a reader cannot see, and a text that says nothing (pure): the one definition ingest reads
a post's text by and the inbox a reply's text and a reason by.

Invisible (``INVISIBLE``, ranges of code points): White_Space as Python reads it (``str.isspace``,
which adds the separators U+001C-U+001F), the C0 and C1 controls, and every
Default_Ignorable_Code_Point of Unicode's DerivedCoreProperties.txt (zero-width space and
joiners, word joiner, BOM, bidi marks, variation selectors, Hangul fillers, tags). Mastodon
strips a status and then requires it present ("Text can't be blank", app/models/status.rb);
Telegram answers "message text is empty"; a text of these alone says nothing anywhere.

``SAYS_SOMETHING`` is the same rule as a regular expression for a JSON Schema ``pattern``: one
character that is not invisible. It is written for every dialect a client may check it with
(ECMA-262 with or without the ``u`` flag, Python's ``re``, the Rust engines of jsonschema-rs and
pydantic-core), so it holds ``\\uXXXX`` escapes of the Basic Multilingual Plane only. The
invisible characters past it (U+1BCA0-1BCA3, U+1D173-1D17A, the tags and supplementary
variation selectors U+E0000-E0FFF) cannot be written so in every dialect: without the ``u``
flag ECMA-262 reads one as a surrogate pair, and a range of them is a syntax error. The pattern
leaves them out, so it takes a text of those alone, and ``is_blank`` on the server refuses it.
"""

from __future__ import annotations

import re

INVISIBLE: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0020),  # C0 controls (tab, newlines, U+001C-U+001F separators), space
    (0x007F, 0x00A0),  # DEL, C1 controls (U+0085 next line), no-break space
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x1680, 0x1680),  # Ogham space mark
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors, vowel separator
    (0x2000, 0x200F),  # en quad to hair space, zero-width space and (non-)joiner, LRM, RLM
    (0x2028, 0x202F),  # line and paragraph separators, bidi embeddings, narrow no-break space
    (0x205F, 0x206F),  # medium mathematical space, word joiner, invisible operators, isolates
    (0x3000, 0x3000),  # ideographic space
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero-width no-break space (BOM)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),  # reserved default-ignorable
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol begin/end beam, tie, slur, phrase
    (0xE0000, 0xE0FFF),  # tags, variation selectors supplement, reserved
)

_BMP = 0xFFFF
_ONLY_INVISIBLE = re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in INVISIBLE) + "]*")


def is_blank(text: str | None) -> bool:
    """No text, or a text of invisible characters only (``INVISIBLE``)."""
    return text is None or _ONLY_INVISIBLE.fullmatch(text) is not None


def _bmp_escape(first: int, last: int) -> str:
    return f"\\u{first:04x}" if first == last else f"\\u{first:04x}-\\u{last:04x}"


SAYS_SOMETHING = "[^" + "".join(_bmp_escape(a, b) for a, b in INVISIBLE if b <= _BMP) + "]"
"""A JSON Schema ``pattern`` (unanchored: it finds one character) that a text saying something
matches: any character but the invisible ones of the Basic Multilingual Plane (see the module
doc for those past it, which only ``is_blank`` refuses)."""
