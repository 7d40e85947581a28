"""Step 11 — pixels → JPEG bytes (always re-encoded, with a provenance comment)."""

from __future__ import annotations

import numpy as np

from restyle import imaging


def encode(image: np.ndarray, quality: int) -> tuple[bytes, str]:
    return imaging.encode_jpeg(image, quality=quality), "image/jpeg"
