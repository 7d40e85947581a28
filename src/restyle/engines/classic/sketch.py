"""Drawing recipes: 132 pencil sketch."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic.base import F32, U8, recipe
from restyle.engines.classic.textures import _paper, _streaks, _texture
from restyle.engines.classic.toolkit import _a, _blur, _f, _gray, _tint, _u8, _unit


@recipe("sketch")
def sketch(image: U8, req: StyleRequest) -> U8:
    """Graphite pencil: colour-dodge line drawing, hatched shading along 45 degrees, paper tooth."""
    u = _unit(image)
    h, w = image.shape[:2]
    gray = _gray(image)
    blur = np.asarray(_blur(255 - gray, 6 * u), dtype=np.uint8)
    d = _f(np.asarray(cv2.divide(gray, 255 - blur, scale=256), dtype=np.uint8))
    req.checkpoint()

    def make(rng: np.random.Generator) -> list[F32]:
        a = _streaks(rng, h, w, cell=1.0, length=15 * u, angle=45.0)
        b = _streaks(rng, h, w, cell=1.0, length=11 * u, angle=60.0)
        return [_a(0.7 * a + 0.3 * b)]

    (strokes,) = _texture(f"sketch{u:.2f}", h, w, req.seed, make)
    shade = np.clip((0.6 - _a(_blur(_f(gray), 2 * u))) * 1.2, 0.0, 0.6)
    hatch = shade * np.clip(0.6 + 0.45 * strokes, 0.0, 1.2)
    out = _a(np.clip(d**2.2 - hatch, 0.0, 1.0) * _paper(h, w, req.seed, u))
    return _u8(_tint(_a(cv2.merge([out, out, out])), (0.98, 0.97, 0.95)))
