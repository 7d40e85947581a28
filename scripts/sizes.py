"""Size gate: no module longer than MAX_MODULE_LINES, no function longer than MAX_FUNCTION_LINES.

GOAL_MODULE_LINES / GOAL_FUNCTION_LINES keep a module and a function small enough to read in one sitting;
since the tree reached them they are also the enforced limits, so anything over them fails.

    python scripts/sizes.py src [more dirs or files]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

# --- settings: the limits are the goal; never raise them to let a change in (split the module or the
# function instead: a family of recipes into families, a long function into named steps).
GOAL_MODULE_LINES = 400
GOAL_FUNCTION_LINES = 60
MAX_MODULE_LINES = GOAL_MODULE_LINES
MAX_FUNCTION_LINES = GOAL_FUNCTION_LINES


def files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    return out


def measure(path: Path) -> tuple[int, list[tuple[str, int, int]]]:
    """(lines in the module, [(qualified function name, first line, length)])."""
    text = path.read_text("utf-8")
    funcs: list[tuple[str, int, int]] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    funcs.append((name, start, (child.end_lineno or child.lineno) - start + 1))
                walk(child, name + ".")
            else:
                walk(child, prefix)

    walk(ast.parse(text, str(path)), "")
    return len(text.splitlines()), funcs


def main(argv: list[str]) -> int:
    failures: list[str] = []
    notes: list[str] = []
    for path in files(argv or ["src"]):
        lines, funcs = measure(path)
        if lines > GOAL_MODULE_LINES:
            line = f"{path}: {lines} lines (goal {GOAL_MODULE_LINES}, limit {MAX_MODULE_LINES})"
            (failures if lines > MAX_MODULE_LINES else notes).append(line)
        for name, start, length in funcs:
            if length > GOAL_FUNCTION_LINES:
                line = f"{path}:{start}: {name}() {length} lines (goal {GOAL_FUNCTION_LINES}, limit {MAX_FUNCTION_LINES})"
                (failures if length > MAX_FUNCTION_LINES else notes).append(line)
    for line in notes:
        print(f"over the goal: {line}")
    for line in failures:
        print(f"TOO LARGE:     {line}")
    print(f"sizes: {len(failures)} over the limits, {len(notes)} over the goal")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
