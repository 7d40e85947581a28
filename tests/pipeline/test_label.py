"""Step 10 — the default "图片由 AI 生成" label and LogoParam logos."""

from __future__ import annotations

import numpy as np
import pytest

from restyle import errors
from restyle.pipeline import label
from restyle.pipeline.job import Rect
from tests.conftest import assert_thread_safe, encode, photo
from tests.imaging.test_logo import disk_logo
from tests.pipeline import kit


def changed_box(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) bounding all pixels that differ (exclusive ends)."""
    diff = (a != b).any(axis=2)
    rows, cols = np.nonzero(diff.any(axis=1))[0], np.nonzero(diff.any(axis=0))[0]
    assert rows.size, "nothing changed"
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def luminance(img: np.ndarray) -> np.ndarray:
    return img.astype(float) @ np.array([0.2126, 0.7152, 0.0722])


# --- default label ------------------------------------------------------------------------------------
@pytest.mark.derived_from_docs
def test_default_text_is_tencents() -> None:
    assert label.DEFAULT_TEXT == "图片由 AI 生成"


@pytest.mark.derived_from_docs
@pytest.mark.parametrize(
    ("width", "height"), [(768, 768), (768, 1024), (1024, 768), (2000, 1500), (300, 2000), (256, 180)]
)
def test_default_label_changes_only_the_bottom_right_corner(width: int, height: int) -> None:
    img = photo("coffee", (width, height))
    out = label.default_label(img)
    assert out.shape == img.shape
    assert out.dtype == np.uint8
    x0, y0, x1, y1 = changed_box(img, out)
    box, _ = label.layout(width, height)
    assert (x0, y0, x1, y1) == (box.x, box.y, box.x + box.width, box.y + box.height)
    assert x0 >= width * 0.35
    assert y0 >= height * 0.75
    assert width - x1 <= 0.05 * max(width, height)  # snug in the corner
    assert height - y1 <= 0.05 * max(width, height)
    assert (x1 - x0) <= 0.6 * width


def test_label_size_scales_with_the_image() -> None:
    sizes = [(256, 256), (768, 768), (1024, 1024), (2000, 2000)]
    fonts = [label.layout(w, h)[0].font_px for w, h in sizes]
    assert fonts == sorted(fonts)
    assert fonts[-1] > 3 * fonts[0]
    widths = [label.layout(w, h)[0].width / w for w, h in sizes]
    assert max(widths) - min(widths) < 0.05  # the same share of the width at every size


@pytest.mark.parametrize(("width", "height"), [(51, 51), (51, 1500), (1500, 51), (60, 60), (100, 52)])
def test_tiny_and_thin_images_get_a_label_inside_them(width: int, height: int) -> None:
    img = photo("coffee", (width, height))
    out = label.default_label(img)
    box, _ = label.layout(width, height)
    assert box.font_px >= label.MIN_FONT_PX
    assert box.x >= 0
    assert box.y >= 0
    assert box.x + box.width <= width
    assert box.y + box.height <= height
    outside = np.ones((height, width), bool)
    outside[box.y : box.y + box.height, box.x : box.x + box.width] = False
    assert (out[outside] == img[outside]).all()


@pytest.mark.parametrize("background", ["white", "black", "grey", "noise", "photo"])
def test_label_is_legible_on_any_background(background: str) -> None:
    rng = np.random.default_rng(1)
    img = {
        "white": np.full((768, 768, 3), 255, np.uint8),
        "black": np.zeros((768, 768, 3), np.uint8),
        "grey": np.full((768, 768, 3), 128, np.uint8),
        "noise": rng.integers(0, 256, (768, 768, 3), dtype=np.uint8),
        "photo": photo("astronaut", (768, 768)),
    }[background]
    out = label.default_label(img)
    box, mask = label.layout(768, 768)
    px, py, _ = label._metrics(box.font_px)
    text_region = out[box.y + py : box.y + py + mask.shape[0], box.x + px : box.x + px + mask.shape[1]]
    ink = luminance(text_region[mask > 230])
    backing = luminance(text_region[mask == 0])
    assert ink.mean() > 200
    # WCAG contrast ratio between the text and what is right behind it
    rel = lambda v: ((v / 255 + 0.055) / 1.055) ** 2.4  # noqa: E731
    assert (rel(ink.mean()) + 0.05) / (rel(backing.mean()) + 0.05) > 3.0
    assert backing.mean() < luminance(img[box.y : box.y + box.height, box.x : box.x + box.width]).mean() + 1


def test_default_label_is_thread_safe_and_deterministic() -> None:
    img = photo("coffee", (640, 480))
    assert_thread_safe(lambda: label.default_label(img))


def test_input_array_is_not_modified() -> None:
    img = photo("coffee", (300, 200))
    before = img.copy()
    label.default_label(img)
    label.place_logo(img, disk_logo(), Rect(10, 10, 50, 50))
    assert (img == before).all()


# --- LogoParam -----------------------------------------------------------------------------------------
@pytest.mark.derived_from_docs
@pytest.mark.parametrize(
    "rect", [Rect(0, 0, 768, 768), Rect(10, 600, 200, 100), Rect(700, 0, 68, 768), Rect(5, 7, 1, 1)]
)
def test_logo_is_stretched_exactly_into_logo_rect(rect: Rect) -> None:
    img = photo("coffee", (768, 768))
    logo = np.zeros((30, 90, 3), np.uint8)
    logo[:] = (12, 200, 34)
    out = label.place_logo(img, logo, rect)
    x0, y0, x1, y1 = changed_box(img, out)
    assert (x0, y0, x1, y1) == (rect.x, rect.y, rect.x + rect.width, rect.y + rect.height)
    assert (out[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width] == (12, 200, 34)).all()


@pytest.mark.derived_from_docs
def test_logo_alpha_is_respected() -> None:
    img = np.full((400, 400, 3), (20, 60, 160), np.uint8)
    out = label.place_logo(img, disk_logo(64), Rect(100, 50, 200, 100))  # stretched: an ellipse
    assert (out[50:60, 100:120] == img[50:60, 100:120]).all()  # transparent corner: untouched
    assert (out[100, 200] == (200, 20, 20)).all()  # centre of the ellipse: the logo colour
    region = out[50:150, 100:300]
    white = (region == 255).all(axis=2)
    assert not white.any()  # no white box pasted
    covered = (region == (200, 20, 20)).all(axis=2).mean()
    assert 0.15 < covered < 0.35  # an ellipse of 0.6 x 0.6 of the box: pi * 0.3^2 ≈ 0.28


@pytest.mark.derived_from_docs
@pytest.mark.parametrize(
    "rect",
    [
        Rect(700, 0, 69, 10),
        Rect(0, 700, 10, 69),
        Rect(768, 0, 1, 1),
        Rect(-1, 0, 10, 10),
        Rect(0, 0, 0, 10),
        Rect(0, 0, 10, -5),
    ],
)
def test_logo_rect_outside_the_result_is_refused(rect: Rect) -> None:
    img = photo("coffee", (768, 768))
    with pytest.raises(errors.ParameterValueError, match="LogoRect"):
        label.place_logo(img, disk_logo(), rect)


# --- through the pipeline ------------------------------------------------------------------------------
def test_pipeline_adds_default_label_unless_logo_add_is_0() -> None:
    data = encode(photo("coffee", (600, 400)), "PNG")
    plain = kit.result_image(kit.execute(data, logo_add=0)).astype(int)
    labelled = kit.result_image(kit.execute(data, logo_add=1)).astype(int)
    box, _ = label.layout(600, 400)
    diff = np.abs(labelled - plain).max(axis=2)
    inside = diff[box.y : box.y + box.height, box.x : box.x + box.width]
    assert inside.mean() > 20
    diff[max(0, box.y - 16) :, max(0, box.x - 16) :] = 0  # JPEG blocks around the label may shift
    assert diff.max() <= 2


@pytest.mark.derived_from_docs
def test_pipeline_composites_transparent_png_logo() -> None:
    background = (30, 90, 200)
    src = np.full((400, 600, 3), background, np.uint8)
    logo = kit.logo(encode(disk_logo(64, (250, 200, 0)), "PNG"), 300, 100, 160, 160)
    out = kit.result_image(kit.execute(encode(src, "PNG"), resolution="origin", logo=logo)).astype(int)
    assert np.abs(out[180, 380] - (250, 200, 0)).max() < 12  # disk centre
    corner = out[104:116, 304:316]
    assert np.abs(corner - background).max() < 12  # transparent corner of the logo: not white


def test_pipeline_logo_rect_outside_origin_result_is_refused() -> None:
    """With ``origin`` the result size is known only after decoding; the rect is checked then."""
    logo = kit.logo(encode(disk_logo(), "PNG"), 500, 300, 200, 200)
    with pytest.raises(errors.ParameterValueError, match="outside the 600x400 result"):
        kit.execute(encode(photo("coffee", (600, 400)), "PNG"), logo=logo)


def test_pipeline_logo_rect_outside_fixed_result_is_refused_up_front() -> None:
    logo = kit.logo(b"not even an image", 700, 700, 100, 100)
    with pytest.raises(errors.ParameterValueError, match="outside the 768x768 result"):
        kit.execute(encode(photo("coffee", (600, 400)), "PNG"), resolution="768:768", logo=logo)


def test_pipeline_logo_may_be_small_but_not_a_gif() -> None:
    src = encode(photo("coffee", (300, 200)), "PNG")
    small = kit.logo(encode(disk_logo(8), "PNG"), 10, 10, 40, 40)
    kit.result_image(kit.execute(src, logo=small))
    gif = kit.logo(encode(photo("coffee", (64, 64)), "GIF"), 10, 10, 40, 40)
    with pytest.raises(errors.ImageDecodeFailed):
        kit.execute(src, logo=gif)
