"""Small files and short functions, kept so by a check rather than by memory: no module of the
product's packages over 450 lines, no function over 60 (decorators and docstring included).
Tests and benches are exempt: a table of cases reads best whole."""

from __future__ import annotations

import ast

from shared.settings import ROOT

PACKAGES = ("services", "shared", "warta", "sandbox")
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def _modules() -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(ROOT)), path.read_text())
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


def test_no_module_is_over_450_lines() -> None:
    long = {name: n for name, text in _modules() if (n := len(text.splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_is_over_60_lines() -> None:
    long = {}
    for name, text in _modules():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = (node.end_lineno or node.lineno) - first + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{name}:{node.lineno} {node.name}"] = lines
    assert long == {}
