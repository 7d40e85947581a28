"""EnhanceImage (``sharpen`` upscaler): sharper, same size, colours kept, fast and thread-safe."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.pipeline import enhance
from restyle.upscalers import none, sharpen
from tests.conftest import assert_thread_safe, encode, photo
from tests.pipeline import kit

pytestmark = pytest.mark.restyle_only
PICTURES = ["astronaut", "coffee", "chelsea", "rocket"]


def sharpness(img: np.ndarray) -> float:
    """Variance of the Laplacian of the luminance."""
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def soft(img: np.ndarray) -> np.ndarray:
    """What a style engine tends to hand over: smooth, slightly blurred."""
    return np.ascontiguousarray(cv2.GaussianBlur(img, (0, 0), 1.5))


@pytest.mark.parametrize("picture", PICTURES)
@pytest.mark.parametrize("prepare", [soft, lambda img: img])
def test_sharpness_increases(picture: str, prepare: object) -> None:
    img = prepare(photo(picture, (768, 768)))  # type: ignore[operator]
    out = sharpen.Upscaler().enhance(img)
    assert sharpness(out) > 1.3 * sharpness(img)


@pytest.mark.parametrize(("width", "height"), [(51, 51), (768, 1024), (1024, 768), (2000, 1500), (1999, 77)])
def test_size_and_type_unchanged(width: int, height: int) -> None:
    img = photo("coffee", (width, height))
    out = sharpen.Upscaler().enhance(img)
    assert out.shape == img.shape
    assert out.dtype == np.uint8
    assert out.flags.c_contiguous


@pytest.mark.parametrize("picture", PICTURES)
def test_colours_are_roughly_kept(picture: str) -> None:
    img = soft(photo(picture, (768, 768)))
    out = sharpen.Upscaler().enhance(img)
    assert np.abs(out.reshape(-1, 3).mean(0) - img.reshape(-1, 3).mean(0)).max() < 6
    lab_in = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(float)
    lab_out = cv2.cvtColor(out, cv2.COLOR_RGB2LAB).astype(float)
    assert np.abs(lab_out[..., 1:] - lab_in[..., 1:]).mean() < 2  # chroma barely moves
    small = cv2.resize(out, (48, 48), interpolation=cv2.INTER_AREA).astype(float)
    ref = cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA).astype(float)
    assert np.abs(small - ref).mean() < 8  # the same picture at a glance


@pytest.mark.parametrize("level", [0, 30, 128, 230, 255])
def test_flat_fields_stay_flat(level: int) -> None:
    img = np.full((300, 400, 3), level, np.uint8)
    out = sharpen.Upscaler().enhance(img)
    assert np.abs(out.astype(int) - level).max() <= 3


def test_no_heavy_halo_on_a_hard_edge() -> None:
    img = np.full((200, 200, 3), 60, np.uint8)
    img[:, 100:] = 190
    out = sharpen.Upscaler().enhance(img).astype(int)
    assert out.min() >= 60 - 45
    assert out.max() <= 190 + 45


def test_noise_is_not_blown_up() -> None:
    rng = np.random.default_rng(0)
    flat = np.clip(128 + rng.normal(0, 3, (400, 400, 3)), 0, 255).astype(np.uint8)
    out = sharpen.Upscaler().enhance(flat)
    assert out.astype(float).std() < 3 * flat.astype(float).std()


def test_thread_safe() -> None:
    img = soft(photo("chelsea", (640, 480)))
    up = sharpen.Upscaler()
    assert_thread_safe(lambda: up.enhance(img))


def test_input_is_not_modified() -> None:
    img = photo("coffee", (300, 200))
    before = img.copy()
    sharpen.Upscaler().enhance(img)
    assert (img == before).all()


@pytest.mark.derived_from_docs
def test_enhance_image_0_changes_nothing() -> None:
    img = photo("coffee", (300, 200))
    assert enhance.enhance(img, False, sharpen.Upscaler()) is img
    assert none.Upscaler().enhance(img) is img


def test_pipeline_enhance_sharpens_and_keeps_size() -> None:
    src = encode(soft(photo("chelsea", (640, 480))), "PNG")
    plugs = kit.plugins(upscaler=sharpen.Upscaler())
    plain = kit.result_image(kit.execute(src, plugs, enhance=0, logo_add=0))
    sharp = kit.result_image(kit.execute(src, plugs, enhance=1, logo_add=0))
    assert sharp.shape == plain.shape == (480, 640, 3)
    assert sharpness(sharp) > 1.3 * sharpness(plain)
