"""How the SDK can reach restyle: endpoint forms, POST/GET, UNSIGNED-PAYLOAD, legacy v1 signatures."""

from __future__ import annotations

import pytest

from tests.wire import sdk
from tests.wire.media import jpeg_b64, result_jpeg
from tests.wire.sdk import Target

pytestmark = pytest.mark.derived_from_docs

SMALL = {"Styles": ["201"], "ResultConfig": {"Resolution": "768:768"}, "LogoAdd": 0}


@pytest.mark.parametrize("endpoint", ["ip", "localhost", "url"])
def test_endpoint_forms(wire: Target, endpoint: sdk.EndpointForm) -> None:
    """``127.0.0.1:PORT`` / ``localhost:PORT`` with protocol http, and ``http://127.0.0.1:PORT`` verbatim."""
    resp = sdk.call(sdk.client(wire, endpoint=endpoint), {"InputImage": jpeg_b64(128, 128), **SMALL})
    assert result_jpeg(resp.ResultImage).size == (768, 768)


@pytest.mark.parametrize("endpoint", ["ip", "url"])
def test_get_with_flattened_query(wire: Target, endpoint: sdk.EndpointForm) -> None:
    """GET puts ``Styles.0=201&ResultConfig.Resolution=...`` in the query (kept under 32 KB)."""
    image = jpeg_b64(64, 64)
    assert len(image) < 20_000
    params = {**SMALL, "InputImage": image, "Strength": 0.7, "RestoreFace": 1}
    resp = sdk.call(sdk.client(wire, endpoint=endpoint, method="GET"), params)
    assert result_jpeg(resp.ResultImage).size == (768, 768)


def test_get_errors_are_typed_from_strings(wire: Target) -> None:
    """Every GET value arrives as a string; a non-numeric Strength is a type error, not a crash."""
    cli = sdk.client(wire, method="GET")
    err = sdk.expect_error(cli, {"InputImage": jpeg_b64(64, 64), "Strength": 2.0})
    assert err.get_code() == "InvalidParameterValue.ParameterValueError"


def test_get_query_over_32_kb_is_too_large(wire: Target) -> None:
    err = sdk.expect_error(sdk.client(wire, method="GET"), {"InputImage": "A" * 40_000})
    assert err.get_code() == "FailedOperation.RequestEntityTooLarge"


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_unsigned_payload(wire: Target, method: str) -> None:
    cli = sdk.client(wire, unsigned=True, method=method)  # type: ignore[arg-type]
    resp = sdk.call(cli, {"InputImage": jpeg_b64(64, 64), **SMALL})
    assert result_jpeg(resp.ResultImage).size == (768, 768)


@pytest.mark.parametrize("sign_method", ["HmacSHA256", "HmacSHA1"])
@pytest.mark.parametrize("endpoint", ["ip", "localhost"])
def test_legacy_v1_signatures(wire: Target, sign_method: sdk.SignMethod, endpoint: sdk.EndpointForm) -> None:
    """v1: form-urlencoded body with Action/Nonce/SecretId/Signature and the flattened parameters."""
    cli = sdk.client(wire, sign_method=sign_method, endpoint=endpoint)
    params = {"InputImage": jpeg_b64(96, 96), **SMALL, "Prompt": "女孩 & 猫 = 好", "Strength": 0.65}
    resp = sdk.call(cli, params)
    assert result_jpeg(resp.ResultImage).size == (768, 768)


@pytest.mark.parametrize("sign_method", ["HmacSHA256", "HmacSHA1"])
def test_legacy_v1_errors(wire: Target, sign_method: sdk.SignMethod) -> None:
    cli = sdk.client(wire, sign_method=sign_method)
    assert sdk.expect_error(cli, {}).get_code() == "InvalidParameterValue.ImageEmpty"
    bad = sdk.client(wire.with_key(wire.secret_id, "not-the-key"), sign_method=sign_method)
    assert sdk.expect_error(bad, {"InputImage": "x"}).get_code() == "AuthFailure.SignatureFailure"


def test_legacy_v1_get(wire: Target) -> None:
    cli = sdk.client(wire, sign_method="HmacSHA256", method="GET")
    resp = sdk.call(cli, {"InputImage": jpeg_b64(64, 64), **SMALL})
    assert result_jpeg(resp.ResultImage).size == (768, 768)


def test_common_client_calls_image_to_image(wire: Target) -> None:
    out = sdk.call_json(sdk.common_client(wire), {"InputImage": jpeg_b64(64, 64), **SMALL})
    assert result_jpeg(out["Response"]["ResultImage"]).size == (768, 768)
