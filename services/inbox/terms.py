"""The most frequent terms in citizens' comments: what the public is talking about now (pure).

A comment's terms: its text lowercased; links (``http://…``, ``www.…``), mentions (``@name``),
emoji, digits and punctuation gone; a hashtag counts as its word; a letter repeated for
emphasis ("bangettt", "mantaaap") written once; informal spellings rewritten to their standard
form (``stopwords/slang.txt``: "yg" → "yang", "jln" → "jalan"); Indonesian and English stop words
removed (``stopwords/id.txt``, ``stopwords/en.txt``, each with its source); single letters dropped.
Words joined by a hyphen stay one term (Indonesian reduplication: "anak-anak").

A term counts once per comment: one citizen writing "banjir banjir banjir" is one voice, and a
copy-pasted campaign shows as many comments, which is what it is.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

LISTS = Path(__file__).parent / "stopwords"

_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")
# Letters only (``[^\W\d_]``: a word character that is not a digit or underscore), hyphens inside.
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_REPEATED = re.compile(r"(.)\1{2,}")


@dataclass(frozen=True)
class Lexicon:
    stop: frozenset[str]
    slang: Mapping[str, str]


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@functools.cache
def lexicon() -> Lexicon:
    """The lists shipped with the inbox, read once."""
    stop = frozenset(_lines(LISTS / "id.txt")) | frozenset(_lines(LISTS / "en.txt"))
    slang = dict(line.split(maxsplit=1) for line in _lines(LISTS / "slang.txt"))
    return Lexicon(stop, slang)


def terms_of(text: str, words: Lexicon) -> list[str]:
    """The comment's terms, in order, repeats kept."""
    text = _MENTION.sub(" ", _LINK.sub(" ", text.casefold()))
    found = []
    for raw in _WORD.findall(text):
        word = _REPEATED.sub(r"\1", raw)
        word = words.slang.get(word, word)
        if len(word) > 1 and word not in words.stop:
            found.append(word)
    return found


def top_terms(texts: Iterable[str], words: Lexicon, limit: int = 20) -> list[tuple[str, int]]:
    """The ``limit`` terms in most comments, with how many; ties in alphabetical order."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(terms_of(text, words)))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
