"""scripts/sizes.py (run by scripts/check): the size gate fails over its limits and passes under them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.restyle_only


def sizes() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sizes", ROOT / "scripts" / "sizes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def function(name: str, lines: int) -> str:
    return f"def {name}() -> None:\n" + "    x = 1\n" * (lines - 1)


def test_long_function_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gate = sizes()
    (tmp_path / "ok.py").write_text(function("short", gate.MAX_FUNCTION_LINES))
    assert gate.main([str(tmp_path)]) == 0
    (tmp_path / "long.py").write_text(
        "class A:\n"
        + "\n".join("    " + line for line in function("f", gate.MAX_FUNCTION_LINES + 1).splitlines())
    )
    assert gate.main([str(tmp_path)]) == 1
    assert "A.f()" in capsys.readouterr().out


def test_long_module_fails(tmp_path: Path) -> None:
    gate = sizes()
    (tmp_path / "big.py").write_text("x = 1\n" * (gate.MAX_MODULE_LINES + 1))
    assert gate.main([str(tmp_path)]) == 1


def test_todays_tree_passes() -> None:
    assert sizes().main([str(ROOT / "src")]) == 0


def test_no_module_over_400_lines_and_no_function_over_60() -> None:
    gate = sizes()
    assert gate.MAX_MODULE_LINES <= 400 and gate.MAX_FUNCTION_LINES <= 60  # the bar, enforced
