"""RestoreFace (``detail`` restorer): faces come back closer to the original; nothing else changes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data
from skimage.metrics import structural_similarity

from restyle.engines import StyleRequest
from restyle.faces import detect_faces
from restyle.pipeline import restore
from restyle.restorers import detail, none
from restyle.styles import catalogue
from tests.conftest import assert_thread_safe, encode, photo
from tests.pipeline import kit

pytestmark = pytest.mark.restyle_only


def strong_style(img: np.ndarray) -> np.ndarray:
    """A heavy, deterministic stand-in for a style engine: flattened, posterised, hue-shifted."""
    flat = img
    for _ in range(3):
        flat = cv2.bilateralFilter(flat, 9, 60, 9)
    flat = cv2.GaussianBlur(flat, (0, 0), 3.0)
    poster = (flat // 48) * 48 + 24
    hsv = cv2.cvtColor(poster.astype(np.uint8), cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(int) + 25) % 180
    return np.ascontiguousarray(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))


def classic_style(img: np.ndarray, style_id: str = "201") -> np.ndarray:
    from restyle.engines import classic

    style = catalogue()[style_id]
    return classic.Engine().stylize(img, StyleRequest(style=style, strength=1.0, seed=1))


def luma(img: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))


def face_ssim(a: np.ndarray, b: np.ndarray, box: tuple[int, int, int, int]) -> float:
    x, y, w, h = box
    return float(
        structural_similarity(luma(a)[y : y + h, x : x + w], luma(b)[y : y + h, x : x + w], data_range=255)
    )


def outside_boxes(shape: tuple[int, ...], boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    mask = np.ones(shape[:2], bool)
    for box in boxes:
        x0, y0, x1, y1 = detail.padded_box(box, shape[1], shape[0])
        mask[y0:y1, x0:x1] = False
    return mask


@pytest.mark.parametrize("stylise", [strong_style, pytest.param(classic_style, marks=pytest.mark.slow)])
@pytest.mark.parametrize("size", [512, 768])
def test_face_comes_back_closer_to_the_original(stylise: object, size: int) -> None:
    original = photo("astronaut", (size, size))
    stylised = stylise(original)  # type: ignore[operator]
    faces = detect_faces(original, 6)
    assert len(faces) == 1
    restored = detail.Restorer().restore(original, stylised, 1)
    before, after = face_ssim(original, stylised, faces[0]), face_ssim(original, restored, faces[0])
    assert after > before + 0.1, (before, after)
    x, y, w, h = faces[0]
    err_before = np.abs(
        luma(original)[y : y + h, x : x + w].astype(int) - luma(stylised)[y : y + h, x : x + w]
    ).mean()
    err_after = np.abs(
        luma(original)[y : y + h, x : x + w].astype(int) - luma(restored)[y : y + h, x : x + w]
    ).mean()
    assert err_after < err_before
    outside = outside_boxes(original.shape, faces)
    assert (restored[outside] == stylised[outside]).all()


def test_face_keeps_the_style_palette() -> None:
    original = photo("astronaut", (512, 512))
    stylised = strong_style(original)
    restored = detail.Restorer().restore(original, stylised, 1)
    x, y, w, h = detect_faces(original, 1)[0]
    lab = [
        cv2.cvtColor(img[y : y + h, x : x + w], cv2.COLOR_RGB2LAB).reshape(-1, 3).mean(0)
        for img in (original, stylised, restored)
    ]
    # chroma (a, b) of the restored face stays nearer the stylised face than the photo
    assert np.abs(lab[2][1:] - lab[1][1:]).sum() < np.abs(lab[2][1:] - lab[0][1:]).sum()


@pytest.mark.derived_from_docs
def test_restore_face_0_changes_nothing() -> None:
    original = photo("astronaut", (512, 512))
    stylised = strong_style(original)
    assert restore.restore(original, stylised, 0, detail.Restorer()) is stylised
    assert detail.Restorer().restore(original, stylised, 0) is stylised


def test_no_face_changes_nothing() -> None:
    original = photo("coffee", (600, 400))
    stylised = strong_style(original)
    assert (detail.Restorer().restore(original, stylised, 6) == stylised).all()


def test_max_faces_is_an_upper_bound() -> None:
    one = data.astronaut()
    right = np.zeros((384, 384, 3), np.uint8)
    right[32:352, 32:352] = cv2.resize(one[:, ::-1], (320, 320), interpolation=cv2.INTER_AREA)
    two = np.ascontiguousarray(
        np.concatenate([cv2.resize(one, (384, 384), interpolation=cv2.INTER_AREA), right], axis=1)
    )
    faces = detect_faces(two, 6)
    assert len(faces) == 2
    stylised = strong_style(two)
    only_one = detail.Restorer().restore(two, stylised, 1)
    both = detail.Restorer().restore(two, stylised, 2)
    largest, other = faces[0], faces[1]
    assert (
        only_one[outside_boxes(two.shape, [largest])] == stylised[outside_boxes(two.shape, [largest])]
    ).all()
    assert face_ssim(two, both, other) > face_ssim(two, only_one, other) + 0.1


def test_null_restorer_returns_input() -> None:
    img = photo("astronaut", (256, 256))
    assert none.Restorer().restore(img, img, 6) is img


def test_restorer_is_thread_safe() -> None:
    original = photo("astronaut", (512, 512))
    stylised = strong_style(original)
    assert_thread_safe(lambda: detail.Restorer().restore(original, stylised, 2), calls=8)


@pytest.mark.slow
def test_pipeline_restore_face_changes_only_the_face() -> None:
    src = encode(photo("astronaut", (768, 768)), "PNG")
    plugs = kit.plugins(engine="classic", restorer=detail.Restorer())
    plain = kit.result_image(kit.execute(src, plugs, restore_face=0, logo_add=0, styles=["201"], seed=3))
    fixed = kit.result_image(kit.execute(src, plugs, restore_face=1, logo_add=0, styles=["201"], seed=3))
    original = photo("astronaut", (768, 768))
    faces = detect_faces(original, 1)
    assert face_ssim(original, fixed, faces[0]) > face_ssim(original, plain, faces[0])
    x0, y0, x1, y1 = detail.padded_box(faces[0], 768, 768)
    diff = np.abs(fixed.astype(int) - plain.astype(int)).max(axis=2)
    diff[max(0, y0 - 16) : y1 + 16, max(0, x0 - 16) : x1 + 16] = 0  # JPEG blocks at the edge of the change
    assert diff.max() <= 2
