"""Cel, anime and cartoon recipes: 201 anime, 123 fresh anime, 107 cartoon, 210 2.5D, 116 3D, 124 picture book."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic.base import F32, U8, param, recipe
from restyle.engines.classic.textures import _noise, _paper, _texture
from restyle.engines.classic.toolkit import (
    _a,
    _bilateral,
    _bloom,
    _blur,
    _clean,
    _clip,
    _curve,
    _dog_lines,
    _edge_preserving,
    _f,
    _fit,
    _gray,
    _hsv,
    _lum,
    _mix,
    _palette,
    _plus,
    _quantize,
    _relief,
    _specular,
    _times,
    _tint,
    _to,
    _u8,
    _unit,
)


def _cel(image: U8, req: StyleRequest, *, colors: int, sat: float, value: U8) -> tuple[U8, U8]:
    """Smoothed, toned image at full size and its flat-colour (k-means palette) version."""
    small = _bilateral(_fit(image, 384), 3, 7, 40.0, 6.0)
    small = _hsv(small, sat=sat, value=value)
    req.checkpoint()
    smooth = np.asarray(_to(small, image.shape, cv2.INTER_CUBIC), dtype=np.uint8)
    flat = _quantize(smooth, _palette(small, colors, req.seed))
    return smooth, flat


@recipe("anime")
def anime(image: U8, req: StyleRequest) -> U8:
    """Japanese anime: flat cel colours on a smoothed, vivid copy with thin dark ink lines. Params: colors, line."""
    u = _unit(image)
    value = _curve([(0, 0.0), (0.25, 0.33), (0.5, 0.6), (1, 1)])
    smooth, flat = _cel(image, req, colors=int(param(req, "colors", 14)), sat=1.45, value=value)
    req.checkpoint()
    flat = _clean(flat, 1.2 * u)
    lines = _dog_lines(_f(_gray(smooth)), 0.9 * u, threshold=0.008, gain=param(req, "line", 40.0))
    return _u8(_mix((0.14, 0.1, 0.18), _f(flat), lines))


@recipe("anime_fresh")
def anime_fresh(image: U8, req: StyleRequest) -> U8:
    """Fresh anime: high-key pastel flats, cool blue shadows, soft bloom, thin colour-tinted lines. Params: colors."""
    u = _unit(image)
    value = _curve([(0, 0.28), (0.5, 0.78), (1, 1)])
    smooth, flat = _cel(image, req, colors=int(param(req, "colors", 16)), sat=1.05, value=value)
    req.checkpoint()
    f = _f(np.asarray(_blur(flat, 0.8 * u), dtype=np.uint8))
    shadow = _clip(1.0 - _lum(f) * 1.4)
    f = _mix(f, _tint(f, (0.85, 0.95, 1.12)), shadow)
    f = _bloom(f, threshold=0.7, sigma=12 * u, amount=0.6)
    lines = _dog_lines(_f(_gray(smooth)), 0.8 * u, threshold=0.015, gain=22.0)
    return _u8(_mix(_tint(f, (0.45, 0.5, 0.6)), f, lines))


@recipe("cartoon")
def cartoon(image: U8, req: StyleRequest) -> U8:
    """Cartoon illustration: few saturated flat colours and bold black outlines. Params: colors."""
    u = _unit(image)
    small = _bilateral(_fit(image, 320), 4, 9, 50.0, 7.0)
    small = _hsv(small, sat=1.7, value=_curve([(0, 0.05), (0.5, 0.6), (1, 1)]))
    req.checkpoint()
    smooth = np.asarray(_to(small, image.shape, cv2.INTER_CUBIC), dtype=np.uint8)
    flat = _quantize(smooth, _palette(small, int(param(req, "colors", 8)), req.seed))
    flat = _clean(flat, 2.0 * u)
    req.checkpoint()
    lines = _dog_lines(_f(_gray(smooth)), 1.4 * u, threshold=0.008, gain=40.0)
    lines = _a(cv2.erode(lines, np.ones((3, 3), np.uint8), iterations=max(1, round(u))))
    lines = _a(_blur(lines, 0.6 * u))
    return _u8(_times(_f(flat), lines))


@recipe("anime25d")
def anime25d(image: U8, req: StyleRequest) -> U8:
    """2.5D animation: airbrushed forms with soft-stepped shading, vivid grade, glow and soft outlines."""
    u = _unit(image)
    small = _edge_preserving(_fit(image, 256), 60.0, 0.45)
    small = _bilateral(small, 2, 9, 40.0, 5.0)
    # soft cel: value is pulled towards four bands with smooth steps between them
    x = np.linspace(0.0, 1.0, 256) * 4.0
    frac = x - np.floor(x)
    stepped = (np.floor(x) + frac * frac * (3 - 2 * frac)) / 4.0
    tone = np.linspace(0.0, 1.0, 256) * 0.45 + stepped * 0.55
    small = _hsv(small, sat=1.4, value=np.asarray(np.clip(tone**0.85 * 255 + 0.5, 0, 255), dtype=np.uint8))
    req.checkpoint()
    smooth = np.asarray(_to(small, image.shape, cv2.INTER_CUBIC), dtype=np.uint8)
    f = _bloom(_f(smooth), threshold=0.6, sigma=10 * u, amount=0.55)
    lum = _lum(f)
    f = _mix(f, _tint(f, (0.62, 0.74, 1.25)), _a(np.clip(1.0 - lum * 1.3, 0.0, 1.0)))  # violet-blue shade
    f = _mix(f, _tint(f, (1.1, 1.02, 0.88)), _a(lum * lum))  # warm key light
    lines = _a(_blur(_dog_lines(_f(_gray(smooth)), 1.1 * u, threshold=0.006, gain=30.0), 0.4 * u))
    return _u8(_mix((0.12, 0.06, 0.2), f, lines))


@recipe("cartoon3d")
def cartoon3d(image: U8, req: StyleRequest) -> U8:
    """3D cartoon render: plastic-smooth forms, soft key light, broad glossy highlights, no outlines."""
    u = _unit(image)
    small = _edge_preserving(_fit(image, 224), 80.0, 0.5)
    small = _bilateral(small, 2, 9, 50.0, 5.0)
    small = _hsv(small, sat=1.45, value=_curve([(0, 0.06), (0.5, 0.62), (1, 1)]))
    req.checkpoint()
    smooth = np.asarray(_to(small, image.shape, cv2.INTER_CUBIC), dtype=np.uint8)
    f = _f(smooth)
    lum = _lum(f)
    f = _clip(f + (f - _a(_blur(f, 16 * u))) * np.float32(0.5))  # volume: large-radius local contrast
    height = _a(_blur(lum, 8 * u))
    shade = _relief(height, depth=40 * u)
    spec = _specular(height, depth=40 * u, power=30.0) * _clip(lum * 1.5 - 0.3)
    f = _plus(_times(f, 0.75 + 0.25 * _clip(shade, 0.0, 1.5)), 0.45 * spec)
    f = _bloom(_clip(f), threshold=0.7, sigma=10 * u, amount=0.45)
    return _u8(_tint(f, (1.04, 1.0, 0.95)))


@recipe("picture_book")
def picture_book(image: U8, req: StyleRequest) -> U8:
    """Lianhuanhua picture book: pen-and-ink lines, cross-hatched shadows, faint colour on aged paper."""
    u = _unit(image)
    h, w = image.shape[:2]
    smooth = np.asarray(_to(_bilateral(_fit(image, 384), 2, 9, 40.0, 6.0), image.shape), dtype=np.uint8)
    g = _f(_gray(smooth))
    req.checkpoint()

    def make(rng: np.random.Generator) -> list[F32]:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        k = np.float32(2 * np.pi / (5.0 * u * 1.414))
        jitter = _noise(rng, h, w, 30 * u) * np.float32(0.6)
        return [_a(np.sin((x + y) * k + jitter) > 0.44), _a(np.sin((x - y) * k + jitter) > 0.44)]

    right, left = _texture(f"hatch{u:.2f}", h, w, req.seed, make)
    ink = np.maximum(np.clip((0.55 - g) * 6.0, 0, 1) * right, np.clip((0.33 - g) * 6.0, 0, 1) * left)
    ink = np.maximum(ink, np.clip((0.12 - g) * 8.0, 0, 1))
    ink = np.maximum(ink, 1.0 - _dog_lines(g, 1.0 * u, threshold=0.008, gain=45.0))
    ink = _a(_blur(_a(ink), 0.5 * u))
    wash = _f(_hsv(smooth, sat=0.35, value=_curve([(0, 0.55), (1, 1)])))
    page = _tint(_times(_mix(wash, (1.0, 1.0, 1.0), 0.4), _paper(h, w, req.seed, u)), (0.93, 0.87, 0.72))
    return _u8(_mix(page, (0.13, 0.1, 0.08), ink))
