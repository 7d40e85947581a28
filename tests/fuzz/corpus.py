"""The crash corpus: any input that ever made restyle raise something other than a TencentError.

Fuzz tests call :func:`only_tencent_errors`; on an unexpected exception the input is written to
``tests/fixtures/crashes/crash-<sha1>.<ext>`` (the corpus only grows: commit the file with the fix) and
the test fails. ``test_crash_corpus.py`` replays every file there on every run.

Extensions: an image format (``jpg png webp tiff bmp bin``) → the decoder; ``params.json`` → the
request parser + ``check_job``; ``flat.json`` → the flattened GET/v1 parameter path; ``http.json`` →
headers and body through the ASGI app.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from restyle import errors, imaging
from restyle.api import provider, shapes
from restyle.pipeline.check import check_job
from restyle.styles import catalogue

CRASHES = Path(__file__).resolve().parents[1] / "fixtures" / "crashes"
IMAGE_EXTS = ("jpg", "png", "webp", "tiff", "bmp", "gif", "bin")


def image_ext(data: bytes) -> str:
    try:
        return {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "TIFF": "tiff", "BMP": "bmp"}[
            imaging.sniff_format(data)
        ]
    except errors.TencentError:
        return "bin"


def record(data: bytes, ext: str) -> Path:
    CRASHES.mkdir(parents=True, exist_ok=True)
    path = CRASHES / f"crash-{hashlib.sha1(data).hexdigest()}.{ext}"
    if not path.exists():
        path.write_bytes(data)
    return path


def only_tencent_errors(fn: Callable[[], object], data: bytes, ext: str) -> None:
    """Run ``fn``; a TencentError is an answer, anything else is a crash saved to the corpus."""
    try:
        fn()
    except errors.TencentError:
        pass
    except Exception as exc:
        path = record(data, ext)
        msg = f"unexpected {type(exc).__name__}: {exc!r} — input saved as {path.relative_to(CRASHES.parents[2])}"
        raise AssertionError(msg) from exc


# --- what each kind of corpus file is fed to ---------------------------------------------------------
def decode_all(data: bytes) -> None:
    """Every decoder entry point, with default and tight limits."""
    for run in (
        lambda: imaging.probe(data),
        lambda: imaging.decode(data),
        lambda: imaging.decode(data, draft_box=(64, 64)),
        lambda: imaging.decode_rgba(data, imaging.DecodeLimits(min_side=0)),
    ):
        try:
            run()
        except errors.TencentError:
            pass


_CATALOGUE = catalogue()


def parse_and_check(obj: Any, *, from_strings: bool = False) -> None:
    params = shapes.parse_params(obj, from_strings=from_strings)
    job = provider.to_job(params, request_id="fuzz", account_id="fuzz", budget_s=60)
    check_job(job, _CATALOGUE)


def parse_flat(flat: dict[str, str]) -> None:
    parse_and_check(shapes.unflatten(flat), from_strings=True)


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=True, allow_nan=True).encode()
