"""The hosts X links, as twitter-text 3.1.0 matches them: labels, TLDs, and the Latin hosts
inside a host written without a scheme (``shared.x_links`` finds where links start and end).

A host is labels of *domain characters* (all but ASCII punctuation, white space,
U+FFFE/FEFF/FFFF and directional marks) joined by dots, each starting and ending with one,
hyphens inside (and underscores, except in the label before the TLD), then a TLD of
``shared.x_tlds`` not followed by an ASCII letter or digit, ``@``, ``+`` or ``-``, or else
``xn--`` and punycode. Labels are taken greedily: as many as still end on a TLD. Matched by a
backtracking expression that is quadratic on hostile input (``"a-" * N``: each start scans the
whole run); here each run of host characters is split at its dots once and each label's outcome
computed once, right to left (``Labels``). Letters compare as JavaScript's case-insensitive
expressions compare them (``_js_fold``): by upper case, never folding a non-ASCII letter onto an
ASCII one.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Iterable

from shared.link_spans import split_at_dots
from shared.x_tlds import X_TLDS

NO = -1
_MAX_LABEL_LENGTH = 63

_ASCII_PUNCTUATION = "!'#%&()*+,\\-./:;<=>?@[]^_{|}~$"
_SPACES = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
)
_SPACES += "\u2028\u2029\u202f\u205f\u3000"
INVALID = "\ufffe\ufeff\uffff"
_DIRECTIONAL = "\u202a\u202b\u202c\u202d\u202e\u061c\u200e\u200f\u2066\u2067\u2068\u2069"
NOT_DOMAIN = frozenset(_ASCII_PUNCTUATION + _SPACES + INVALID + _DIRECTIONAL)
ASCII_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NOT_AFTER_TLD = frozenset(ASCII_ALNUM + "@+-")
_LATIN_ACCENTS = "\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263\u0268"
_LATIN_ACCENTS += "\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
_CYRILLIC = "\u0400-\u04ff"
_HOST_SEPARATORS = re.compile("[.\u3002\uff0e\uff61]")  # punycode splits a label at these too


def escape(chars: Iterable[str]) -> str:
    return "".join(f"\\U{ord(c):08x}" for c in sorted(chars))


def _js_fold(c: str) -> str:
    """JavaScript's case-insensitive canonical form of one UTF-16 code unit (ECMAScript's
    Canonicalize without the u flag): its upper case when that is one unit, unless that would
    turn a non-ASCII character into an ASCII one."""
    if ord(c) > 0xFFFF:
        return c
    upper = c.upper()
    if len(upper) != 1 or ord(c) >= 128 > ord(upper):
        return c
    return upper


@functools.cache
def _fold_table() -> dict[str, str]:
    """The BMP characters whose canonical form is not themselves."""
    return {c: f for c in map(chr, range(0x10000)) if (f := _js_fold(c)) != c}


def _js_class(spec: str) -> re.Pattern[str]:
    """The one-character class ``[spec]`` as a JavaScript expression with the i flag matches it:
    every character whose canonical form is a member's."""
    table = _fold_table()
    members = set(re.findall(f"[{spec}]", "".join(map(chr, range(0x10000)))))
    forms = {table.get(c, c) for c in members}
    folded = {c for c, form in table.items() if form in forms}
    return re.compile(f"[{escape(members | folded | {f for f in forms if f not in table})}]")


@functools.cache
def path_classes() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Path characters, the characters a path may end on, and a Latin host's characters: built
    on first use, as each needs a pass over the BMP."""
    path = _js_class(f"a-z{_CYRILLIC}0-9!*';:=+,.$/%#\\[\\]\\-\u2013_~@|&{_LATIN_ACCENTS}")
    ending = _js_class(f"+\\-a-z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}")
    latin = _js_class(f"\\-a-z0-9{_LATIN_ACCENTS}")
    return path, ending, latin


NOT_RUN = NOT_DOMAIN - set("-_.")  # a run of host characters: domain characters, - _ and .
_ASCII_WORD = re.compile(r"[0-9A-Za-z-]*")
_PUNYCODE = re.compile(r"xn--[-0-9a-z]+", re.ASCII | re.IGNORECASE)


def _index_tlds() -> tuple[dict[str, int], dict[str, list[tuple[str, int]]]]:
    ascii_tlds: dict[str, int] = {}
    others: dict[str, list[tuple[str, int]]] = {}
    for rank, tld in enumerate(X_TLDS):
        if tld.isascii():
            ascii_tlds.setdefault(tld, rank)
        else:
            form = "".join(map(_js_fold, tld))
            others.setdefault(form[0], []).append((form, rank))
    return ascii_tlds, others


_ASCII_TLDS, _OTHER_TLDS = _index_tlds()


def tld_end(text: str, pos: int) -> int:
    """Where a TLD starting at ``pos`` ends (the first in X's order that fits), or ``NO``."""
    rank, end = len(X_TLDS), NO
    word = _ASCII_WORD.match(text, pos)
    assert word is not None  # the pattern matches the empty string
    found = _ASCII_TLDS.get(word.group().lower())
    if found is not None and (word.end() == len(text) or text[word.end()] not in _NOT_AFTER_TLD):
        rank, end = found, word.end()
    if pos < len(text):
        for form, other_rank in _OTHER_TLDS.get(_js_fold(text[pos]), ()):
            stop = pos + len(form)
            fits = stop == len(text) or (stop < len(text) and text[stop] not in _NOT_AFTER_TLD)
            if other_rank < rank and fits and "".join(map(_js_fold, text[pos:stop])) == form:
                rank, end = other_rank, stop
    if end == NO and (punycode := _PUNYCODE.match(text, pos)):
        end = punycode.end()
    return end


class Labels:
    """One run of host characters split at its dots, and where a host starting at each label
    ends (``NO`` when none can): greedily, the label is first taken as one more subdomain and
    the rest matched from the next label; only when that fails does the host end on a TLD in
    the next label. Computed right to left, once per run.

    Two kinds of host share this: a link's (``latin=False``: labels of domain characters,
    hyphens and underscores inside, no underscore in the label before the TLD) and the Latin
    hosts a link without a scheme is cut into (``latin=True``: Latin letters, digits, hyphens).
    ``mark[k]`` is the last character in label ``k`` that a label before the TLD may not hold
    (an underscore, or a non-Latin character), or one before the label.
    """

    def __init__(self, text: str, start: int, end: int, *, latin: bool) -> None:
        self.text, self.latin = text, latin
        self.starts, self.stops = split_at_dots(text, start, end)
        self.start, self.end = start, end
        latin_class = path_classes()[2]
        self.mark = []
        for a, b in zip(self.starts, self.stops, strict=True):
            if latin:
                outside = (j for j in range(b - 1, a - 1, -1) if not latin_class.match(text, j))
                self.mark.append(next(outside, a - 1))
            else:
                self.mark.append(text.rfind("_", a, b) if "_" in text[a:b] else a - 1)
        last = len(self.starts) - 1
        self.tld = [NO] + [tld_end(text, s) for s in self.starts[1:]]
        self.host_end = [NO] * (last + 1)
        for k in range(last - 1, -1, -1):
            self.host_end[k] = self._end_from(self.starts[k], k)

    def _end_from(self, pos: int, k: int) -> int:
        b = self.stops[k]
        if pos >= b or k == len(self.starts) - 1:
            return NO
        if self.latin:
            subdomain = self.mark[k] < pos
        else:
            subdomain = self.text[pos] not in "-_" and self.text[b - 1] not in "-_"
        if subdomain and self.host_end[k + 1] != NO:
            return self.host_end[k + 1]
        if subdomain and self.mark[k] < pos:
            return self.tld[k + 1]
        return NO

    def host_from(self, pos: int) -> tuple[int, int]:
        """Where a host starting at ``pos`` ends (or ``NO``), and the first later start that
        may end differently: every start in a label past its last mark ends alike."""
        k = bisect_right(self.starts, pos) - 1
        end = self._end_from(pos, k)
        if end != NO:
            return end, pos + 1
        return end, self.mark[k] + 1 if self.mark[k] >= pos else self.stops[k] + 1


def labels_fit(host: str) -> bool:
    """Whether every label of ``host`` is 1 to 63 characters long once punycode-encoded (as
    punycode.js's ``toASCII`` encodes: each part with a character outside printable ASCII)."""
    return all(1 <= _punycode_length(label) <= _MAX_LABEL_LENGTH for label in host.split("."))


def _punycode_length(label: str) -> int:
    parts = _HOST_SEPARATORS.split(label)
    encoded = (
        p if all(" " <= c <= "~" for c in p) else "xn--" + p.encode("punycode").decode() for p in parts
    )
    return sum(map(len, encoded)) + len(parts) - 1


def latin_hosts(host: str) -> list[tuple[int, int]]:
    """The hosts of Latin letters, digits and hyphens inside ``host`` that end on a TLD, left to
    right: what X links of a host written without a scheme."""
    hosts: list[tuple[int, int]] = []
    if "." not in host:
        return hosts
    labels = Labels(host, 0, len(host), latin=True)
    pos = 0
    while pos < len(host):
        end, following = labels.host_from(pos)
        if end != NO:
            hosts.append((pos, end))
            pos = end
        else:
            pos = following
    return hosts
