"""Step 5 — ResultConfig.Resolution: ``origin`` caps the long side; fixed sizes crop to the target
aspect keeping faces (or, without faces, the most detailed region) in frame, then resize."""

from __future__ import annotations

import cv2
import numpy as np

from restyle import imaging
from restyle.faces import detect_faces
from restyle.pipeline.check import RESOLUTIONS

JPEG_DRAFT_SCALES = (8, 4, 2)  # the reductions libjpeg can decode at directly


def target_size(resolution: str, width: int, height: int, origin_max_side: int) -> tuple[int, int]:
    """Output size: a fixed Resolution exactly; ``origin`` keeps the aspect with the long side capped
    (smaller images are never upscaled)."""
    fixed = RESOLUTIONS[resolution]
    if fixed is not None:
        return fixed
    long_side = max(width, height)
    if long_side <= origin_max_side:
        return width, height

    def scaled(side: int) -> int:  # integer rounding (half up): no float drift between equal ratios
        return max(1, (2 * side * origin_max_side + long_side) // (2 * long_side))

    return scaled(width), scaled(height)


def draft_box(resolution: str, width: int, height: int, origin_max_side: int) -> tuple[int, int]:
    """The smallest decoded size that still covers the target (lets JPEG decode at reduced scale).

    For a fixed Resolution the short side must cover the target's long side, as EXIF rotation is applied
    after decoding. For ``origin`` the box is the source divided exactly by 8, 4 or 2 (or the source
    itself): libjpeg rounds reduced sizes up, and an inexact reduction would shift the aspect ratio and
    give a result one pixel off the size the same picture gets as PNG.
    """
    tw, th = target_size(resolution, width, height, origin_max_side)
    if RESOLUTIONS[resolution] is not None:
        scale = min(1.0, max(tw, th) / min(width, height))
        return max(1, int(width * scale)), max(1, int(height * scale))
    for k in JPEG_DRAFT_SCALES:
        if width % k == 0 and height % k == 0 and width // k >= tw and height // k >= th:
            return width // k, height // k
    return width, height


def _interest_center(image: np.ndarray) -> tuple[float, float]:
    faces = detect_faces(image, max_faces=6)
    if faces:
        xs = [x for x, _, w, _ in faces] + [x + w for x, _, w, _ in faces]
        ys = [y for _, y, _, h in faces] + [y + h for _, y, _, h in faces]
        return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    # no face: centre of mass of edge energy, pulled halfway to the image centre
    small = cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA)
    grad = cv2.Laplacian(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), cv2.CV_32F)
    energy = np.abs(grad) + 1e-3
    ys, xs = np.mgrid[0:64, 0:64]
    cx = float((energy * xs).sum() / energy.sum()) / 64 * image.shape[1]
    cy = float((energy * ys).sum() / energy.sum()) / 64 * image.shape[0]
    return (cx + image.shape[1] / 2) / 2, (cy + image.shape[0] / 2) / 2


def crop_to_aspect(image: np.ndarray, aspect: float) -> np.ndarray:
    h, w = image.shape[:2]
    if abs(w / h - aspect) < 1e-3:
        return image
    cx, cy = _interest_center(image)
    if w / h > aspect:  # too wide: cut columns
        cw = max(1, round(h * aspect))
        x0 = int(min(max(cx - cw / 2, 0), w - cw))
        return image[:, x0 : x0 + cw]
    ch = max(1, round(w / aspect))
    y0 = int(min(max(cy - ch / 2, 0), h - ch))
    return image[y0 : y0 + ch, :]


def frame(image: np.ndarray, resolution: str, origin_max_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    tw, th = target_size(resolution, w, h, origin_max_side)
    if RESOLUTIONS[resolution] is not None:
        image = crop_to_aspect(image, tw / th)
    return imaging.resize(np.ascontiguousarray(image), tw, th)
