"""Each pipeline step module names its step numbers first, and pipeline/run.py calls it under them."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from restyle.pipeline import run

STEP_MODULES = ["check", "decode", "moderate", "frame", "stylize", "restore", "enhance", "label"]
STEP_MODULES += ["encode", "deliver"]


def blocks() -> dict[str, str]:
    """Step number ("0", "2b", ...) → the source of run.py under its ``# N.`` comment (run() and the
    helpers after it, in the order they run)."""
    out: dict[str, str] = {}
    current = None
    for line in inspect.getsource(run).splitlines():
        m = re.match(r"\s*# (\d+b?)\. ", line)
        if m:
            current = m.group(1)
            out[current] = ""
        if current is not None:
            out[current] += line + "\n"
    return out


def test_run_numbers_its_steps_in_order() -> None:
    numbers = [int(n.rstrip("b")) for n in blocks()]
    assert numbers == sorted(numbers) and numbers[0] == 0, numbers
    assert sorted(set(numbers)) == list(range(numbers[-1] + 1)), "a step number is skipped"


@pytest.mark.parametrize("name", STEP_MODULES)
def test_module_docstring_numbers_match_run(name: str) -> None:
    module = importlib.import_module(f"restyle.pipeline.{name}")
    doc = module.__doc__ or ""
    head = re.match(r"Steps? ([0-9b, and]+) — ", doc)
    assert head, f"pipeline/{name}.py docstring must start with 'Step N — ': {doc[:60]!r}"
    numbers = re.findall(r"\d+b?", head.group(1))
    call = "check_job(" if name == "check" else f"{name}."
    found = blocks()
    for n in numbers:
        assert n in found, f"pipeline/{name}.py names step {n}, which run.py does not have"
        assert call in found[n], f"pipeline/{name}.py names step {n}, but run.py step {n} does not call it"
