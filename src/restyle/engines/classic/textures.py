"""Generated textures of the classic engine: seeded noise, paper, vignette and warp maps, LRU-cached by bytes.

Textures are generated, never downloaded: seeded from ``request.seed`` and kept in a small LRU cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np

from restyle.engines.classic.base import F32, U8, seed_sequence
from restyle.engines.classic.toolkit import _a, _directional_blur

#: generated textures kept between calls, in bytes
TEXTURE_CACHE_BYTES = 128 * 2**20

# --- textures: generated, seeded, cached -----------------------------------------------------------------

Texture = tuple[F32, ...]
_cache: OrderedDict[tuple[Any, ...], Texture] = OrderedDict()
_cache_lock = threading.Lock()


def _texture(
    kind: str, h: int, w: int, seed: int, make: Callable[[np.random.Generator], Sequence[F32]]
) -> Texture:
    """Read-only maps from ``make`` (a function of its generator, ``h`` and ``w`` only), LRU-cached by bytes."""
    key = (kind, h, w, int(seed))
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    maps = tuple(
        np.ascontiguousarray(m, dtype=np.float32)
        for m in make(np.random.default_rng(seed_sequence(seed, kind)))
    )
    for m in maps:
        m.flags.writeable = False
    with _cache_lock:
        _cache[key] = maps
        total = sum(m.nbytes for t in _cache.values() for m in t)
        while total > TEXTURE_CACHE_BYTES and len(_cache) > 1:
            _, old = _cache.popitem(last=False)
            total -= sum(m.nbytes for m in old)
    return maps


def _noise(rng: np.random.Generator, h: int, w: int, cell: float) -> F32:
    """Smooth value noise with features about ``cell`` pixels across; zero mean, unit deviation."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    grid = rng.standard_normal((gh, gw), dtype=np.float32)
    if cell <= 1.0:
        out = grid[:h, :w]
    else:
        out = _a(cv2.resize(grid, (round(gw * cell), round(gh * cell)), interpolation=cv2.INTER_CUBIC))[
            :h, :w
        ]
        if out.shape != (h, w):
            out = _a(cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR))
    return _normal(_a(out))


def _normal(x: F32) -> F32:
    """Zero mean, unit standard deviation."""
    mean, std = cv2.meanStdDev(x)
    return _a((x - np.float32(mean[0, 0])) * np.float32(1.0 / (std[0, 0] + 1e-6)))


def _fractal(rng: np.random.Generator, h: int, w: int, cell: float, octaves: int = 4) -> F32:
    out = np.zeros((h, w), np.float32)
    for i in range(octaves):
        out += _noise(rng, h, w, max(1.0, cell / 2**i)) * np.float32(0.55**i)
    return _normal(out)


def _streaks(rng: np.random.Generator, h: int, w: int, *, cell: float, length: float, angle: float) -> F32:
    """Noise smeared along ``angle``: brush bristles, fibres, brushed metal, pencil strokes."""
    return _normal(_a(_directional_blur(_noise(rng, h, w, cell), round(length), angle)))


def _paper(h: int, w: int, seed: int, u: float) -> F32:
    """Paper grain around 1.0 (a few per cent): fine tooth plus faint fibres."""

    def make(rng: np.random.Generator) -> list[F32]:
        tooth = _fractal(rng, h, w, 6 * u, 3)
        fibres = _streaks(rng, h, w, cell=1.0, length=9 * u, angle=20.0)
        return [_a(1.0 + 0.025 * tooth + 0.015 * fibres)]

    return _texture(f"paper{u:.2f}", h, w, seed, make)[0]


def _vignette(h: int, w: int, power: float) -> F32:
    def make(_: np.random.Generator) -> list[F32]:
        y = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None]
        x = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
        r2 = (x * x + y * y) / 2.0
        return [_a(np.clip(1.0 - power * r2**1.5, 0.0, 1.0))]

    return _texture(f"vignette{power:.2f}", h, w, 0, make)[0]


def _warp_maps(kind: str, h: int, w: int, seed: int, *, amplitude: float, cell: float) -> tuple[F32, F32]:
    """``cv2.remap`` maps that push each pixel by smooth noise of ``amplitude`` pixels."""

    def make(rng: np.random.Generator) -> list[F32]:
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        return [
            gx + np.float32(amplitude) * _noise(rng, h, w, cell),
            gy + np.float32(amplitude) * _noise(rng, h, w, cell),
        ]

    mx, my = _texture(f"{kind}{amplitude:.2f}/{cell:.2f}", h, w, seed, make)
    return mx, my


def _warp(image: U8, maps: tuple[F32, F32]) -> U8:
    out = cv2.remap(image, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return np.asarray(out, dtype=np.uint8)
