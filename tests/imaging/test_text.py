"""The shipped label font: it is in the package, it is small, and it really draws the Chinese label."""

from __future__ import annotations

import threading
from importlib import resources

import numpy as np
import pytest

from restyle import imaging
from restyle.imaging import text
from restyle.pipeline.label import DEFAULT_TEXT

pytestmark = pytest.mark.restyle_only

NOT_IN_FONT = "口"  # a common Han character deliberately left out of the subset: it draws .notdef


def fonts_dir() -> resources.abc.Traversable:
    return resources.files("restyle").joinpath("assets").joinpath("fonts")


def test_font_and_licence_ship_inside_the_package() -> None:
    font = fonts_dir().joinpath(text.LABEL_FONT).read_bytes()
    assert font[:4] == b"\x00\x01\x00\x00"  # TrueType
    assert len(font) < 32 * 1024  # a subset, not a 10 MB CJK font
    licence = fonts_dir().joinpath("OFL.txt").read_text("utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    readme = fonts_dir().joinpath("README.md").read_text("utf-8")
    assert "@fontsource/noto-sans-sc" in readme
    assert "scripts/make_label_font.py" in readme


def test_font_is_loaded_once() -> None:
    assert text.font_bytes() is text.font_bytes()


def test_label_text_is_covered_by_the_font() -> None:
    assert set(DEFAULT_TEXT) <= imaging.LABEL_FONT_CHARS
    assert NOT_IN_FONT not in imaging.LABEL_FONT_CHARS


@pytest.mark.derived_from_docs
def test_cjk_glyphs_are_real_glyphs_not_tofu() -> None:
    notdef = imaging.text_mask(NOT_IN_FONT, 48)
    assert notdef.max() == 255  # the subset keeps the .notdef box outline
    masks = {ch: imaging.text_mask(ch, 48) for ch in "图片由生成"}
    for ch, mask in masks.items():
        assert mask.max() == 255, f"{ch} drew nothing"
        assert mask.shape[0] > 30, f"{ch} is not a full-height Han glyph"
        same_as_notdef = mask.shape == notdef.shape and bool((mask == notdef).all())
        assert not same_as_notdef, f"{ch} rendered as the .notdef box (tofu)"
    keys = list(masks)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            ma, mb = masks[a], masks[b]
            assert ma.shape != mb.shape or bool((ma != mb).any()), f"{a} and {b} render identically"


def test_notdef_is_a_box() -> None:
    """Sanity of the tofu check above: .notdef is a rectangle outline (ink along all four sides)."""
    ink = imaging.text_mask(NOT_IN_FONT, 96) > 128
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    box = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    for side in (box[:3].any(axis=0), box[-3:].any(axis=0), box[:, :3].any(axis=1), box[:, -3:].any(axis=1)):
        assert side.mean() > 0.95


def test_ascii_renders_and_scales() -> None:
    small, big = imaging.text_mask("AI", 12), imaging.text_mask("AI", 48)
    assert big.shape[0] > 3 * small.shape[0]
    assert big.shape[1] > 3 * small.shape[1]
    assert imaging.text_mask("A", 40).shape != imaging.text_mask("I", 40).shape


def test_whole_label_renders_wider_than_tall() -> None:
    mask = imaging.text_mask(DEFAULT_TEXT, 20)
    assert mask.dtype == np.uint8
    assert 4 * mask.shape[0] < mask.shape[1] < 12 * mask.shape[0]


def test_bad_size_is_refused() -> None:
    with pytest.raises(ValueError, match="font size"):
        imaging.text_mask("AI", 0)


def test_rendering_is_thread_safe() -> None:
    expected = {size: imaging.text_mask(DEFAULT_TEXT, size) for size in range(8, 40, 3)}
    failures: list[int] = []

    def work() -> None:
        for _ in range(5):
            for size, mask in expected.items():
                if not np.array_equal(imaging.text_mask(DEFAULT_TEXT, size), mask):
                    failures.append(size)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
