"""Drawing recipes: 132 pencil sketch, after Lu, Xu and Jia, "Combining sketch and tone for pencil drawing
production" (NPAR 2012).

Two layers multiplied on paper: a stroke layer (gradient magnitude split into eight directions, each part
redrawn with a straight line kernel in its own direction, so edges become overlapping straight pencil
lines that run a little past their ends) and a tone layer (the image's tones matched to the histogram of
real pencil drawings, then rendered with a hatching texture raised to a per-pixel power so that the
texture's local mean follows the tone: light areas are paper with sparse strokes, dark areas dense
cross-hatching).
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic.base import F32, U8, level, recipe
from restyle.engines.classic.strokes import face_zone, skin
from restyle.engines.classic.textures import _paper, _streaks, _texture
from restyle.engines.classic.toolkit import _a, _blur, _f, _fit, _gray, _tint, _to, _u8, _unit

#: long side of the copy the stroke layer is computed on (lines are then smooth when upsampled)
STROKE_SIDE = 1024


def _line_kernel(length: int, angle: float) -> F32:
    k = np.zeros((length, length), np.float32)
    c = (length - 1) / 2.0
    dx, dy = np.cos(angle) * c, np.sin(angle) * c
    cv2.line(k, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1, cv2.LINE_AA)
    return _a(k / k.sum())


def strokes(gray: F32, length: int, weight: float, directions: int = 8) -> F32:
    """Lu et al.'s stroke layer: 1 on paper, towards 0 on pencil lines along the edges of ``gray``."""
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3, scale=0.25)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3, scale=0.25)
    mag = _a(cv2.magnitude(gx, gy))
    kernels = [_line_kernel(length, np.pi * i / directions) for i in range(directions)]
    # the direction of each pixel's line is decided on a half-size copy (it varies slowly)
    half = _a(
        cv2.resize(mag, (max(1, mag.shape[1] // 2), max(1, mag.shape[0] // 2)), interpolation=cv2.INTER_AREA)
    )
    short = [_line_kernel(max(3, length // 2 | 1), np.pi * i / directions) for i in range(directions)]
    responses = np.stack([cv2.filter2D(half, -1, k, borderType=cv2.BORDER_REFLECT) for k in short])
    best = cv2.resize(responses.argmax(0).astype(np.uint8), mag.shape[::-1], interpolation=cv2.INTER_NEAREST)
    lines = np.zeros_like(mag)
    for i, k in enumerate(kernels):
        part = np.where(best == i, mag, np.float32(0.0))
        lines += _a(cv2.filter2D(part, -1, k, borderType=cv2.BORDER_REFLECT))
    return _a(np.clip(1.0 - lines * np.float32(weight), 0.0, 1.0))


def _tone_lut(gray: U8, weights: tuple[float, float, float]) -> U8:
    """Tone curve matching ``gray``'s histogram to Lu et al.'s model of pencil drawings: a bright paper
    peak (Laplacian), a flat band of mid tones and a small dark Gaussian, mixed by ``weights``."""
    v = np.arange(256, dtype=np.float64)
    bright = np.exp(-(255.0 - v) / 9.0) / 9.0
    mid = ((v >= 105) & (v <= 225)).astype(np.float64) / (225 - 105)
    dark = np.exp(-((v - 90.0) ** 2) / (2 * 11.0**2)) / np.sqrt(2 * np.pi * 11.0**2)
    target = weights[0] * bright + weights[1] * mid + weights[2] * dark
    target_cdf = np.cumsum(target) / target.sum()
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    cdf = np.cumsum(hist) / max(1.0, hist.sum())
    lut = np.interp(cdf, target_cdf, v)
    return np.asarray(np.clip(lut + 0.5, 0, 255), dtype=np.uint8)


@recipe("sketch", native_strength=True)
def sketch(image: U8, req: StyleRequest) -> U8:
    """Graphite pencil drawing (Lu, Xu and Jia 2012): directional stroke lines times a hatched tone layer
    on warm paper. Strength: line length and weight, how far tones move to a drawing's, hatching depth,
    contrast of the marks against the clean paper."""
    u = _unit(image)
    h, w = image.shape[:2]
    gray8 = _gray(image)
    small = _fit(gray8, STROKE_SIDE)
    su = u * max(small.shape) / max(h, w)
    g = _f(np.asarray(_blur(small, 0.8 * su), np.uint8))
    length = max(5, round(level(req, 6.0, 16.0) * su) | 1)
    lines = strokes(g, length, level(req, 3.0, 8.0))  # firm graphite lines
    lines = _a(_to(lines, image.shape))
    req.checkpoint()
    matched = _f(np.asarray(cv2.LUT(gray8, _tone_lut(gray8, (85.0, 13.0, 2.0))), np.uint8))
    # faces (found by a quick cascade scan) are drawn with a finer, more careful hand
    zone = face_zone(image, image.shape)
    flesh = _a(np.maximum(_a(_to(skin(_fit(image, 512)), image.shape)), zone))
    if zone.any():
        short = max(3, round(level(req, 3.0, 6.0) * su) | 1)
        fine = _a(_to(strokes(g, short, level(req, 1.0, 2.0)), image.shape))
        lines = _a(lines + (fine - lines) * zone)
    # faces keep more of their own modelling (the eyes stay darker than the cheeks)
    move = _a(np.float32(level(req, 0.4, 1.0)) * (1.0 - 0.5 * flesh) * (1.0 - 0.5 * zone))
    tone = _a(_f(gray8) + (matched - _f(gray8)) * move)
    tone = _a(np.clip(_blur(tone, 1.5 * u), 0.02, 1.0))

    def make(rng: np.random.Generator) -> list[F32]:
        first = _streaks(rng, h, w, cell=max(1.0, 0.7 * u), length=24 * u, angle=50.0)
        second = _streaks(rng, h, w, cell=max(1.0, 0.7 * u), length=20 * u, angle=-35.0)
        return [_a(np.clip(0.72 + 0.2 * first, 0.05, 1.0)), _a(np.clip(0.72 + 0.2 * second, 0.05, 1.0))]

    hatch_a, hatch_b = _texture(f"pencil{u:.2f}", h, w, req.seed, make)
    # T = H^beta with ln(T) following ln(tone): the first hatching carries light tones, the cross-hatching
    # comes in for the darker ones
    log_tone = np.log(tone)
    strength = level(req, 0.6, 1.0)
    beta_a = log_tone * np.float32(1.0 / np.log(0.72)) * np.float32(0.65)
    beta_b = np.maximum(np.float32(np.log(0.6)) - log_tone, np.float32(0.0)) * np.float32(1.0 / -np.log(0.72))
    shaded = _a(np.power(hatch_a, beta_a) * np.power(hatch_b, beta_b))
    # skin is shaded smoothly (blended with a stump), not hatched: faces keep their features
    depth = _a(np.float32(strength) * (1.0 - 0.7 * flesh))
    lines = _a(1.0 - (1.0 - lines) * (1.0 - 0.3 * flesh))  # and a lighter touch on the wrinkles
    shaded = _a(tone + (shaded - tone) * depth)
    out = _a(np.clip(lines * shaded, 0.0, 1.0) * _paper(h, w, req.seed, u))
    # a drawing's values: the paper is clean white, the graphite marks firm (never quite black)
    contrast, lift = level(req, 1.3, 1.6), level(req, 0.05, 0.1)
    out = _a(np.clip((out - np.float32(0.5)) * np.float32(contrast) + np.float32(0.5 + lift), 0.0, 1.0))
    out = _a(np.float32(0.08) + np.float32(0.92) * out)
    return _u8(_tint(_a(cv2.merge([out, out, out])), (0.98, 0.965, 0.93)))
