"""TC3-HMAC-SHA256 and legacy v1 (HmacSHA256/HmacSHA1) signatures: pure functions, no I/O.

Verification rebuilds the canonical request from what was received (raw Host header, the headers the
client listed in SignedHeaders, the raw body bytes), as ``spec/contract.md`` §4 describes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from restyle import errors, untrusted

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "aiart"
UNSIGNED = "UNSIGNED-PAYLOAD"

_AUTH_RE = re.compile(
    r"^TC3-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),"
    r"\s*Signature=(?P<sig>[0-9a-fA-F]{64})\s*$"
)


@dataclass(frozen=True, slots=True)
class Tc3Authorization:
    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str | None) -> Tc3Authorization:
    """Split an ``Authorization: TC3-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..`` header."""
    if not value:
        msg = "The Authorization header is missing."
        raise errors.InvalidAuthorization(msg)
    m = _AUTH_RE.match(value.strip())
    if not m:
        msg = "The Authorization header is not `TC3-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`."
        raise errors.InvalidAuthorization(msg)
    parts = m.group("cred").split("/")
    if len(parts) != 4 or parts[3] != "tc3_request" or not parts[0]:
        msg = "Credential must be `<SecretId>/<yyyy-mm-dd>/<service>/tc3_request`."
        raise errors.InvalidAuthorization(msg)
    signed = tuple(h.strip().lower() for h in m.group("signed").split(";") if h.strip())
    if "content-type" not in signed or "host" not in signed:
        msg = "SignedHeaders must include content-type and host."
        raise errors.InvalidAuthorization(msg)
    return Tc3Authorization(parts[0], parts[1], parts[2], signed, m.group("sig").lower())


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(secret_key: str, *, date: str, service: str, timestamp: str, canonical_request: str) -> str:
    """Hex signature of a canonical request (``Sign.sign_tc3`` of the SDK)."""
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            timestamp,
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    k_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    k_service = _hmac(k_date, service)
    k_signing = _hmac(k_service, "tc3_request")
    return hmac.new(k_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def canonical_request(
    *,
    method: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: tuple[str, ...],
    payload_hash: str,
    lower_values: bool = True,
) -> str:
    """``METHOD\\n/\\nquery\\ncanonical headers\\nsigned headers\\nhash`` with trimmed (lower-cased) values.

    The official rule lower-cases header values; the Python SDK sends its values as they are, so the
    verifier tries both forms.
    """
    values = ((h, headers.get(h, "").strip()) for h in signed_headers)
    canon = "".join(f"{h}:{v.lower() if lower_values else v}\n" for h, v in values)
    return "\n".join([method.upper(), "/", query, canon, ";".join(signed_headers), payload_hash])


def payload_hash(body: bytes, *, unsigned: bool) -> str:
    return hashlib.sha256(UNSIGNED.encode() if unsigned else body).hexdigest()


def check_timestamp(timestamp: str | None, now: float, skew: int) -> int:
    """Parse X-TC-Timestamp / Timestamp and apply the skew rule (SignatureExpire)."""
    ts = untrusted.ascii_int(timestamp or "", max_len=12)
    if ts is None:
        msg = f"Timestamp {untrusted.shown(timestamp)} is not a unix time in seconds."
        raise errors.InvalidParameterType(msg)
    if abs(now - ts) > skew:
        raise errors.SignatureExpire()
    return ts


def host_variants(host: str) -> list[str]:
    """The raw Host as received, and the same without a port (clients that sign ``URL.hostname``)."""
    out = [host]
    bare = host.split("://", 1)[-1]
    if bare.startswith("["):  # [::1]:8080
        bare = bare.split("]", 1)[0] + "]"
    elif bare.count(":") == 1:
        bare = bare.split(":", 1)[0]
    if bare not in out:
        out.append(bare)
    return out


def accepted_services(host: str) -> set[str]:
    """``aiart`` or the first label of the endpoint as the client saw it (contract §4)."""
    bare = host.split("://", 1)[-1]
    return {SERVICE, bare.split(".", 1)[0], bare}


def verify_tc3(
    *,
    auth: Tc3Authorization,
    secret_key: str,
    method: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    timestamp: int,
) -> None:
    """Raise SignatureFailure unless ``auth.signature`` matches for some accepted form of the host."""
    if auth.date != datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d"):
        msg = (
            f"Credential date {untrusted.shown(auth.date)} is not the UTC date of X-TC-Timestamp {timestamp}."
        )
        raise errors.SignatureFailure(msg)
    host = headers.get("host", "")
    if auth.service not in accepted_services(host):
        msg = f"Credential service {untrusted.shown(auth.service)} is not {SERVICE!r}."
        raise errors.SignatureFailure(msg)
    unsigned = headers.get("x-tc-content-sha256", "").strip() == UNSIGNED
    p_hash = payload_hash(body if method.upper() != "GET" else b"", unsigned=unsigned)
    ok = False
    tried: set[str] = set()
    for variant in host_variants(host):
        hdrs = {**headers, "host": variant}
        for lower in (True, False):
            canon = canonical_request(
                method=method,
                query=query,
                headers=hdrs,
                signed_headers=auth.signed_headers,
                payload_hash=p_hash,
                lower_values=lower,
            )
            if canon in tried:
                continue
            tried.add(canon)
            expected = tc3_signature(
                secret_key,
                date=auth.date,
                service=auth.service,
                timestamp=str(timestamp),
                canonical_request=canon,
            )
            ok |= hmac.compare_digest(expected, auth.signature)
    if not ok:
        raise errors.SignatureFailure()


# --- legacy v1 --------------------------------------------------------------------------------
_V1_DIGESTS: dict[str, Callable[[], object]] = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}


def v1_signature(
    secret_key: str, *, method: str, host: str, params: Mapping[str, str], sig_method: str
) -> str:
    """base64(HMAC(key, METHOD + host + "/?" + sorted k=v joined by &)), values raw (not URL-encoded)."""
    digest = _V1_DIGESTS.get(sig_method)
    if digest is None:
        msg = f"SignatureMethod {untrusted.shown(sig_method)} is not HmacSHA256 or HmacSHA1."
        raise errors.InvalidAuthorization(msg)
    plain = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "Signature")
    to_sign = f"{method.upper()}{host}/?{plain}"
    mac = hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"), digest)  # type: ignore[arg-type]
    return base64.b64encode(mac.digest()).decode("ascii")


def verify_v1(*, secret_key: str, method: str, host: str, params: Mapping[str, str]) -> None:
    given = params.get("Signature", "")
    ok = False
    for variant in host_variants(host):
        expected = v1_signature(
            secret_key,
            method=method,
            host=variant,
            params=params,
            sig_method=params.get("SignatureMethod", "HmacSHA1"),
        )
        ok |= hmac.compare_digest(expected.encode(), given.encode())
    if not ok:
        raise errors.SignatureFailure()


def sign_tc3_headers(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    body: bytes,
    timestamp: int,
    action: str = "ImageToImage",
    version: str = "2022-12-29",
    region: str = "ap-singapore",
    content_type: str = "application/json",
    service: str = SERVICE,
) -> dict[str, str]:
    """Headers of a signed POST, as the official SDK builds them (used by tests, bench and ``restyle sign``)."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    signed = ("content-type", "host")
    canon = canonical_request(
        method="POST",
        query="",
        headers={"content-type": content_type, "host": host},
        signed_headers=signed,
        payload_hash=payload_hash(body, unsigned=False),
    )
    sig = tc3_signature(
        secret_key, date=date, service=service, timestamp=str(timestamp), canonical_request=canon
    )
    return {
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": version,
        "X-TC-Region": region,
        "X-TC-Timestamp": str(timestamp),
        "Authorization": (
            f"{ALGORITHM} Credential={secret_id}/{date}/{service}/tc3_request, "
            f"SignedHeaders={';'.join(signed)}, Signature={sig}"
        ),
    }
