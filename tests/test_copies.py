"""`# Copied from restyle.x.name` functions must stay identical to their original (diffusers' check_copies).

Engines are self-contained files (style rule 10): a small helper is copied rather than shared, and
marked. This test compares the marked function's code (signature and body, docstrings and comments
ignored) with the original's, so a fix in one place cannot silently miss the other.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.restyle_only
SRC = Path(__file__).resolve().parents[1] / "src" / "restyle"
MARK = re.compile(r"#\s*Copied from (restyle(?:\.\w+)+)")


def _function_at(tree: ast.Module, line: int) -> ast.FunctionDef:
    """The function a mark belongs to: the one it stands in, else the next one below it."""
    funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    inside = [f for f in funcs if f.lineno <= line <= (f.end_lineno or f.lineno)]
    if inside:
        return max(inside, key=lambda f: f.lineno)
    return min((f for f in funcs if f.lineno > line), key=lambda f: f.lineno)


def _code(fn: ast.FunctionDef) -> str:
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]  # the docstring may differ
    return ast.dump(fn.args) + "".join(ast.dump(stmt) for stmt in body)


def copies() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            m = MARK.search(line)
            if m:
                found.append((str(path.relative_to(SRC.parent)), number, m.group(1)))
    return found


def test_there_are_marked_copies() -> None:
    assert copies(), "the check must see the marks it is meant to check"


@pytest.mark.parametrize(("where", "line", "target"), copies())
def test_copy_matches_original(where: str, line: int, target: str) -> None:
    path = SRC.parent / where
    copy = _function_at(ast.parse(path.read_text("utf-8")), line)
    module_name, _, name = target.rpartition(".")
    original_obj = getattr(importlib.import_module(module_name), name)
    original = ast.parse(inspect.getsource(original_obj).strip()).body[0]
    assert isinstance(original, ast.FunctionDef)
    assert _code(copy) == _code(original), f"{where}:{line} {copy.name} differs from {target}"
