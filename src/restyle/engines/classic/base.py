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
#: recipes that read ``req.strength`` themselves (abstraction, line weight, palette...); the engine
#: pixel-blends the others with the input
NATIVE_STRENGTH: set[str] = set()


def recipe(name: str, *, native_strength: bool = False) -> Callable[[Recipe], Recipe]:
    """Register a recipe function under ``name`` (the catalogue's ``recipe`` field).

    ``native_strength=True``: the recipe renders Strength itself, so every strength gives a picture in the
    style and a smaller one stays closer to the source; it must stay monotonic (tests measure it).
    """

    def register(fn: Recipe) -> Recipe:
        RECIPES[name] = fn
        if native_strength:
            NATIVE_STRENGTH.add(name)
        return fn

    return register


def level(req: StyleRequest, at_zero: float, at_one: float) -> float:
    """A rendering knob that moves linearly from ``at_zero`` to ``at_one`` as Strength goes 0 -> 1."""
    s = min(1.0, max(0.0, float(req.strength)))
    return at_zero + (at_one - at_zero) * s


def param(req: StyleRequest, name: str, default: float) -> float:
    """A number from the style's catalogue ``params`` table."""
    return float(req.style.params.get(name, default))


def seed_sequence(seed: int, kind: str) -> np.random.SeedSequence:
    """Independent random streams per request seed and use (``kind``)."""
    return np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFFFFFF, zlib.crc32(kind.encode())])
