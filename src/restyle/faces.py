"""Face detection shared by framing (crop keeps faces) and RestoreFace.

Uses the Haar cascades shipped inside OpenCV 4.x wheels (``cv2.data.haarcascades``), run on a
downscaled grey copy; boxes are returned in the input's pixel coordinates, largest first.
"""

from __future__ import annotations

import threading
from functools import cache

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x, y, width, height
DETECT_SIDE = 480

_local = threading.local()


@cache
def cascade_path() -> str:
    return str(cv2.data.haarcascades) + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]


def _cascade() -> cv2.CascadeClassifier:
    # CascadeClassifier is not thread-safe: one per thread
    c = getattr(_local, "cascade", None)
    if c is None:
        c = cv2.CascadeClassifier(cascade_path())
        if c.empty():
            msg = f"cannot load face cascade {cascade_path()}"
            raise RuntimeError(msg)
        _local.cascade = c
    return c


def detect_faces(image: np.ndarray, max_faces: int = 6) -> list[Box]:
    """Up to ``max_faces`` face boxes, largest first."""
    if max_faces <= 0:
        return []
    h, w = image.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(h, w))
    small = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    min_side = max(16, int(min(small.shape[:2]) * 0.05))
    found = _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
    boxes = [
        (int(x / scale), int(y / scale), int(bw / scale), int(bh / scale)) for (x, y, bw, bh) in np.asarray(found).reshape(-1, 4)
    ]
    boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
    return boxes[:max_faces]
