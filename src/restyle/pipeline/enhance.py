"""Step 8 — EnhanceImage: sharpen / clarify with the configured upscaler (same output size)."""

from __future__ import annotations

import numpy as np

from restyle import imaging
from restyle.upscalers import BaseUpscaler


def enhance(image: np.ndarray, enabled: bool, upscaler: BaseUpscaler) -> np.ndarray:
    if not enabled:
        return image
    out = upscaler.enhance(image)
    h, w = image.shape[:2]
    if out.shape[:2] != (h, w):
        out = imaging.resize(out, w, h)
    return out
