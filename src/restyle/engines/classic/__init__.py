"""The ``classic`` engine: non-photorealistic rendering with NumPy/OpenCV, a few hundred ms on CPU.

One function per recipe name, registered with ``@recipe`` in the family modules, on shared building blocks:

* families: ``cartoon`` (201, 123, 107, 124), ``cartoon3d`` (210, 116), ``painting`` (133, 134, 125),
  ``washes`` (104, 203), ``sketch`` (132), materials ``carved`` (hard: 120 wood, 126 jade, 127 porcelain)
  and ``modelled`` (soft: 121 clay, 128 and 135 felt), ``prints`` (129, 130, 131);
* building blocks: ``toon`` (the flow-based abstraction and cel steps of both cartoon families), ``flow``
  (edge tangent flow from the structure tensor, smoothing along it), ``lines`` (flow-based DoG/XDoG ink),
  ``strokes`` (oriented brush strokes, Litwinowicz/Hertzmann), ``relief`` (height fields, lighting, face
  protection), ``sky`` (sky detection, painted skies), ``face`` (one face detection per call shared by
  every stage, cel skin), ``toolkit`` (filters, tone, palettes), ``textures`` (seeded, cached noise).

Strength: every Tencent style is registered with ``native_strength=True`` and renders Strength itself
(abstraction level, line weight, palette pull, stroke size, relief depth; ``base.level`` maps it to a knob),
so a low strength is still a picture in the style, only closer to the source; the distance from the
source grows monotonically with it (tests/engines/test_classic.py). A recipe without the flag is
pixel-blended with the input by ``strength`` as the last step.

Inputs with a side longer than ``MAX_SIDE`` are styled at that size and upsampled, which bounds time and
memory. Sizes of lines, strokes and fibres scale with the image, so a style looks alike at any size.
Knobs a recipe reads from the catalogue's ``params`` table are named in its docstring.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines import BaseEngine, StyleRequest
from restyle.engines.classic import (
    cartoon,
    cartoon3d,
    carved,
    face,
    modelled,
    painting,
    prints,
    sketch,
    washes,
)
from restyle.engines.classic.base import NATIVE_STRENGTH, RECIPES, U8, recipe
from restyle.engines.classic.toolkit import _fit, _to
from restyle.styles import Style

__all__ = ["MAX_SIDE", "RECIPES", "Engine", "blend", "recipe"]
#: the family modules, imported for their @recipe registrations
_FAMILIES = (cartoon, cartoon3d, carved, modelled, painting, prints, sketch, washes)

#: inputs with a longer side are styled at this side, then upsampled (the blend uses the full-size input)
MAX_SIDE = 2048


def blend(original: U8, styled: U8, strength: float) -> U8:
    """Move from ``original`` towards ``styled`` by ``strength`` (monotonic in strength)."""
    out = cv2.addWeighted(styled, float(strength), original, 1.0 - float(strength), 0.0)
    return np.ascontiguousarray(out, dtype=np.uint8)


class Engine(BaseEngine):
    name = "classic"

    def check_style(self, style: Style) -> None:
        """A recipe name the engine does not have stops startup, naming the style."""
        if style.recipe not in RECIPES:
            msg = f"style {style.id}: classic engine has no recipe {style.recipe!r}; it has {', '.join(sorted(RECIPES))}"
            raise ValueError(msg)

    def stylize(self, image: U8, request: StyleRequest) -> U8:
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
        face.forget()  # faces are detected once per call (``face.face_boxes``), never reused across calls
        styled = fn(_fit(source, MAX_SIDE), request)
        request.checkpoint()
        styled = np.asarray(_to(styled, source.shape), dtype=np.uint8)
        if request.style.recipe in NATIVE_STRENGTH:
            return np.ascontiguousarray(styled)
        return blend(source, styled, request.strength)
