"""Types, the recipe registry and catalogue parameters shared by the classic engine's modules."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from restyle.engines import StyleRequest

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
Colour = tuple[float, float, float]
Recipe = Callable[[U8, StyleRequest], U8]
RECIPES: dict[str, Recipe] = {}


def recipe(name: str) -> Callable[[Recipe], Recipe]:
    """Register a recipe function under ``name`` (the catalogue's ``recipe`` field)."""

    def register(fn: Recipe) -> Recipe:
        RECIPES[name] = fn
        return fn

    return register


def param(req: StyleRequest, name: str, default: float) -> float:
    """A number from the style's catalogue ``params`` table."""
    return float(req.style.params.get(name, default))


def seed_sequence(seed: int, kind: str) -> np.random.SeedSequence:
    """Independent random streams per request seed and use (``kind``)."""
    return np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFFFFFF, zlib.crc32(kind.encode())])
