"""Contract §10, the parameter rows: text, styles, enums and ranges, logo, JSON types and unknown fields."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import b64
from tests.wire import sdk
from tests.wire.media import blank_png, jpeg_b64, result_jpeg
from tests.wire.sdk import Target

PVE = "InvalidParameterValue.ParameterValueError"
TYPE_ERROR = "InvalidParameter.InvalidParameter"


def _image() -> dict[str, Any]:
    return {"InputImage": jpeg_b64(96, 96)}


def _code(target: Target, params: dict[str, Any]) -> str:
    return str(sdk.expect_error(sdk.client(target), params).get_code())


# --- text ----------------------------------------------------------------------------------------
@pytest.mark.derived_from_docs
@pytest.mark.parametrize("field", ["Prompt", "NegativePrompt"])
@pytest.mark.parametrize("char", ["a", "猫"], ids=["ascii", "cjk"])
def test_text_of_257_chars_is_length_exceed(wire: Target, field: str, char: str) -> None:
    assert _code(wire, {**_image(), field: char * 257}) == "InvalidParameterValue.TextLengthExceed"


@pytest.mark.derived_from_docs
def test_text_of_256_chars_is_accepted(wire: Target) -> None:
    resp = sdk.call(sdk.client(wire), {**_image(), "Prompt": "猫" * 256, "NegativePrompt": "a" * 256})
    assert resp.ResultImage


@pytest.mark.restyle_only
@pytest.mark.parametrize(
    ("field", "text"), [("Prompt", "nude"), ("Prompt", "a NUDE girl"), ("NegativePrompt", "nude")]
)
def test_blocked_text_is_text_illegal(wire: Target, field: str, text: str) -> None:
    assert _code(wire, {**_image(), field: text}) == "OperationDenied.TextIllegalDetected"


# --- styles --------------------------------------------------------------------------------------
@pytest.mark.derived_from_docs
@pytest.mark.parametrize("styles", [["104", "201"], ["201", "104"], ["104", "107"], ["104", "104"]])
def test_1xx_mixed_with_another_style_is_style_conflict(wire: Target, styles: list[str]) -> None:
    assert _code(wire, {**_image(), "Styles": styles}) == "InvalidParameterValue.StyleConflict"


@pytest.mark.derived_from_docs
@pytest.mark.parametrize("styles", [["201", "203"], ["104"], [], ["210", "201", "203"]])
def test_styles_without_conflict_are_accepted(wire: Target, styles: list[str]) -> None:
    """Several non-1xx ids: the first is used; an empty list means the default 201."""
    resp = sdk.call(sdk.client(wire), {**_image(), "Styles": styles, "LogoAdd": 0})
    assert result_jpeg(resp.ResultImage).size == (96, 96)


@pytest.mark.restyle_only
@pytest.mark.parametrize("styles", [["999"], ["000"], [""], ["201 "], ["abc"], ["999", "201"]])
def test_unknown_style_is_parameter_value_error(wire: Target, styles: list[str]) -> None:
    assert _code(wire, {**_image(), "Styles": styles}) == PVE


# --- enums and ranges ----------------------------------------------------------------------------
@pytest.mark.restyle_only
@pytest.mark.parametrize("resolution", ["512:512", "768x768", "", "ORIGIN", "1024:1024", "768:768 "])
def test_bad_resolution_is_parameter_value_error(wire: Target, resolution: str) -> None:
    assert _code(wire, {**_image(), "ResultConfig": {"Resolution": resolution}}) == PVE


@pytest.mark.derived_from_docs
@pytest.mark.parametrize("strength", [0, 0.0, -0.1, 1.0000001, 1.5, 100])
def test_strength_outside_0_1_is_parameter_value_error(wire: Target, strength: float) -> None:
    assert _code(wire, {**_image(), "Strength": strength}) == PVE


@pytest.mark.derived_from_docs
def test_strength_of_exactly_1_is_accepted(wire: Target) -> None:
    assert sdk.call(sdk.client(wire), {**_image(), "Strength": 1, "LogoAdd": 0}).ResultImage


@pytest.mark.restyle_only
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("RspImgType", "png"),
        ("RspImgType", "URL"),
        ("RspImgType", ""),
        ("EnhanceImage", 2),
        ("EnhanceImage", -1),
        ("RestoreFace", 7),
        ("RestoreFace", -1),
    ],
)
def test_bad_enum_value_is_parameter_value_error(wire: Target, field: str, value: object) -> None:
    assert _code(wire, {**_image(), field: value}) == PVE


@pytest.mark.derived_from_docs
@pytest.mark.parametrize("logo_add", [0, 1, 2, -5])
def test_logo_add_other_values_mean_1(wire: Target, logo_add: int) -> None:
    """Doc: 1 = add the label (default), 0 = none, any other value is treated as 1."""
    assert sdk.call(sdk.client(wire), {**_image(), "LogoAdd": logo_add}).ResultImage


# --- logo ----------------------------------------------------------------------------------------
LOGO = b64(blank_png(64, 32))


@pytest.mark.restyle_only
@pytest.mark.parametrize(
    ("resolution", "logo"),
    [
        ("768:768", {"LogoImage": LOGO}),
        ("768:768", {"LogoImage": LOGO, "LogoRect": {"X": 700, "Y": 700, "Width": 100, "Height": 100}}),
        ("768:1024", {"LogoImage": LOGO, "LogoRect": {"X": 0, "Y": 1000, "Width": 10, "Height": 25}}),
        ("768:768", {"LogoImage": LOGO, "LogoRect": {"X": 0, "Y": 0, "Width": 0, "Height": 10}}),
        ("768:768", {"LogoImage": LOGO, "LogoRect": {"X": -1, "Y": 0, "Width": 10, "Height": 10}}),
        ("origin", {"LogoImage": LOGO, "LogoRect": {"X": 50, "Y": 50, "Width": 100, "Height": 10}}),
        ("768:768", {"LogoRect": {"X": 0, "Y": 0, "Width": 10, "Height": 10}}),
    ],
    ids=[
        "rect-missing",
        "outside",
        "outside-bottom",
        "zero-width",
        "negative-x",
        "outside-origin",
        "no-image",
    ],
)
def test_bad_logo_param_is_parameter_value_error(wire: Target, resolution: str, logo: dict[str, Any]) -> None:
    params = {**_image(), "ResultConfig": {"Resolution": resolution}, "LogoParam": logo}
    assert _code(wire, params) == PVE


@pytest.mark.derived_from_docs
def test_logo_inside_the_result_is_accepted(wire: Target) -> None:
    logo = {"LogoImage": LOGO, "LogoRect": {"X": 668, "Y": 718, "Width": 100, "Height": 50}}
    params = {**_image(), "ResultConfig": {"Resolution": "768:768"}, "LogoParam": logo}
    assert result_jpeg(sdk.call(sdk.client(wire), params).ResultImage).size == (768, 768)


@pytest.mark.derived_from_docs
def test_logo_param_is_ignored_when_logo_add_is_0(wire: Target) -> None:
    params = {**_image(), "LogoAdd": 0, "LogoParam": {"LogoImage": LOGO}}
    assert sdk.call(sdk.client(wire), params).ResultImage


# --- JSON types and unknown fields (CommonClient sends any JSON) --------------------------------
@pytest.mark.derived_from_docs
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Strength", "abc"),
        ("Strength", "0.5"),
        ("Strength", True),
        ("Styles", "201"),
        ("Styles", [201]),
        ("InputImage", 123),
        ("LogoAdd", 1.5),
        ("LogoAdd", "1"),
        ("RestoreFace", [1]),
        ("ResultConfig", "768:768"),
        ("LogoParam", {"LogoRect": {"X": "0", "Y": 0, "Width": 1, "Height": 1}}),
        ("EnhanceImage", 2**63),
    ],
)
def test_wrong_json_type_is_invalid_parameter(wire: Target, field: str, value: object) -> None:
    err = sdk.expect_error(sdk.common_client(wire), {**_image(), field: value})
    assert err.get_code() == TYPE_ERROR
    assert field in err.get_message()


@pytest.mark.derived_from_docs
@pytest.mark.parametrize(
    "params",
    [{"Foo": 1}, {"inputimage": "x"}, {"ResultConfig": {"Size": "768:768"}}, {"LogoParam": {"Rect": {}}}],
    ids=["top-level", "wrong-case", "nested", "nested-logo"],
)
def test_unknown_field_is_unknown_parameter(wire: Target, params: dict[str, Any]) -> None:
    err = sdk.expect_error(sdk.common_client(wire), {**_image(), **params})
    assert err.get_code() == "UnknownParameter"


@pytest.mark.restyle_only
@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b'"InputImage"',
        b"42",
        b"null",
        b"not json",
        b"{",
        b'{"Strength": NaN}',
        b"\xff\xfe{}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"InputImage": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["array", "string", "number", "null", "text", "truncated", "nan", "bad-utf8", "deep", "deep-field"],
)
def test_body_that_is_not_a_json_object_is_invalid_parameter(wire: Target, body: bytes) -> None:
    code, message = sdk.reply_error(sdk.raw_post(wire, body))
    assert code == TYPE_ERROR
    assert message


@pytest.mark.restyle_only
def test_json_null_field_means_absent(wire: Target) -> None:
    """The SDK omits None fields; a hand-written JSON null is treated the same way."""
    out = sdk.call_json(sdk.common_client(wire), {**_image(), "Strength": None, "LogoAdd": 0})
    assert out["Response"]["ResultImage"]
