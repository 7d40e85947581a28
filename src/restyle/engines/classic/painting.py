"""Painting recipes: 133 Monet, 134 impasto, 125 gongbi (104 watercolour and 203 guofeng: ``washes``).

All render Strength themselves (``native_strength``): it sets the brush size, abstraction and the amount of
each paint effect, so every strength is a painting and a smaller one stays closer to the photo.

- 134 impasto and 133 Monet paint oriented strokes (``strokes``: Litwinowicz 1997, Hertzmann 1998) on a
  reduced canvas whose size sets the brush; impasto lights a paint height field (Hertzmann 2002), Monet
  breaks the colour per dab over a pale ground;
- 125 gongbi: flat mineral-pigment areas on silk with fine ink outlines.

Random fields that a strength scales are generated once at unit amplitude (a texture per amplitude would be
a new random field per strength and break monotonicity).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic.base import F32, U8, level, param, recipe
from restyle.engines.classic.strokes import StrokeMap, face_zone, jittered, layered, skin, tangents
from restyle.engines.classic.textures import (
    _fractal,
    _paper,
    _streaks,
    _texture,
)
from restyle.engines.classic.toolkit import (
    _a,
    _bilateral,
    _blur,
    _clip,
    _curve,
    _dog_lines,
    _edge_preserving,
    _f,
    _fit,
    _hsv,
    _lum,
    _mix,
    _palette,
    _plus,
    _quantize,
    _relief,
    _slopes,
    _specular,
    _times,
    _to,
    _u8,
    _unit,
)


def _pigment(colour: F32, density: F32) -> F32:
    """Bousseau et al.'s (2006) pigment density model: ``density`` > 1 deepens a wash as more pigment
    would (more on light colours than on dark), < 1 thins it towards the paper: C - C (1 - C) (d - 1)."""
    d = _a(density - np.float32(1.0))
    return _a(np.clip(colour - _times(_a(colour * (np.float32(1.0) - colour)), d), 0.0, 1.0))


#: washes and ink are soft: larger inputs are painted at this long side and upsampled (time at 2000x1500)
SOFT_SIDE = 1280


def _at_most(side: int, fn: Callable[[U8, StyleRequest], U8], image: U8, req: StyleRequest) -> U8:
    """``fn`` on a copy of ``image`` reduced to ``side``, upsampled back (cubic) to the input size."""
    if max(image.shape[:2]) <= side:
        return fn(image, req)
    return np.asarray(_to(fn(_fit(image, side), req), image.shape, cv2.INTER_CUBIC), dtype=np.uint8)


@recipe("monet", native_strength=True)
def monet(image: U8, req: StyleRequest) -> U8:
    """Monet garden: impressionist broken colour. Short dabs of light, high-key colour, each with its own
    hue and value offset, laid loosely along the forms over a pale ground that shows between them; violet
    shadows, warm lights. Strength: dab size, colour breaking and the light palette."""
    u = _unit(image)
    h, w = image.shape[:2]
    key = level(req, 0.0, 1.0)

    def colourise(picture: U8) -> F32:
        picture = _hsv(
            picture,
            sat=level(req, 1.05, 1.4),
            value=_curve([(0, 0.08 + 0.2 * key), (0.5, 0.52 + 0.16 * key), (1, 0.99)]),
        )
        f = _f(picture)
        lum = _lum(f)
        # shadows turn violet-blue, lights warm (Monet's coloured shadows)
        shadow = _a(np.clip((0.55 - lum) * 2.0, 0.0, 1.0) * np.float32(0.35 * key))
        light = _a(np.clip((lum - 0.6) * 2.5, 0.0, 1.0) * np.float32(0.2 * key))
        return _mix(_mix(f, (0.42, 0.36, 0.62), shadow), (1.0, 0.93, 0.72), light)

    def look(picture: U8) -> U8:
        return _u8(colourise(picture))

    stroke = level(req, 5.0, 18.0) * u
    threshold = level(req, 0.03, 0.07)
    small, m, _ = _paint(image, req, MONET, stroke=stroke, look=look, threshold=threshold)
    base = _f(small)
    dabs = jittered(m, level(req, 0.01, 0.07), level(req, 0.01, 0.09))
    ground = _mix(base, (0.95, 0.92, 0.84), 0.6)  # pale priming seen between the dabs
    dabs = _mix(ground, dabs, m.cover)
    paint = _a(_to(dabs, image.shape))
    # faces are painted with the finest brush: their features stay, the touch stays broken
    zone = face_zone(image, image.shape)
    if zone.any():
        face = colourise(_bilateral(image, 1, 5, 25.0, 2.0 * u))
        paint = _mix(paint, face, _a(zone * np.float32(0.9)))
    height = _bristles(m, image.shape, grooves=5.0) * np.float32(level(req, 0.3, 2.2) * u)
    calm = _clip(_a(_blur(zone, 4.0 * u)) * np.float32(1.6))  # a little beyond the face as well
    height = _a(height * (1.0 - 0.9 * calm))
    shade = _relief(height, depth=1.0, azimuth=120.0)
    # each dab's edge is a thin rim of darker paint: the touch reads at any viewing size
    ex, ey = _slopes(_a(_to(m.ident, image.shape, cv2.INTER_NEAREST)), 1.0)
    rim = _a(_blur(_clip(np.sqrt(ex * ex + ey * ey) * np.float32(4.0)), 0.6 * u) * (1.0 - calm))
    paint = _times(paint, _a(1.0 - np.float32(level(req, 0.1, 0.25)) * rim))
    light = level(req, 0.3, 0.5)
    return _u8(_times(_times(paint, _clip(1.0 - light + light * shade, 0.0, 1.3)), _paper(h, w, req.seed, u)))


@dataclass(frozen=True)
class Brushwork:
    """How a painter lays strokes (``strokes.layered``): the coarse-to-fine ``layers`` (cell, half-length,
    half-width, tolerance), the random stream ``kind``, the canvas's smoothing before painting (bilateral
    sigma colour and space), the stroke direction (tangent flow smoothed by ``flow``, turning to ``angle``
    degrees where it is ``weak``) and whether the fine brush for skin reads the canvas before smoothing
    (``skin_before``)."""

    layers: tuple[tuple[int, float, float, float], ...]
    kind: str
    smoothing: tuple[float, float]
    flow: float
    angle: float
    weak: float = 0.3
    skin_before: bool = False


#: Monet: loose dabs over a weak flow (free to turn), on a lightly smoothed canvas
MONET = Brushwork(((4, 1.5, 0.7, 0.3), (2, 1.4, 0.7, 0.2)), "monet", (30.0, 3.0), 2.0, -75.0, weak=0.5)
#: impasto: long loaded strokes along a well-smoothed flow
IMPASTO = Brushwork(((4, 1.6, 0.75, 0.2), (2, 1.6, 0.8, 0.12)), "impasto", (40.0, 3.0), 2.5, -60.0)
#: impasto's portrait brush (``_face_patch``): shorter strokes, closer to the picture
IMPASTO_FACE = Brushwork(
    ((4, 1.4, 0.75, 0.12), (2, 1.3, 0.8, 0.08)), "impasto-face", (20.0, 2.0), 2.0, -60.0, skin_before=True
)


def _paint(
    image: U8,
    req: StyleRequest,
    how: Brushwork,
    *,
    stroke: float,
    look: Callable[[U8], U8],
    threshold: float,
    detail: float = 0.0,
) -> tuple[U8, StrokeMap, F32]:
    """``image`` painted in strokes as ``how`` says, on a canvas where a grid cell is ``stroke`` pixels
    (``_canvas``), smoothed and given the painter's ``look``; ``threshold`` and ``detail`` as in
    ``strokes.layered``. Returns the canvas, the strokes and the skin map that got the fine brush."""
    raw, _ = _canvas(image, stroke, 4)
    small = look(_bilateral(raw, 1, 5, *how.smoothing))
    base = _f(small)
    tx, ty = tangents(_lum(base), how.flow, default=how.angle, weak=how.weak)
    flesh = skin(raw if how.skin_before else small)
    req.checkpoint()
    m = layered(
        base,
        tx,
        ty,
        list(how.layers),
        seed=req.seed,
        kind=how.kind,
        threshold=threshold,
        detail=detail,
        fine=flesh,
    )
    req.checkpoint()
    return small, m, flesh


def _canvas(image: U8, stroke: float, cell: int) -> tuple[U8, float]:
    """A reduced copy on which one grid ``cell`` is ``stroke`` pixels of ``image``, and that scale."""
    h, w = image.shape[:2]
    scale = min(2.0, cell / max(0.5, stroke))  # small images are painted on an enlarged canvas
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, size, interpolation=interp), dtype=np.uint8), scale


def _bristles(m: StrokeMap, shape: tuple[int, ...], grooves: float) -> F32:
    """Paint height at full size: a rounded ridge across each stroke, bristle grooves along it and a
    lump of paint where the brush lifted (the stroke's head)."""
    across = _a(_to(m.across, shape))
    along = _a(_to(m.along, shape))
    ident = _a(_to(m.ident, shape, cv2.INTER_NEAREST))
    cover = _a(_to(m.cover, shape))
    ridge = np.sqrt(np.clip(1.0 - across * across, 0.0, 1.0))
    groove = np.sin(across * np.float32(grooves * np.pi) + ident * np.float32(40.0))
    head = np.clip((along - 0.3) * 2.0, 0.0, 1.0) * np.clip((1.2 - along) * 3.0, 0.0, 1.0)
    return _a(cover * (ridge * (0.75 + 0.25 * groove) + 0.5 * head * ridge))


def _missed(paint: F32, fine: F32, cover: F32, flesh: F32, sigma: float, gap: float = 0.12) -> F32:
    """0..1: where the full-size picture should show through the strokes: where none lies, and on skin
    where the strokes miss the picture by more than ``gap`` (a portrait painter's fine brush)."""
    err = _a(_blur(np.abs(_lum(paint) - _lum(fine)), sigma))
    return _a(np.maximum(1.0 - cover, flesh * np.clip((err - gap * 0.5) * (2.0 / gap), 0.0, 1.0)))


def _face_patch(
    image: U8, zone: F32, req: StyleRequest, stroke: float, look: Callable[[U8], U8]
) -> tuple[tuple[int, int, int, int], F32, F32] | None:
    """A portrait painter's fine brush: the box around the faces in ``zone`` painted again with strokes of
    ``stroke`` pixels (their features stay, the touch is still paint). Returns (box y0, y1, x0, x1, its
    paint, its paint height) or None without a face."""
    ys, xs = np.nonzero(zone > 0.02)
    if len(ys) == 0:
        return None
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    _, m, _ = _paint(crop, req, IMPASTO_FACE, stroke=stroke, look=look, threshold=0.03, detail=0.06)
    paint = _a(_to(jittered(m, 0.02, 0.01), crop.shape))
    height = _bristles(m, crop.shape, grooves=5.0)
    return (y0, y1, x0, x1), paint, height


@recipe("impasto", native_strength=True)
def impasto(image: U8, req: StyleRequest) -> U8:
    """Impasto: thick oil strokes laid along the image's contours in two layers (Hertzmann 1998), lit as
    a height field of paint ridges and bristle grooves (Hertzmann 2002); faces painted again with a finer
    brush (``_face_patch``). Strength: stroke size and relief."""
    u = _unit(image)
    h, w = image.shape[:2]
    stroke = level(req, 5.0, 15.0) * u  # output pixels per grid cell of the coarse layer
    tone = _curve([(0, 0.04), (0.5, 0.5), (1, 1)])
    sat = level(req, 1.05, 1.4)

    def look(picture: U8) -> U8:
        return _hsv(picture, sat=sat, value=tone)

    threshold, detail = level(req, 0.03, 0.08), level(req, 0.05, 0.1)
    _, m, flesh = _paint(image, req, IMPASTO, stroke=stroke, look=look, threshold=threshold, detail=detail)
    # where no stroke lies, or strokes on skin miss a feature (eyes, mouth), the full-size picture shows
    fine = _f(look(np.asarray(_blur(image, 0.7 * u), np.uint8)))
    paint = _a(_to(jittered(m, level(req, 0.0, 0.06), level(req, 0.0, 0.03)), image.shape))
    bare = _missed(
        paint,
        fine,
        _a(_to(m.cover, image.shape)),
        _a(_to(flesh, image.shape)),
        1.5 * u,
        level(req, 0.05, 0.14),
    )
    # small faces (a group) keep the picture under a soft blend; large ones are painted again with strokes
    # a third as long, when those are at most a fortieth of the face (the face finder still knows it)
    fine_stroke = max(2.0, stroke / 3.0)
    zone = face_zone(image, image.shape)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(np.asarray(zone > 0.5, np.uint8))
    large = _a(np.isin(labels, [i for i in range(1, n) if stats[i, cv2.CC_STAT_HEIGHT] >= 40 * fine_stroke]))
    big = _a(zone * _clip(_a(_blur(large, 6.0 * u)) * np.float32(2.0)))
    bare = _a(np.maximum(bare, (zone - big) * np.float32(0.95)))
    paint = _mix(paint, fine, bare)
    height = _bristles(m, image.shape, grooves=7.0)
    height = _a(height * (1.0 - 0.6 * _a(_to(flesh, image.shape))) * (1.0 - bare))
    # faces are painted again with a finer brush and lower relief: their features stay, in paint
    patch = _face_patch(image, big, req, fine_stroke, look)
    if patch is not None:
        (y0, y1, x0, x1), face_paint, face_height = patch
        z = _a(big[y0:y1, x0:x1] * np.float32(0.95))
        paint[y0:y1, x0:x1] = _mix(paint[y0:y1, x0:x1], face_paint, z)
        height[y0:y1, x0:x1] = _a(
            height[y0:y1, x0:x1] + (face_height * np.float32(0.5) - height[y0:y1, x0:x1]) * z
        )
    height = _a(_blur(height * np.float32(level(req, 0.3, 2.4) * u), 0.6 * u))
    shade = _relief(height, depth=1.0, azimuth=120.0)
    spec = _specular(height, depth=1.0, power=24.0, azimuth=120.0)
    return _u8(_plus(_times(paint, _clip(0.55 + 0.45 * shade, 0.0, 1.4)), 0.14 * spec))


#: traditional Chinese mineral and plant pigments (RGB 0..1): cinnabar, vermilion, rouge, orpiment,
#: ochre, malachite, stone green, azurite, indigo, ink
MINERALS = np.asarray(
    [
        (0.72, 0.22, 0.16),
        (0.85, 0.38, 0.22),
        (0.86, 0.58, 0.56),
        (0.88, 0.70, 0.32),
        (0.68, 0.48, 0.28),
        (0.24, 0.52, 0.40),
        (0.50, 0.66, 0.52),
        (0.22, 0.38, 0.62),
        (0.20, 0.27, 0.36),
        (0.16, 0.14, 0.13),
    ],
    np.float32,
)


def _mineral(palette: F32, amount: float) -> F32:
    """Move each palette colour (0..255) towards the mineral pigment closest in hue and chroma, keeping
    some of its lightness; greys go to lead white or ink by their lightness."""
    p = palette / np.float32(255.0)
    lab = cv2.cvtColor(p.reshape(-1, 1, 3), cv2.COLOR_RGB2Lab).reshape(-1, 3)
    mlab = cv2.cvtColor(MINERALS.reshape(-1, 1, 3), cv2.COLOR_RGB2Lab).reshape(-1, 3)
    d = ((lab[:, None, 1:] - mlab[None, :, 1:]) ** 2).sum(-1) + 0.04 * (
        lab[:, None, 0] - mlab[None, :, 0]
    ) ** 2
    target = MINERALS[d.argmin(1)]
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    grey = np.clip((9.0 - chroma) / 6.0, 0.0, 1.0)[:, None]
    target = target * (1 - grey) + p * grey  # greys stay as they are (ink and silk tones)
    # keep the source's lightness order: shift the pigment's lightness part way to the colour's
    target = target * np.float32(0.85) + p * np.float32(0.15)
    return _a((p + (target - p) * np.float32(amount)) * np.float32(255.0))


@recipe("gongbi", native_strength=True)
def gongbi(image: U8, req: StyleRequest) -> U8:
    """Gongbi fine brushwork: hair-thin dark ink outlines drawn along the forms, flat colour areas in
    mineral pigments (cinnabar, malachite, azurite, ochre...) laid thinly on aged silk, each area shaded
    darker along its outline (fen ran). Params: colors. Strength: flatness, pigment palette, line weight."""
    u = _unit(image)
    h, w = image.shape[:2]
    small = _edge_preserving(_bilateral(_fit(image, 400), 2, 7, 40.0, 5.0), 30.0, 0.35)
    req.checkpoint()
    palette = _palette(image, int(param(req, "colors", 12)), req.seed)
    flat = _quantize(small, _mineral(palette, level(req, 0.3, 0.9)))
    flat = _hsv(np.asarray(cv2.medianBlur(flat, 5), dtype=np.uint8), sat=level(req, 1.0, 1.25))
    colour = _mix(_f(small), _f(flat), level(req, 0.45, 0.95))
    colour = _a(1.0 - (1.0 - colour) * np.float32(level(req, 0.95, 0.8)))  # thin, light layers of colour
    colour = _a(_to(colour, image.shape, cv2.INTER_LINEAR))
    # fen ran: each colour area deepens towards its outline
    ex, ey = _slopes(_lum(_a(_to(_f(flat), image.shape))), 1.0)
    rim = _a(_blur(np.clip(np.sqrt(ex * ex + ey * ey) * np.float32(6.0), 0.0, 1.0), 3.0 * u))
    colour = _pigment(colour, _a(1.0 + np.float32(level(req, 0.2, 0.9)) * rim))
    req.checkpoint()

    def make(rng: np.random.Generator) -> list[F32]:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        k = np.float32(2 * np.pi / max(2.0, 2.2 * u))
        weave = 0.5 * np.sin(x * k) * np.sin(y * k)
        slubs = _streaks(rng, h, w, cell=1.0, length=15 * u, angle=0.0)
        age = _fractal(rng, h, w, 120 * u, 3)
        return [_a(1.0 + 0.035 * weave + 0.01 * slubs), age]

    silk, age = _texture(f"silk{u:.2f}", h, w, req.seed, make)
    ground = _mix((0.96, 0.93, 0.84), (0.86, 0.78, 0.62), _a(np.clip(0.3 + 0.25 * age, 0.0, 1.0)))
    # pigments are thin: the silk shows through them (multiply), and its weave runs through everything
    f = _times(_a(cv2.multiply(colour, ground)), silk)
    f = _a(_mix(f, _times(ground, silk), level(req, 0.05, 0.25)))
    # outlines drawn from the simplified image, not the photo's texture: the forms, not the fur
    gray = _a(_to(_lum(_f(small)), image.shape, cv2.INTER_CUBIC))
    lines = _dog_lines(gray, 0.5 * u, threshold=0.006, gain=level(req, 30.0, 90.0))
    lines = _a(_blur(lines, 0.3 * u))
    # and the hair-fine detail strokes gongbi is known for (fur, hair, veins), in lighter ink
    photo = _lum(_f(np.asarray(_blur(image, 0.6 * u), np.uint8)))
    hairs = _dog_lines(photo, 0.5 * u, threshold=0.012, gain=level(req, 10.0, 30.0))
    lines = _a(lines * (1.0 - np.float32(0.55) * (1.0 - hairs)))
    return _u8(_mix((0.12, 0.09, 0.07), f, lines))


#: muted classical washes for ink painting (RGB 0..1): indigo (hua qing), ochre (zhe shi), stone green,
#: rattan yellow, vermilion (zhu sha)
