"""TC3 and v1 signatures: restyle's verifier against signatures made by the official SDK's own code."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from tencentcloud.common.sign import Sign

from restyle import errors
from restyle.api import signing

pytestmark = pytest.mark.derived_from_docs
KEY = "secretKEY123"
TS = 1_700_000_000
DATE = "2023-11-14"


def sdk_tc3(
    body: bytes, host: str, *, method: str = "POST", query: str = "", ctype: str = "application/json"
) -> str:
    """The canonical request and signature exactly as AbstractClient._get_tc3_signature builds them."""
    payload = b"" if method == "GET" else body
    canonical = (
        f"{method}\n/\n{query}\ncontent-type:{ctype}\nhost:{host}\n\ncontent-type;host\n"
        f"{hashlib.sha256(payload).hexdigest()}"
    )
    string2sign = (
        f"TC3-HMAC-SHA256\n{TS}\n{DATE}/aiart/tc3_request\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    return str(Sign.sign_tc3(KEY, DATE, "aiart", string2sign))


def auth_for(sig: str, service: str = "aiart", date: str = DATE) -> signing.Tc3Authorization:
    return signing.parse_authorization(
        f"TC3-HMAC-SHA256 Credential=AKID/{date}/{service}/tc3_request, SignedHeaders=content-type;host, Signature={sig}"
    )


def verify(
    auth: signing.Tc3Authorization,
    headers: dict[str, str],
    body: bytes,
    *,
    secret_key: str = KEY,
    method: str = "POST",
    query: str = "",
) -> None:
    """restyle's TC3 check of one request made at TS (raises on a mismatch)."""
    signing.verify_tc3(
        auth=auth, secret_key=secret_key, method=method, query=query, headers=headers, body=body, timestamp=TS
    )


@pytest.mark.parametrize("host", ["127.0.0.1:8080", "http://127.0.0.1:8080", "localhost:9"])
def test_tc3_post_matches_sdk(host: str) -> None:
    body = json.dumps({"InputUrl": "http://x/a.png", "Prompt": "女孩"}).encode()
    sig = sdk_tc3(body, host)
    headers = {"content-type": "application/json", "host": host}
    verify(auth_for(sig), headers, body)
    with pytest.raises(errors.SignatureFailure):
        verify(auth_for(sig), headers, body, secret_key="wrong")
    with pytest.raises(errors.SignatureFailure):
        verify(auth_for(sig), headers, body + b" ")


def test_tc3_get_signs_query_and_empty_payload() -> None:
    query = "InputUrl=http%3A%2F%2Fx%2Fa.png&Styles.0=201"
    sig = sdk_tc3(b"", "127.0.0.1:1", method="GET", query=query, ctype="application/x-www-form-urlencoded")
    headers = {"content-type": "application/x-www-form-urlencoded", "host": "127.0.0.1:1"}
    verify(auth_for(sig), headers, b"", method="GET", query=query)


def test_host_without_port_and_endpoint_service_are_accepted() -> None:
    """Clients that sign URL.hostname and derive the service from the endpoint's first label (§4)."""
    body = b"{}"
    date = DATE
    canon = signing.canonical_request(
        method="POST",
        query="",
        headers={"content-type": "application/json; charset=utf-8", "host": "127.0.0.1"},
        signed_headers=("content-type", "host"),
        payload_hash=hashlib.sha256(body).hexdigest(),
    )
    sig = signing.tc3_signature(KEY, date=date, service="127", timestamp=str(TS), canonical_request=canon)
    verify(
        auth_for(sig, service="127"),
        {"content-type": "application/json; charset=utf-8", "host": "127.0.0.1:8080"},
        body,
    )


def test_unsigned_payload() -> None:
    canon = signing.canonical_request(
        method="POST",
        query="",
        headers={"content-type": "application/json", "host": "h:1"},
        signed_headers=("content-type", "host"),
        payload_hash=hashlib.sha256(b"UNSIGNED-PAYLOAD").hexdigest(),
    )
    sig = signing.tc3_signature(KEY, date=DATE, service="aiart", timestamp=str(TS), canonical_request=canon)
    headers = {"content-type": "application/json", "host": "h:1", "x-tc-content-sha256": "UNSIGNED-PAYLOAD"}
    verify(auth_for(sig), headers, b"anything")


def test_credential_date_and_service_must_match() -> None:
    sig = sdk_tc3(b"{}", "h:1")
    headers = {"content-type": "application/json", "host": "h:1"}
    with pytest.raises(errors.SignatureFailure):
        verify(auth_for(sig, date="2023-11-15"), headers, b"{}")
    with pytest.raises(errors.SignatureFailure):
        verify(auth_for(sig, service="cvm"), headers, b"{}")


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "Bearer abc",
        "TC3-HMAC-SHA256 Credential=AKID/2023-11-14/aiart/tc3_request, SignedHeaders=host, Signature="
        + "0" * 64,
        "TC3-HMAC-SHA256 Credential=AKID/2023-11-14/aiart, SignedHeaders=content-type;host, Signature="
        + "0" * 64,
        "TC3-HMAC-SHA256 Credential=AKID/2023-11-14/aiart/tc3_request, SignedHeaders=content-type;host, Signature=zz",
    ],
)
def test_unparsable_authorization(value: str | None) -> None:
    with pytest.raises(errors.InvalidAuthorization):
        signing.parse_authorization(value)


def test_timestamp_skew() -> None:
    now = time.time()
    assert signing.check_timestamp(str(int(now) - 299), now, 300)
    with pytest.raises(errors.SignatureExpire):
        signing.check_timestamp(str(int(now) + 301), now, 300)
    with pytest.raises(errors.InvalidParameterType):
        signing.check_timestamp("soon", now, 300)


@pytest.mark.parametrize("method", ["HmacSHA256", "HmacSHA1"])
def test_v1_matches_sdk(method: str) -> None:
    params = {
        "Action": "ImageToImage",
        "Version": "2022-12-29",
        "Nonce": "123",
        "Timestamp": str(TS),
        "SecretId": "AKID",
        "SignatureMethod": method,
        "Styles.0": "201",
        "Prompt": "女孩",
    }
    to_sign = "POST127.0.0.1:8080/?" + "&".join(f"{k}={params[k]}" for k in sorted(params))
    params["Signature"] = Sign.sign(KEY, to_sign, method)
    signing.verify_v1(secret_key=KEY, method="POST", host="127.0.0.1:8080", params=params)
    with pytest.raises(errors.SignatureFailure):
        signing.verify_v1(
            secret_key=KEY, method="POST", host="127.0.0.1:8080", params={**params, "Nonce": "124"}
        )
