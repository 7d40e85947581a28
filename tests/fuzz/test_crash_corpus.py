"""Replay every input that ever crashed restyle (tests/fixtures/crashes): each must now decode or be
refused with a TencentError. The corpus only grows; see tests/fuzz/corpus.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.fuzz.corpus import (
    CRASHES,
    IMAGE_EXTS,
    decode_all,
    only_tencent_errors,
    parse_and_check,
    parse_flat,
)
from tests.fuzz.test_requests import client, replay_http  # noqa: F401  (the app fixture)

FILES = sorted(p for p in CRASHES.glob("crash-*") if p.is_file())


def test_corpus_holds_every_kind() -> None:
    """An empty kind would make its replay test below a silent skip."""
    assert CRASHES.is_dir()
    kinds = {"image" if p.suffix[1:] in IMAGE_EXTS else p.name.split(".", 1)[1] for p in FILES}
    assert {"image", "http.json"} <= kinds, kinds


@pytest.mark.parametrize(
    "path", [p for p in FILES if not p.name.endswith(".http.json")], ids=lambda p: p.name
)
def test_replay(path: Path) -> None:
    data = path.read_bytes()
    if path.name.endswith(".params.json"):
        only_tencent_errors(lambda: parse_and_check(json.loads(data)), data, "params.json")
    elif path.name.endswith(".flat.json"):
        only_tencent_errors(lambda: parse_flat(json.loads(data)), data, "flat.json")
    else:
        assert path.suffix[1:] in IMAGE_EXTS, path
        only_tencent_errors(lambda: decode_all(data), data, path.suffix[1:])


@pytest.mark.parametrize("path", [p for p in FILES if p.name.endswith(".http.json")], ids=lambda p: p.name)
def test_replay_http(client: TestClient, path: Path) -> None:  # noqa: F811
    replay_http(client, path)
