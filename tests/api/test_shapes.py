"""api/shapes.py: one TypedDict per action, validated by pydantic, errors in Tencent's codes and words."""

from __future__ import annotations

from typing import Any

import pytest

from restyle import errors
from restyle.api import shapes

UNKNOWN = "UnknownParameter"
TYPE = "InvalidParameter.InvalidParameter"

CASES: list[tuple[Any, bool, str, str]] = [
    ({"Strength": "abc"}, False, TYPE, "Parameter `Strength` must be a number, got str 'abc'."),
    ({"Foo": 1}, False, UNKNOWN, "The parameter `Foo` is not defined for ImageToImage."),
    ({"Foo": None}, False, UNKNOWN, "The parameter `Foo` is not defined for ImageToImage."),
    ({"Styles": [None]}, False, TYPE, "Parameter `Styles.0` must be a string, got NoneType None."),
    ({"Styles": "201"}, False, TYPE, "Parameter `Styles` must be an array, got str '201'."),
    ({"Styles": {"0": "201"}}, False, TYPE, "Parameter `Styles` must be an array, got dict {'0': '201'}."),
    ({"Strength": True}, False, TYPE, "Parameter `Strength` must be a number, got bool True."),
    ({"LogoAdd": 1.0}, False, TYPE, "Parameter `LogoAdd` must be an integer, got float 1.0."),
    ({"LogoAdd": 2**63}, False, TYPE, f"Parameter `LogoAdd` must be a 64-bit integer, got int {2**63}."),
    ({"LogoParam": 3}, False, TYPE, "Parameter `LogoParam` must be an object, got int 3."),
    (
        {"LogoParam": {"LogoRect": {"Z": 1}}},
        False,
        UNKNOWN,
        "The parameter `LogoParam.LogoRect.Z` is not defined for ImageToImage.",
    ),
    (
        {"ResultConfig": {"Resolution": 5}},
        False,
        TYPE,
        "Parameter `ResultConfig.Resolution` must be a string, got int 5.",
    ),
    # the first problem in the order the caller wrote its keys is the one reported
    ({"Strength": "abc", "Foo": 1}, False, TYPE, "Parameter `Strength` must be a number, got str 'abc'."),
    ({"Foo": 1, "Strength": "abc"}, False, UNKNOWN, "The parameter `Foo` is not defined for ImageToImage."),
    ({"Styles": ["a", 5]}, False, TYPE, "Parameter `Styles.1` must be a string, got int 5."),
    # a key no JSON encoder would write (a lone surrogate escape) is an unknown key, named as sent
    ({"\udfff": 1}, False, UNKNOWN, "The parameter `\\udfff` is not defined for ImageToImage."),
    (
        {"LogoParam": {"\ud800": 1}},
        False,
        UNKNOWN,
        "The parameter `LogoParam.\\ud800` is not defined for ImageToImage.",
    ),
    # flattened GET / v1 parameters: plain ASCII decimals only
    ({"RestoreFace": "3.0"}, True, TYPE, "Parameter `RestoreFace` must be an integer, got str '3.0'."),
    ({"Strength": "nan"}, True, TYPE, "Parameter `Strength` must be a number, got str 'nan'."),
    ({"Styles": "201"}, True, TYPE, "Parameter `Styles` must be an array, got str '201'."),
    (
        {"LogoParam": {"LogoRect": {"X": "1", "Width": "x"}}},
        True,
        TYPE,
        "Parameter `LogoParam.LogoRect.Width` must be an integer, got str 'x'.",
    ),
    ([1], False, TYPE, "The request body must be a JSON object, got list."),
]


@pytest.mark.parametrize(("value", "from_strings", "code", "message"), CASES)
def test_wire_errors(value: Any, from_strings: bool, code: str, message: str) -> None:
    with pytest.raises(errors.TencentError) as info:
        shapes.parse_params(value, from_strings=from_strings)
    assert (info.value.code, info.value.detail) == (code, message)


def test_valid_requests_and_nulls() -> None:
    full = {"Styles": ["201"], "Strength": 1, "LogoParam": {"LogoRect": {"X": 1}, "LogoUrl": None}}
    assert shapes.parse_params(full) == {
        "Styles": ["201"],
        "Strength": 1.0,
        "LogoParam": {"LogoRect": {"X": 1}},
    }
    assert shapes.parse_params({"Strength": None, "Prompt": None}) == {}
    assert shapes.parse_params({"LogoAdd": -(2**63)}) == {"LogoAdd": -(2**63)}


def test_flattened_strings() -> None:
    flat = {"Styles.1": "133", "Styles.0": "201", "RestoreFace": " 3 ", "Strength": "0.5"}
    parsed = shapes.parse_params(shapes.unflatten(flat), from_strings=True)
    assert parsed == {"Styles": ["201", "133"], "RestoreFace": 3, "Strength": 0.5}


def test_every_action_has_its_shape() -> None:
    submit = {"Styles": ["201"], "ClientToken": "t-1", "ResultTtl": "600"}
    assert shapes.parse(shapes.SubmitImageToImageJobRequest, submit, from_strings=True)["ResultTtl"] == 600
    with pytest.raises(errors.UnknownParameter, match="`Styles` is not defined for QueryImageToImageJob"):
        shapes.parse(shapes.JobIdRequest, {"Styles": []}, action="QueryImageToImageJob")
    assert set(shapes.keys(shapes.SubmitImageToImageJobRequest)) > set(
        shapes.keys(shapes.ImageToImageRequest)
    )


def test_hostile_sizes_stop_at_the_first_error() -> None:
    """A million bad items or unknown keys are one error, reported as the first one."""
    with pytest.raises(errors.InvalidParameterType, match=r"`Styles\.0` must be a string, got int 0"):
        shapes.parse_params({"Styles": list(range(1_000_000))})
    many = {f"K{i}": i for i in range(200_000)}
    with pytest.raises(errors.UnknownParameter, match="`K0` is not"):
        shapes.parse_params(many)
    with pytest.raises(errors.UnknownParameter, match="`LogoParam.K0` is not"):
        shapes.parse_params({"LogoParam": many})


def test_job_actions_have_their_own_shapes_and_name_their_action() -> None:
    assert shapes.parse(shapes.SubmitImageToImageJobRequest, {"ResultTtl": 60}) == {"ResultTtl": 60}
    assert shapes.parse(shapes.JobIdRequest, {"JobId": "x"}) == {"JobId": "x"}
    with pytest.raises(errors.UnknownParameter, match="`Styles` is not defined for QueryImageToImageJob"):
        shapes.parse(shapes.JobIdRequest, {"JobId": "x", "Styles": ["201"]}, action="QueryImageToImageJob")
    with pytest.raises(errors.InvalidParameterType, match="`ResultTtl` must be"):
        shapes.parse(
            shapes.SubmitImageToImageJobRequest, {"ResultTtl": "soon"}, action="SubmitImageToImageJob"
        )
