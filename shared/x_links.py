"""Where X sees links in a text, as twitter-text 3.1.0's ``extractUrlsWithIndices`` does, in time
linear in the text's length.

X weighs each link 23 whatever its length (``shared.text_length``), so a counter must find exactly
the links X finds: a missed one counts its full length (``bit.ly/x`` 8 instead of 23), a host that
X does not link (``http://a.b.c/x``: "c" is no TLD) counts 23 instead of its length. The rule:

- A link starts at the text's start or after a character that is not an ASCII letter or digit,
  ``@ $ #`` (or their full-width forms U+FF20, U+FF03) or U+FFFE/FEFF/FFFF. The search consumes
  that character, so a link never starts right where the previous match ended; at the text's
  start, a link after the first character is tried before one at it. The search runs over
  UTF-16 code units, so a host may also start at the second half of an emoji (``_HIGH_SURROGATE``).
- Then ``http://`` or ``https://`` (optional), and a host: labels of *domain characters* (all but
  ASCII punctuation, white space, U+FFFE/FEFF/FFFF and directional marks) joined by dots, each
  starting and ending with one, hyphens inside (and underscores, except in the label before the
  TLD); then a TLD of ``shared.x_tlds`` not followed by an ASCII letter or digit, ``@``, ``+`` or
  ``-``, or else ``xn--`` and punycode. Labels are taken greedily: as many as still end on a TLD.
- Then ``:port``, ``/path`` (cut after its last ending character, balanced parentheses kept) and
  ``?query`` (likewise).
- A match is dropped, but still consumed, when a label is empty or longer than 63 once
  punycode-encoded, when the link is longer than 4096, or, without a scheme, when it follows one
  of ``- _ . /``. Without a scheme only the Latin-letter hosts inside the host count, each a link
  of its own, the path going with the last. ``https://t.co/slug`` keeps only its slug and query.

Matching this with a backtracking regular expression is quadratic on hostile input (``"a-" * N``:
each start scans the whole run), so the host is found as ``shared.link_spans`` finds it: each run
of host characters is split at its dots once and each label's outcome computed once, right to
left (``Labels``). Letters compare as JavaScript's case-insensitive expressions compare them
(``_js_fold``): by upper case, never folding a non-ASCII letter onto an ASCII one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from shared.x_hosts import (
    ASCII_ALNUM,
    INVALID,
    NO,
    NOT_DOMAIN,
    NOT_RUN,
    Labels,
    escape,
    labels_fit,
    latin_hosts,
    path_classes,
)

_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG = 40
_NOT_BEFORE_LINK = frozenset(ASCII_ALNUM + "@\uff20$#\uff03" + INVALID)
_NOT_BEFORE_BARE_LINK = frozenset("-_./")
_RUN_CHARS = escape(NOT_RUN)
_RUN = re.compile(f"[^{_RUN_CHARS}]*")
# A run of host characters holding a dot; the lookbehind starts it only at the run's first
# character and the possessive loops never backtrack, so finding them all is linear.
_DOTTED_RUN = re.compile(f"(?<![^{_RUN_CHARS}])[^{escape(NOT_DOMAIN - set('-_'))}]*+\\.[^{_RUN_CHARS}]*+")
# A domain character after a character a link may follow, or an astral one (_HIGH_SURROGATE).
_LINK_START = re.compile(f"(?<=[^{escape(_NOT_BEFORE_LINK)}])[^{escape(NOT_DOMAIN)}]|[\U00010000-\U0010ffff]")
_SCHEME = re.compile(r"https?://", re.ASCII | re.IGNORECASE)
_SCHEME_START = re.compile(f"(?<=[^{escape(_NOT_BEFORE_LINK)}])https?://", re.ASCII | re.IGNORECASE)
_PORT = re.compile(r":[0-9]+")
_QUERY = re.compile(r"\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*", re.ASCII | re.IGNORECASE)
_QUERY_END = frozenset(ASCII_ALNUM + "-_&=#/")
_TCO = re.compile(r"https?://t\.co/([a-z0-9]+)", re.ASCII | re.IGNORECASE)


@dataclass(frozen=True)
class _Match:
    """What the search matched: the link (``start``..``end``), the character consumed before it
    ("" at the text's start), its scheme's length (0 without one), its host
    (``host_start``..``host_end``) and whether a path follows."""

    start: int
    before: str
    scheme: int
    host_start: int
    host_end: int
    end: int
    has_path: bool


# JavaScript searches UTF-16 code units, so an astral character (an emoji) is two: the search may
# consume its first half and start a link without a scheme at its second, a domain character.
# Here that is a start at the astral character with this as the character before it.
_HIGH_SURROGATE = "\ud800"


class _Finder:
    def __init__(self, text: str) -> None:
        self.text = text
        self._labels: Labels | None = None
        self._runs = _DOTTED_RUN.finditer(text)
        self._run: tuple[int, int] | None = (-1, -1)
        self._schemes = [m.start() for m in _SCHEME_START.finditer(text)]
        self._next_scheme = 0

    def matches(self) -> Iterator[_Match]:
        """The search's matches, in order; ``last`` is where the previous one ended."""
        text = self.text
        if not text:
            return
        found = self._first()
        last = found.end if found else 0
        scheme_from = bare_from = 1
        if found is not None:
            yield found
        while (start := self._next_start(max(last + 1, scheme_from), last, max(last, bare_from))) < len(text):
            found, following = self._match_at(start, last)
            if found is not None:
                yield found
                last = found.end
            else:
                scheme_from, bare_from = start + 1, max(bare_from, start + 1, following)

    def _first(self) -> _Match | None:
        """At the text's start the search consumes the first character and tries a link after
        it, and only then a link at the start; an astral first character is two halves."""
        text = self.text
        if ord(text[0]) > 0xFFFF:
            return self._match_at(0, 0)[0]
        found = None
        if text[0] not in _NOT_BEFORE_LINK and len(text) > 1:
            found = self._match_at(1, 0)[0]
        return found or self._match_at(0, 0)[0]

    def _next_start(self, scheme_from: int, last: int, bare_from: int) -> int:
        schemes = self._schemes
        while self._next_scheme < len(schemes) and schemes[self._next_scheme] < scheme_from:
            self._next_scheme += 1
        scheme = schemes[self._next_scheme] if self._next_scheme < len(schemes) else len(self.text)
        return min(scheme, self._next_bare(last, bare_from))

    def _next_bare(self, last: int, at: int) -> int:
        """The first position from ``at`` where a host without a scheme may start: a domain
        character inside a run of host characters that holds a dot, after a character a link
        may follow that the previous match did not end on, or astral."""
        while self._run is not None:
            start, end = self._run
            at = max(at, start)
            while at < end and (found := _LINK_START.search(self.text, at, end)) is not None:
                if found.start() > last or found.group() > "\uffff":
                    return found.start()
                at = found.start() + 1
            following = next(self._runs, None)
            self._run = following.span() if following else None
        return len(self.text)

    def _before(self, start: int, last: int) -> str | None:
        """The character the search consumes before a link at ``start`` (None: it cannot)."""
        text = self.text
        if start == 0:
            return ""
        if start - 1 >= last and text[start - 1] not in _NOT_BEFORE_LINK:
            return text[start - 1]
        return _HIGH_SURROGATE if ord(text[start]) > 0xFFFF else None

    def _match_at(self, start: int, last: int) -> tuple[_Match | None, int]:
        """The match of a link starting at ``start``, or None and the next start worth trying."""
        text = self.text
        before = self._before(start, last) if start < len(text) else None
        if before is None:
            return None, start + 1
        if before != _HIGH_SURROGATE and (scheme := _SCHEME.match(text, start)):
            host_end = self._host_from(scheme.end())[0]
            if host_end != NO:
                return self._tail(start, before, scheme.end() - start, scheme.end(), host_end), start + 1
        if text[start] in NOT_DOMAIN:
            return None, start + 1
        host_end, following = self._host_from(start)
        if host_end == NO:
            return None, max(start + 1, following)
        return self._tail(start, before, 0, start, host_end), start + 1

    def _host_from(self, pos: int) -> tuple[int, int]:
        labels = self._labels
        if labels is None or not (labels.start <= pos < labels.end):
            run_start = pos
            while run_start > 0 and self.text[run_start - 1] not in NOT_RUN:
                run_start -= 1
            run = _RUN.match(self.text, run_start)
            assert run is not None  # the pattern matches the empty string
            if "." not in self.text[run_start : run.end()]:
                return NO, run.end() + 1
            labels = self._labels = Labels(self.text, run_start, run.end(), latin=False)
        return labels.host_from(pos)

    def _tail(self, start: int, before: str, scheme: int, host_start: int, host_end: int) -> _Match:
        """The port, path and query after a host."""
        text = self.text
        end = host_end
        if port := _PORT.match(text, end):
            end = port.end()
        has_path = end < len(text) and text[end] == "/"
        if has_path:
            end = _path_end(text, end + 1)
        if (query := _QUERY.match(text, end)) is not None:
            last = query.end()
            while last > end + 1 and text[last - 1] not in _QUERY_END:
                last -= 1
            if last > end + 1:
                end = last
        return _Match(start, before, scheme, host_start, host_end, end, has_path)


def _path_end(text: str, pos: int) -> int:
    """Where a path's characters from ``pos`` end; the slash before ``pos`` stays either way.

    twitter-text's path is a repetition of: path characters and balanced parentheses ending on
    a character a path may end on, or one balanced parenthesis alone. So it ends after the last
    such character of the run of path characters and parentheses, or at ``pos`` when there is
    none, and then takes the balanced parentheses that follow at once.
    """
    path, ending, _ = path_classes()
    end = i = pos
    parentheses: list[tuple[int, int]] = []  # the balanced parentheses after ``end``
    n = len(text)
    while i < n:
        if path.match(text, i):
            i += 1
            if ending.match(text, i - 1):
                end, parentheses = i, []
        elif text[i] == "(" and (closed := _balanced(text, i, path)) > i:
            parentheses.append((i, closed))
            i = closed
        else:
            break
    for start, closed in parentheses:
        if start != end:
            break
        end = closed
    return end


def _balanced(text: str, pos: int, path: re.Pattern[str]) -> int:
    """The end of ``(chars)`` or ``(chars(chars)chars)`` at ``pos``, or ``pos``."""

    def run(i: int) -> int:
        while i < len(text) and path.match(text, i):
            i += 1
        return i

    inner = run(pos + 1)
    if inner == len(text):
        return pos
    if text[inner] == ")":
        return inner + 1 if inner > pos + 1 else pos
    if text[inner] != "(":
        return pos
    nested = run(inner + 1)
    if nested == inner + 1 or nested == len(text) or text[nested] != ")":
        return pos
    outer = run(nested + 1)
    return outer + 1 if outer < len(text) and text[outer] == ")" else pos


def _is_valid(text: str, found: _Match) -> bool:
    host = text[found.host_start : found.host_end]
    if host.startswith("xn--") and not latin_hosts(host):
        return False
    if not labels_fit(host):
        return False
    url = text[found.start : found.end]
    utf16 = len(url) + sum(1 for c in host if ord(c) > 0xFFFF)
    return (found.scheme or len("https://")) + utf16 <= _MAX_URL_LENGTH


def x_link_spans(text: str, *, without_scheme: bool = True) -> list[tuple[int, int]]:
    """The stretches of ``text`` X counts as one link each (23), in order.

    ``without_scheme=False`` finds only links written with ``http://`` or ``https://``, as
    twitter-text's ``extractUrlsWithoutProtocol: false`` does.
    """
    if ("." if without_scheme else ":") not in text:
        return []
    spans: list[tuple[int, int]] = []
    for found in _Finder(text).matches():
        if not _is_valid(text, found):
            continue
        if found.scheme:
            spans.extend(_with_scheme(text, found))
        elif without_scheme and found.before not in _NOT_BEFORE_BARE_LINK:
            spans.extend(_without_scheme(text, found))
    return spans


def _with_scheme(text: str, found: _Match) -> list[tuple[int, int]]:
    tco = _TCO.match(text, found.start, found.end)
    if tco is None:
        return [(found.start, found.end)]
    if len(tco.group(1)) > _MAX_TCO_SLUG:
        return []
    end = tco.end()
    if (query := _QUERY.match(text, end, found.end)) is not None:
        last = query.end()
        while last > end + 1 and text[last - 1] not in _QUERY_END:
            last -= 1
        end = last if last > end + 1 else end
    return [(found.start, end)]


def _without_scheme(text: str, found: _Match) -> list[tuple[int, int]]:
    """The Latin hosts inside the host, where twitter-text places them: at the first occurrence
    of each one's text after the previous one (which is not always where it was found), each as
    long as its text, the last one with the rest of the link when a path follows, counted in
    UTF-16 code units from its start."""
    host = text[found.host_start : found.host_end]
    spans = []
    pos = 0
    for a, b in latin_hosts(host):
        start = host.find(host[a:b], pos)
        spans.append((found.host_start + start, found.host_start + start + b - a))
        pos = start + b - a
    if spans and found.has_path:
        start, end = spans[-1]
        spans[-1] = (start, _utf16_advance(text, start, end - start + found.end - found.host_end))
    return spans


def _utf16_advance(text: str, start: int, units: int) -> int:
    """Where ``units`` UTF-16 code units from ``start`` end, short of an astral character they
    would cut in two (whose second half is then counted on its own, as much as it would weigh)."""
    end = start
    while end < len(text) and units > 0:
        units -= 2 if ord(text[end]) > 0xFFFF else 1
        if units < 0:
            break
        end += 1
    return end
