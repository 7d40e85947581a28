"""Step 5 — ResultConfig.Resolution: sizes, and crops that keep faces in frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from restyle.faces import detect_faces
from restyle.pipeline import frame
from restyle.pipeline.check import RESOLUTIONS
from tests.conftest import photo

pytestmark = pytest.mark.restyle_only

ASTRONAUT_FACE = (176, 65, 96, 96)  # x, y, w, h in skimage's 512x512 astronaut


def canvas_with_astronaut(width: int, height: int, x: int, y: int, background: str = "coffee") -> np.ndarray:
    """A busy photo as background with the 512x512 astronaut pasted at (x, y)."""
    canvas = photo(background, (width, height)).copy()
    canvas[y : y + 512, x : x + 512] = data.astronaut()
    return canvas


def locate(canvas: np.ndarray, out: np.ndarray) -> tuple[int, int, float]:
    """Where ``out`` (a crop of ``canvas``, resized) came from: (x0, y0) in canvas pixels, match score."""
    # the crop spans the full height (or width) of the canvas; scale it back and slide it along
    ch, cw = canvas.shape[:2]
    oh, ow = out.shape[:2]
    scale = ch / oh if ow / oh < cw / ch else cw / ow
    back = cv2.resize(out, (round(ow * scale), round(oh * scale)), interpolation=cv2.INTER_AREA)
    res = cv2.matchTemplate(canvas, back[2:-2, 2:-2], cv2.TM_CCOEFF_NORMED)
    _, score, _, (x, y) = cv2.minMaxLoc(res)
    return x - 2, y - 2, float(score)


@pytest.mark.parametrize("resolution", list(RESOLUTIONS))
@pytest.mark.parametrize(("width", "height"), [(51, 51), (1200, 300), (300, 1200), (999, 1000), (4000, 3000)])
def test_output_size(resolution: str, width: int, height: int) -> None:
    img = np.zeros((height, width, 3), np.uint8)
    out, _ = frame.frame(img, resolution, 2000)
    expected = frame.target_size(resolution, width, height, 2000)
    assert out.shape == (expected[1], expected[0], 3)
    if resolution != "origin":
        assert expected == RESOLUTIONS[resolution]


def test_origin_never_upscales_and_caps_the_long_side() -> None:
    assert frame.target_size("origin", 640, 480, 2000) == (640, 480)
    assert frame.target_size("origin", 4000, 3000, 2000) == (2000, 1500)
    assert frame.target_size("origin", 3000, 4000, 2000) == (1500, 2000)
    assert frame.target_size("origin", 4999, 51, 2000) == (2000, 20)


@pytest.mark.parametrize("face_x", [60, 700, 1288])
def test_face_off_centre_stays_inside_portrait_crop(face_x: int) -> None:
    canvas = canvas_with_astronaut(1800, 600, face_x, 40)
    fx, fy, fw, fh = ASTRONAUT_FACE
    face = (face_x + fx, 40 + fy, fw, fh)
    found = detect_faces(canvas)
    assert found, "the detector must see the astronaut"
    assert abs(found[0][0] - face[0]) < 20
    out, _ = frame.frame(canvas, "768:1024", 2000)
    assert out.shape == (1024, 768, 3)
    x0, y0, score = locate(canvas, out)
    assert score > 0.95
    crop_w = round(600 * 768 / 1024)
    assert y0 == 0
    assert x0 <= face[0]
    assert face[0] + face[2] <= x0 + crop_w


@pytest.mark.parametrize("face_y", [30, 1088])
def test_face_off_centre_stays_inside_landscape_crop(face_y: int) -> None:
    canvas = canvas_with_astronaut(640, 1700, 64, face_y, background="chelsea")
    fx, fy, fw, fh = ASTRONAUT_FACE
    face_top, face_bottom = face_y + fy, face_y + fy + fh
    out, _ = frame.frame(canvas, "1024:768", 2000)
    assert out.shape == (768, 1024, 3)
    x0, y0, score = locate(canvas, out)
    assert score > 0.95
    assert x0 == 0
    assert y0 <= face_top
    assert face_bottom <= y0 + 480


def test_without_faces_the_crop_stays_inside_the_image() -> None:
    img = photo("coffee", (1600, 500))
    out, _ = frame.frame(img, "768:768", 2000)
    assert out.shape == (768, 768, 3)
    _, _, score = locate(img, out)
    assert score > 0.95


def test_draft_box_covers_target_in_either_orientation() -> None:
    for resolution in ("768:768", "768:1024", "1024:768"):
        tw, th = RESOLUTIONS[resolution] or (0, 0)
        for w, h in [(4000, 3000), (3000, 4000), (4999, 800), (1600, 1600)]:
            bw, bh = frame.draft_box(resolution, w, h, 2000)
            assert min(bw, bh) >= max(tw, th) or (bw, bh) == (w, h)


@pytest.mark.parametrize(
    ("width", "height"), [(4000, 3000), (4001, 3000), (4096, 2048), (4999, 51), (1000, 800)]
)
def test_origin_draft_box_divides_exactly(width: int, height: int) -> None:
    bw, bh = frame.draft_box("origin", width, height, 2000)
    k = width // bw
    assert (bw * k, bh * k) == (width, height)
    tw, th = frame.target_size("origin", width, height, 2000)
    assert bw >= tw
    assert bh >= th
    assert frame.target_size("origin", bw, bh, 2000) == (tw, th)


def test_faces_found_while_framing_are_returned_in_framed_coordinates() -> None:
    """RestoreFace reuses them, so they must match what a detector finds on the framed image."""
    canvas = canvas_with_astronaut(1800, 600, 700, 40)
    out, faces = frame.frame(canvas, "768:1024", 2000)
    assert faces
    again = detect_faces(out)
    assert again
    (ax, ay, aw, _), (bx, by, bw, bh) = faces[0], again[0]
    assert abs(ax - bx) < 0.15 * bw and abs(ay - by) < 0.15 * bh
    assert 0.8 < aw / bw < 1.25
    # no crop needed (same aspect) → faces are not looked for here
    assert frame.frame(photo("astronaut", (400, 400)), "768:768", 2000)[1] is None
    assert frame.frame(photo("astronaut", (400, 300)), "origin", 2000)[1] is None
