"""Saved answers: checking a template's text and filling it in for one comment (pure).

A template's text is plain text with placeholders in braces: ``{name}`` is the commenter's name
as the platform gives it. ``{{`` and ``}}`` write a brace itself. Nothing else is a placeholder:
no attribute access, index, conversion or format spec as ``str.format`` would allow, because a
template is typed by a person and a citizen's name is hostile input; neither may reach Python's
formatting machinery.

``problems`` lists every fault of a text (an unknown placeholder, a brace left open or one that
closes nothing) so that a template is refused whole, with each fault named; ``render`` never
raises, whatever the text and the values: a template saved before a rule changed still renders,
its faults written out as typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from shared.messages import Said, said

Lang = Literal["en", "id"]

# Placeholder → what it stands for (the message names them when refusing an unknown one).
PLACEHOLDERS: Mapping[str, str] = {"name": "the commenter's name"}

# When the platform gives no name, the polite address of each language.
NO_NAME: Mapping[Lang, str] = {"en": "Sir/Madam", "id": "Bapak/Ibu"}
MAX_NAME = 64  # a citizen's display name as a reply greets them

_WORD = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class TemplateProblem:
    said: Said  # rule: unknown_placeholder | placeholder_form | unmatched_brace

    @property
    def rule(self) -> str:
        return self.said.rule

    @property
    def message(self) -> str:
        return str(self.said)


@dataclass(frozen=True)
class _Piece:
    text: str
    placeholder: str | None = None  # the name inside braces, when the piece is one
    fault: TemplateProblem | None = None


def _pieces(text: str) -> Iterator[_Piece]:
    """The text cut into literal runs and ``{...}`` placeholders, each fault marked where met."""
    i, literal = 0, []
    while i < len(text):
        char = text[i]
        pair = text[i : i + 2]
        if pair in ("{{", "}}"):
            literal.append(char)
            i += 2
            continue
        if char == "}":
            literal.append(char)
            yield _Piece("".join(literal), fault=_unmatched("}", i))
            literal, i = [], i + 1
            continue
        if char != "{":
            literal.append(char)
            i += 1
            continue
        close = text.find("}", i + 1)
        opened_again = text.find("{", i + 1)
        if close < 0 or 0 <= opened_again < close:
            literal.append(char)
            yield _Piece("".join(literal), fault=_unmatched("{", i))
            literal, i = [], i + 1
            continue
        if literal:
            yield _Piece("".join(literal))
            literal = []
        inner = text[i + 1 : close]
        yield _Piece(text[i : close + 1], placeholder=inner, fault=_placeholder_fault(inner))
        i = close + 1
    if literal:
        yield _Piece("".join(literal))


def _unmatched(brace: str, at: int) -> TemplateProblem:
    twice = brace * 2
    return TemplateProblem(said("unmatched_brace", brace=brace, at=at + 1, twice=twice))


def _placeholder_fault(inner: str) -> TemplateProblem | None:
    if inner in PLACEHOLDERS:
        return None
    known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    if not _WORD.fullmatch(inner):
        shown = inner if len(inner) <= 40 else inner[:40] + "…"
        return TemplateProblem(said("placeholder_form", placeholder="{" + shown + "}", known=known))
    return TemplateProblem(said("unknown_placeholder", placeholder="{" + inner + "}", known=known))


def problems(text: str) -> list[TemplateProblem]:
    """Every fault of ``text``, in the order met; empty when it may be saved."""
    return [piece.fault for piece in _pieces(text) if piece.fault is not None]


def values_for(author_name: str | None, lang: Lang) -> dict[str, str]:
    """The placeholders' values for a comment whose author is ``author_name``.

    The name is the citizen's own text, put into the office's reply: control and format
    characters (newlines, bidi overrides that reverse what follows, zero-width marks) are dropped
    and runs of spaces folded, so a name cannot add lines or hide text in the official answer, and
    it is cut at ``MAX_NAME``.
    """
    chars = (" " if c.isspace() else c for c in author_name or "")
    kept = "".join(c for c in chars if unicodedata.category(c)[0] != "C")
    name = " ".join(kept.split())[:MAX_NAME].strip()
    return {"name": name or NO_NAME[lang]}


def render(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each known placeholder replaced by its value; never raises.

    A placeholder without a value and every fault stay as typed, so a person sees them in the
    reply box before anything is sent. Values are inserted once, never read as templates.
    """
    out = []
    for piece in _pieces(text):
        if piece.placeholder is not None and piece.fault is None and piece.placeholder in values:
            out.append(values[piece.placeholder])
        else:
            out.append(piece.text)
    return "".join(out)
