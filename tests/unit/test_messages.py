"""The message catalog: every key the code emits is written in both languages, and rendering
never raises whatever the parameters."""

from __future__ import annotations

import ast
import string
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from shared.capability_rules import Rule
from shared.field_errors import _OWN_SENTENCE, _RULES
from shared.messages import CATALOG, WORDS, Param, render, rule_of
from shared.settings import ROOT

_EMITTERS = ("field_error", "add", "_problem")


def _emitted_keys() -> set[str]:
    """Every catalog key a call in ``shared/`` or ``services/`` names as a literal:
    ``field_error(channel, field, "key", ...)``, validation's ``add(field, "key", ...)`` and the
    capability rules' ``_problem(Rule.X, at, "variant", ...)``."""
    keys: set[str] = set()
    for path in [*Path(ROOT, "shared").rglob("*.py"), *Path(ROOT, "services").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            name, args = node.func.id, node.args
            if name == "field_error" and len(args) >= 3 and isinstance(args[2], ast.Constant):
                keys.add(str(args[2].value))
            elif name == "add" and len(args) >= 2 and isinstance(args[1], ast.Constant):
                keys.add(str(args[1].value))
            elif name == "_problem" and isinstance(args[0], ast.Attribute):
                rule = Rule[args[0].attr].value
                variant = args[2] if len(args) >= 3 else None
                keys.add(f"{rule}.{variant.value!s}" if isinstance(variant, ast.Constant) else rule)
    return keys


def test_the_scan_finds_the_emitters() -> None:
    keys = _emitted_keys()
    assert {"max_length.poll_question", "four_eyes", "malformed_json", "type.object"} <= keys
    assert len(keys) > 40


def test_every_key_the_code_emits_is_in_the_catalog() -> None:
    schema_keys = {f"{rule}.schema" for rule in set(_RULES.values()) - _OWN_SENTENCE} | {"type.schema"}
    emitted = _emitted_keys() | {rule.value for rule in Rule} | _OWN_SENTENCE | schema_keys
    schema_keys_missing = {k for k in schema_keys if k not in CATALOG}
    # A pydantic rule without a sentence of its own falls back to "schema", which must exist.
    assert "schema" in CATALOG
    missing = emitted - set(CATALOG) - schema_keys_missing
    assert not missing


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_say_every_key_with_the_same_parameters() -> None:
    for key, (english, indonesian) in CATALOG.items():
        assert english.strip(), key
        assert indonesian.strip(), key
        assert english != indonesian, key
        assert _fields(english) == _fields(indonesian), key


def test_the_rule_is_the_part_before_the_dot() -> None:
    assert rule_of("max_length.poll_question") == "max_length"
    assert rule_of("four_eyes") == "four_eyes"


def test_words_and_flags_follow_the_language() -> None:
    params: dict[str, Param] = {
        "platform": "Bluesky",
        "count": 301,
        "unit": "graphemes",
        "limit": 300,
        "in_caption": True,
    }
    assert (
        render("max_length", params)
        == "Bluesky counts 301 graphemes in a caption (text with media); the limit is 300"
    )
    assert render("max_length", params, "id") == (
        "Bluesky menghitung 301 grafem dalam keterangan (teks dengan media); batasnya 300"
    )
    assert set(WORDS) >= {"characters", "bytes"}


def test_a_missing_parameter_stays_visible_by_name() -> None:
    assert (
        render("media_count", {"platform": "X"})
        == "X takes at most {limit} media items per post; this one has {count}"
    )


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40))
_NAMES = sorted({name for pair in CATALOG.values() for template in pair for name in _fields(template)})


@given(
    key=st.one_of(st.sampled_from(sorted(CATALOG)), st.text(max_size=20)),
    params=st.dictionaries(st.one_of(st.sampled_from(_NAMES), st.text(max_size=12)), _VALUES, max_size=10),
)
def test_rendering_never_raises(key: str, params: dict[str, str | int | float | bool | None]) -> None:
    """Any key (known or not), any parameter names and values, of any type, in both languages."""
    for lang in ("en", "id"):
        assert isinstance(render(key, params, lang), str)
