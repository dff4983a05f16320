"""Saved answers' pure core: which texts are refused and why, and how a text is filled in.

Rendering never raises, for any text and any name (hypothesis), and a name is inserted once,
never read as a template.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.inbox.template_store import TemplateBook
from services.inbox.templates import problems, render, values_for
from shared.codec import decode, encode
from shared.template_events import ReplyTemplateDeleted, ReplyTemplateSaved

AT = "2026-12-04T10:00:00+00:00"


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        ("Terima kasih, {name}.", []),
        ("No placeholder at all", []),
        ("{{name}} is written with double braces", []),
        ("{name}{name}", []),
        ("Halo {nama}", ["unknown_placeholder"]),
        ("Hello {Name}", ["placeholder_form"]),
        ("{name!r}", ["placeholder_form"]),
        ("{name:>20}", ["placeholder_form"]),
        ("{name.__class__}", ["placeholder_form"]),
        ("{name[0]}", ["placeholder_form"]),
        ("{}", ["placeholder_form"]),
        ("a { b", ["unmatched_brace"]),
        ("a } b", ["unmatched_brace"]),
        ("{ {name}", ["unmatched_brace"]),
        ("{foo} and {bar}", ["unknown_placeholder", "unknown_placeholder"]),
    ],
)
def test_which_texts_are_refused(text: str, rules: list[str]) -> None:
    assert [p.rule for p in problems(text)] == rules


def test_a_refusal_names_the_placeholder_and_the_known_ones() -> None:
    (problem,) = problems("Halo {nama}")
    assert "{nama}" in problem.message
    assert "{name}" in problem.message


@pytest.mark.parametrize(
    ("text", "name", "lang", "expected"),
    [
        ("Terima kasih, {name}.", "Budi", "id", "Terima kasih, Budi."),
        ("Thank you, {name}.", None, "en", "Thank you, Sir/Madam."),
        ("Terima kasih, {name}.", "  ", "id", "Terima kasih, Bapak/Ibu."),
        ("{{name}} stays", "Budi", "en", "{name} stays"),
        # A name that looks like a placeholder is inserted as it is, not filled in again.
        ("Hi {name}", "{name}", "en", "Hi {name}"),
        ("Hi {name}", "{{x}}", "en", "Hi {{x}}"),
        # Faults (a template saved before a rule changed) stay as typed, for a person to see.
        ("Hi {nama} {", "Budi", "en", "Hi {nama} {"),
        ("}{name}", "Ani", "en", "}Ani"),
    ],
)
def test_rendering(text: str, name: str | None, lang: str, expected: str) -> None:
    assert render(text, values_for(name, lang)) == expected  # type: ignore[arg-type]


@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=100)), st.sampled_from(["en", "id"]))
def test_rendering_never_raises(text: str, name: str | None, lang: str) -> None:
    out = render(text, values_for(name, lang))  # type: ignore[arg-type]
    assert isinstance(out, str)


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=200))
def test_text_without_braces_is_valid_and_renders_as_itself(text: str) -> None:
    assert problems(text) == []
    assert render(text, {"name": "x"}) == text


@given(st.text(max_size=300))
def test_a_valid_text_renders_with_each_placeholder_filled(text: str) -> None:
    if problems(text):
        return
    # With the name a marker free of braces, no brace is left but the literal ones written doubled.
    assert render(text, {"name": "N"}).count("{") == text.count("{{")


def test_the_book_follows_the_topic_and_a_deletion_forgets() -> None:
    book = TemplateBook()
    saved = ReplyTemplateSaved(
        event_id="e1",
        occurred_at=AT,
        name="thanks",
        text_en="Thanks {name}",
        text_id="Makasih {name}",
        by="rina",
    )
    newer = saved.model_copy(update={"event_id": "e2", "text_en": "Thank you {name}"})
    for event in (saved, newer):
        book.apply(decode(encode(event)))
    assert book.get("thanks") == newer
    book.apply(decode(encode(ReplyTemplateDeleted(event_id="e3", occurred_at=AT, name="thanks", by="rina"))))
    assert book.get("thanks") is None
    assert book.all() == []
