"""The wire error catalogue: one class per Tencent code.

Raise these anywhere; only :mod:`restyle.api.envelope` turns them into JSON.
Each class carries its wire ``code`` and a default ``message``; raise with a
message that names the field, the value received and what is allowed.

Tree, grouped by Tencent category::

    TencentError
    ├── AuthFailure ........................ AuthFailure.*
    │   ├── InvalidAuthorization, SecretIdNotFound, SignatureExpire,
    │   └── SignatureFailure, UnauthorizedOperation, TokenFailure
    ├── FailedOperation .................... FailedOperation.*
    │   ├── ImageDecodeFailed, ImageDownloadError, ImageResolutionExceed,
    │   ├── ImageSizeExceed, InnerError, RequestEntityTooLarge, RequestTimeout,
    │   └── GenerateImageFailed, ModerationFailed, ServerError, ...
    ├── InvalidParameter ................... InvalidParameter(.InvalidParameter)
    ├── InvalidParameterValue .............. InvalidParameterValue.*
    │   └── ImageEmpty, ParameterValueError, StyleConflict, TextLengthExceed, UrlIllegal, LogoParamErr
    ├── OperationDenied .................... ImageIllegalDetected, TextIllegalDetected
    ├── RequestLimitExceeded ............... RequestLimitExceeded, .JobNumExceed
    ├── ResourceUnavailable ................ StopUsing, LowBalance, ...
    └── API 3.0 common ..................... MissingParameter, InvalidAction, NoSuchVersion,
                                             UnsupportedRegion, UnknownParameter, ...
"""

from __future__ import annotations

from typing import ClassVar


class TencentError(Exception):
    """Base: an error that is answered on the wire with ``code`` and a message."""

    code: ClassVar[str] = "FailedOperation.InnerError"
    message: ClassVar[str] = "Internal error, please retry."

    def __init__(self, message: str | None = None) -> None:
        self.detail = message or self.message
        super().__init__(self.detail)

    def __str__(self) -> str:
        return f"[{self.code}] {self.detail}"


# --- categories -------------------------------------------------------------------------------
class AuthFailure(TencentError):
    code = "AuthFailure"
    message = "Authentication failed."


class FailedOperation(TencentError):
    code = "FailedOperation"
    message = "Operation failed."


class InvalidParameter(TencentError):
    code = "InvalidParameter"
    message = "Invalid parameter."


class InvalidParameterValue(TencentError):
    code = "InvalidParameterValue"
    message = "Invalid parameter value."


class OperationDenied(TencentError):
    code = "OperationDenied"
    message = "Operation denied."


class RequestLimitExceeded(TencentError):
    code = "RequestLimitExceeded"
    message = "Your request rate exceeds the limit of this account, please retry later."


class ResourceUnavailable(TencentError):
    code = "ResourceUnavailable"
    message = "Resource unavailable."


# --- AuthFailure.* ----------------------------------------------------------------------------
class InvalidAuthorization(AuthFailure):
    code = "AuthFailure.InvalidAuthorization"
    message = "The Authorization header is missing or malformed."


class SecretIdNotFound(AuthFailure):
    code = "AuthFailure.SecretIdNotFound"
    message = "The SecretId is not found, please ensure that your SecretId is correct."


class SignatureExpire(AuthFailure):
    code = "AuthFailure.SignatureExpire"
    message = "The signature is expired, please request again."


class SignatureFailure(AuthFailure):
    code = "AuthFailure.SignatureFailure"
    message = "The provided credentials could not be validated. Please check your signature is correct."


class UnauthorizedOperation(AuthFailure):
    code = "AuthFailure.UnauthorizedOperation"
    message = "This key is not authorized to perform the operation."


class TokenFailure(AuthFailure):
    code = "AuthFailure.TokenFailure"
    message = "The temporary credential token is invalid."


class InvalidSecretId(AuthFailure):
    code = "AuthFailure.InvalidSecretId"
    message = "The SecretId is not a cloud API key."


# --- FailedOperation.* ------------------------------------------------------------------------
class ImageDecodeFailed(FailedOperation):
    code = "FailedOperation.ImageDecodeFailed"
    message = "The image could not be decoded."


class ImageDownloadError(FailedOperation):
    code = "FailedOperation.ImageDownloadError"
    message = "The image could not be downloaded."


class ImageResolutionExceed(FailedOperation):
    code = "FailedOperation.ImageResolutionExceed"
    message = "The image resolution is too large."


class ImageSizeExceed(FailedOperation):
    code = "FailedOperation.ImageSizeExceed"
    message = "The image is too large."


class InnerError(FailedOperation):
    code = "FailedOperation.InnerError"
    message = "Internal error, please retry."


class RequestEntityTooLarge(FailedOperation):
    code = "FailedOperation.RequestEntityTooLarge"
    message = "The request body is too large."


class RequestTimeout(FailedOperation):
    code = "FailedOperation.RequestTimeout"
    message = "The job exceeded its time budget."


class GenerateImageFailed(FailedOperation):
    code = "FailedOperation.GenerateImageFailed"
    message = "The generated image did not pass review, please retry."


class ModerationFailed(FailedOperation):
    code = "FailedOperation.ModerationFailed"
    message = "Moderation failed."


class ServerError(FailedOperation):
    code = "FailedOperation.ServerError"
    message = "Internal server error."


class RpcFail(FailedOperation):
    code = "FailedOperation.RpcFail"
    message = "The algorithm service failed."


class JobNotExist(FailedOperation):
    code = "FailedOperation.JobNotExist"
    message = "The job does not exist."


class ConsoleServerError(FailedOperation):
    code = "FailedOperation.ConsoleServerError"
    message = "Console service error."


class UnknownFailure(FailedOperation):
    code = "FailedOperation.Unknown"
    message = "Unknown error."


# --- InvalidParameter(Value).* ---------------------------------------------------------------
class InvalidParameterType(InvalidParameter):
    code = "InvalidParameter.InvalidParameter"
    message = "Invalid parameter."


class ImageEmpty(InvalidParameterValue):
    code = "InvalidParameterValue.ImageEmpty"
    message = "No input image: set InputImage or InputUrl."


class ParameterValueError(InvalidParameterValue):
    code = "InvalidParameterValue.ParameterValueError"
    message = "A parameter value is wrong."


class StyleConflict(InvalidParameterValue):
    code = "InvalidParameterValue.StyleConflict"
    message = "1xx styles cannot be mixed with other styles."


class TextLengthExceed(InvalidParameterValue):
    code = "InvalidParameterValue.TextLengthExceed"
    message = "The text is too long."


class UrlIllegal(InvalidParameterValue):
    code = "InvalidParameterValue.UrlIllegal"
    message = "The URL is not allowed."


class LogoParamErr(InvalidParameterValue):
    code = "InvalidParameterValue.LogoParamErr"
    message = "This engine does not support a custom logo."


# --- OperationDenied.* -----------------------------------------------------------------------
class ImageIllegalDetected(OperationDenied):
    code = "OperationDenied.ImageIllegalDetected"
    message = "The input image did not pass moderation."


class TextIllegalDetected(OperationDenied):
    code = "OperationDenied.TextIllegalDetected"
    message = "The text did not pass moderation."


# --- RequestLimitExceeded.* ------------------------------------------------------------------
class JobNumExceed(RequestLimitExceeded):
    code = "RequestLimitExceeded.JobNumExceed"
    message = "This account already runs its maximum number of concurrent jobs."


# --- ResourceUnavailable.* / ResourcesSoldOut.* ----------------------------------------------
class StopUsing(ResourceUnavailable):
    code = "ResourceUnavailable.StopUsing"
    message = "The service is stopped for this account."


class LowBalance(ResourceUnavailable):
    code = "ResourceUnavailable.LowBalance"
    message = "The account's quota is used up."


class InArrears(ResourceUnavailable):
    code = "ResourceUnavailable.InArrears"
    message = "The account is in arrears."


class Delivering(ResourceUnavailable):
    code = "ResourceUnavailable.Delivering"
    message = "The resource is being provisioned."


class NotExist(ResourceUnavailable):
    code = "ResourceUnavailable.NotExist"
    message = "The service is not activated for this account."


class ChargeStatusException(TencentError):
    code = "ResourcesSoldOut.ChargeStatusException"
    message = "Billing status is abnormal."


# --- API 3.0 common codes --------------------------------------------------------------------
class MissingParameter(TencentError):
    code = "MissingParameter"
    message = "The request is missing a required parameter `Action`."


class InvalidAction(TencentError):
    code = "InvalidAction"
    message = "The request `Action` is invalid or not found."


class NoSuchVersion(TencentError):
    code = "NoSuchVersion"
    message = "The request `Version` is invalid or not found."


class UnsupportedRegion(TencentError):
    code = "UnsupportedRegion"
    message = "The request `Region` is not supported."


class UnknownParameter(TencentError):
    code = "UnknownParameter"
    message = "The request has an undefined parameter."


class UnsupportedProtocol(TencentError):
    code = "UnsupportedProtocol"
    message = "Only GET and POST over HTTP(S) are supported."


class InternalError(TencentError):
    code = "InternalError"
    message = "Internal error."


#: Tencent aiart codes (errorcodes.py, aiart 3.1.82) that restyle never answers, and why.
NOT_APPLICABLE: dict[str, str] = {
    "FailedOperation.ConsoleServerError": "restyle has no console service",
    "FailedOperation.JobNotExist": "ImageToImage is synchronous; no job lookup action",
    "FailedOperation.ModerationFailed": "moderators run in-process; a failing moderator is InnerError",
    "FailedOperation.RpcFail": "engines run in-process by default",
    "FailedOperation.ServerError": "unexpected failures answer FailedOperation.InnerError",
    "FailedOperation.Unknown": "unexpected failures answer FailedOperation.InnerError",
    "ResourceUnavailable.Delivering": "no provisioning step",
    "ResourceUnavailable.InArrears": "no billing",
    "ResourceUnavailable.NotExist": "no billing",
    "ResourcesSoldOut.ChargeStatusException": "no billing",
}


def all_error_classes() -> list[type[TencentError]]:
    """Every concrete error class, for the catalogue test and docs."""
    out: list[type[TencentError]] = []
    stack: list[type[TencentError]] = [TencentError]
    while stack:
        cls = stack.pop()
        out.append(cls)
        stack.extend(cls.__subclasses__())
    return out
