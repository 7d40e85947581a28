"""Step 7 — RestoreFace N: restore up to N faces from the framed original into the stylised image."""

from __future__ import annotations

import numpy as np

from restyle.faces import Box
from restyle.restorers import BaseRestorer


def restore(
    original: np.ndarray,
    stylized: np.ndarray,
    max_faces: int,
    restorer: BaseRestorer,
    faces: list[Box] | None = None,
) -> np.ndarray:
    if max_faces <= 0:
        return stylized
    return restorer.restore(original, stylized, max_faces, faces)
