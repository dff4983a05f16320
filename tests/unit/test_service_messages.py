"""Every refusal of the console, the inbox and the analytics API comes from the message catalog,
so it is said in English and in Bahasa Indonesia with its rule unchanged: the code is scanned for
the keys it raises and for refusals written as plain English, and the catalog against the code."""

from __future__ import annotations

import ast
import functools
import string
from collections.abc import Iterator
from pathlib import Path

from shared import http_errors
from shared.messages import CATALOG, WORDS, render, rule_of
from shared.messages_services import SERVICE_MESSAGES, SERVICE_WORDS
from shared.settings import ROOT

# Every class of the shared error tree: a call to one of them is a refusal.
_REFUSALS = {
    name
    for name, value in vars(http_errors).items()
    if isinstance(value, type) and issubclass(value, http_errors.HttpRefusal)
}
_CODE_DIRS = ("services", "shared")


@functools.cache
def _modules() -> tuple[tuple[Path, ast.Module], ...]:
    return tuple(
        (path, ast.parse(path.read_text(encoding="utf-8")))
        for top in _CODE_DIRS
        for path in sorted(Path(ROOT, top).rglob("*.py"))
    )


def _literals(node: ast.expr) -> list[str]:
    """The strings a key argument can be: a literal, or either branch of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def _raised_keys() -> dict[str, str]:
    """Key -> where, for every ``said("key", ...)``, every ``field_error(channel, field, "key")``
    and every ``key = "..."`` the code hands to one of them."""
    found: dict[str, str] = {}
    for path, tree in _modules():
        for node in ast.walk(tree):
            keys: list[str] = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "said" and node.args:
                    keys = _literals(node.args[0])
                elif node.func.id == "field_error" and len(node.args) >= 3:
                    keys = _literals(node.args[2])
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "key" for t in node.targets
            ):
                keys = [k for k in _literals(node.value) if k in CATALOG or "." in k]
            for key in keys:
                found.setdefault(key, f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}")
    return found


def test_the_scan_finds_the_services_refusals() -> None:
    keys = _raised_keys()
    assert {"role.console", "illegal_transition.no_draft", "bad_query.week_shape", "not_settled"} <= set(keys)
    assert len(keys) > 100


def test_every_key_raised_is_in_the_catalog_in_both_languages() -> None:
    missing = {key: where for key, where in _raised_keys().items() if key not in CATALOG}
    assert not missing
    for key in _raised_keys():
        english, indonesian = CATALOG[key]
        assert english.strip(), key
        assert indonesian.strip(), key
        assert english != indonesian, key


def test_every_service_sentence_is_raised_somewhere() -> None:
    """The catalog against the raisers: a sentence nothing says is a refusal renamed in the code
    and left behind here (aiohttp's own refusals are chosen by status: ``shared.problems``)."""
    strings: set[str] = set()
    for path, tree in _modules():
        if path.name == "messages_services.py":
            continue
        strings |= {
            n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
    assert not set(SERVICE_MESSAGES) - strings


def _plain_refusals(tree: ast.Module) -> Iterator[int]:
    """Lines where a refusal or a ``FieldError`` is made from a string, not from the catalog."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or not node.args:
            continue
        name = node.func.id
        message = node.args[3] if name == "FieldError" and len(node.args) >= 4 else node.args[0]
        if name not in _REFUSALS and name != "FieldError":
            continue
        if _is_text(message):
            yield node.lineno
        if isinstance(message, ast.List) and any(
            isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "FieldError"
            for e in message.elts
        ):
            yield node.lineno


def test_no_service_refuses_in_plain_english() -> None:
    """A refusal written as an English string would reach an Indonesian caller in English."""
    plain = [
        f"{path.relative_to(ROOT)}:{line}"
        for path, tree in _modules()
        if path.name != "http_errors.py"
        for line in _plain_refusals(tree)
    ]
    assert not plain


def _is_text(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str"
    )


def _hand_written(tree: ast.Module) -> Iterator[int]:
    """Lines of ``{"rule" or "error": ..., "message": <a string>}``: a problem built by hand."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        members = {
            k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)
        }
        if "message" in members and {"rule", "error"} & set(members) and _is_text(members["message"]):
            yield node.lineno


def test_a_problem_is_never_a_hand_written_mapping() -> None:
    """``{"rule": ..., "message": "..."}`` (or analytics' ``"error"``) written by hand skips the catalog."""
    written = [
        f"{path.relative_to(ROOT)}:{line}" for path, tree in _modules() for line in _hand_written(tree)
    ]
    assert not written


def test_the_scans_find_what_the_services_once_wrote() -> None:
    """The detectors catch the shapes the refusals had before they were in the catalog."""
    before = ast.parse(
        "raise NotFound(f'no job {job_id!r}')\n"
        "raise Conflict(str(exc), channel=c, rule='action_in_progress')\n"
        "raise ValidationFailed([FieldError(None, 'day', 'required', 'day is required')])\n"
        "FieldError(None, None, 'internal', 'internal error; it has been logged')\n"
        "x = {'error': 'not_found', 'message': f'no figures for {content_id!r}'}\n"
        "y = {'channel': None, 'field': None, 'rule': rule, 'message': message + '!'}\n"
    )
    assert sorted({*_plain_refusals(before), *_hand_written(before)}) == [1, 2, 3, 4, 5, 6]


def test_service_sentences_and_words_are_kept_apart_from_the_submissions() -> None:
    """One key, one sentence: the two halves of the catalog never say the same key twice."""
    assert len(CATALOG) == len(set(CATALOG))
    request_keys = set(CATALOG) - set(SERVICE_MESSAGES)
    assert not request_keys & set(SERVICE_MESSAGES)
    assert len(WORDS) >= len(SERVICE_WORDS)


def test_every_sentence_keeps_its_rule_in_both_languages() -> None:
    for key in SERVICE_MESSAGES:
        assert rule_of(key) == key.partition(".")[0]
        assert "{" not in render(key, _sample_params(key), "id"), key


def _sample_params(key: str) -> dict[str, str | int]:
    names = {n for t in CATALOG[key] for _, n, _, _ in string.Formatter().parse(t) if n}
    return {n: 1 if n in {"low", "high", "limit", "seconds", "at", "attempt"} else "x" for n in names}
