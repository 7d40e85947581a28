"""One version number: pyproject.toml's, read from the installed package's metadata everywhere."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import restyle
from restyle.loaders import http

pytestmark = pytest.mark.restyle_only
ROOT = Path(__file__).resolve().parents[1]


def test_version_comes_from_pyproject_through_metadata() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert restyle.__version__ == metadata.version("restyle") == declared


def test_user_agent_carries_the_version() -> None:
    assert http.Loader().user_agent == f"restyle/{restyle.__version__}"


def test_no_version_written_by_hand_in_src() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    pattern = re.compile(r"""(__version__|version)\s*[:=]\s*["']\d+\.\d+""")
    for path in (ROOT / "src" / "restyle").rglob("*.py"):
        text = path.read_text("utf-8")
        assert not pattern.search(text), f"{path}: a version literal; use restyle.__version__"
        assert f'"{declared}"' not in text, f"{path}: {declared} written by hand"
