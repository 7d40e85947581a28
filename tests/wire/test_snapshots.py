"""Whole replies, normalised, compared with stored snapshots: codes, messages and envelope shape."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.wire import sdk
from tests.wire.media import jpeg_b64
from tests.wire.sdk import Target
from tests.wire.snapshot import SNAPSHOT_DIR, assert_snapshot

pytestmark = pytest.mark.derived_from_docs

# name -> (body, raw_post keyword arguments)
CASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "image_empty": ({}, {}),
    "image_decode_failed": ({"InputImage": "%%%"}, {}),
    "url_illegal_scheme": ({"InputUrl": "ftp://127.0.0.1/a.jpg"}, {}),
    "url_illegal_private": ({"InputUrl": "http://169.254.169.254/latest/meta-data"}, {}),
    "text_length_exceed": ({"InputImage": "x", "Prompt": "a" * 257}, {}),
    "text_illegal_detected": ({"InputImage": "x", "Prompt": "nude"}, {}),
    "style_conflict": ({"InputImage": "x", "Styles": ["104", "201"]}, {}),
    "unknown_style": ({"InputImage": "x", "Styles": ["999"]}, {}),
    "strength_out_of_range": ({"InputImage": "x", "Strength": 1.5}, {}),
    "resolution_bad": ({"InputImage": "x", "ResultConfig": {"Resolution": "512:512"}}, {}),
    "wrong_json_type": ({"InputImage": "x", "Strength": "abc"}, {}),
    "unknown_parameter": ({"InputImage": "x", "Foo": 1}, {}),
    "body_not_object": ([1, 2], {}),
    "missing_action": ({}, {"drop": ("X-TC-Action",)}),
    "invalid_action": ({}, {"action": "TextToImage"}),
    "no_such_version": ({}, {"version": "2022-12-28"}),
    "unsupported_region": ({}, {"region": "ap-guangzhou"}),
    "invalid_authorization": ({}, {"headers": {"Authorization": "Bearer abc"}}),
    "signature_expire": ({}, {"timestamp": "old"}),
    "signature_failure": ({}, {"secret_key": "wrong"}),
    "secret_id_not_found": ({}, {"secret_id": "AKIDnobodyHasThisKey000000000000000"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_reply_snapshot(wire: Target, name: str) -> None:
    body, kw = CASES[name]
    kw = dict(kw)
    target = wire
    if "secret_key" in kw or "secret_id" in kw:
        target = wire.with_key(kw.pop("secret_id", wire.secret_id), kw.pop("secret_key", wire.secret_key))
    if kw.get("timestamp") == "old":
        kw["timestamp"] = int(time.time()) - 3600
    assert_snapshot(name, sdk.raw_post(target, body, **kw))


def test_success_reply_snapshot(wire: Target) -> None:
    resp = sdk.raw_post(wire, {"InputImage": jpeg_b64(64, 64), "LogoAdd": 0})
    assert_snapshot("success_base64", resp)


def test_no_stale_snapshots() -> None:
    names = {p.name.removesuffix(".snapshot.json") for p in SNAPSHOT_DIR.glob("*.snapshot.json")}
    assert names <= {*CASES, "success_base64"}, names - {*CASES, "success_base64"}
