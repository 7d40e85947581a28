"""Face-aware treatment for the cartoon styles: where the shipped detector finds faces, soft maps of the skin
to smooth, of the eyes and mouth whose lines must stay, and of the cheeks to blush.

The maps come from the face boxes (``restyle.faces.detect_faces``, Haar cascades) and fixed proportions of a
frontal face (eyes at ~40 % of the box height, mouth at ~75 %, cheeks at ~63 %), gated by a skin-colour test
so hair and background inside the box keep their treatment.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from restyle.engines.classic.base import F32, U8
from restyle.engines.classic.toolkit import _a, _blur, _fit
from restyle.faces import detect_faces

#: faces are looked for on a copy this large (smaller faces than ~16 px at this size are left alone)
FACE_SIDE = 256


@dataclass(frozen=True)
class FaceMaps:
    """0..1 maps at the working size."""

    skin: F32  # facial skin to smooth and clear of texture lines
    features: F32  # eyes, brows and mouth: their lines are kept (and a little strengthened)
    blush: F32  # cheeks
    largest: float  # height of the largest face box, in pixels of the maps


def face_maps(image: U8, shape: tuple[int, ...]) -> FaceMaps | None:
    """Maps at ``shape`` (height, width) for the faces in ``image``; None when there is no face."""
    small = _fit(image, FACE_SIDE)
    boxes = detect_faces(small)
    if not boxes:
        return None
    h, w = int(shape[0]), int(shape[1])
    sx, sy = w / small.shape[1], h / small.shape[0]
    face = np.zeros((h, w), np.float32)
    features = np.zeros((h, w), np.float32)
    blush = np.zeros((h, w), np.float32)
    for bx, by, bw, bh in boxes:
        box = (bx * sx, by * sy, bw * sx, bh * sy)
        _ellipse(face, box, 0.5, 0.56, 0.44, 0.58)
        _ellipse(features, box, 0.32, 0.42, 0.16, 0.1)  # eyes and brows
        _ellipse(features, box, 0.68, 0.42, 0.16, 0.1)
        _ellipse(features, box, 0.5, 0.78, 0.2, 0.09)  # mouth
        _ellipse(blush, box, 0.27, 0.66, 0.1, 0.055)
        _ellipse(blush, box, 0.73, 0.66, 0.1, 0.055)
    scale = float(np.sqrt(max(b[2] * sx for b in boxes) * max(b[3] * sy for b in boxes)))
    skin_colour = _skin(image, shape)
    return FaceMaps(
        skin=_a(_blur(face, 0.04 * scale) * skin_colour),
        features=_a(_blur(features, 0.04 * scale)),
        blush=_a(_blur(blush, 0.06 * scale) * skin_colour),
        largest=float(max(b[3] * sy for b in boxes)),
    )


def _ellipse(
    canvas: F32, box: tuple[float, float, float, float], cx: float, cy: float, ax: float, ay: float
) -> None:
    """Fill an ellipse placed in face-box proportions (centre ``cx, cy``, half-axes ``ax, ay``)."""
    x, y, fw, fh = box
    centre = (round(x + cx * fw), round(y + cy * fh))
    axes = (max(1, round(ax * fw)), max(1, round(ay * fh)))
    cv2.ellipse(canvas, centre, axes, 0.0, 0.0, 360.0, 1.0, -1)


def skin_colour(image: U8, shape: tuple[int, ...]) -> F32:
    """0..1 skin-colour map of ``image`` at ``shape`` (anywhere, not only in detected faces)."""
    return _skin(image, shape)


def _skin(image: U8, shape: tuple[int, ...]) -> F32:
    """Soft skin-colour test (YCrCb box of Chai and Ngan 1999, widened) at ``shape``."""
    small = _fit(image, 320)
    ycc = cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    cr, cb = ycc[..., 1], ycc[..., 2]
    inside = np.clip((cr - 128.0) / 8.0, 0, 1) * np.clip((178.0 - cr) / 8.0, 0, 1)
    inside = inside * np.clip((cb - 72.0) / 8.0, 0, 1) * np.clip((132.0 - cb) / 8.0, 0, 1)
    inside = _a(cv2.GaussianBlur(_a(inside), (0, 0), 2.0))
    return _a(cv2.resize(inside, (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_LINEAR))
