"""RestoreFace by detail transfer: for each detected face (Haar cascade from the OpenCV wheel), the
original face's structure (luminance detail) is recoloured to the stylised face's palette (Lab mean /
std transfer) and blended back through a feathered ellipse. The face keeps the style's colours but
regains the eyes, mouth and outline that filters smear: detail and identity, without a learned model
(no face-restoration weights ship inside any package; see shared/notes/offline-assets.md).

Only pixels inside each face's padded box change. Stateless and thread-safe (the cascade is per thread).
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.faces import Box, detect_faces
from restyle.imaging.arrays import U8
from restyle.restorers import BaseRestorer

STRENGTH = 0.75  # weight of the restored face at the ellipse's centre
PAD = 0.25  # box padding, as a fraction of the face box, on each side


def _recolour(src: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``src``'s structure with ``ref``'s Lab mean and spread, RGB uint8."""
    s = cv2.cvtColor(src, cv2.COLOR_RGB2LAB).astype(np.float32)
    r = cv2.cvtColor(ref, cv2.COLOR_RGB2LAB).astype(np.float32)
    s_mean, s_std = s.reshape(-1, 3).mean(0), s.reshape(-1, 3).std(0) + 1e-3
    r_mean, r_std = r.reshape(-1, 3).mean(0), r.reshape(-1, 3).std(0) + 1e-3
    out = (s - s_mean) / s_std * r_std + r_mean
    lab = np.clip(out, 0, 255).astype(np.uint8)
    return np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), dtype=np.uint8)


def _face_mask(h: int, w: int) -> np.ndarray:
    """A feathered ellipse covering the face inside its padded box, float32 0..1, H×W×1."""
    mask = np.zeros((h, w), np.float32)
    # RotatedRect form: accepts sub-pixel float centre and axes (the 8-argument form needs ints)
    cv2.ellipse(mask, ((w / 2, h / 2), (w * 0.72, h * 0.84), 0.0), 1.0, -1)
    k = max(3, (min(w, h) // 6) | 1)
    return np.asarray(cv2.GaussianBlur(mask, (k, k), 0), dtype=np.float32)[:, :, None]


def padded_box(box: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of a face box grown by ``PAD`` on each side, clipped to the image."""
    x, y, bw, bh = box
    px, py = int(bw * PAD), int(bh * PAD)
    return max(0, x - px), max(0, y - py), min(width, x + bw + px), min(height, y + bh + py)


class Restorer(BaseRestorer):
    name = "detail"

    def __init__(self, strength: float = STRENGTH) -> None:
        self.strength = strength

    def restore(self, original: U8, stylized: U8, max_faces: int, faces: list[Box] | None = None) -> U8:
        if max_faces <= 0:
            return stylized
        faces = detect_faces(original, max_faces) if faces is None else faces[:max_faces]
        if not faces:
            return stylized
        out = stylized.copy()
        h, w = original.shape[:2]
        for box in faces:
            x0, y0, x1, y1 = padded_box(box, w, h)
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            src, ref = original[y0:y1, x0:x1], out[y0:y1, x0:x1]
            restored = _recolour(src, ref)
            mask = _face_mask(y1 - y0, x1 - x0) * self.strength
            blended = ref.astype(np.float32) * (1 - mask) + restored.astype(np.float32) * mask
            out[y0:y1, x0:x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return out
