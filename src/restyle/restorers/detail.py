"""RestoreFace by detail transfer: for each detected face (Haar cascade from the OpenCV wheel), the
original face's structure (luminance detail) is recoloured to the stylised face's palette (Lab mean /
std transfer) and blended back through a feathered ellipse. The face keeps the style's colours but
regains the eyes, mouth and outline that filters smear: detail and identity, without a learned model
(no face-restoration weights ship inside any package; see shared/notes/offline-assets.md)."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.faces import detect_faces
from restyle.restorers import BaseRestorer

STRENGTH = 0.75
PAD = 0.25


def _recolour(src: np.ndarray, ref: np.ndarray) -> np.ndarray:
    s = cv2.cvtColor(src, cv2.COLOR_RGB2LAB).astype(np.float32)
    r = cv2.cvtColor(ref, cv2.COLOR_RGB2LAB).astype(np.float32)
    s_mean, s_std = s.reshape(-1, 3).mean(0), s.reshape(-1, 3).std(0) + 1e-3
    r_mean, r_std = r.reshape(-1, 3).mean(0), r.reshape(-1, 3).std(0) + 1e-3
    out = (s - s_mean) / s_std * r_std + r_mean
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


class Restorer(BaseRestorer):
    name = "detail"

    def restore(self, original: np.ndarray, stylized: np.ndarray, max_faces: int) -> np.ndarray:
        faces = detect_faces(original, max_faces)
        if not faces:
            return stylized
        out = stylized.copy()
        h, w = original.shape[:2]
        for x, y, bw, bh in faces:
            px, py = int(bw * PAD), int(bh * PAD)
            x0, y0, x1, y1 = max(0, x - px), max(0, y - py), min(w, x + bw + px), min(h, y + bh + py)
            src, ref = original[y0:y1, x0:x1], out[y0:y1, x0:x1]
            restored = _recolour(src, ref)
            mask = np.zeros((y1 - y0, x1 - x0), np.float32)
            cv2.ellipse(mask, ((x1 - x0) / 2, (y1 - y0) / 2), ((x1 - x0) * 0.36, (y1 - y0) * 0.42), 0, 0, 360, 1.0, -1)
            k = max(3, (min(x1 - x0, y1 - y0) // 6) | 1)
            mask = cv2.GaussianBlur(mask, (k, k), 0)[:, :, None] * STRENGTH
            blended = ref.astype(np.float32) * (1 - mask) + restored.astype(np.float32) * mask
            out[y0:y1, x0:x1] = np.clip(blended, 0, 255).astype(np.uint8)
        return out
