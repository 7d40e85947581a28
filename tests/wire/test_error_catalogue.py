"""restyle.errors against the pinned SDK's aiart errorcodes.py and the API 3.0 common codes (contract §3)."""

from __future__ import annotations

import pytest
from tencentcloud.aiart.v20221229 import errorcodes

from restyle import errors

pytestmark = pytest.mark.derived_from_docs

#: API 3.0 common error codes (Tencent intl/CN common-error-code pages; contract §3).
COMMON_CODES = {
    "ActionOffline",
    "AuthFailure.InvalidAuthorization",
    "AuthFailure.InvalidSecretId",
    "AuthFailure.MFAFailure",
    "AuthFailure.SecretIdNotFound",
    "AuthFailure.SignatureExpire",
    "AuthFailure.SignatureFailure",
    "AuthFailure.TokenFailure",
    "AuthFailure.UnauthorizedOperation",
    "DryRunOperation",
    "FailedOperation",
    "InternalError",
    "InvalidAction",
    "InvalidParameter",
    "InvalidParameterValue",
    "InvalidRequest",
    "LimitExceeded",
    "MissingParameter",
    "NoSuchProduct",
    "NoSuchVersion",
    "RequestLimitExceeded",
    "RequestLimitExceeded.UinLimitExceeded",
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
    "RequestSizeLimitExceeded",
    "ResponseSizeLimitExceeded",
    "ResourceInUse",
    "ResourceInsufficient",
    "ResourceNotFound",
    "ResourceUnavailable",
    "ServiceUnavailable",
    "UnauthorizedOperation",
    "UnknownParameter",
    "UnsupportedOperation",
    "UnsupportedProtocol",
    "UnsupportedRegion",
}


def aiart_codes() -> set[str]:
    return {v for k, v in vars(errorcodes).items() if k.isupper() and isinstance(v, str)}


def concrete_classes() -> list[type[errors.TencentError]]:
    """Every error class except the root (which only supplies defaults)."""
    return [c for c in errors.all_error_classes() if c is not errors.TencentError]


def test_the_pinned_sdk_has_29_plus_codes() -> None:
    codes = aiart_codes()
    assert "InvalidParameterValue.StyleConflict" in codes
    assert len(codes) >= 29


@pytest.mark.parametrize("cls", concrete_classes(), ids=lambda c: c.__name__)
def test_every_error_class_has_a_tencent_code(cls: type[errors.TencentError]) -> None:
    known = aiart_codes() | COMMON_CODES
    code = cls.code
    if any(sub.code.startswith(code + ".") for sub in cls.__subclasses__()):
        # a category class (AuthFailure, OperationDenied, ...): its code must head real codes
        assert any(k == code or k.startswith(code + ".") for k in known), code
        return
    assert code in known or code in errors.NOT_APPLICABLE, f"{cls.__name__}: {code} is not a Tencent code"
    assert cls.message, cls


def test_every_aiart_code_is_implemented_or_not_applicable() -> None:
    implemented = {c.code for c in concrete_classes()}
    missing = sorted(aiart_codes() - implemented - set(errors.NOT_APPLICABLE))
    assert not missing, f"aiart codes with neither a class nor a NOT_APPLICABLE reason: {missing}"


def test_not_applicable_lists_only_real_codes_with_reasons() -> None:
    for code, reason in errors.NOT_APPLICABLE.items():
        assert code in aiart_codes() | COMMON_CODES, code
        assert reason.strip(), code


def test_codes_are_unique_per_class() -> None:
    seen: dict[str, str] = {}
    for cls in concrete_classes():
        assert cls.code not in seen, f"{cls.__name__} and {seen[cls.code]} share {cls.code}"
        seen[cls.code] = cls.__name__
