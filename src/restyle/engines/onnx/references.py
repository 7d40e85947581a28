"""Generated reference textures for the ``reference`` recipe (style from an image, without an image licence)."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines.onnx.spec import F32, U8

STYLE_SIDE = 256  # the reference-style predictor's input size
TEXTURES = ("marble", "porcelain", "mosaic", "wood")


def _noise(rng: np.random.Generator, side: int, cells: int) -> F32:
    grid = rng.random((cells, cells)).astype(np.float32)
    return np.asarray(cv2.resize(grid, (side, side), interpolation=cv2.INTER_CUBIC), dtype=np.float32)


def texture(name: str, side: int = STYLE_SIDE) -> U8:
    """A reference picture for the ``reference`` recipe, generated from a fixed seed."""
    rng = np.random.default_rng(sum(map(ord, name)))
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    turb = sum(_noise(rng, side, c) / (i + 1) for i, c in enumerate((4, 8, 16, 32)))
    if name == "marble":
        v = (np.sin((xx * 3 + yy * 2 + turb * 2.5) * np.pi * 2) + 1) / 2
        v = v**0.35
        dark, light = np.array([40, 45, 55], np.float32), np.array([235, 232, 225], np.float32)
        img = light * v[..., None] + dark * (1 - v[..., None])
    elif name == "porcelain":
        swirl = np.sin((turb * 6 + np.hypot(xx - 0.5, yy - 0.5) * 10) * np.pi)
        ink = np.clip((np.abs(swirl) < 0.35).astype(np.float32) + 0.25 * (swirl > 0.6), 0, 1)
        ink = cv2.GaussianBlur(ink, (0, 0), 1.2)
        white, cobalt = np.array([246, 246, 240], np.float32), np.array([22, 52, 140], np.float32)
        img = white * (1 - ink[..., None]) + cobalt * ink[..., None]
    elif name == "mosaic":
        pts = rng.random((90, 2)).astype(np.float32)
        palette = np.array(
            [[196, 64, 40], [232, 176, 48], [40, 96, 160], [236, 226, 200], [60, 130, 90], [150, 60, 110]],
            np.float32,
        )
        cols = palette[rng.integers(0, len(palette), len(pts))] * rng.uniform(0.8, 1.1, (len(pts), 1))
        d = (xx[..., None] - pts[:, 0]) ** 2 + (yy[..., None] - pts[:, 1]) ** 2
        order = np.argsort(d, axis=2)
        nearest = order[..., 0]
        d1 = np.take_along_axis(d, order[..., :1], 2)[..., 0]
        d2 = np.take_along_axis(d, order[..., 1:2], 2)[..., 0]
        grout = (np.sqrt(d2) - np.sqrt(d1)) < 0.008
        img = cols[nearest]
        img[grout] = (70, 62, 55)
    elif name == "wood":
        r = np.hypot(xx - 0.2, (yy - 0.5) * 0.25) * 40 + turb * 3
        v = (np.sin(r) + 1) / 2
        v = v**3
        light, dark = np.array([214, 160, 100], np.float32), np.array([110, 62, 30], np.float32)
        img = light * (1 - v[..., None]) + dark * v[..., None]
        img *= (0.92 + 0.08 * _noise(rng, side, 64))[..., None]
    else:
        msg = f"texture {name!r} is not one of {', '.join(TEXTURES)}"
        raise ValueError(msg)
    return np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))
