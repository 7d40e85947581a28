"""Property tests of ``restyle.pipeline.run.run``: any allowed input (size 51..1200 per side, any format
and mode, any EXIF orientation) gives a JPEG RGB result of exactly the expected size."""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from restyle.pipeline.check import RESOLUTIONS
from tests.conftest import photo
from tests.imaging.media import STORED
from tests.pipeline import kit

MODES = {
    "JPEG": ["RGB", "L", "CMYK"],
    "PNG": ["RGB", "RGBA", "L", "LA", "P", "1", "I;16"],
    "BMP": ["RGB", "L", "P", "1"],
    "TIFF": ["RGB", "RGBA", "L", "CMYK", "I;16"],
    "WEBP": ["RGB", "RGBA"],
}
EXIF_FORMATS = ("JPEG", "PNG", "WEBP")
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Source:
    width: int  # upright size: what a viewer shows
    height: int
    fmt: str
    mode: str
    orientation: int
    picture: str

    def encode(self) -> bytes:
        upright = photo(self.picture, (self.width, self.height))
        stored = np.ascontiguousarray(STORED[self.orientation](upright))
        im = Image.fromarray(stored)
        if self.mode == "I;16":
            im = Image.fromarray(np.asarray(im.convert("L"), np.uint16) * 257)
        elif self.mode in ("RGBA", "LA"):
            im = im.convert(self.mode)
            alpha = np.full(stored.shape[:2], 255, np.uint8)
            alpha[: stored.shape[0] // 3] = 100
            im.putalpha(Image.fromarray(alpha))
        else:
            im = im.convert(self.mode)
        kw: dict[str, object] = {}
        if self.orientation != 1:
            exif = Image.Exif()
            exif[0x0112] = self.orientation
            kw["exif"] = exif.tobytes()
        buf = io.BytesIO()
        im.save(buf, format=self.fmt, **kw)
        return buf.getvalue()


@st.composite
def sources(draw: st.DrawFn, max_side: int = 1200) -> Source:
    fmt = draw(st.sampled_from(sorted(MODES)))
    return Source(
        width=draw(st.integers(51, max_side)),
        height=draw(st.integers(51, max_side)),
        fmt=fmt,
        mode=draw(st.sampled_from(MODES[fmt])),
        orientation=draw(st.integers(1, 8)) if fmt in EXIF_FORMATS else 1,
        picture=draw(st.sampled_from(["astronaut", "coffee", "chelsea"])),
    )


def expected_size(src: Source, resolution: str) -> tuple[int, int]:
    fixed = RESOLUTIONS[resolution]
    if fixed is not None:
        return fixed
    scale = min(1.0, 2000 / max(src.width, src.height))  # origin: long side <= 2000, never upscaled
    return round(src.width * scale), round(src.height * scale)


@pytest.mark.restyle_only
@PROPERTY
@given(src=sources(), resolution=st.sampled_from(list(RESOLUTIONS)), logo_add=st.sampled_from([0, 1]))
def test_any_input_gives_jpeg_of_expected_size(src: Source, resolution: str, logo_add: int) -> None:
    data = src.encode()
    result = kit.execute(data, resolution=resolution, logo_add=logo_add)
    out = kit.result_image(result)
    assert (result.width, result.height) == expected_size(src, resolution)
    assert out.shape == (result.height, result.width, 3)
    assert result.data != data  # always re-encoded, never echoed
    assert out.std() > 5  # a picture, not a blank


@pytest.mark.restyle_only
@settings(PROPERTY, max_examples=25)
@given(src=sources().filter(lambda s: s.mode == "RGB"))
def test_origin_with_identity_engine_reproduces_upright_input(src: Source) -> None:
    """Orientation, colour and geometry survive the whole pipeline (identity engine, no label)."""
    result = kit.execute(src.encode(), resolution="origin", logo_add=0)
    out = kit.result_image(result).astype(float)
    upright = photo(src.picture, (src.width, src.height)).astype(float)
    assert out.shape == upright.shape
    # two JPEG generations at most; compared after a small blur, because on tiny, detailed inputs
    # (51 px astronaut) JPEG ringing alone moves single pixels far while the picture is the same
    assert np.abs(cv2.blur(out, (3, 3)) - cv2.blur(upright, (3, 3))).mean() < 6


@pytest.mark.slow
@pytest.mark.restyle_only
@settings(PROPERTY, max_examples=12)
@given(src=sources(max_side=900), resolution=st.sampled_from(list(RESOLUTIONS)))
def test_classic_engine_style_201_gives_expected_size(src: Source, resolution: str) -> None:
    result = kit.execute(src.encode(), kit.plugins(engine="classic"), resolution=resolution, styles=["201"])
    out = kit.result_image(result)
    assert (result.width, result.height) == expected_size(src, resolution)
    assert result.engine == "classic"
    assert out.std() > 5


@pytest.mark.restyle_only
@pytest.mark.parametrize(
    ("width", "height"),
    [
        (4999, 51),
        (4001, 2999),
        (4095, 1001),
        (2001, 2001),
        (4000, 3000),
        (4000, 2001),
        (4998, 52),
        (51, 4999),
    ],
)
def test_origin_caps_long_side_exactly_even_with_jpeg_draft(width: int, height: int) -> None:
    """Large JPEGs decode at a reduced scale; that must not move the result size by a pixel."""
    buf = io.BytesIO()
    Image.fromarray(photo("astronaut", (width, height))).save(buf, format="JPEG", quality=80)
    result = kit.execute(buf.getvalue(), logo_add=0)
    long_side = max(width, height)
    expected = tuple((2 * s * 2000 + long_side) // (2 * long_side) for s in (width, height))
    assert (result.width, result.height) == expected
    assert max(result.width, result.height) == 2000
    kit.result_image(result)


@pytest.mark.restyle_only
@pytest.mark.parametrize("resolution", ["768:768", "768:1024", "1024:768"])
@pytest.mark.parametrize(("width", "height"), [(4000, 3000), (1200, 4900), (4900, 60)])
def test_fixed_sizes_from_large_jpegs(resolution: str, width: int, height: int) -> None:
    buf = io.BytesIO()
    Image.fromarray(photo("coffee", (width, height))).save(buf, format="JPEG", quality=80)
    result = kit.execute(buf.getvalue(), resolution=resolution)
    assert (result.width, result.height) == RESOLUTIONS[resolution]
    kit.result_image(result)
