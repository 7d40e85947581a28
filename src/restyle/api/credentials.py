"""Credential fields checked for shape before any key lookup: cheap, and nothing is kept.

A SecretId that no key can have (too long, or characters a key never has) gets the answer an unknown
id gets, ``AuthFailure.SecretIdNotFound`` with Tencent's message, without touching the key store or
its cache. The other credential fields are capped at lengths far above what any client sends:

=================  ========  =========================================================
field              at most   answer when longer
=================  ========  =========================================================
SecretId           128       ``AuthFailure.SecretIdNotFound`` (also on other chars)
Signature (v1)     64        ``AuthFailure.SignatureFailure`` (base64 HMAC-SHA256: 44)
Timestamp          20        ``InvalidParameter.InvalidParameter`` (as a non-number)
Nonce (v1)         20        ``InvalidParameter.InvalidParameter`` ("Parameter `Nonce` type error.")
Token / X-TC-Token 4096      ``AuthFailure.TokenFailure``
=================  ========  =========================================================
"""

from __future__ import annotations

from collections.abc import Mapping

from restyle import errors
from restyle.accounts.store import valid_secret_id

MAX_V1_SIGNATURE = 64
MAX_TIMESTAMP = 20
MAX_NONCE = 20
MAX_TOKEN = 4096


def check_secret_id(secret_id: str) -> None:
    """SecretIdNotFound, before any lookup, for an id no key can have."""
    if not valid_secret_id(secret_id):
        raise errors.SecretIdNotFound()


def _check_common(timestamp: str | None, token: str | None) -> None:
    if timestamp is not None and len(timestamp) > MAX_TIMESTAMP:
        msg = f"Timestamp is not a unix time in seconds (it has {len(timestamp)} characters)."
        raise errors.InvalidParameterType(msg)
    if token is not None and len(token) > MAX_TOKEN:
        msg = f"The token is longer than {MAX_TOKEN} characters."
        raise errors.TokenFailure(msg)


def check_tc3(headers: Mapping[str, str]) -> None:
    """X-TC-Timestamp and X-TC-Token of a TC3 call (the SecretId is checked by ``check_secret_id``)."""
    _check_common(headers.get("x-tc-timestamp"), headers.get("x-tc-token"))


def check_v1(params: Mapping[str, str]) -> None:
    """The credential fields of a legacy v1 call, SecretId included."""
    _check_common(params.get("Timestamp"), params.get("Token"))
    if len(params.get("Nonce", "")) > MAX_NONCE:
        msg = "Parameter `Nonce` type error."
        raise errors.InvalidParameterType(msg)
    check_secret_id(params.get("SecretId", ""))
    if len(params.get("Signature", "")) > MAX_V1_SIGNATURE:
        raise errors.SignatureFailure()
