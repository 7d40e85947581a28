"""RestoreFace: bring back the detail and identity of up to N faces after stylisation.

Each file exports ``Restorer`` with ``restore(original, stylized, max_faces) -> image`` (both RGB uint8
of the same size).
"""

from __future__ import annotations

import numpy as np


class BaseRestorer:
    name = "base"

    def restore(self, original: np.ndarray, stylized: np.ndarray, max_faces: int) -> np.ndarray:
        raise NotImplementedError
