"""Wire shapes: Tencent's PascalCase request keys and types, one TypedDict per action (aiart 2022-12-29).

Each TypedDict is the only declaration of its action's request; pydantic validates it (strict,
unknown keys forbidden) and :func:`parse` maps pydantic's errors onto Tencent's codes with the
messages clients see:

    extra key                       → UnknownParameter   "The parameter `X` is not defined for <Action>."
    wrong JSON type / out of int64  → InvalidParameter   "Parameter `X` must be an integer, got str '7a'."
    not an object at all            → InvalidParameter   "The request body must be a JSON object, got list."

Only types are checked here; value ranges are every one in :func:`restyle.pipeline.check.check_job`.
A JSON null means "absent" (the SDK omits None). Flattened GET / v1 parameters (``Styles.0=201``,
``LogoParam.LogoRect.X=10``) arrive as strings: :func:`unflatten` nests them and, with
``from_strings``, numbers are read from plain ASCII decimals and digit-keyed objects become arrays.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Annotated, Any, NotRequired, TypeVar

import pydantic
from pydantic import BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError, ValidationInfo
from pydantic_core import ErrorDetails
from typing_extensions import TypedDict  # pydantic reads TypedDicts from typing_extensions on 3.11

from restyle import errors, untrusted

T = TypeVar("T")
CONFIG = ConfigDict(strict=True, extra="forbid")
INT64 = (-(2**63), 2**63 - 1)


# --- field types ------------------------------------------------------------------------------------
def _from_strings(parse: Callable[[str], Any]) -> BeforeValidator:
    """Flattened parameters are strings: read the number (an unreadable one fails as the string)."""

    def convert(value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and info.context and info.context.get("from_strings"):
            number = parse(value.strip())
            return value if number is None else number
        return value

    return BeforeValidator(convert)


def _digit_keyed_list(value: Any, info: ValidationInfo) -> Any:
    """``Styles.0=201&Styles.1=133`` unflattens to ``{"0": "201", "1": "133"}``: an array."""
    if (
        isinstance(value, dict)
        and info.context
        and info.context.get("from_strings")
        and all(untrusted.is_digits(k, 9) for k in value)
    ):
        return [value[k] for k in sorted(value, key=int)]
    return value


def keys(shape: Any) -> frozenset[str]:
    """The keys a request TypedDict declares."""
    return frozenset(shape.__required_keys__ | shape.__optional_keys__)


def _without_nulls(shape: Any, value: Any) -> Any:
    """A JSON null for a known key means the key is absent (an unknown key is reported all the same).

    An object with more keys than ``shape`` declares has an unknown one among its first ``len + 1``,
    so the first error in reading order is there: the rest is not validated (a body of a million
    unknown keys costs what one does)."""
    if isinstance(value, dict):
        known = keys(shape)
        items = itertools.islice(value.items(), len(known) + 1)
        return {k: v for k, v in items if v is not None or k not in known}
    return value


def _absent_if_null(shape: Any) -> BeforeValidator:
    return BeforeValidator(functools.partial(_without_nulls, shape))


Int = Annotated[int, _from_strings(untrusted.ascii_int), Field(ge=INT64[0], le=INT64[1])]
Float = Annotated[float, _from_strings(untrusted.ascii_float)]
#: fail_fast: the first bad item is the error; a million bad items cost what one does
StrList = Annotated[list[str], Field(fail_fast=True), BeforeValidator(_digit_keyed_list)]


# --- the requests -----------------------------------------------------------------------------------
@pydantic.with_config(CONFIG)
class LogoRect(TypedDict):
    X: NotRequired[Int]
    Y: NotRequired[Int]
    Width: NotRequired[Int]
    Height: NotRequired[Int]


@pydantic.with_config(CONFIG)
class LogoParam(TypedDict):
    LogoUrl: NotRequired[str]
    LogoImage: NotRequired[str]
    LogoRect: NotRequired[Annotated[LogoRect, _absent_if_null(LogoRect)]]


@pydantic.with_config(CONFIG)
class ResultConfig(TypedDict):
    Resolution: NotRequired[str]


@pydantic.with_config(CONFIG)
class ImageToImageRequest(TypedDict):
    InputImage: NotRequired[str]
    InputUrl: NotRequired[str]
    Prompt: NotRequired[str]
    NegativePrompt: NotRequired[str]
    Styles: NotRequired[StrList]
    ResultConfig: NotRequired[Annotated[ResultConfig, _absent_if_null(ResultConfig)]]
    LogoAdd: NotRequired[Int]
    LogoParam: NotRequired[Annotated[LogoParam, _absent_if_null(LogoParam)]]
    Strength: NotRequired[Float]
    RspImgType: NotRequired[str]
    EnhanceImage: NotRequired[Int]
    RestoreFace: NotRequired[Int]


@pydantic.with_config(CONFIG)
class SubmitImageToImageJobRequest(ImageToImageRequest):
    """Every ImageToImage field, plus the job's own (restyle.api.jobs)."""

    ClientToken: NotRequired[str]
    CallbackUrl: NotRequired[str]
    ResultTtl: NotRequired[Int]


@pydantic.with_config(CONFIG)
class JobIdRequest(TypedDict):
    """QueryImageToImageJob, CancelImageToImageJob, DeleteImageToImageResult."""

    JobId: NotRequired[str]


class ImageToImageResponse(TypedDict):
    ResultImage: str
    RequestId: str


# --- parsing ----------------------------------------------------------------------------------------
#: what each pydantic error type means on the wire ("Parameter `X` must be <this>, got ...")
EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "greater_than_equal": "a 64-bit integer",
    "less_than_equal": "a 64-bit integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "list_type": "an array",
    "dict_type": "an object",
}


#: one validator per action's request, built at import (a schema mistake fails at startup)
ADAPTERS: dict[Any, TypeAdapter[Any]] = {
    shape: TypeAdapter(shape) for shape in (ImageToImageRequest, SubmitImageToImageJobRequest, JobIdRequest)
}


def parse(shape: type[T], value: Any, *, from_strings: bool = False, action: str = "ImageToImage") -> T:
    """Type-check the parameter object of ``action`` (JSON body, or unflattened query/form)."""
    if not isinstance(value, dict):
        msg = f"The request body must be a JSON object, got {type(value).__name__}."
        raise errors.InvalidParameterType(msg)
    try:
        value = _without_nulls(shape, value)
        result: T = ADAPTERS[shape].validate_python(value, context={"from_strings": from_strings})
    except ValidationError as exc:
        raise _wire_error(exc, value, action) from None
    return result


def parse_params(value: Any, *, from_strings: bool = False) -> ImageToImageRequest:
    """Type-check an ImageToImage parameter object."""
    return parse(ImageToImageRequest, value, from_strings=from_strings)


def _loc(error: ErrorDetails) -> tuple[int | str, ...]:
    """Where the error is; a key that is not valid Unicode (a lone surrogate) is reported by the
    object holding it, and is named here: no declared key is such a key."""
    if error["type"] == "string_unicode" and not (error["loc"] and isinstance(error["loc"][-1], int)):
        return (*error["loc"], error["input"])
    return tuple(error["loc"])


def _wire_error(exc: ValidationError, value: Any, action: str) -> errors.TencentError:
    """The error the caller meets first reading its own object in order (as a hand walk would)."""
    first = min(exc.errors(), key=lambda e: _position(value, _loc(e)))
    path = ".".join(str(part) for part in _loc(first))
    shown_path = untrusted.shown(path)[1:-1]
    if first["type"] in ("extra_forbidden", "string_unicode"):
        msg = f"The parameter `{shown_path}` is not defined for {action}."
        return errors.UnknownParameter(msg)
    expected = EXPECTED.get(first["type"])
    if expected is None:  # a pydantic error type this table does not know: a defect, seen in tests
        msg = f"unmapped validation error {first['type']!r} at {path!r}"
        raise AssertionError(msg)
    got = first["input"]
    msg = f"Parameter `{shown_path}` must be {expected}, got {type(got).__name__} {untrusted.shown(got)}."
    return errors.InvalidParameterType(msg)


def _position(value: Any, loc: tuple[int | str, ...]) -> tuple[int, ...]:
    """Where ``loc`` sits in ``value``, as indexes in reading order (keys in the order sent)."""
    out: list[int] = []
    for part in loc:
        if isinstance(value, dict):  # errors lie among the first keys (see _without_nulls)
            out.append(next((i for i, key in enumerate(value) if key == part), len(value)))
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            out.append(part)
            value = value[part]
        else:
            out.append(0)
    return tuple(out)


def unflatten(flat: dict[str, str]) -> dict[str, Any]:
    """``{"Styles.0": "201", "LogoParam.LogoRect.X": "1"}`` → nested dicts (lists stay digit-keyed dicts)."""
    root: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                msg = f"Parameter {untrusted.shown(key)} conflicts with {untrusted.shown(part)}."
                raise errors.InvalidParameterType(msg)
            node = nxt
        if isinstance(node.get(parts[-1]), dict):
            msg = f"Parameter {untrusted.shown(key)} conflicts with its nested fields."
            raise errors.InvalidParameterType(msg)
        node[parts[-1]] = value
    return root
