"""The ``classic`` engine: non-photorealistic rendering with NumPy/OpenCV, milliseconds on CPU.

One function per recipe name, registered with ``@recipe`` in the family modules (``cartoon``, ``painting``,
``sketch``, ``materials``, ``prints``) on top of a shared ``toolkit`` (filters, tone, relief) and
``textures`` (seeded, cached noise). A recipe returns the fully styled image; ``Engine.stylize`` blends
it with the input by ``strength`` as the last step, so the distance from the input grows monotonically
with strength, unless the recipe is registered with ``native_strength=True`` and renders Strength itself
(abstraction level, line weight, palette size, stroke size, relief depth; see ``base.level``). Inside a recipe:

1. tone and smooth a reduced copy (bilateral / edge-preserving filters run on a few hundred pixels a side),
2. upsample it to the input size,
3. add full-resolution detail: ink lines, generated textures, lighting of a height field.

Inputs with a side longer than ``MAX_SIDE`` are styled at that size and upsampled, which bounds time and memory.
Sizes of lines, strokes and fibres scale with the image (``_unit``), so a style looks alike at any size.
Knobs a recipe reads from the catalogue's ``params`` table are named in its docstring.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines import BaseEngine, StyleRequest
from restyle.engines.classic import cartoon, materials, painting, prints, sketch
from restyle.engines.classic.base import NATIVE_STRENGTH, RECIPES, U8, recipe
from restyle.engines.classic.toolkit import _fit, _to

__all__ = ["MAX_SIDE", "RECIPES", "Engine", "blend", "recipe"]
_FAMILIES = (cartoon, materials, painting, prints, sketch)  # imported for their @recipe registrations

#: inputs with a longer side are styled at this side, then upsampled (the blend uses the full-size input)
MAX_SIDE = 2048


def blend(original: U8, styled: U8, strength: float) -> U8:
    """Move from ``original`` towards ``styled`` by ``strength`` (monotonic in strength)."""
    out = cv2.addWeighted(styled, float(strength), original, 1.0 - float(strength), 0.0)
    return np.ascontiguousarray(out, dtype=np.uint8)


class Engine(BaseEngine):
    name = "classic"

    def stylize(self, image: np.ndarray, request: StyleRequest) -> np.ndarray:
        fn = RECIPES.get(request.style.recipe)
        if fn is None:
            msg = f"classic engine has no recipe {request.style.recipe!r} (style {request.style.id})"
            raise LookupError(msg)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            msg = f"classic engine needs an RGB uint8 HxWx3 image, got {image.dtype} {image.shape}"
            raise ValueError(msg)
        if not 0.0 < request.strength <= 1.0:
            msg = f"strength must be in (0, 1], got {request.strength}"
            raise ValueError(msg)
        source = np.ascontiguousarray(image)
        styled = fn(_fit(source, MAX_SIDE), request)
        request.checkpoint()
        styled = np.asarray(_to(styled, source.shape), dtype=np.uint8)
        if request.style.recipe in NATIVE_STRENGTH:
            return np.ascontiguousarray(styled)
        return blend(source, styled, request.strength)
