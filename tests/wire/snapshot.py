"""Normalised JSON snapshots of wire replies (``tests/wire/snapshots/*.snapshot.json``).

``RequestId`` becomes ``"<uuid>"`` (after checking it is one), ``ResultImage`` becomes ``"<image>"``,
loopback ports and SecretIds in messages are masked. Regenerate with ``RESTYLE_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import httpx

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"
_MASKS = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"localhost:\d+"), "localhost:<port>"),
    (re.compile(r"AKID[0-9A-Za-z]+"), "<secret-id>"),
]


def _mask(text: str) -> str:
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text


def normalise(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "RequestId":
                uuid.UUID(item)
                out[key] = "<uuid>"
            elif key == "ResultImage":
                assert isinstance(item, str) and item
                out[key] = "<image>"
            else:
                out[key] = normalise(item)
        return out
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        return _mask(value)
    return value


def reply_document(resp: httpx.Response) -> dict[str, Any]:
    return {
        "status": resp.status_code,
        "content_type": resp.headers.get("content-type"),
        "body": normalise(resp.json()),
    }


def assert_snapshot(name: str, resp: httpx.Response) -> None:
    """Compare the normalised reply with ``snapshots/<name>.snapshot.json`` (or write it when updating)."""
    path = SNAPSHOT_DIR / f"{name}.snapshot.json"
    got = reply_document(resp)
    if os.environ.get("RESTYLE_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT_DIR.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}; run with RESTYLE_UPDATE_SNAPSHOTS=1 to create it"
    want = json.loads(path.read_text("utf-8"))
    assert got == want, f"{path.name} differs; run with RESTYLE_UPDATE_SNAPSHOTS=1 if the change is intended"
