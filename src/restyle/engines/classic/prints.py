"""Grade and print recipes: 129 American retro, 130 steampunk, 131 cyberpunk.

Each is registered with ``native_strength``: Strength sets the abstraction, ink and effect levels of the
rendering (flat inks and dots, brass relief and machinery, neon and rain), never a pixel blend.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic.base import F32, U8, level, recipe
from restyle.engines.classic.relief import diffuse, face_detail, face_mask, matcap, normals, specular
from restyle.engines.classic.textures import _fractal, _noise, _paper, _streaks, _texture, _vignette
from restyle.engines.classic.toolkit import (
    _a,
    _bilateral,
    _bloom,
    _blur,
    _clip,
    _curve,
    _directional_blur,
    _dog_lines,
    _f,
    _fit,
    _gradient_map,
    _gray,
    _hsv,
    _mix,
    _palette,
    _plus,
    _quantize,
    _screen,
    _times,
    _tint,
    _to,
    _u8,
    _unit,
)


@recipe("retro", native_strength=True)
def retro(image: U8, req: StyleRequest) -> U8:
    """American retro: a 1950s-60s magazine ad / comic print. The photo simplified into a few flat ink
    colours (k-means) graded to period inks (warm reds, mustard, teal, cream paper, lifted blacks), black
    keylines, printed as visible CMY halftone dots on rotated screens with a misregistered plate, on
    yellowed, grainy paper. Strength: flat-ink abstraction, keyline weight, how much of the tone is carried
    by dots."""
    u = _unit(image)
    h, w = image.shape[:2]
    small = _fit(image, 400)
    su = _unit(small)
    smooth = _bilateral(small, 2, 7, 40.0, 4.0)
    req.checkpoint()
    flat = _quantize(smooth, _palette(smooth, 8, req.seed))
    flat = np.asarray(cv2.medianBlur(flat, 5), dtype=np.uint8)
    small_faces = face_mask(image, small.shape)
    base = _u8(_mix(_f(smooth), _f(flat), _a(np.float32(level(req, 0.25, 0.8)) * (1.0 - 0.9 * small_faces))))
    keyline = _dog_lines(_f(_gray(smooth)), 0.9 * su, threshold=0.008, gain=40.0)
    base = np.asarray(_to(base, image.shape, cv2.INTER_CUBIC), dtype=np.uint8)
    keyline = _a(_to(keyline, image.shape, cv2.INTER_CUBIC))
    faded = _hsv(base, sat=0.85)
    curves = [
        _curve([(0, 0.16), (0.5, 0.58), (1, 0.97)]),
        _curve([(0, 0.13), (0.5, 0.5), (1, 0.92)]),
        _curve([(0, 0.14), (0.5, 0.4), (1, 0.76)]),
    ]
    req.checkpoint()

    def make(_: np.random.Generator) -> list[F32]:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        k = np.float32(2 * np.pi / (6.0 * u))
        screens = []
        for angle in (15.0, 75.0, 0.0):
            c, s = np.float32(np.cos(np.deg2rad(angle))), np.float32(np.sin(np.deg2rad(angle)))
            screens.append(_a(0.5 + 0.25 * (np.cos((x * c + y * s) * k) + np.cos((y * c - x * s) * k))))
        return screens

    screens = _texture(f"halftone6/{u:.2f}", h, w, 0, make)
    faces = _a(_to(small_faces, image.shape))
    dot = _a(np.float32(level(req, 0.4, 0.9)) * (1.0 - 0.95 * faces))  # faces printed in finer tone
    channels = []
    for channel, curve, screen in zip(cv2.split(faded), curves, screens, strict=True):
        ink = 1.0 - _f(np.asarray(cv2.LUT(channel, curve), dtype=np.uint8))  # C, M, Y coverage
        dots = np.clip((ink - screen) * 5.0 + 0.5, 0.0, 1.0)
        channels.append(_a(1.0 - (dot * dots + (1.0 - dot) * ink)))
    channels[0] = np.roll(channels[0], max(1, round(2 * u)), axis=1)  # misregistered red plate
    out = _tint(_a(cv2.merge(channels)), (0.99, 0.94, 0.82))
    out = _mix(out, (0.12, 0.08, 0.07), _a((1.0 - keyline) * np.float32(level(req, 0.35, 0.9))))
    out = _times(out, face_detail(image, faces, 10.0 * u))  # eyes, brows and mouth drawn at the face scale
    return _u8(_times(out, _paper(h, w, req.seed, u) * (0.86 + 0.14 * _vignette(h, w, 0.6))))


def _gears(h: int, w: int, seed: int, u: float) -> tuple[F32, F32]:
    """Brass machinery as height: gears with teeth and hubs scattered over the plate, a riveted frame
    (0..1 height), and where the plate shows (1 = machinery visible, 0 = none)."""

    def make(rng: np.random.Generator) -> list[F32]:
        height = np.zeros((h, w), np.float32)
        for _ in range(int(rng.integers(7, 11))):
            r = float(rng.uniform(0.08, 0.2) * min(h, w))
            cx, cy = float(rng.uniform(0, w)), float(rng.uniform(0, h))
            teeth = int(max(8, r / (7 * u)))
            a = np.linspace(0.0, 2 * np.pi, teeth * 4, endpoint=False) + float(rng.uniform(0, 1))
            radius = np.where((np.arange(teeth * 4) // 2) % 2 == 0, r, r * 0.86)
            pts = np.stack([cx + radius * np.cos(a), cy + radius * np.sin(a)], 1).round().astype(np.int32)
            layer = np.zeros((h, w), np.uint8)
            cv2.fillPoly(layer, [pts], 255)
            cv2.circle(layer, (round(cx), round(cy)), round(r * 0.62), 0, -1)
            for k in range(int(rng.integers(4, 7))):  # spokes
                t = 2 * np.pi * k / 6 + float(rng.uniform(0, 1))
                end = (round(cx + r * 0.66 * np.cos(t)), round(cy + r * 0.66 * np.sin(t)))
                cv2.line(layer, (round(cx), round(cy)), end, 255, max(2, round(r * 0.12)))
            cv2.circle(layer, (round(cx), round(cy)), round(r * 0.2), 255, -1)
            cv2.circle(layer, (round(cx), round(cy)), round(r * 0.07), 0, -1)
            height = (
                np.maximum(height * 0.6, _a(layer) / 255.0)
                if rng.uniform() < 0.5
                else np.maximum(height, _a(layer) / 255.0 * 0.8)
            )
        border = max(6, round(14 * u))
        frame = np.zeros((h, w), np.float32)
        frame[:border, :] = frame[-border:, :] = 1.0
        frame[:, :border] = frame[:, -border:] = 1.0
        step = max(12, round(46 * u))
        for x in range(step // 2, w, step):
            for y in (border // 2, h - 1 - border // 2):
                cv2.circle(frame, (x, y), max(2, round(4 * u)), 1.6, -1)
        for y in range(step // 2, h, step):
            for x in (border // 2, w - 1 - border // 2):
                cv2.circle(frame, (x, y), max(2, round(4 * u)), 1.6, -1)
        return [_a(_blur(height, 1.2 * u)), _a(_blur(frame, 1.5 * u))]

    gears, frame = _texture(f"gears{u:.2f}", h, w, seed, make)
    return gears, frame


@recipe("steampunk", native_strength=True)
def steampunk(image: U8, req: StyleRequest) -> U8:
    """Steampunk: the scene as a brass-and-sepia engraving on a riveted metal plate. Gritty local contrast
    graded through sepia to brass and copper; the tones are struck into the metal as a relief lit like
    polished brass (metallic highlights from an environment map); gears and hubs embossed into the quiet
    parts of the plate, a riveted frame, brushed grain, grime and a heavy vignette.
    Strength: metal coverage (relief depth, gears and frame), sepia grade, grime."""
    h, w = image.shape[:2]
    u = _unit(image)
    small = _fit(image, 400)
    su = _unit(small)
    flat = _bilateral(small, 1, 9, 40.0, 5.0)
    g = np.asarray(cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(_gray(flat)), dtype=np.uint8)
    ink = _a(_to(_dog_lines(_f(g), 0.9 * su, threshold=0.01, gain=30.0), image.shape, cv2.INTER_CUBIC))
    g = np.asarray(_to(g, image.shape, cv2.INTER_CUBIC), dtype=np.uint8)
    req.checkpoint()
    stops = [
        (0.0, (20, 11, 5)),
        (0.3, (92, 50, 20)),
        (0.6, (170, 112, 46)),
        (0.85, (222, 182, 104)),
        (1.0, (248, 232, 190)),
    ]
    sepia = _f(_gradient_map(g, stops))
    f = _mix(_tint(_f(image), (1.0, 0.85, 0.62)), sepia, 0.85)
    gears, frame = _gears(h, w, req.seed, u)
    quiet = _a(_blur(_a(np.abs(cv2.Laplacian(_a(_blur(_f(_gray(small)), 1.0)), cv2.CV_32F))), 8 * su))
    quiet = _clip(_a(1.0 - quiet * np.float32(60.0)))
    quiet = _a(_to(quiet, image.shape))
    machinery = _a(
        gears * quiet * np.float32(level(req, 0.35, 1.0)) + frame * np.float32(level(req, 0.4, 1.0))
    )
    relief = _a(_to(_a(_blur(_f(_gray(small)), 1.2 * su)), image.shape))
    height = _a(relief * np.float32(level(req, 0.3, 0.7)) + machinery * np.float32(1.0))
    n = normals(height, 6.0 * u)
    req.checkpoint()
    shade = _a(0.55 + 0.45 * diffuse(n, azimuth=120.0, elevation=45.0))
    gleam = _a(
        matcap(n, [(0.0, 0.0), (0.6, 0.05), (0.85, 0.35), (1.0, 0.7)]) * 0.5 + specular(n, power=30.0) * 0.5
    )
    f = _mix(f, _tint(f, (1.25, 1.05, 0.7)), _clip(_a(machinery * 0.8)))  # gears and frame in brighter brass
    f = _plus(_times(f, shade), _a(gleam * np.float32(level(req, 0.2, 0.5))))
    f = _times(f, _a(1.0 - (1.0 - ink) * np.float32(level(req, 0.3, 0.75))))  # engraved lines

    def make(rng: np.random.Generator) -> list[F32]:
        brushed = _streaks(rng, h, w, cell=1.0, length=41 * u, angle=0.0)
        grime = np.clip(_fractal(rng, h, w, 40 * u, 4), 0.0, 3.0)
        return [_a(brushed), _a(grime)]

    brushed, grime = _texture(f"brass{u:.2f}", h, w, req.seed, make)
    metal = _a(1.0 + 0.05 * brushed - grime * np.float32(level(req, 0.04, 0.1)))
    vignette = _a(1.0 - (1.0 - _vignette(h, w, 0.9)) * np.float32(level(req, 0.4, 1.0)))
    return _u8(_times(f, metal * vignette))


@recipe("cyberpunk", native_strength=True)
def cyberpunk(image: U8, req: StyleRequest) -> U8:
    """Cyberpunk: the scene at night in a neon city. Shadows sink to navy, tones split to magenta and cyan,
    edges light up as neon tubes (warm surfaces pink, cool ones cyan) with a wide glow, highlights bloom,
    thin rain streaks fall across, the lens splits red and blue apart and faint scanlines run over it.
    Strength: how far the night grade goes, neon brightness, rain, chromatic split."""
    u = _unit(image)
    h, w = image.shape[:2]
    small = _fit(image, 400)
    su = _unit(small)
    smooth = _bilateral(small, 2, 7, 40.0, 5.0)
    g = _f(_gray(smooth))
    faces = face_mask(image, small.shape)
    req.checkpoint()
    stops = [
        (0.0, (6, 4, 24)),
        (0.3, (52, 18, 110)),
        (0.55, (206, 36, 164)),
        (0.8, (52, 210, 250)),
        (1.0, (228, 255, 255)),
    ]
    neon = _f(_gradient_map(_u8(_clip(_a(np.power(g, np.float32(1.4)) * 1.15))), stops))
    night = _tint(_f(smooth), (0.45, 0.6, 1.05))
    f = _mix(night, neon, _a(np.float32(level(req, 0.35, 0.8)) * (1.0 - 0.7 * faces)))
    edges = _a(1.0 - _dog_lines(g, 1.0 * su, threshold=0.004, gain=25.0))
    r, _, b = cv2.split(_f(smooth))
    warm = _clip(_a((r - b) * 4.0 + 0.5))
    tube = _mix((0.15, 0.95, 1.0), (1.0, 0.15, 0.8), warm)  # warm surfaces glow pink, cool ones cyan
    light = _clip(_a(_blur(edges, 3.0 * su)) * np.float32(2.0) + edges)
    glow = _times(tube, _a(light * np.float32(level(req, 0.35, 0.9)) * (1.0 - 0.8 * faces)))
    f = _screen(f, glow)
    f = _a(_to(f, image.shape, cv2.INTER_CUBIC))
    req.checkpoint()
    f = _bloom(f, threshold=0.6, sigma=10 * u, amount=level(req, 0.2, 0.6))

    def make(rng: np.random.Generator) -> list[F32]:
        drops = np.clip(_noise(rng, h, w, 1.0) - 2.6, 0.0, 1.0)
        rain = _directional_blur(_a(drops * 8.0), round(28 * u), 75.0)
        rows = ((np.arange(h) // max(2, round(2 * u))) % 2).astype(np.float32)
        return [_a(np.clip(rain, 0.0, 1.0)), _a(np.repeat(rows[:, None], w, axis=1))]

    rain, rows = _texture(f"neonrain{u:.2f}", h, w, req.seed, make)
    f = _plus(f, _a(rain * np.float32(level(req, 0.15, 0.45))))
    shift = level(req, 0.5, 2.5) * u
    red, green, blue = cv2.split(f)
    left = np.array([[1.0, 0.0, -shift], [0.0, 1.0, 0.0]], np.float32)
    right = np.array([[1.0, 0.0, shift], [0.0, 1.0, 0.0]], np.float32)
    red = cv2.warpAffine(red, left, (w, h), borderMode=cv2.BORDER_REFLECT)  # subpixel: continuous in strength
    blue = cv2.warpAffine(blue, right, (w, h), borderMode=cv2.BORDER_REFLECT)
    f = _a(cv2.merge([red, green, blue]))
    f = _times(f, face_detail(image, _a(_to(faces, image.shape)), 12.0 * u))  # features at the face scale
    return _u8(_times(f, _a(1.0 - rows * np.float32(level(req, 0.03, 0.08)))))
