"""The ``classic`` engine: OpenCV recipes, milliseconds on CPU. One function per recipe name.

A recipe returns the *fully* styled image; ``Engine.stylize`` blends it with the input by ``strength`` as the
last step, so the distance from the input grows monotonically with strength. Inside a recipe:

1. tone and smooth a reduced copy (bilateral / edge-preserving filters run on a few hundred pixels a side),
2. upsample it to the input size,
3. add full-resolution detail: ink lines, generated textures, lighting of a height field.

Inputs with a side longer than ``MAX_SIDE`` are styled at that size and upsampled, which bounds time and memory.
Textures are generated, never downloaded: seeded from ``request.seed`` and kept in a small LRU cache.
Sizes of lines, strokes and fibres scale with the image (``_unit``), so a style looks alike at any size.
Knobs a recipe reads from the catalogue's ``params`` table are named in its docstring.

Floating-point images are RGB float32 in 0..1. Per-channel work goes through OpenCV (``_tint``, ``_times``,
``_mix``) rather than NumPy broadcasting over the 3-channel axis, which is several times slower.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from restyle.engines import BaseEngine, StyleRequest

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
Colour = tuple[float, float, float]
Recipe = Callable[[U8, StyleRequest], U8]
RECIPES: dict[str, Recipe] = {}

#: inputs with a longer side are styled at this side, then upsampled (the blend uses the full-size input)
MAX_SIDE = 2048
#: generated textures kept between calls, in bytes
TEXTURE_CACHE_BYTES = 128 * 2**20


def recipe(name: str) -> Callable[[Recipe], Recipe]:
    def register(fn: Recipe) -> Recipe:
        RECIPES[name] = fn
        return fn

    return register


def blend(original: U8, styled: U8, strength: float) -> U8:
    """Move from ``original`` towards ``styled`` by ``strength`` (monotonic in strength)."""
    out = cv2.addWeighted(styled, float(strength), original, 1.0 - float(strength), 0.0)
    return np.ascontiguousarray(out, dtype=np.uint8)


# --- toolkit: sizes, conversions, per-pixel arithmetic ---------------------------------------------------


def _a(x: Any) -> F32:
    return np.asarray(x, dtype=np.float32)


def _fit(image: U8, side: int) -> U8:
    """Downscale (area filter) so the long side is at most ``side``; never upscales."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _to(image: Any, shape: Sequence[int], interp: int = cv2.INTER_LINEAR) -> Any:
    """Resize ``image`` (any dtype) to the height and width of ``shape``."""
    h, w = int(shape[0]), int(shape[1])
    if image.shape[:2] == (h, w):
        return image
    return np.asarray(cv2.resize(image, (w, h), interpolation=interp))


def _f(image: U8) -> F32:
    return np.multiply(image, np.float32(1.0 / 255.0), dtype=np.float32)


def _u8(image: F32) -> U8:
    out = np.multiply(image, np.float32(255.0), dtype=np.float32)
    np.clip(out, 0.0, 255.0, out=out)
    return np.asarray(cv2.convertScaleAbs(out), dtype=np.uint8)


def _gray(image: U8) -> U8:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def _lum(image: F32) -> F32:
    return _a(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))


def _unit(image: U8) -> float:
    """Feature size relative to a 640-pixel image: lines, strokes and fibres are multiples of it."""
    return float(np.clip(max(image.shape[:2]) / 640.0, 0.4, 4.0))


def _tint(image: F32, rgb: Colour) -> F32:
    """Multiply each channel by its factor."""
    return _a(cv2.transform(image, np.diag(np.asarray(rgb, np.float32))))


def _times(image: F32, m: F32) -> F32:
    """Multiply every channel by the single-channel map ``m``."""
    return _a(cv2.multiply(image, cv2.merge([m, m, m])))


def _plus(image: F32, m: F32) -> F32:
    """Add the single-channel map ``m`` to every channel."""
    return _a(cv2.add(image, cv2.merge([m, m, m])))


def _mix(a: F32 | Colour, b: F32 | Colour, t: F32 | float) -> F32:
    """``a + (b - a) * t``: ``a`` or ``b`` may be an RGB colour, ``t`` a number or a single-channel map."""
    if isinstance(a, tuple) and isinstance(b, tuple) and isinstance(t, np.ndarray) and t.ndim == 2:
        return _a(cv2.merge([_a(t * np.float32(b[i] - a[i]) + np.float32(a[i])) for i in range(3)]))
    tt: Any = cv2.merge([t, t, t]) if isinstance(t, np.ndarray) and t.ndim == 2 else t

    def scaled(x: F32) -> F32:
        return _a(cv2.multiply(x, tt)) if isinstance(tt, np.ndarray) else _a(x * np.float32(tt))

    if isinstance(a, tuple) and isinstance(b, np.ndarray):
        colour: Any = (*a, 0.0)  # an OpenCV scalar
        return _a(cv2.add(scaled(_a(cv2.subtract(b, colour))), colour))
    if isinstance(b, tuple) and isinstance(a, np.ndarray):
        scalar: Any = (*b, 0.0)
        return _a(cv2.subtract(a, scaled(_a(cv2.subtract(a, scalar)))))
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return _a(cv2.add(a, scaled(_a(cv2.subtract(b, a)))))
    msg = "_mix needs at least one image"
    raise TypeError(msg)


def _screen(a: F32, b: F32) -> F32:
    return _a(1.0 - (1.0 - a) * (1.0 - b))


def _clip(x: F32, lo: float = 0.0, hi: float = 1.0) -> F32:
    return _a(np.clip(x, np.float32(lo), np.float32(hi)))


# --- toolkit: tone ---------------------------------------------------------------------------------------


def _curve(points: Sequence[tuple[float, float]]) -> U8:
    """A 256-entry tone curve through ``points`` (0..1 in, 0..1 out), linear between them."""
    xs, ys = zip(*points, strict=True)
    x = np.linspace(0.0, 1.0, 256)
    return np.asarray(np.clip(np.interp(x, xs, ys) * 255.0 + 0.5, 0, 255), dtype=np.uint8)


def _hsv(image: U8, *, sat: float = 1.0, value: U8 | None = None) -> U8:
    """Scale saturation and apply a tone curve to value."""
    h, s, v = cv2.split(cv2.cvtColor(image, cv2.COLOR_RGB2HSV))
    if sat != 1.0:
        s = cv2.LUT(s, np.clip(np.arange(256) * sat + 0.5, 0, 255).astype(np.uint8))
    if value is not None:
        v = cv2.LUT(v, value)
    return np.asarray(cv2.cvtColor(cv2.merge([h, s, v]), cv2.COLOR_HSV2RGB), dtype=np.uint8)


def _gradient_map(gray: U8, stops: Sequence[tuple[float, tuple[int, int, int]]]) -> U8:
    """Map grey levels to colours interpolated between ``stops`` ((position 0..1, (r, g, b)), ...)."""
    pos = [p for p, _ in stops]
    x = np.linspace(0.0, 1.0, 256)
    lut = np.stack([np.interp(x, pos, [c[i] for _, c in stops]) for i in range(3)], axis=1)
    lut_u8 = np.clip(lut + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)
    return np.asarray(cv2.LUT(cv2.merge([gray, gray, gray]), lut_u8), dtype=np.uint8)


# --- toolkit: filters ------------------------------------------------------------------------------------


def _blur(image: Any, sigma: float) -> Any:
    """Gaussian blur; wide ones run on a reduced copy (the result is smooth, upsampling loses nothing)."""
    sigma = max(0.3, float(sigma))
    h, w = image.shape[:2]
    factor = int(sigma / 3.0)
    if factor < 2 or min(h, w) < 8 * factor:
        return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma))
    small = cv2.resize(image, (-(-w // factor), -(-h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), float(np.sqrt(max(0.25, sigma**2 / factor**2 - 0.25))))
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))


def _bilateral(image: U8, passes: int, d: int, sigma_color: float, sigma_space: float) -> U8:
    out = image
    for _ in range(passes):
        out = np.asarray(cv2.bilateralFilter(out, d, sigma_color, sigma_space), dtype=np.uint8)
    return out


def _edge_preserving(image: U8, sigma_s: float, sigma_r: float) -> U8:
    out = cv2.edgePreservingFilter(image, flags=cv2.RECURS_FILTER, sigma_s=sigma_s, sigma_r=sigma_r)
    return np.asarray(out, dtype=np.uint8)


def _bloom(image: F32, *, threshold: float, sigma: float, amount: float) -> F32:
    """Screen a blurred copy of the highlights over the image."""
    glow = np.maximum(image - np.float32(threshold), np.float32(0.0)) * np.float32(amount / (1.0 - threshold))
    return _screen(image, _a(_blur(glow, sigma)))


def _directional_blur(image: Any, length: int, angle: float) -> Any:
    """Motion blur along ``angle`` degrees (counter-clockwise, y up) with a line ``length`` pixels long."""
    length = max(3, int(length) | 1)
    kernel = np.zeros((length, length), np.float32)
    c = length // 2
    dx, dy = np.cos(np.deg2rad(angle)) * c, -np.sin(np.deg2rad(angle)) * c
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1, cv2.LINE_AA)
    kernel /= kernel.sum()
    return np.asarray(cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT))


def _dog_lines(gray: F32, sigma: float, *, threshold: float, gain: float) -> F32:
    """Ink lines by difference of Gaussians: 1 on paper, towards 0 on dark thin structures and edges."""
    fine = _a(_blur(gray, sigma))
    coarse = _a(_blur(gray, sigma * 1.6))
    ink = np.clip((coarse - fine - np.float32(threshold)) * np.float32(gain), 0.0, 1.0)
    return _a(1.0 - ink)


# --- toolkit: palettes and relief ------------------------------------------------------------------------


def _nearest(points: F32, centers: F32) -> npt.NDArray[np.intp]:
    """Index of the nearest centre for each point (squared distance expanded into one matrix product)."""
    d = (centers * centers).sum(1)[None, :] - 2.0 * (points @ centers.T)
    return np.asarray(d.argmin(1))


def _palette(image: U8, k: int, seed: int, *, iterations: int = 10) -> F32:
    """``k`` colours by k-means (k-means++ start, seeded) on a 48-pixel copy of ``image``."""
    samples = _fit(image, 48).reshape(-1, 3).astype(np.float32)
    k = max(1, min(k, len(samples)))
    rng = np.random.default_rng(_seed(seed, "palette"))
    centers = np.empty((k, 3), np.float32)
    centers[0] = samples[rng.integers(len(samples))]
    d2 = ((samples - centers[0]) ** 2).sum(1)
    for j in range(1, k):
        total = float(d2.sum())
        pick = rng.choice(len(samples), p=d2 / total) if total > 0 else rng.integers(len(samples))
        centers[j] = samples[pick]
        d2 = np.minimum(d2, ((samples - centers[j]) ** 2).sum(1))
    for _ in range(iterations):
        labels = _nearest(samples, centers)
        counts = np.bincount(labels, minlength=k).astype(np.float32)
        sums = np.stack([np.bincount(labels, weights=samples[:, c], minlength=k) for c in range(3)], 1)
        filled = counts > 0
        centers[filled] = sums[filled] / counts[filled, None]
    return centers


_CUBE = np.stack(np.meshgrid(*[np.arange(32, dtype=np.float32) * 8 + 4] * 3, indexing="ij"), -1).reshape(
    -1, 3
)


def _quantize(image: U8, palette: F32) -> U8:
    """Nearest palette colour per pixel, via a 32x32x32 lookup table (no per-pixel distances)."""
    lut = np.clip(palette[_nearest(_CUBE, palette)] + 0.5, 0, 255).astype(np.uint8)
    key = np.right_shift(image, 3).astype(np.uint16)
    index = (key[..., 0] << 10) | (key[..., 1] << 5) | key[..., 2]
    return np.ascontiguousarray(np.take(lut, index, axis=0))


def _clean(flat: U8, radius: float) -> U8:
    """Round off the stair-stepped borders of flat-colour regions: median of ``radius``, then anti-alias."""
    flat = np.asarray(cv2.medianBlur(flat, 2 * max(1, round(radius)) + 1), dtype=np.uint8)
    return np.asarray(_blur(flat, 0.25 * radius), dtype=np.uint8)


def _slopes(height: F32, depth: float) -> tuple[F32, F32]:
    """Height-field slopes per pixel times ``depth`` (Sobel, normalised to a unit step)."""
    gx = _a(cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3, scale=depth / 8.0))
    gy = _a(cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3, scale=depth / 8.0))
    return gx, gy


def _relief(height: F32, *, depth: float, azimuth: float = 135.0, elevation: float = 45.0) -> F32:
    """Lambert shading of a height field lit from ``azimuth`` degrees (y up), 1.0 on a flat area.

    ``depth`` converts height units to pixels: with depth 1 a rise of 1 over one pixel is a 45° slope.
    """
    gx, gy = _slopes(height, depth)
    az, el = np.deg2rad(azimuth), np.deg2rad(elevation)
    lx, ly, lz = np.cos(el) * np.cos(az), -np.cos(el) * np.sin(az), np.sin(el)
    shade = (-gx * lx - gy * ly + lz) / np.sqrt(gx * gx + gy * gy + 1.0)
    return _a(shade / lz)


def _specular(height: F32, *, depth: float, power: float, azimuth: float = 135.0) -> F32:
    """Blinn highlight (0..1) of a height field, viewer straight above; ``depth`` as in ``_relief``."""
    gx, gy = _slopes(height, depth)
    az, el = np.deg2rad(azimuth), np.deg2rad(50.0)
    hx, hy, hz = np.cos(el) * np.cos(az), -np.cos(el) * np.sin(az), np.sin(el) + 1.0
    norm = np.sqrt(hx * hx + hy * hy + hz * hz)
    ndoth = (-gx * hx - gy * hy + hz) / (norm * np.sqrt(gx * gx + gy * gy + 1.0))
    return _a(np.maximum(ndoth, 0.0) ** power)


def _domes(flat: U8, radius: float) -> F32:
    """Height (in pixels of ``flat``) rising like a pillow inside each flat-colour region."""
    grad = cv2.morphologyEx(flat, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    inside = np.asarray(cv2.cvtColor(grad, cv2.COLOR_RGB2GRAY) == 0, dtype=np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    t = np.minimum(dist / max(1.0, radius), 1.0)
    return _a(np.sqrt(1.0 - (1.0 - t) ** 2) * radius)


# --- textures: generated, seeded, cached -----------------------------------------------------------------

Texture = tuple[F32, ...]
_cache: OrderedDict[tuple[Any, ...], Texture] = OrderedDict()
_cache_lock = threading.Lock()


def _seed(seed: int, kind: str) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFFFFFF, zlib.crc32(kind.encode())])


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
        np.ascontiguousarray(m, dtype=np.float32) for m in make(np.random.default_rng(_seed(seed, kind)))
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


# --- recipes: cel and cartoon ----------------------------------------------------------------------------


def _param(req: StyleRequest, name: str, default: float) -> float:
    return float(req.style.params.get(name, default))


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
    smooth, flat = _cel(image, req, colors=int(_param(req, "colors", 14)), sat=1.45, value=value)
    req.checkpoint()
    flat = _clean(flat, 1.2 * u)
    lines = _dog_lines(_f(_gray(smooth)), 0.9 * u, threshold=0.008, gain=_param(req, "line", 40.0))
    return _u8(_mix((0.14, 0.1, 0.18), _f(flat), lines))


@recipe("anime_fresh")
def anime_fresh(image: U8, req: StyleRequest) -> U8:
    """Fresh anime: high-key pastel flats, cool blue shadows, soft bloom, thin colour-tinted lines. Params: colors."""
    u = _unit(image)
    value = _curve([(0, 0.28), (0.5, 0.78), (1, 1)])
    smooth, flat = _cel(image, req, colors=int(_param(req, "colors", 16)), sat=1.05, value=value)
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
    flat = _quantize(smooth, _palette(small, int(_param(req, "colors", 8)), req.seed))
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


# --- recipes: painting and drawing -----------------------------------------------------------------------


@recipe("watercolor")
def watercolor(image: U8, req: StyleRequest) -> U8:
    """Watercolour: flat transparent washes with ragged edges, pigment pooling, granulation. Params: colors."""
    u = _unit(image)
    h, w = image.shape[:2]
    small = _edge_preserving(_fit(image, 256), 60.0, 0.45)
    small = _hsv(small, sat=1.2)
    flat = _quantize(small, _palette(small, int(_param(req, "colors", 16)), req.seed))
    washes = np.asarray(cv2.addWeighted(flat, 0.65, small, 0.35, 0.0), dtype=np.uint8)
    req.checkpoint()
    wash = _warp(
        np.asarray(_to(washes, image.shape), np.uint8),
        _warp_maps("wc", h, w, req.seed, amplitude=2.5 * u, cell=24 * u),
    )
    f = _a(_blur(_f(wash), 0.8 * u))
    req.checkpoint()

    def make(rng: np.random.Generator) -> list[F32]:
        return [_a(1.0 + 0.12 * _fractal(rng, h, w, 50 * u, 3) + 0.06 * _noise(rng, h, w, 1.5 * u))]

    (granulation,) = _texture(f"wc-grain{u:.2f}", h, w, req.seed, make)
    ex, ey = _slopes(_lum(f), 1.0)
    pool = np.clip(
        np.sqrt(ex * ex + ey * ey) * np.float32(5.0 * u), 0.0, 0.5
    )  # pigment gathers where a wash dried
    density = 0.78 * (1.0 + pool) * granulation
    f = _a(1.0 - _times(_a(1.0 - f), _a(density)))
    lines = _dog_lines(
        _f(_gray(np.asarray(_to(small, image.shape), np.uint8))), 0.9 * u, threshold=0.008, gain=12.0
    )
    return _u8(_times(f, (0.7 + 0.3 * lines) * _paper(h, w, req.seed, u)))


@recipe("monet")
def monet(image: U8, req: StyleRequest) -> U8:
    """Monet garden: light, lilac-tinted pastel palette broken into short criss-crossing colour dabs."""
    u = _unit(image)
    h, w = image.shape[:2]
    small = _bilateral(_fit(image, 256), 2, 9, 50.0, 6.0)
    small = _hsv(small, sat=1.35, value=_curve([(0, 0.22), (0.5, 0.7), (1, 0.98)]))
    req.checkpoint()
    amp = 3.5 * u

    def make(rng: np.random.Generator) -> list[F32]:
        region = np.clip(_noise(rng, h, w, 50 * u) * 2.0 + 0.5, 0.0, 1.0)
        fields = []
        for _ in range(5):
            a = _streaks(rng, h, w, cell=2.0 * u, length=11 * u, angle=35.0)
            b = _streaks(rng, h, w, cell=2.0 * u, length=11 * u, angle=125.0)
            fields.append(_normal(a + (b - a) * region))
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        dabs = cv2.merge([f * np.float32(0.06) for f in fields[2:]])
        return [gx + np.float32(amp) * fields[0], gy + np.float32(amp) * fields[1], dabs]

    mx, my, dabs = _texture(f"monet{u:.2f}", h, w, req.seed, make)
    f = _f(_warp(np.asarray(_to(small, image.shape), np.uint8), (mx, my)))
    req.checkpoint()
    f = _mix(_a(cv2.add(f, dabs)), (0.93, 0.9, 1.0), 0.12)
    return _u8(_times(f, _paper(h, w, req.seed, u)))


@recipe("impasto")
def impasto(image: U8, req: StyleRequest) -> U8:
    """Impasto: thick strokes that follow the image's contours, raking light on the paint ridges."""
    u = _unit(image)
    h, w = image.shape[:2]
    small = _bilateral(_fit(image, 256), 3, 9, 45.0, 6.0)
    small = _hsv(small, sat=1.3, value=_curve([(0, 0.05), (0.5, 0.52), (1, 1)]))
    # structure tensor: strokes run along contours, perpendicular to the smoothed gradient
    g = _a(_blur(_f(_gray(small)), 1.5))
    sx, sy = _a(cv2.Sobel(g, cv2.CV_32F, 1, 0)), _a(cv2.Sobel(g, cv2.CV_32F, 0, 1))
    jxx, jyy, jxy = (_a(_blur(a, 4.0)) for a in (sx * sx, sy * sy, sx * sy))
    theta = 0.5 * np.arctan2(2 * jxy, jxx - jyy) + np.pi / 2  # stroke direction, y down
    base = _f(small)
    stroke = max(3, round(15 * u * small.shape[0] / h))
    req.checkpoint()
    paint = np.zeros_like(base)
    total = np.zeros(g.shape, np.float32)
    weights = []
    for a in range(4):
        # _directional_blur counts angles with y up, so bin ``a`` (a * 45° with y up) is -a * 45° here
        weight = _a(np.cos(2.0 * (theta + np.deg2rad(a * 45.0))).clip(0.0, 1.0) ** 2 + 1e-4)
        paint += _times(_a(_directional_blur(base, stroke, a * 45.0)), weight)
        total += weight
        weights.append(weight)
    paint = _times(paint, _a(1.0 / total))
    req.checkpoint()

    def make(rng: np.random.Generator) -> list[F32]:
        return [_streaks(rng, h, w, cell=max(1.0, 2.5 * u), length=21 * u, angle=a * 45.0) for a in range(4)]

    bristles = _texture(f"impasto{u:.2f}", h, w, req.seed, make)
    ridges = np.zeros((h, w), np.float32)
    for a in range(4):
        ridges += bristles[a] * _a(_to(weights[a] / total, image.shape))
    big = _a(_to(paint, image.shape))
    height = np.float32(3.0 * u) * _a(_blur(_lum(big), 1.0 * u)) + np.float32(1.2 * u) * ridges
    shade = _relief(height, depth=0.8, azimuth=120.0)
    spec = _specular(height, depth=0.8, power=20.0, azimuth=120.0)
    return _u8(_plus(_times(big, _clip(0.6 + 0.4 * shade, 0.0, 1.4)), 0.12 * spec))


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


@recipe("gongbi")
def gongbi(image: U8, req: StyleRequest) -> U8:
    """Gongbi fine brushwork: hair-thin ink outlines, flat soft mineral colours, aged silk. Params: colors."""
    u = _unit(image)
    h, w = image.shape[:2]
    small = _bilateral(_fit(image, 384), 3, 9, 45.0, 7.0)
    small = _hsv(small, sat=0.7, value=_curve([(0, 0.3), (0.6, 0.82), (1, 0.95)]))
    req.checkpoint()
    smooth = np.asarray(_to(small, image.shape), dtype=np.uint8)
    flat = _quantize(smooth, _palette(small, int(_param(req, "colors", 12)), req.seed))
    f = _f(np.asarray(_blur(flat, 1.2 * u), dtype=np.uint8))
    req.checkpoint()

    def make(rng: np.random.Generator) -> list[F32]:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        k = np.float32(2 * np.pi / max(2.0, 2.5 * u))
        weave = 0.5 * np.sin(x * k) * np.sin(y * k)
        return [_a(1.0 + 0.03 * weave + 0.03 * _streaks(rng, h, w, cell=1.0, length=21 * u, angle=0.0))]

    (silk,) = _texture(f"silk{u:.2f}", h, w, req.seed, make)
    f = _tint(_times(f, silk), (0.92, 0.84, 0.68))
    lines = _dog_lines(_f(_gray(smooth)), 0.6 * u, threshold=0.006, gain=60.0)
    return _u8(_mix((0.16, 0.1, 0.07), f, lines))


@recipe("guofeng")
def guofeng(image: U8, req: StyleRequest) -> U8:
    """Ancient-Chinese aesthetic: muted ink-wash colour with vermilion kept, teal-ink shadows, soft glow, mist."""
    u = _unit(image)
    h, w = image.shape[:2]
    small = _edge_preserving(_fit(image, 256), 60.0, 0.4)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hue = hsv[..., 0].astype(np.float32)
    red = np.clip(1.0 - (np.minimum(hue, 180.0 - hue) - 4.0) / 8.0, 0.0, 1.0) * (hsv[..., 1] > 90)
    red = _a(_blur(_a(red), 1.5))
    hsv[..., 1] = np.clip(hsv[..., 1] * (0.4 + 0.7 * red), 0, 255).astype(np.uint8)
    hsv[..., 2] = cv2.LUT(hsv[..., 2], _curve([(0, 0.08), (0.5, 0.6), (1, 0.97)]))
    smooth = np.asarray(
        _to(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB), image.shape, cv2.INTER_CUBIC), dtype=np.uint8
    )
    req.checkpoint()
    f = _f(smooth)
    lum = _lum(f)
    split = _mix((0.22, 0.4, 0.42), (1.25, 1.19, 1.06), lum)
    f = _mix(f, _a(cv2.multiply(f, split)), 0.75 * (1.0 - _a(_to(red, image.shape))))
    f = _bloom(_clip(f), threshold=0.6, sigma=12 * u, amount=0.5)
    ink = _a(_blur(1.0 - _dog_lines(lum, 1.1 * u, threshold=0.006, gain=30.0), 0.8 * u))
    f = _mix(f, (0.12, 0.14, 0.15), ink * np.float32(0.85))
    mist = np.clip(0.35 - np.linspace(0.0, 1.0, h, dtype=np.float32), 0.0, 1.0) * np.float32(1.2)
    f = _mix(f, (0.95, 0.94, 0.9), _a(np.repeat(mist[:, None], w, axis=1)))
    return _u8(_times(f, 0.5 + 0.5 * _paper(h, w, req.seed, u)))


# --- recipes: materials ----------------------------------------------------------------------------------


@recipe("woodcarving")
def woodcarving(image: U8, req: StyleRequest) -> U8:
    """Relief carved in wood: terraced depth from tone, lit chisel edges, pine-to-walnut grain. Params: levels."""
    u = _unit(image)
    h, w = image.shape[:2]
    g = _f(_gray(np.asarray(_to(_bilateral(_fit(image, 320), 3, 9, 50.0, 7.0), image.shape), np.uint8)))
    levels = _param(req, "levels", 5)
    height = _a(_blur(_a(np.floor(g * levels) / levels), 1.2 * u))
    req.checkpoint()

    def make(rng: np.random.Generator) -> list[F32]:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        warp = _fractal(rng, h, w, 60 * u, 3) * np.float32(18 * u)
        rings = np.sin((y * 0.9 + 0.15 * x + warp) * np.float32(2 * np.pi / (9 * u)))
        return [_a(0.5 + 0.3 * rings + 0.25 * _streaks(rng, h, w, cell=1.0, length=31 * u, angle=8.0))]

    (grain,) = _texture(f"wood{u:.2f}", h, w, req.seed, make)
    shade = _relief(height, depth=200 * u, azimuth=120.0, elevation=40.0)
    tone = _u8(_clip(0.25 + 0.55 * height + 0.25 * grain))
    stops = [(0.0, (58, 30, 14)), (0.45, (128, 78, 40)), (0.8, (196, 142, 86)), (1.0, (228, 186, 130))]
    return _u8(_times(_f(_gradient_map(tone, stops)), _clip(0.35 + 0.65 * shade, 0.0, 1.4)))


@recipe("clay")
def clay(image: U8, req: StyleRequest) -> U8:
    """Plasticine: big rounded lumps of matte colour, soft top-left light, faint thumbprints. Params: colors."""
    u = _unit(image)
    h, w = image.shape[:2]
    small = _edge_preserving(_fit(image, 192), 40.0, 0.5)
    small = _hsv(small, sat=1.25, value=_curve([(0, 0.14), (0.5, 0.6), (1, 0.95)]))
    req.checkpoint()
    flat = _quantize(small, _palette(small, int(_param(req, "colors", 12)), req.seed))
    flat = np.asarray(cv2.medianBlur(flat, 7), dtype=np.uint8)
    lumps = _a(_blur(_f(np.asarray(_to(flat, image.shape, cv2.INTER_CUBIC), np.uint8)), 1.5 * u))
    height = _a(_to(_domes(flat, 10.0), image.shape)) * np.float32(h / flat.shape[0])
    req.checkpoint()
    (dents,) = _texture(f"clay{u:.2f}", h, w, req.seed, lambda rng: [_fractal(rng, h, w, 12 * u, 2)])
    height = _a(_blur(height, 4.0 * u)) + np.float32(0.5 * u) * dents
    shade = _relief(height, depth=0.35)
    sheen = _specular(height, depth=0.35, power=8.0)
    f = _plus(_times(lumps, _clip(0.45 + 0.55 * shade, 0.0, 1.2)), 0.06 * sheen)
    return _u8(_tint(f, (1.04, 1.0, 0.93)))


def _felt(image: U8, req: StyleRequest, *, sat: float, value: U8, tint: Colour, fibre: float) -> U8:
    """Needle felt: flat wool regions that puff up like pillows, fuzzy borders and fibre texture."""
    u = _unit(image)
    h, w = image.shape[:2]
    small = _edge_preserving(_fit(image, 224), 40.0, 0.5)
    small = _hsv(small, sat=sat, value=value)
    req.checkpoint()
    flat = _quantize(small, _palette(small, int(_param(req, "colors", 9)), req.seed))
    flat = np.asarray(cv2.medianBlur(flat, 7), dtype=np.uint8)
    height = _a(_to(_domes(flat, 6.0), image.shape)) * np.float32(h / flat.shape[0])

    def make(rng: np.random.Generator) -> list[F32]:
        parts = [_streaks(rng, h, w, cell=1.0, length=7 * u, angle=a) for a in (15.0, 75.0, 135.0)]
        return [_normal(np.maximum(np.maximum(parts[0], parts[1]), parts[2]))]

    (fibres,) = _texture(f"felt{u:.2f}", h, w, req.seed, make)
    req.checkpoint()
    fuzzy = _warp(
        np.asarray(_to(flat, image.shape, cv2.INTER_CUBIC), np.uint8),
        _warp_maps("felt", h, w, req.seed, amplitude=2.0 * u, cell=2.5 * u),
    )
    height = _a(_blur(height, 3.0 * u)) + np.float32(0.6 * u) * fibres
    shade = _relief(height, depth=0.5)
    f = _times(_f(fuzzy), _clip(0.55 + 0.45 * shade, 0.0, 1.2) * (1.0 + fibre * fibres))
    return _u8(_tint(f, tint))


@recipe("felt")
def felt(image: U8, req: StyleRequest) -> U8:
    """Western needle felt: bold saturated wool blobs, fuzzy borders, visible fibres. Params: colors."""
    return _felt(
        image,
        req,
        sat=1.5,
        value=_curve([(0, 0.08), (0.5, 0.55), (1, 0.95)]),
        tint=(1.0, 1.0, 1.0),
        fibre=0.1,
    )


@recipe("felt_asian")
def felt_asian(image: U8, req: StyleRequest) -> U8:
    """Asian felt: the same wool in soft pastel, creamy-pink tones with finer fibre contrast. Params: colors."""
    return _felt(
        image,
        req,
        sat=0.65,
        value=_curve([(0, 0.4), (0.5, 0.8), (1, 1.0)]),
        tint=(1.04, 0.97, 0.94),
        fibre=0.06,
    )


@recipe("jade")
def jade(image: U8, req: StyleRequest) -> U8:
    """Carved jade: translucent greens from tone, cloudy veins, inner glow and a polished sheen."""
    u = _unit(image)
    h, w = image.shape[:2]
    gf = _f(_gray(np.asarray(_to(_bilateral(_fit(image, 320), 3, 9, 40.0, 6.0), image.shape), np.uint8)))
    req.checkpoint()

    def make(rng: np.random.Generator) -> list[F32]:
        ridge = np.clip(1.0 - np.abs(_fractal(rng, h, w, 50 * u, 4)), 0.0, 1.0) ** 6
        return [_fractal(rng, h, w, 80 * u, 4), _a(ridge)]

    cloud, veins = _texture(f"jade{u:.2f}", h, w, req.seed, make)
    tone = _clip(gf * 0.9 + 0.05 + 0.07 * cloud)
    stops = [(0.0, (10, 52, 32)), (0.35, (44, 122, 78)), (0.7, (128, 196, 146)), (1.0, (214, 240, 212))]
    f = _f(_gradient_map(_u8(tone), stops))
    glow = _a(_blur(gf, 16 * u))
    f = _screen(f, _tint(_a(cv2.merge([glow, glow, glow])), (0.2, 0.45, 0.28)))
    f = _mix(f, (0.86, 0.97, 0.86), veins * np.float32(0.3))
    height = _a(_blur(gf, 4 * u))
    shade = _relief(height, depth=25 * u)
    spec = _specular(height, depth=25 * u, power=60.0)
    return _u8(_plus(_times(f, _clip(0.7 + 0.3 * shade, 0.0, 1.3)), 0.35 * spec))


@recipe("porcelain")
def porcelain(image: U8, req: StyleRequest) -> U8:
    """Blue-and-white porcelain: cobalt outlines and layered washes on glossy white glaze, fine crackle."""
    u = _unit(image)
    h, w = image.shape[:2]
    g = _f(_gray(np.asarray(_to(_bilateral(_fit(image, 384), 3, 9, 45.0, 6.0), image.shape), np.uint8)))
    req.checkpoint()
    density = np.clip((0.78 - g) / 0.6, 0.0, 0.999)
    washes = _a(_blur(_a(np.floor(density * 3.0) / 3.0), 1.0 * u))
    lines = _dog_lines(g, 0.9 * u, threshold=0.006, gain=40.0)
    pigment = _clip(0.8 * washes + (1.0 - lines))

    def make(rng: np.random.Generator) -> list[F32]:
        return [_a(np.clip(1.0 - np.abs(_fractal(rng, h, w, 60 * u, 3)), 0.0, 1.0) ** 24)]

    (crackle,) = _texture(f"crackle{u:.2f}", h, w, req.seed, make)
    height = _a(_blur(g, 20 * u))
    gloss = _specular(height, depth=60 * u, power=40.0)
    f = _mix((0.95, 0.965, 0.985), (0.07, 0.16, 0.5), pigment)
    f = _times(f, (1.0 - 0.15 * crackle) * (0.88 + 0.12 * _vignette(h, w, 0.5)))
    return _u8(_plus(f, 0.6 * gloss))


# --- recipes: grades and prints --------------------------------------------------------------------------


@recipe("retro")
def retro(image: U8, req: StyleRequest) -> U8:
    """American retro print: faded warm inks, lifted blacks, halftone dots, slight misregistration."""
    u = _unit(image)
    h, w = image.shape[:2]
    smooth = np.asarray(_to(_bilateral(_fit(image, 448), 2, 9, 35.0, 5.0), image.shape), dtype=np.uint8)
    faded = _hsv(smooth, sat=0.75)
    curves = [
        _curve([(0, 0.16), (0.5, 0.55), (1, 0.96)]),
        _curve([(0, 0.14), (0.5, 0.5), (1, 0.9)]),
        _curve([(0, 0.2), (0.5, 0.44), (1, 0.78)]),
    ]
    req.checkpoint()

    def make(_: np.random.Generator) -> list[F32]:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        k = np.float32(2 * np.pi / (4.5 * u))
        screens = []
        for angle in (15.0, 75.0, 45.0):
            c, s = np.float32(np.cos(np.deg2rad(angle))), np.float32(np.sin(np.deg2rad(angle)))
            screens.append(_a(0.5 + 0.25 * (np.cos((x * c + y * s) * k) + np.cos((y * c - x * s) * k))))
        return screens

    screens = _texture(f"halftone{u:.2f}", h, w, 0, make)
    channels = []
    for channel, curve, screen in zip(cv2.split(faded), curves, screens, strict=True):
        ink = 1.0 - _f(
            np.asarray(cv2.LUT(channel, curve), dtype=np.uint8)
        )  # C, M, Y coverage, printed as dots
        dots = np.clip((ink - screen) * 4.0 + 0.5, 0.0, 1.0)
        channels.append(_a(1.0 - (0.55 * dots + 0.45 * ink)))
    channels[0] = np.roll(channels[0], max(1, round(1.5 * u)), axis=1)  # misregistered red plate
    out = _tint(_a(cv2.merge(channels)), (0.98, 0.94, 0.84))
    return _u8(_times(out, _paper(h, w, req.seed, u) * (0.85 + 0.15 * _vignette(h, w, 0.6))))


@recipe("steampunk")
def steampunk(image: U8, req: StyleRequest) -> U8:
    """Steampunk: brass, copper and sepia tones, gritty local contrast, brushed metal, heavy vignette."""
    u = _unit(image)
    h, w = image.shape[:2]
    g = np.asarray(cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(_gray(image)), dtype=np.uint8)
    req.checkpoint()
    stops = [
        (0.0, (22, 12, 6)),
        (0.3, (96, 48, 20)),
        (0.6, (176, 116, 48)),
        (0.85, (226, 188, 110)),
        (1.0, (250, 236, 196)),
    ]
    f = _mix(_f(_gradient_map(g, stops)), _tint(_f(image), (1.0, 0.8, 0.55)), 0.15)

    def make(rng: np.random.Generator) -> list[F32]:
        brushed = _streaks(rng, h, w, cell=1.0, length=41 * u, angle=0.0)
        grime = np.clip(_fractal(rng, h, w, 40 * u, 4), 0.0, 3.0)
        return [_a(1.0 + 0.05 * brushed - 0.08 * grime)]

    (metal,) = _texture(f"brass{u:.2f}", h, w, req.seed, make)
    return _u8(_times(f, metal * _vignette(h, w, 0.9)))


@recipe("cyberpunk")
def cyberpunk(image: U8, req: StyleRequest) -> U8:
    """Cyberpunk: night-blue shadows, magenta and cyan neon split-tone, glowing edges, RGB fringing, scanlines."""
    u = _unit(image)
    h, w = image.shape[:2]
    smooth = np.asarray(_to(_bilateral(_fit(image, 384), 2, 9, 40.0, 6.0), image.shape), dtype=np.uint8)
    g = _f(_gray(smooth))
    req.checkpoint()
    stops = [
        (0.0, (8, 4, 28)),
        (0.35, (70, 20, 120)),
        (0.6, (225, 40, 170)),
        (0.85, (60, 220, 255)),
        (1.0, (230, 255, 255)),
    ]
    neon = _f(_gradient_map(_u8(_clip(g * 1.1)), stops))
    f = _mix(neon, _tint(_f(smooth), (0.6, 0.7, 1.2)), 0.25)

    def make(_: np.random.Generator) -> list[F32]:
        x = np.linspace(0.0, 1.0, w, dtype=np.float32)
        ramp = np.repeat(x[None, :], h, axis=0)
        rows = ((np.arange(h) // max(2, round(2 * u))) % 2).astype(np.float32)
        return [
            _mix((1.0, 0.1, 0.85), (0.1, 0.95, 1.0), ramp),
            _a(np.repeat(1.0 - 0.08 * rows[:, None], w, axis=1)),
        ]

    edge_colour, scan = _texture(f"neon{u:.2f}", h, w, 0, make)
    edges = _a(1.0 - _dog_lines(g, 1.0 * u, threshold=0.004, gain=25.0))
    light = _clip(_a(_blur(edges, 4 * u)) * np.float32(1.8) + edges)
    f = _bloom(_screen(f, _times(edge_colour, light)), threshold=0.6, sigma=10 * u, amount=0.5)
    shift = max(1, round(2 * u))
    red, green, blue = cv2.split(f)
    f = _a(cv2.merge([np.roll(red, -shift, axis=1), green, np.roll(blue, shift, axis=1)]))
    return _u8(_times(f, scan))


# --- engine ----------------------------------------------------------------------------------------------


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
        return blend(source, styled, request.strength)
