"""Wire shapes: Tencent's PascalCase keys and types for ImageToImage (aiart 2022-12-29, SDK 3.1.82).

``parse_params`` checks JSON types only (wrong type → ``InvalidParameter.InvalidParameter``, unknown key →
``UnknownParameter``); value ranges are checked by :func:`restyle.pipeline.check.check_job`.
Flattened GET / v1 parameters (``Styles.0=201``, ``LogoParam.LogoRect.X=10``) arrive as strings and are
unflattened and converted here.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from restyle import errors, untrusted


class LogoRect(TypedDict):
    X: NotRequired[int]
    Y: NotRequired[int]
    Width: NotRequired[int]
    Height: NotRequired[int]


class LogoParam(TypedDict):
    LogoUrl: NotRequired[str]
    LogoImage: NotRequired[str]
    LogoRect: NotRequired[LogoRect]


class ResultConfig(TypedDict):
    Resolution: NotRequired[str]


class ImageToImageRequest(TypedDict):
    InputImage: NotRequired[str]
    InputUrl: NotRequired[str]
    Prompt: NotRequired[str]
    NegativePrompt: NotRequired[str]
    Styles: NotRequired[list[str]]
    ResultConfig: NotRequired[ResultConfig]
    LogoAdd: NotRequired[int]
    LogoParam: NotRequired[LogoParam]
    Strength: NotRequired[float]
    RspImgType: NotRequired[str]
    EnhanceImage: NotRequired[int]
    RestoreFace: NotRequired[int]


class ImageToImageResponse(TypedDict):
    ResultImage: str
    RequestId: str


# Schema as data: "str" | "int" | "float" | ["str"] (array of) | {nested schema}
Schema = dict[str, Any]
LOGO_RECT: Schema = {"X": "int", "Y": "int", "Width": "int", "Height": "int"}
IMAGE_TO_IMAGE: Schema = {
    "InputImage": "str",
    "InputUrl": "str",
    "Prompt": "str",
    "NegativePrompt": "str",
    "Styles": ["str"],
    "ResultConfig": {"Resolution": "str"},
    "LogoAdd": "int",
    "LogoParam": {"LogoUrl": "str", "LogoImage": "str", "LogoRect": LOGO_RECT},
    "Strength": "float",
    "RspImgType": "str",
    "EnhanceImage": "int",
    "RestoreFace": "int",
}
INT64 = (-(2**63), 2**63 - 1)


def _type_error(path: str, expected: str, value: Any) -> errors.TencentError:
    msg = f"Parameter `{untrusted.shown(path)[1:-1]}` must be {expected}, got {type(value).__name__} {untrusted.shown(value)}."
    return errors.InvalidParameterType(msg)


def _scalar(kind: str, value: Any, path: str, from_strings: bool) -> Any:
    if kind == "str":
        if isinstance(value, str):
            return value
        raise _type_error(path, "a string", value)
    if kind == "int":
        if from_strings and isinstance(value, str):
            number = untrusted.ascii_int(value.strip())
            if number is None:
                raise _type_error(path, "an integer", value)
            value = number
        if isinstance(value, int) and not isinstance(value, bool):
            if not INT64[0] <= value <= INT64[1]:
                raise _type_error(path, "a 64-bit integer", value)
            return value
        raise _type_error(path, "an integer", value)
    if kind == "float":
        if from_strings and isinstance(value, str):
            real = untrusted.ascii_float(value.strip())
            if real is None:
                raise _type_error(path, "a number", value)
            value = real
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise _type_error(path, "a number", value)
    msg = f"unknown schema kind {kind!r}"
    raise AssertionError(msg)


def _walk(schema: Any, value: Any, path: str, from_strings: bool) -> Any:
    if isinstance(schema, str):
        return _scalar(schema, value, path, from_strings)
    if isinstance(schema, list):
        if from_strings and isinstance(value, dict) and all(untrusted.is_digits(k, 9) for k in value):
            value = [value[k] for k in sorted(value, key=int)]
        if not isinstance(value, list):
            raise _type_error(path, "an array", value)
        return [_walk(schema[0], item, f"{path}.{i}", from_strings) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        raise _type_error(path, "an object", value)
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = f"{path}.{key}" if path else key
        if key not in schema:
            msg = f"The parameter `{untrusted.shown(sub)[1:-1]}` is not defined for ImageToImage."
            raise errors.UnknownParameter(msg)
        if item is None:  # the SDK omits None; a JSON null means "absent"
            continue
        out[key] = _walk(schema[key], item, sub, from_strings)
    return out


def parse_params(value: Any, *, from_strings: bool = False) -> ImageToImageRequest:
    """Type-check an ImageToImage parameter object (JSON body, or unflattened query/form)."""
    if not isinstance(value, dict):
        msg = f"The request body must be a JSON object, got {type(value).__name__}."
        raise errors.InvalidParameterType(msg)
    result: ImageToImageRequest = _walk(IMAGE_TO_IMAGE, value, "", from_strings)
    return result


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
