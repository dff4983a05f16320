"""How each platform counts the length of a post's text.

Platforms disagree on what a "character" is (platforms.md):

- X counts *weighted* characters (§3 "280 weighted characters"; a link "counts as 23 chars").
  The weights are twitter-text's configuration v3: text is NFC-normalised; code points in
  U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F and U+2032-U+2037 weigh 1, every other code point
  (CJK, Hangul, most symbols) weighs 2; a link weighs 23 whatever its length, found as
  twitter-text's ``extractUrlsWithIndices`` finds it (``shared.x_links``: a host on any of X's
  TLDs, with or without a scheme); an emoji sequence (ZWJ family, flag, skin tone, keycap)
  weighs 2 as a whole.
- Bluesky counts graphemes (§11 "300 graphemes and 3,000 bytes").
- Threads counts characters but "emoji counted as UTF-8 bytes" (§12).
- TikTok counts "UTF-16 runes" (§8), YouTube's description is "≤ 5,000 bytes" (§7).
- Mastodon counts graphemes, with every http(s) URL as ``characters_reserved_per_url`` (23 by
  default) whatever its length (``app/validators/status_length_validator.rb``: URLs become 23
  x's, then ``each_grapheme_cluster.size``).
- Everyone else counts Unicode code points.

Everything here is pure. Graphemes are Unicode UAX #29 extended grapheme clusters, as the
``regex`` package's ``\\X`` finds them: what Bluesky's clients (``Intl.Segmenter``) and Ruby's
``each_grapheme_cluster`` count. A zero width joiner joins only emoji (GB11), so "a\\u200d" * 700
is 700 graphemes, not one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

import regex

from shared.link_spans import link_matches
from shared.x_links import x_link_spans

# twitter-text config v3: weight 100 (= 1 char at scale 100) in these ranges, 200 elsewhere.
_X_LIGHT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x10FF),
    (0x2000, 0x200D),
    (0x2010, 0x201F),
    (0x2032, 0x2037),
)
X_URL_WEIGHT = 23  # platforms.md §3: "t.co-wrapped, counts as 23 chars"
X_EMOJI_WEIGHT = 2

_ZWJ = 0x200D
_VS16 = 0xFE0F
_VS15 = 0xFE0E
_KEYCAP = 0x20E3

# X's links are found as twitter-text finds them (``shared.x_links``: every TLD, hosts without a
# scheme included). Mastodon's count finds links written with a scheme by ``shared.link_spans``
# and ends them before sentence punctuation.
_TRAILING_PUNCTUATION = ".,;:!?'\"*"


def _is_regional_indicator(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _is_skin_tone(cp: int) -> bool:
    return 0x1F3FB <= cp <= 0x1F3FF


def _is_tag(cp: int) -> bool:
    return 0xE0020 <= cp <= 0xE007F


def _is_emoji_base(cp: int) -> bool:
    """Code points that start an emoji presentation (pictographs, dingbats, symbols)."""
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2300 <= cp <= 0x23FF
        or 0x2B00 <= cp <= 0x2BFF
        or 0x2190 <= cp <= 0x21FF
        or 0x25A0 <= cp <= 0x25FF
        or cp in (0x203C, 0x2049, 0x2122, 0x2139, 0x24C2, 0x2934, 0x2935, 0x3030, 0x303D, 0x3297, 0x3299)
    )


def _is_text_default_emoji(cp: int) -> bool:
    """Characters that are plain text unless followed by VS16 (©, ®, digits, #, *)."""
    return cp in (0x00A9, 0x00AE, 0x23, 0x2A) or 0x30 <= cp <= 0x39


def _emoji_end(cps: list[int], i: int) -> int:
    """Index just past the emoji sequence starting at ``i``, or ``i`` when none starts there."""
    n = len(cps)
    cp = cps[i]
    if _is_regional_indicator(cp):
        return i + 2 if i + 1 < n and _is_regional_indicator(cps[i + 1]) else i + 1
    if _is_text_default_emoji(cp):
        j = i + 1
        if j < n and cps[j] == _VS16:
            j += 1
            if j < n and cps[j] == _KEYCAP:
                j += 1
            return j
        if j < n and cps[j] == _KEYCAP:
            return j + 1
        return i
    if not _is_emoji_base(cp):
        return i
    j = i + 1
    while j < n:
        c = cps[j]
        if c in (_VS16, _VS15) or _is_skin_tone(c) or _is_tag(c) or c == _KEYCAP:
            j += 1
        elif c == _ZWJ and j + 1 < n and (_is_emoji_base(cps[j + 1]) or _is_text_default_emoji(cps[j + 1])):
            j += 2
        else:
            break
    return j


def _x_weight(cp: int) -> int:
    return 1 if any(lo <= cp <= hi for lo, hi in _X_LIGHT_RANGES) else 2


# Any code point outside the light ranges. Every emoji sequence holds one (bases, regional
# indicators, VS16 and the keycap all lie outside them), so a text without one has no emoji:
# the fast path for Latin press text.
_X_HEAVY = re.compile("[^" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _X_LIGHT_RANGES) + "]")


def _mastodon_link_spans(text: str) -> Iterator[tuple[int, int]]:
    for start, end in link_matches(text):
        # Sentence punctuation after a link is not part of it ("see https://a.id/x.").
        while end > start and text[end - 1] in _TRAILING_PUNCTUATION:
            end -= 1
        # A closing parenthesis belongs to the URL only when the URL opened one. Counted once,
        # not per parenthesis dropped: a link ending in N of them would otherwise cost N².
        opened, closed = text.count("(", start, end), text.count(")", start, end)
        while end > start and text[end - 1] == ")" and opened < closed:
            end -= 1
            closed -= 1
        yield start, end


def x_weighted_length(text: str) -> int:
    """The length X counts against its 280 limit (twitter-text v3 rules, see module docstring).

    Like twitter-text's ``parseTweet``: links (``shared.x_links``) and emoji sequences are found
    in the whole text, each on its own; walking the text, a link starting at a position counts
    23 and is skipped, else an emoji sequence starting there counts 2 and is skipped, else the
    code point counts its weight. A sequence overlapping a skipped stretch is not counted whole.
    """
    if not text.isascii():  # ASCII is already NFC
        text = unicodedata.normalize("NFC", text)
    links = x_link_spans(text)
    if _X_HEAVY.search(text) is None:
        return _weigh_stretches(text, [(start, end, X_URL_WEIGHT) for start, end in links])
    emoji = _emoji_spans(text)
    stretches = sorted(
        [(start, end, X_URL_WEIGHT) for start, end in links]
        + [(start, end, X_EMOJI_WEIGHT) for start, end in emoji],
        key=lambda stretch: (stretch[0], -stretch[2]),  # a link before an emoji at the same place
    )
    return _weigh_stretches(text, stretches)


def _weigh_stretches(text: str, stretches: list[tuple[int, int, int]]) -> int:
    """Each stretch (start, end, weight) counts its weight, unless an earlier one covered its
    start; every other code point counts its own weight."""
    total = pos = 0
    for start, end, weight in stretches:
        if start < pos:
            continue
        total += _code_point_weights(text, pos, start) + weight
        pos = end
    return total + _code_point_weights(text, pos, len(text))


def _code_point_weights(text: str, start: int, end: int) -> int:
    return end - start + sum(1 for _ in _X_HEAVY.finditer(text, start, end))


def _emoji_spans(text: str) -> list[tuple[int, int]]:
    """The emoji sequences of ``text``, left to right, each as long as it goes."""
    cps = [ord(c) for c in text]
    spans = []
    i = 0
    while i < len(cps):
        end = _emoji_end(cps, i)
        if end > i:
            spans.append((i, end))
            i = end
        else:
            i += 1
    return spans


def _walk(text: str, emoji: Callable[[str], int], other: Callable[[int], int]) -> int:
    """The sum over ``text`` of ``emoji`` of each emoji sequence and ``other`` of every other
    code point (Threads' count)."""
    total = pos = 0
    for start, end in _emoji_spans(text):
        total += sum(other(ord(c)) for c in text[pos:start]) + emoji(text[start:end])
        pos = end
    return total + sum(other(ord(c)) for c in text[pos:])


_GRAPHEME = regex.compile(r"\X")
# GB9c joins an Indic consonant to the one before across a virama ("क्ष"), but only when a
# consonant starts that chain; ``regex`` joins after any virama ("a्ष"), so those are split again.
_INCB_CONSONANT = regex.compile(r"\p{InCB=Consonant}")
_INCB_LINKER = regex.compile(r"\p{InCB=Linker}")
_INCB_EXTEND_OR_LINKER = regex.compile(r"[\p{InCB=Extend}\p{InCB=Linker}]")
_PREPEND = regex.compile(r"\p{Grapheme_Cluster_Break=Prepend}")


def graphemes(text: str) -> Iterator[str]:
    """Split text into user-perceived characters: UAX #29 extended grapheme clusters."""
    for found in _GRAPHEME.finditer(text):
        cluster = found.group()
        if len(cluster) > 1 and _INCB_CONSONANT.search(cluster, 1):
            yield from _split_unled_conjuncts(cluster)
        else:
            yield cluster


def _split_unled_conjuncts(cluster: str) -> Iterator[str]:
    start = 0
    for i in range(1, len(cluster)):
        if _INCB_CONSONANT.match(cluster[i]) and not _conjunct_joins(cluster, start, i):
            yield cluster[start:i]
            start = i
    yield cluster[start:]


def _conjunct_joins(cluster: str, start: int, i: int) -> bool:
    """Whether UAX #29 joins the consonant at ``i`` to what is before it (GB9b or GB9c)."""
    if _PREPEND.match(cluster[i - 1]):
        return True
    j, linked = i - 1, False
    while j >= start and _INCB_EXTEND_OR_LINKER.match(cluster[j]):
        linked = linked or _INCB_LINKER.match(cluster[j]) is not None
        j -= 1
    return linked and j >= start and _INCB_CONSONANT.match(cluster[j]) is not None


def grapheme_length(text: str) -> int:
    """Bluesky's count: user-perceived characters."""
    if text.isascii():
        # No extenders, ZWJ or regional indicators in ASCII: only CR LF joins two code points.
        return len(text) - text.count("\r\n")
    return sum(1 for _ in graphemes(text))


MASTODON_URL_WEIGHT = 23  # Mastodon's default characters_reserved_per_url


def mastodon_length(text: str, url_weight: int = MASTODON_URL_WEIGHT) -> int:
    """The length Mastodon counts against ``max_characters`` (see module docstring).

    Only URLs with a scheme get the concession: Mastodon extracts them with
    ``extract_url_without_protocol: false``.
    """
    total = 0
    pos = 0
    for start, end in _mastodon_link_spans(text):
        if not text.startswith(("http://", "https://"), start):
            continue
        total += grapheme_length(text[pos:start]) + url_weight
        pos = end
    return total + grapheme_length(text[pos:])


def code_point_length(text: str) -> int:
    return len(text)


def utf16_length(text: str) -> int:
    """TikTok's count: UTF-16 code units (a non-BMP emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def threads_length(text: str) -> int:
    """Threads' count: characters, except that an emoji counts as its UTF-8 bytes (platforms.md §12)."""
    if text.isascii():
        return len(text)  # an ASCII emoji (#, *, digits) needs a non-ASCII VS16 or keycap after it
    return _threads_walk(text)


def _threads_walk(text: str) -> int:
    return _walk(text, lambda sequence: len(sequence.encode("utf-8")), lambda _code_point: 1)
