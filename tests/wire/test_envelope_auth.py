"""Contract §1, §4, §5 and §10: common parameters, signatures, keys, and the reply envelope itself."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.wire import sdk
from tests.wire.conftest import create_key
from tests.wire.media import jpeg_b64
from tests.wire.sdk import Target

EMPTY = b"{}"  # an authenticated request with this body answers ImageEmpty


# --- action, version, region ---------------------------------------------------------------------
@pytest.mark.derived_from_docs
def test_missing_action_is_missing_parameter(wire: Target) -> None:
    code, message = sdk.reply_error(sdk.raw_post(wire, EMPTY, drop=("X-TC-Action",)))
    assert code == "MissingParameter"
    assert "Action" in message


@pytest.mark.derived_from_docs
def test_empty_action_is_missing_parameter(wire: Target) -> None:
    assert sdk.reply_error(sdk.raw_post(wire, EMPTY, action=""))[0] == "MissingParameter"


@pytest.mark.derived_from_docs
@pytest.mark.parametrize("action", ["TextToImage", "imagetoimage", "QueryTextToImageJob"])
def test_unknown_action_is_invalid_action(wire: Target, action: str) -> None:
    err = sdk.expect_error(sdk.common_client(wire), {"Prompt": "猫"}, action=action)
    assert err.get_code() == "InvalidAction"


@pytest.mark.derived_from_docs
@pytest.mark.parametrize("version", ["2022-12-28", "2023-01-01", "latest"])
def test_bad_version_is_no_such_version(wire: Target, version: str) -> None:
    err = sdk.expect_error(sdk.common_client(wire, version=version), {})
    assert err.get_code() == "NoSuchVersion"


@pytest.mark.derived_from_docs
def test_missing_version_is_missing_parameter(wire: Target) -> None:
    assert sdk.reply_error(sdk.raw_post(wire, EMPTY, drop=("X-TC-Version",)))[0] == "MissingParameter"


@pytest.mark.restyle_only
@pytest.mark.parametrize("region", ["ap-guangzhou", "ap-beijing", "AP-SINGAPORE"])
def test_bad_region_is_unsupported_region(wire: Target, region: str) -> None:
    err = sdk.expect_error(sdk.client(wire, region=region), {})
    assert err.get_code() == "UnsupportedRegion"


@pytest.mark.restyle_only
def test_missing_region_is_unsupported_region(wire: Target) -> None:
    assert sdk.reply_error(sdk.raw_post(wire, EMPTY, drop=("X-TC-Region",)))[0] == "UnsupportedRegion"


# --- Authorization ------------------------------------------------------------------------------
def _garble(target: Target, auth: str) -> httpx.Response:
    return sdk.raw_post(target, EMPTY, headers={"Authorization": auth})


@pytest.mark.derived_from_docs
def test_missing_authorization_is_invalid_authorization(wire: Target) -> None:
    assert (
        sdk.reply_error(sdk.raw_post(wire, EMPTY, drop=("Authorization",)))[0]
        == "AuthFailure.InvalidAuthorization"
    )


@pytest.mark.derived_from_docs
@pytest.mark.parametrize(
    "mangle",
    [
        lambda a: "",
        lambda a: "Bearer abc",
        lambda a: a.replace("TC3-HMAC-SHA256", "TC3-HMAC-SHA1"),
        lambda a: a.split(", Signature=")[0],
        lambda a: a.replace("SignedHeaders=content-type;host", "SignedHeaders=content-type"),
        lambda a: a.replace("/tc3_request", "/tc4_request"),
        lambda a: a[:-10],
        lambda a: a.replace("Credential=", "Credential=/"),
    ],
    ids=[
        "empty",
        "bearer",
        "algorithm",
        "no-signature",
        "host-unsigned",
        "scope",
        "short-signature",
        "empty-id",
    ],
)
def test_garbled_authorization_is_invalid_authorization(wire: Target, mangle: object) -> None:
    auth = sdk.signed_headers(wire, EMPTY)["Authorization"]
    resp = _garble(wire, mangle(auth))  # type: ignore[operator]
    assert sdk.reply_error(resp)[0] == "AuthFailure.InvalidAuthorization"


@pytest.mark.derived_from_docs
# +330, not +301: a request that takes a second to arrive would otherwise fall back inside the window
@pytest.mark.parametrize("skew", [-301, 330, -3600, 86400])
def test_timestamp_skew_over_300_s_is_signature_expire(wire: Target, skew: int) -> None:
    resp = sdk.raw_post(wire, EMPTY, timestamp=int(time.time()) + skew)
    code, message = sdk.reply_error(resp)
    assert code == "AuthFailure.SignatureExpire"
    assert message == "The signature is expired, please request again."


@pytest.mark.derived_from_docs
@pytest.mark.parametrize("skew", [-270, 270])
def test_timestamp_skew_within_300_s_is_accepted(wire: Target, skew: int) -> None:
    resp = sdk.raw_post(wire, EMPTY, timestamp=int(time.time()) + skew)
    assert sdk.reply_error(resp)[0] == "InvalidParameterValue.ImageEmpty"


@pytest.mark.restyle_only
def test_non_numeric_timestamp_is_invalid_parameter(wire: Target) -> None:
    resp = sdk.raw_post(wire, EMPTY, headers={"X-TC-Timestamp": "yesterday"})
    assert sdk.reply_error(resp)[0] == "InvalidParameter.InvalidParameter"


@pytest.mark.derived_from_docs
def test_unknown_secret_id_is_secret_id_not_found(wire: Target) -> None:
    stranger = wire.with_key("AKIDnobodyHasThisKey000000000000000", wire.secret_key)
    err = sdk.expect_error(sdk.client(stranger), {})
    assert err.get_code() == "AuthFailure.SecretIdNotFound"
    assert err.get_message() == "The SecretId is not found, please ensure that your SecretId is correct."


@pytest.mark.derived_from_docs
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_wrong_key_is_signature_failure(wire: Target, method: str) -> None:
    wrong = wire.with_key(wire.secret_id, wire.secret_key[:-1] + ("x" if wire.secret_key[-1] != "x" else "y"))
    err = sdk.expect_error(sdk.client(wrong, method=method), {"InputImage": jpeg_b64(64, 64)})  # type: ignore[arg-type]
    assert err.get_code() == "AuthFailure.SignatureFailure"


@pytest.mark.derived_from_docs
def test_tampered_body_is_signature_failure(wire: Target) -> None:
    headers = sdk.signed_headers(wire, b'{"Styles": ["201"]}')
    with httpx.Client(trust_env=False) as http:
        resp = http.post(f"{wire.url}/", content=b'{"Styles": ["203"]}', headers=headers)
    assert sdk.reply_error(resp)[0] == "AuthFailure.SignatureFailure"


@pytest.mark.restyle_only
def test_credential_date_not_matching_timestamp_is_signature_failure(wire: Target) -> None:
    headers = sdk.signed_headers(wire, EMPTY)
    date = headers["Authorization"].split("/")[1]
    headers["Authorization"] = headers["Authorization"].replace(f"/{date}/", "/2020-01-01/")
    with httpx.Client(trust_env=False) as http:
        resp = http.post(f"{wire.url}/", content=EMPTY, headers=headers)
    assert sdk.reply_error(resp)[0] == "AuthFailure.SignatureFailure"


@pytest.mark.restyle_only
def test_unexpected_service_in_scope_is_signature_failure(wire: Target) -> None:
    resp = sdk.raw_post(wire, EMPTY, service="cvm")
    assert sdk.reply_error(resp)[0] == "AuthFailure.SignatureFailure"


@pytest.mark.restyle_only
@pytest.mark.parametrize("service", ["cvm", "128", "localhost"])
def test_other_services_are_refused(wire: Target, service: str) -> None:
    assert (
        sdk.reply_error(sdk.tc3_request(wire, body=EMPTY, service=service))[0]
        == "AuthFailure.SignatureFailure"
    )


@pytest.mark.derived_from_docs
def test_content_type_with_charset_is_accepted_when_signed(wire: Target) -> None:
    """Third-party clients send ``application/json; charset=utf-8`` and sign it."""
    resp = sdk.raw_post(wire, EMPTY, content_type="application/json; charset=utf-8")
    assert sdk.reply_error(resp)[0] == "InvalidParameterValue.ImageEmpty"


# --- keys: disabled, scoped ---------------------------------------------------------------------
@pytest.mark.restyle_only
def test_disabled_key_is_secret_id_not_found(aux: Target) -> None:
    sid, skey = create_key(aux.server, account="wire-disabled")
    key = aux.with_key(sid, skey)
    assert sdk.expect_error(sdk.client(key), {}).get_code() == "InvalidParameterValue.ImageEmpty"
    out = aux.server.restyle("keys", "disable", sid)
    assert out.returncode == 0, out.stderr
    deadline = time.monotonic() + 5  # the server caches key lookups for a short while (2 s)
    code = ""
    while time.monotonic() < deadline:
        code = sdk.expect_error(sdk.client(key), {}).get_code()
        if code == "AuthFailure.SecretIdNotFound":
            break
        time.sleep(0.25)
    assert code == "AuthFailure.SecretIdNotFound"


@pytest.mark.restyle_only
def test_key_created_disabled_is_refused_at_once(aux: Target) -> None:
    sid, skey = create_key(aux.server, account="wire-disabled-2")
    assert aux.server.restyle("keys", "disable", sid).returncode == 0
    err = sdk.expect_error(sdk.client(aux.with_key(sid, skey)), {})
    assert err.get_code() == "AuthFailure.SecretIdNotFound"


@pytest.mark.restyle_only
def test_key_scoped_to_other_actions_is_unauthorized_operation(aux: Target) -> None:
    sid, skey = create_key(aux.server, account="wire-scoped", actions="SomethingElse")
    err = sdk.expect_error(sdk.client(aux.with_key(sid, skey)), {"InputImage": jpeg_b64(64, 64)})
    assert err.get_code() == "AuthFailure.UnauthorizedOperation"


@pytest.mark.restyle_only
def test_key_scoped_to_image_to_image_is_allowed(aux: Target) -> None:
    sid, skey = create_key(aux.server, account="wire-scoped-ok", actions="SomethingElse,ImageToImage")
    err = sdk.expect_error(sdk.client(aux.with_key(sid, skey)), {})
    assert err.get_code() == "InvalidParameterValue.ImageEmpty"


@pytest.mark.restyle_only
def test_stopped_account_and_used_up_quota(aux: Target) -> None:
    sid, skey = create_key(aux.server, account="wire-billing")
    cli = sdk.client(aux.with_key(sid, skey))
    assert aux.server.restyle("accounts", "set", "wire-billing", "--status", "stopped").returncode == 0
    assert sdk.expect_error(cli, {}).get_code() == "ResourceUnavailable.StopUsing"
    assert (
        aux.server.restyle("accounts", "set", "wire-billing", "--status", "active", "--quota", "0").returncode
        == 0
    )
    assert sdk.expect_error(cli, {}).get_code() == "ResourceUnavailable.LowBalance"


# --- the envelope itself -------------------------------------------------------------------------
@pytest.mark.derived_from_docs
@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"drop": ("Authorization",)}, "AuthFailure.InvalidAuthorization"),
        ({"drop": ("X-TC-Action",)}, "MissingParameter"),
        ({"action": "Nope"}, "InvalidAction"),
        ({"version": "2017-03-12"}, "NoSuchVersion"),
        ({"region": "ap-guangzhou"}, "UnsupportedRegion"),
        ({}, "InvalidParameterValue.ImageEmpty"),
        ({"body": b"[]"}, "InvalidParameter.InvalidParameter"),
        ({"body": b'{"Foo": 1}'}, "UnknownParameter"),
        ({"body": b'{"InputImage": "@@"}'}, "FailedOperation.ImageDecodeFailed"),
        ({"body": b'{"InputUrl": "ftp://x/a.jpg"}'}, "InvalidParameterValue.UrlIllegal"),
    ],
)
def test_error_reply_is_http_200_application_json_with_request_id(
    wire: Target, kw: dict[str, object], code: str
) -> None:
    body = kw.pop("body", EMPTY)
    resp = sdk.raw_post(wire, body, **kw)  # type: ignore[arg-type]
    got, message = sdk.reply_error(resp)  # status 200, Content-Type exactly application/json
    assert got == code
    assert message and "Traceback" not in message
    payload = resp.json()["Response"]
    assert set(payload) == {"Error", "RequestId"}
    assert set(payload["Error"]) == {"Code", "Message"}
    uuid.UUID(payload["RequestId"])


@pytest.mark.restyle_only
@pytest.mark.parametrize(
    "body",
    [b'{"\\ud800": 1}', b'{"InputImage": "x", "Styles": ["\\udfff"]}', b'{"InputUrl": "http://\\ud800/"}'],
    ids=["key", "style", "url"],
)
def test_lone_surrogates_echoed_in_messages_keep_the_envelope(wire: Target, body: bytes) -> None:
    """A client's ``\\ud800`` escape may end up in a message; the reply is still 200 JSON, never a 500."""
    code, message = sdk.reply_error(sdk.raw_post(wire, body))
    assert code in {
        "UnknownParameter",
        "InvalidParameterValue.ParameterValueError",
        "InvalidParameterValue.UrlIllegal",
    }
    assert message


@pytest.mark.derived_from_docs
def test_success_reply_is_http_200_application_json(wire: Target) -> None:
    resp = sdk.raw_post(wire, {"InputImage": jpeg_b64(64, 64), "LogoAdd": 0})
    sdk.assert_envelope(resp)
    payload = resp.json()["Response"]
    assert set(payload) == {"ResultImage", "RequestId"}
    uuid.UUID(payload["RequestId"])


@pytest.mark.derived_from_docs
def test_request_ids_are_unique(wire: Target) -> None:
    ids = {sdk.expect_error(sdk.client(wire), {}).get_request_id() for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.restyle_only
@pytest.mark.parametrize(
    ("method", "path", "status"), [("PUT", "/", 405), ("DELETE", "/", 405), ("POST", "/nope", 404)]
)
def test_only_the_transport_answers_non_200(wire: Target, method: str, path: str, status: int) -> None:
    with httpx.Client(trust_env=False) as http:
        resp = http.request(
            method, f"{wire.url}{path}", content=EMPTY, headers=sdk.signed_headers(wire, EMPTY)
        )
    assert resp.status_code == status
