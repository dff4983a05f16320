"""Where Mastodon's count sees links in a text, found in time linear in the text's length.

Mastodon weighs a link written with a scheme 23 whatever its length (``shared.text_length``
keeps the matches that start with one). X's rule is twitter-text's, in ``shared.x_links``.
The rule here is one regular expression, kept below as ``LINK_RULE`` because it is the
clearest statement of what counts as a link::

    (?<![\\w@/.])                                     not inside a word, an e-mail or a path
    (?: (?:https?://|www\\.) label\\.(label\\.)* host (:port)? ([/?#]path)?    a written-out link
      | name\\.(name\\.)* tld (?![\\w-]) (/path)? )                           a bare host on a known TLD

Run as a regular expression it is quadratic: each of the N starts in ``"a-" * N`` scans to the end
of the run before failing (40,000 characters took seconds), and ingest's event loop waits
meanwhile. This module computes exactly the matches ``re.finditer(LINK_RULE, text)`` yields, but
without backtracking: the outcome at a start depends only on the dot-separated segment the
start lies in and on the segments after it, so each run of host characters is split into its
segments once and each segment's outcome is computed once, right to left (``_Chain``).
Character classes are still tested with small regular expressions compiled with the same flags,
so case folding and Unicode classes (``\\w``, ``\\s``, ``\\d``) agree with the rule exactly.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator

_TLDS = "com|net|org|info|gov|edu|io|co|app|dev|news|id"

LINK_RULE = (
    r"""(?ix)
    (?<![\w@/.])
    (?:
        (?:https?://|www\.)(?:[^\s<>"/?\#.]+\.)+[^\s<>"/?\#.:]+(?::\d+)?(?:[/?\#][^\s<>"]*)?
      | (?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+
        (?:"""
    + _TLDS
    + r""")
        (?![\w-])(?:/[^\s<>"]*)?
    )
    """
)
"""The rule as one regular expression: the reference the linear finder is tested against."""

# Positions the rule may start at: not after a word character, '@', '/' or '.'.
_SCHEME_START = re.compile(r"(?i)(?<![\w@/.])(?=https?://|www\.)")
_NAME_START = re.compile(r"(?i)(?<![\w@/.])(?=[a-z0-9])")
# A run of host-name characters holding at least one dot; the lookbehind starts it only at the
# run's first character and the possessive loop never backtracks, so finding them all is linear.
_DOTTED_RUN = re.compile(r"(?i)(?<![a-z0-9.-])[a-z0-9-]*+\.[a-z0-9.-]*+")
_SCHEME = re.compile(r"(?i)https?://|www\.")
# What every link holds: a scheme, or a known TLD right after a dot that no name goes on after.
_MAYBE_LINK = re.compile(r"(?i)https?://|www\.|\.(?:" + _TLDS + r")(?![\w-])")
# A written-out link's host: labels and dots up to the path, the port's colon included.
_HOST_RUN = re.compile(r'(?i)[^\s<>"/?\#]*')
_HOST_TAIL = re.compile(r'(?i)[^\s<>"/?\#.:]*')
_PORT = re.compile(r"(?i):\d+")
_PATH = re.compile(r'(?i)[/?\#][^\s<>"]*')
# A bare host: names of letters, digits and hyphens, and the dots between them.
_NAME_RUN = re.compile(r"(?i)[a-z0-9.-]*")
_TLD = re.compile(r"(?i)(?:" + _TLDS + ")")
_WORD_OR_HYPHEN = re.compile(r"(?i)[\w-]")
_BARE_PATH = re.compile(r'(?i)/[^\s<>"]*')

_NO_MATCH = -1


def split_at_dots(text: str, start: int, end: int) -> tuple[list[int], list[int]]:
    """Where each dot-separated segment of ``text[start:end]`` starts and stops."""
    starts: list[int] = []
    stops: list[int] = []
    i = start
    while (dot := text.find(".", i, end)) >= 0:
        starts.append(i)
        stops.append(dot)
        i = dot + 1
    starts.append(i)
    stops.append(end)
    return starts, stops


def _run_end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where a run of ``pattern`` (which may match empty) starting at ``pos`` ends."""
    run = pattern.match(text, pos)
    return run.end() if run else pos


class _Chain:
    """One run of host characters split at its dots, with each segment's outcome.

    ``outcome[i]`` is where the rule's match ends when at least one label has been taken and
    the rest of the match starts at segment ``i`` (``_NO_MATCH`` when it cannot end there or
    later): the greedy loop first takes segment ``i`` as one more label and goes on, and only
    when that fails tries to end at ``i`` (``end_at``). Computed right to left, once per run.
    """

    def __init__(
        self,
        text: str,
        start: int,
        end: int,
        is_label: Callable[[int, int], bool],
        end_at: Callable[[int, int, bool], int],
    ) -> None:
        self.end = end
        self.starts, self.stops = split_at_dots(text, start, end)
        last = len(self.starts) - 1
        self.outcome = [_NO_MATCH] * (last + 2)
        for k in range(last, 0, -1):
            a, b = self.starts[k], self.stops[k]
            if k < last and is_label(a, b) and self.outcome[k + 1] != _NO_MATCH:
                self.outcome[k] = self.outcome[k + 1]
            else:
                self.outcome[k] = end_at(a, b, k == last)

    def after_first_label(self, first: int, label_ok: Callable[[int, int], bool]) -> tuple[int, int]:
        """The match's end when its first label starts at ``first`` (inside this run), and the
        end of that label's segment: every start in the segment has the same outcome."""
        k = bisect_right(self.starts, first) - 1
        stop = self.stops[k]
        if k == len(self.starts) - 1 or not label_ok(first, stop):
            return _NO_MATCH, stop  # the rule needs at least one label followed by a dot
        return self.outcome[k + 1], stop


class _Finder:
    def __init__(self, text: str) -> None:
        self.text = text
        self._host: _Chain | None = None
        self._name: _Chain | None = None

    # --- a written-out link: https://, http:// or www. -----------------------------------------
    def written_out(self, start: int) -> int:
        scheme = _SCHEME.match(self.text, start)
        if scheme is None:
            return _NO_MATCH
        first = scheme.end()
        chain = self._host
        if chain is None or not (chain.starts[0] <= first < chain.end):
            end = _run_end(_HOST_RUN, self.text, first)
            chain = self._host = _Chain(self.text, first, end, self._nonempty, self._host_end)
        return chain.after_first_label(first, self._nonempty)[0]

    @staticmethod
    def _nonempty(a: int, b: int) -> bool:
        return b > a

    def _host_end(self, a: int, b: int, _last: bool) -> int:
        text = self.text
        if a == b or text[a] == ":":
            return _NO_MATCH
        end = _run_end(_HOST_TAIL, text, a)
        if port := _PORT.match(text, end):
            end = port.end()
        if path := _PATH.match(text, end):
            end = path.end()
        return end

    # --- a bare host on a known top-level domain -----------------------------------------------
    def bare_host(self, start: int) -> tuple[int, int]:
        """The match's end (or ``_NO_MATCH``) and the end of the segment ``start`` lies in."""
        chain = self._name
        if chain is None or not (chain.starts[0] <= start < chain.end):
            end = _run_end(_NAME_RUN, self.text, start)
            chain = self._name = _Chain(self.text, start, end, self._name_label, self._tld_end)
        return chain.after_first_label(start, self._name_label)

    def _name_label(self, a: int, b: int) -> bool:
        # Inside a run every character but the dot is a letter, a digit or a hyphen, so a name
        # is a label when it is not empty and neither starts nor ends with a hyphen.
        return b > a and self.text[a] != "-" and self.text[b - 1] != "-"

    def _tld_end(self, a: int, b: int, last: bool) -> int:
        text = self.text
        if _TLD.fullmatch(text, a, b) is None:
            return _NO_MATCH
        if not last:
            return b  # followed by a dot, which ends the match
        if b < len(text) and _WORD_OR_HYPHEN.match(text, b):
            return _NO_MATCH
        path = _BARE_PATH.match(text, b)
        return path.end() if path else b


def link_matches(text: str) -> Iterator[tuple[int, int]]:
    """The spans ``re.finditer(LINK_RULE, text)`` yields, in linear time.

    Only two kinds of position can start a link: a scheme (rare), and a name start inside a run
    of host characters that holds a dot (one per sentence in press text). Every start inside one
    segment of a run has the same outcome, so after a failed start the search for the next bare
    host resumes after that segment.
    """
    if _MAYBE_LINK.search(text) is None:
        return  # no scheme, and no known TLD after a dot: most press text, in one scan
    finder = _Finder(text)
    schemes = [m.start() for m in _SCHEME_START.finditer(text)]
    bare = _BareStarts(text)
    pos = next_scheme = bare_from = 0
    while True:
        while next_scheme < len(schemes) and schemes[next_scheme] < pos:
            next_scheme += 1
        a = schemes[next_scheme] if next_scheme < len(schemes) else len(text)
        b = bare.first_from(max(pos, bare_from))
        start = min(a, b)
        if start >= len(text):
            return
        end = _NO_MATCH
        if start == a:
            end = finder.written_out(start)
            next_scheme += 1
        if end == _NO_MATCH and start == b:
            end, stop = finder.bare_host(start)
            bare_from = max(start + 1, stop)
        if end != _NO_MATCH:
            yield start, end
            pos = end


class _BareStarts:
    """The positions a bare host may start at, in order: runs of host characters that hold a
    dot, and inside them a name at the run's start or after a hyphen."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.runs = _DOTTED_RUN.finditer(text)
        self.run: tuple[int, int] | None = (-1, -1)

    def first_from(self, at: int) -> int:
        while self.run is not None:
            start, end = self.run
            if at < end:
                found = _NAME_START.search(self.text, max(at, start), end)
                if found is not None:
                    return found.start()
            following = next(self.runs, None)
            self.run = following.span() if following else None
        return len(self.text)
