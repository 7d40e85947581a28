"""Grade and print recipes: 129 American retro, 130 steampunk, 131 cyberpunk."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic.base import F32, U8, recipe
from restyle.engines.classic.textures import _fractal, _paper, _streaks, _texture, _vignette
from restyle.engines.classic.toolkit import (
    _a,
    _bilateral,
    _bloom,
    _blur,
    _clip,
    _curve,
    _dog_lines,
    _f,
    _fit,
    _gradient_map,
    _gray,
    _hsv,
    _mix,
    _screen,
    _times,
    _tint,
    _to,
    _u8,
    _unit,
)


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
