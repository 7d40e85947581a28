"""Compositing on canonical RGB images: a solid colour through a coverage mask, and RGBA overlays
(logos) stretched into a box with premultiplied alpha, so transparent edges do not darken."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.imaging.convert import resize


def over_colour(base: np.ndarray, colour: tuple[int, int, int], alpha: np.ndarray) -> np.ndarray:
    """``base`` (RGB uint8) with ``colour`` laid over it at coverage ``alpha`` (float, same H×W, 0..1)."""
    a = np.clip(alpha, 0.0, 1.0).astype(np.float32)[:, :, None]
    out = base.astype(np.float32) * (1.0 - a) + np.asarray(colour, np.float32) * a
    return np.asarray(np.clip(out + 0.5, 0, 255), dtype=np.uint8)


def _stretch_premultiplied(rgba: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(premultiplied RGB, alpha) as float32 0..255 / 0..1, resized to width × height."""
    a = rgba[:, :, 3:4].astype(np.float32) / 255.0
    pm = np.concatenate([rgba[:, :, :3].astype(np.float32) * a, a * 255.0], axis=2)
    h, w = rgba.shape[:2]
    if (w, h) != (width, height):
        interp = cv2.INTER_AREA if width * height < w * h else cv2.INTER_CUBIC
        pm = cv2.resize(pm, (width, height), interpolation=interp)
    alpha = np.clip(pm[:, :, 3] / 255.0, 0.0, 1.0)
    colour = np.clip(pm[:, :, :3], 0.0, alpha[:, :, None] * 255.0)  # cubic overshoot stays premultiplied
    return colour, alpha


def paste_rgba(base: np.ndarray, overlay: np.ndarray, x: int, y: int, width: int, height: int) -> np.ndarray:
    """A copy of ``base`` (RGB uint8) with ``overlay`` (RGBA or RGB uint8) stretched into the box
    (x, y, width, height), which must lie inside ``base``. Transparent overlay pixels leave ``base``
    showing; opaque ones replace it."""
    out = base.copy()
    region = out[y : y + height, x : x + width]
    if overlay.shape[2] == 3 or bool((overlay[:, :, 3] == 255).all()):
        region[...] = resize(np.ascontiguousarray(overlay[:, :, :3]), width, height)
        return out
    colour, alpha = _stretch_premultiplied(overlay, width, height)
    mixed = region.astype(np.float32) * (1.0 - alpha[:, :, None]) + colour
    region[...] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return out


def rounded_rect_alpha(width: int, height: int, radius: float) -> np.ndarray:
    """Anti-aliased coverage (float32 H×W, 0..1) of a rounded rectangle filling width × height."""
    r = max(0.0, min(radius, width / 2, height / 2))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    qx = np.abs(xs - width / 2) - (width / 2 - r)
    qy = np.abs(ys - height / 2) - (height / 2 - r)
    outside = np.sqrt(np.maximum(qx, 0.0) ** 2 + np.maximum(qy, 0.0) ** 2)
    dist = outside + np.minimum(np.maximum(qx, qy), 0.0) - r  # signed distance to the edge (inside < 0)
    return np.asarray(np.clip(0.5 - dist, 0.0, 1.0), dtype=np.float32)
