"""The official Tencent Cloud SDK (aiart 3.1.82) pointed at a restyle server, plus raw signed requests.

``client()`` builds an ``AiartClient`` exactly as a user would (contract §6): endpoint forms
``127.0.0.1:PORT`` / ``localhost:PORT`` with ``protocol="http"``, or ``http://127.0.0.1:PORT`` with no
protocol; POST or GET; ``unsignedPayload``; legacy v1 ``HmacSHA256`` / ``HmacSHA1``. ``raw_post()`` sends
what the SDK cannot (old timestamps, garbled headers, non-object bodies) with ``sign_tc3_headers`` + httpx.

Every call is paced below the server's per-account request rate (20/s by default, contract §10), so a
fast suite never trips ``RequestLimitExceeded`` by accident.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
import pytest
from tencentcloud.aiart.v20221229 import aiart_client, models
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from restyle.api.signing import sign_tc3_headers
from tests.conftest import Server

SERVICE = "aiart"
VERSION = "2022-12-29"
REGION = "ap-singapore"
PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")

EndpointForm = Literal["ip", "localhost", "url"]
SignMethod = Literal["TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1"]


@dataclass(frozen=True)
class Target:
    """A server and the key pair the calls are signed with."""

    server: Server
    secret_id: str
    secret_key: str

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    def with_key(self, secret_id: str, secret_key: str) -> Target:
        return Target(self.server, secret_id, secret_key)


# --- pacing ---------------------------------------------------------------------------------------
class _Pacer:
    """Client-side token bucket per SecretId, a little slower than the server's (burst 20, 20/s)."""

    def __init__(self, per_second: float = 16.0, burst: float = 16.0) -> None:
        self.per_second = per_second
        self.burst = burst
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def wait(self, secret_id: str) -> None:
        with self._lock:
            now = time.monotonic()
            tokens, last = self._buckets.get(secret_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.per_second)
            delay = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.per_second
            self._buckets[secret_id] = (tokens - 1.0, now)
        if delay:
            time.sleep(delay)


pace = _Pacer().wait


# --- SDK clients ----------------------------------------------------------------------------------
def profile(
    target: Target,
    *,
    endpoint: EndpointForm = "ip",
    method: Literal["POST", "GET"] = "POST",
    unsigned: bool = False,
    sign_method: SignMethod = "TC3-HMAC-SHA256",
) -> ClientProfile:
    if endpoint == "ip":
        hp = HttpProfile(
            endpoint=f"127.0.0.1:{target.port}", protocol="http", reqMethod=method, reqTimeout=30
        )
    elif endpoint == "localhost":
        hp = HttpProfile(
            endpoint=f"localhost:{target.port}", protocol="http", reqMethod=method, reqTimeout=30
        )
    else:  # the URL verbatim: Host (and the signed host) is then literally "http://127.0.0.1:PORT"
        hp = HttpProfile(endpoint=f"http://127.0.0.1:{target.port}", reqMethod=method, reqTimeout=30)
    prof = ClientProfile(signMethod=sign_method, httpProfile=hp)
    if unsigned:
        prof.unsignedPayload = True
    return prof


def client(
    target: Target,
    *,
    endpoint: EndpointForm = "ip",
    method: Literal["POST", "GET"] = "POST",
    unsigned: bool = False,
    sign_method: SignMethod = "TC3-HMAC-SHA256",
    region: str = REGION,
) -> aiart_client.AiartClient:
    cred = credential.Credential(target.secret_id, target.secret_key)
    prof = profile(target, endpoint=endpoint, method=method, unsigned=unsigned, sign_method=sign_method)
    cli = aiart_client.AiartClient(cred, region, prof)
    cli._restyle_secret_id = target.secret_id  # for pacing
    cli._restyle_log = target.server.log  # shown when a success call fails
    return cli


def common_client(target: Target, *, version: str = VERSION, region: str = REGION) -> CommonClient:
    """The generic client: any action, any version, any JSON (wrong types included)."""
    cred = credential.Credential(target.secret_id, target.secret_key)
    cli = CommonClient(SERVICE, version, cred, region, profile(target))
    cli._restyle_secret_id = target.secret_id
    return cli


def _request(params: dict[str, Any]) -> models.ImageToImageRequest:
    req = models.ImageToImageRequest()
    req.from_json_string(json.dumps(params))
    return req


def call(cli: aiart_client.AiartClient, params: dict[str, Any]) -> models.ImageToImageResponse:
    """ImageToImage through the SDK; the reply must carry a ResultImage and a RequestId."""
    _no_proxy()
    pace(cli._restyle_secret_id)
    try:
        resp = cli.ImageToImage(_request(params))
    except TencentCloudSDKException as exc:
        log = getattr(cli, "_restyle_log", lambda: "")()
        raise AssertionError(
            f"expected success, got {exc}\n--- server log (tail) ---\n{log[-3000:]}"
        ) from None
    assert resp.RequestId, "success without RequestId"
    assert resp.ResultImage, f"success without ResultImage (RequestId {resp.RequestId})"
    return resp


def expect_error(
    cli: aiart_client.AiartClient | CommonClient, params: dict[str, Any], *, action: str = "ImageToImage"
) -> TencentCloudSDKException:
    """The call must raise TencentCloudSDKException carrying a code, a message and a RequestId."""
    _no_proxy()
    pace(cli._restyle_secret_id)
    if isinstance(cli, CommonClient):
        send = functools.partial(cli.call_json, action, params)
    else:
        send = functools.partial(cli.ImageToImage, _request(params))
    with pytest.raises(TencentCloudSDKException) as info:
        send()
    exc = info.value
    assert exc.get_code(), exc
    assert exc.get_message(), exc
    assert exc.get_request_id(), f"error without RequestId: {exc}"
    return exc


def call_json(cli: CommonClient, params: dict[str, Any], *, action: str = "ImageToImage") -> dict[str, Any]:
    """CommonClient.call_json, paced; returns the whole ``{"Response": ...}`` object."""
    _no_proxy()
    pace(cli._restyle_secret_id)
    out: dict[str, Any] = cli.call_json(action, params)
    assert out["Response"]["RequestId"], out
    return out


def _no_proxy() -> None:
    """The SDK takes a proxy from the environment for http endpoints (contract §6); the conftest clears it."""
    leaked = [v for v in PROXY_VARS if os.environ.get(v)]
    assert not leaked, f"proxy variables set: {leaked}"


# --- raw requests ---------------------------------------------------------------------------------
def signed_headers(
    target: Target, body: bytes, *, timestamp: int | None = None, host: str | None = None, **kw: str
) -> dict[str, str]:
    return sign_tc3_headers(
        secret_id=target.secret_id,
        secret_key=target.secret_key,
        host=host or f"127.0.0.1:{target.port}",
        body=body,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        **kw,
    )


def raw_post(
    target: Target,
    body: bytes | str | dict[str, Any] | list[Any],
    *,
    headers: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
    timestamp: int | None = None,
    **sign_kw: str,
) -> httpx.Response:
    """POST ``body`` signed as the SDK would, then override/drop headers, and return the raw reply."""
    if isinstance(body, dict | list):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    hdrs = signed_headers(target, body, timestamp=timestamp, **sign_kw)
    hdrs.update(headers or {})
    for name in drop:
        hdrs.pop(name, None)
    pace(target.secret_id)
    with httpx.Client(trust_env=False, timeout=30) as http:
        return http.post(f"{target.url}/", content=body, headers=hdrs)


def reply_error(resp: httpx.Response) -> tuple[str, str]:
    """(Code, Message) of an API error reply, after checking the envelope contract (§1, §5)."""
    assert_envelope(resp)
    payload = resp.json()["Response"]
    assert "Error" in payload, payload
    return payload["Error"]["Code"], payload["Error"]["Message"]


def assert_envelope(resp: httpx.Response) -> None:
    """HTTP 200, ``Content-Type: application/json`` exactly, and a RequestId in the body."""
    assert resp.status_code == 200, (resp.status_code, resp.text[:200])
    assert resp.headers["content-type"] == "application/json", resp.headers["content-type"]
    payload = resp.json()["Response"]
    assert isinstance(payload.get("RequestId"), str) and payload["RequestId"], payload


# --- an independent TC3 signer, for the variants other official clients produce (contract §4) ------
def _hmac256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_request(
    target: Target,
    *,
    method: str = "POST",
    query: str = "",
    body: bytes = b"",
    content_type: str = "application/json",
    host: str | None = None,
    signed_host: str | None = None,
    service: str = SERVICE,
    extra_signed: tuple[str, ...] = (),
    lower_values: bool = False,
    unsigned: bool = False,
    timestamp: int | None = None,
    action: str = "ImageToImage",
) -> httpx.Response:
    """Sign and send one request, written from contract §4 without restyle's code.

    ``signed_host`` is the Host value that goes into the signature when it differs from the one sent
    (clients that sign ``URL.hostname``); ``extra_signed`` adds X-TC-* headers to SignedHeaders;
    ``lower_values`` lower-cases the canonical header values (the official rule).
    """
    ts = int(time.time()) if timestamp is None else timestamp
    date = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
    host = host or f"127.0.0.1:{target.port}"
    headers = {
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": VERSION,
        "X-TC-Region": REGION,
        "X-TC-Timestamp": str(ts),
    }
    if unsigned:
        headers["X-TC-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    signed = sorted({"content-type", "host", *extra_signed})
    canon_values = {k.lower(): v for k, v in headers.items()}
    canon_values["host"] = signed_host or host
    canon_headers = "".join(
        f"{h}:{canon_values[h].strip().lower() if lower_values else canon_values[h].strip()}\n"
        for h in signed
    )
    payload = b"UNSIGNED-PAYLOAD" if unsigned else (b"" if method == "GET" else body)
    canonical = "\n".join(
        [method, "/", query, canon_headers, ";".join(signed), hashlib.sha256(payload).hexdigest()]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(ts), scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac256(_hmac256(_hmac256(("TC3" + target.secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"TC3-HMAC-SHA256 Credential={target.secret_id}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={signature}"
    )
    pace(target.secret_id)
    url = f"{target.url}/" + (f"?{query}" if query else "")
    with httpx.Client(trust_env=False, timeout=30) as http:
        return http.request(method, url, content=body if method != "GET" else None, headers=headers)


def v1_request(
    target: Target,
    params: dict[str, str],
    *,
    sign_method: str = "HmacSHA256",
    drop: tuple[str, ...] = (),
    method: str = "POST",
) -> httpx.Response:
    """A legacy v1 request written from contract §4: form body (POST) or query (GET), raw values signed."""
    host = f"127.0.0.1:{target.port}"
    p = {
        "Action": "ImageToImage",
        "Version": VERSION,
        "Region": REGION,
        "Timestamp": str(int(time.time())),
        "Nonce": str(secrets.randbelow(2**31) + 1),
        "SecretId": target.secret_id,
        "SignatureMethod": sign_method,
        **params,
    }
    for name in drop:
        p.pop(name, None)
    plain = "&".join(f"{k}={p[k]}" for k in sorted(p))
    digest = hashlib.sha1 if sign_method == "HmacSHA1" else hashlib.sha256
    mac = hmac.new(target.secret_key.encode(), f"{method}{host}/?{plain}".encode(), digest)
    p["Signature"] = base64.b64encode(mac.digest()).decode()
    pace(target.secret_id)
    with httpx.Client(trust_env=False, timeout=30) as http:
        if method == "GET":
            return http.get(f"{target.url}/?{urlencode(p)}")
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        return http.post(f"{target.url}/", content=urlencode(p), headers=form)
