"""Signatures other official clients produce (contract §4), and legacy v1 rows, sent by hand.

``sdk.tc3_request`` / ``sdk.v1_request`` are written from the contract text, not from restyle's code.
"""

from __future__ import annotations

import time

import pytest

from tests.wire import sdk
from tests.wire.media import jpeg_b64, result_jpeg
from tests.wire.sdk import Target

pytestmark = pytest.mark.derived_from_docs

EMPTY = b"{}"
IMAGE_EMPTY = "InvalidParameterValue.ImageEmpty"  # what an authenticated empty request answers


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"lower_values": True},
        {"extra_signed": ("x-tc-action",), "lower_values": True},
        {"extra_signed": ("x-tc-action", "x-tc-timestamp", "x-tc-version"), "lower_values": True},
        {
            "content_type": "application/json; charset=utf-8",
            "extra_signed": ("x-tc-action",),
            "lower_values": True,
        },
        {"content_type": "Application/JSON", "lower_values": True},
    ],
    ids=["sdk", "lowercase", "action", "action-ts-version", "charset", "mixed-case-type"],
)
def test_signed_header_variants_are_accepted(wire: Target, kw: dict[str, object]) -> None:
    resp = sdk.tc3_request(wire, body=EMPTY, **kw)  # type: ignore[arg-type]
    assert sdk.reply_error(resp)[0] == IMAGE_EMPTY


def test_host_signed_without_port_is_accepted(wire: Target) -> None:
    resp = sdk.tc3_request(wire, body=EMPTY, signed_host="127.0.0.1")
    assert sdk.reply_error(resp)[0] == IMAGE_EMPTY


def test_host_signed_as_another_host_is_refused(wire: Target) -> None:
    resp = sdk.tc3_request(wire, body=EMPTY, signed_host="127.0.0.2")
    assert sdk.reply_error(resp)[0] == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize(
    ("host", "service"),
    [("127.0.0.1:{port}", "127"), ("localhost:{port}", "localhost:{port}"), ("127.0.0.1:{port}", "aiart")],
)
def test_service_from_the_endpoint_first_label_is_accepted(wire: Target, host: str, service: str) -> None:
    h, svc = host.format(port=wire.port), service.format(port=wire.port)
    resp = sdk.tc3_request(wire, body=EMPTY, host=h, service=svc)
    assert sdk.reply_error(resp)[0] == IMAGE_EMPTY


def test_unsigned_payload_ignores_the_body_hash(wire: Target) -> None:
    resp = sdk.tc3_request(wire, body=b'{"Foo": 1}', unsigned=True)
    assert sdk.reply_error(resp)[0] == "UnknownParameter"


def test_get_signed_by_hand(wire: Target) -> None:
    from urllib.parse import urlencode

    query = urlencode(
        {"InputImage": jpeg_b64(64, 64), "Styles.0": "201", "LogoAdd": "0", "Prompt": "女孩 & 猫"}
    )
    resp = sdk.tc3_request(wire, method="GET", query=query, content_type="application/x-www-form-urlencoded")
    sdk.assert_envelope(resp)
    assert result_jpeg(resp.json()["Response"]["ResultImage"]).size == (64, 64)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("InputImage=x&Styles.0=104&Styles.1=201", "InvalidParameterValue.StyleConflict"),
        ("InputImage=x&Styles=201", "InvalidParameter.InvalidParameter"),
        ("InputImage=x&Strength=abc", "InvalidParameter.InvalidParameter"),
        ("InputImage=x&LogoAdd=1.5", "InvalidParameter.InvalidParameter"),
        ("InputImage=x&ResultConfig=768", "InvalidParameter.InvalidParameter"),
        ("InputImage=x&Foo=1", "UnknownParameter"),
        ("InputImage=x&Strength=0", "InvalidParameterValue.ParameterValueError"),
    ],
)
def test_get_string_values_are_typed(wire: Target, query: str, code: str) -> None:
    resp = sdk.tc3_request(wire, method="GET", query=query, content_type="application/x-www-form-urlencoded")
    assert sdk.reply_error(resp)[0] == code


# --- legacy v1, by hand --------------------------------------------------------------------------
@pytest.mark.parametrize("sign_method", ["HmacSHA256", "HmacSHA1"])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_v1_by_hand(wire: Target, sign_method: str, method: str) -> None:
    params = {"InputImage": jpeg_b64(64, 64), "Styles.0": "201", "LogoAdd": "0"}
    resp = sdk.v1_request(wire, params, sign_method=sign_method, method=method)
    sdk.assert_envelope(resp)
    assert result_jpeg(resp.json()["Response"]["ResultImage"]).size == (64, 64)


def test_v1_without_signature_method_defaults_to_hmac_sha1(wire: Target) -> None:
    resp = sdk.v1_request(wire, {}, sign_method="HmacSHA1", drop=("SignatureMethod",))
    assert sdk.reply_error(resp)[0] == IMAGE_EMPTY


@pytest.mark.parametrize(
    ("params", "kw", "code"),
    [
        ({"Timestamp": str(int(time.time()) - 3600)}, {}, "AuthFailure.SignatureExpire"),
        ({"SecretId": "AKIDnobodyHasThisKey000000000000000"}, {}, "AuthFailure.SecretIdNotFound"),
        ({}, {"sign_method": "HmacMD5"}, "AuthFailure.InvalidAuthorization"),
        ({"Action": "TextToImage"}, {}, "InvalidAction"),
        ({}, {"drop": ("Action",)}, "MissingParameter"),
        ({"Version": "2020-01-01"}, {}, "NoSuchVersion"),
        ({"Region": "ap-guangzhou"}, {}, "UnsupportedRegion"),
        ({"InputImage": "x", "Strength": "abc"}, {}, "InvalidParameter.InvalidParameter"),
        (
            {"InputImage": "x", "Styles.0": "104", "Styles.1": "201"},
            {},
            "InvalidParameterValue.StyleConflict",
        ),
    ],
    ids=[
        "expired",
        "unknown-id",
        "bad-method",
        "action",
        "no-action",
        "version",
        "region",
        "type",
        "conflict",
    ],
)
def test_v1_error_rows(wire: Target, params: dict[str, str], kw: dict[str, object], code: str) -> None:
    resp = sdk.v1_request(wire, params, **kw)  # type: ignore[arg-type]
    assert sdk.reply_error(resp)[0] == code


def test_v1_wrong_key_is_signature_failure(wire: Target) -> None:
    resp = sdk.v1_request(wire.with_key(wire.secret_id, "wrong-key"), {})
    assert sdk.reply_error(resp)[0] == "AuthFailure.SignatureFailure"
