"""Step 5 — ResultConfig.Resolution: ``origin`` caps the long side; fixed sizes crop to the target
aspect keeping faces (or, without faces, the most detailed region) in frame, then resize."""

from __future__ import annotations

import cv2
import numpy as np

from restyle import imaging
from restyle.faces import Box, detect_faces
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


def _interest_center(image: np.ndarray, faces: list[Box]) -> tuple[float, float]:
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


def crop_box(image: np.ndarray, aspect: float, faces: list[Box]) -> tuple[int, int, int, int]:
    """(x0, y0, width, height) of the crop with the target aspect that keeps the faces in frame."""
    h, w = image.shape[:2]
    if abs(w / h - aspect) < 1e-3:
        return 0, 0, w, h
    cx, cy = _interest_center(image, faces)
    if w / h > aspect:  # too wide: cut columns
        cw = max(1, round(h * aspect))
        return int(min(max(cx - cw / 2, 0), w - cw)), 0, cw, h
    ch = max(1, round(w / aspect))
    return 0, int(min(max(cy - ch / 2, 0), h - ch)), w, ch


def crop_to_aspect(image: np.ndarray, aspect: float) -> np.ndarray:
    x0, y0, cw, ch = crop_box(image, aspect, detect_faces(image, max_faces=6))
    return image[y0 : y0 + ch, x0 : x0 + cw]


def frame(image: np.ndarray, resolution: str, origin_max_side: int) -> tuple[np.ndarray, list[Box] | None]:
    """The framed image, and the faces found while framing in its coordinates (None: not looked for)."""
    h, w = image.shape[:2]
    tw, th = target_size(resolution, w, h, origin_max_side)
    faces: list[Box] | None = None
    if RESOLUTIONS[resolution] is not None and abs(w / h - tw / th) >= 1e-3:
        found = detect_faces(image, max_faces=6)
        x0, y0, cw, ch = crop_box(image, tw / th, found)
        image = image[y0 : y0 + ch, x0 : x0 + cw]
        sx, sy = tw / cw, th / ch
        faces = []
        for fx, fy, fw, fh in found:
            # keep faces whose centre lies inside the crop, clipped to it, in target pixels
            if x0 <= fx + fw / 2 < x0 + cw and y0 <= fy + fh / 2 < y0 + ch:
                nx0, ny0 = max(fx, x0) - x0, max(fy, y0) - y0
                nx1, ny1 = min(fx + fw, x0 + cw) - x0, min(fy + fh, y0 + ch) - y0
                faces.append(
                    (round(nx0 * sx), round(ny0 * sy), round((nx1 - nx0) * sx), round((ny1 - ny0) * sy))
                )
    return imaging.resize(np.ascontiguousarray(image), tw, th), faces
