"""Wash recipes: 104 watercolour and 203 guofeng ink, both built from layered transparent glazes.

- 104 watercolour follows Bousseau et al. 2006 and the painter's practice: layered transparent glazes
  (``_glazes``: a wet-in-wet first wash, then smaller darker hard-edged washes with wobbling borders and
  dark dried rims), pigment density effects, white paper in the lights and margins, a loose pen line
  (line and wash);
- 203 guofeng: the same glazes in ink (pale broad washes, darker smaller ones) feathering into xuan paper,
  dry-brush outlines and thin classical colour washes.

Both render Strength themselves (``native_strength``); random fields that a strength scales are generated
once at unit amplitude.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic.base import F32, U8, level, param, recipe
from restyle.engines.classic.painting import SOFT_SIDE, _at_most
from restyle.engines.classic.strokes import face_zone
from restyle.engines.classic.textures import (
    _fractal,
    _noise,
    _normal,
    _paper,
    _streaks,
    _texture,
    _warp_maps,
)
from restyle.engines.classic.toolkit import (
    _a,
    _bilateral,
    _blur,
    _clean,
    _clip,
    _dog_lines,
    _edge_preserving,
    _f,
    _fit,
    _hsv,
    _lum,
    _mix,
    _palette,
    _quantize,
    _times,
    _tint,
    _to,
    _u8,
    _unit,
)


@recipe("watercolor", native_strength=True)
def watercolor(image: U8, req: StyleRequest) -> U8:
    """Watercolour (see ``_watercolor``), painted at most ``SOFT_SIDE`` pixels across."""
    return _at_most(SOFT_SIDE, _watercolor, image, req)


#: long side of the copy the washes' face scan runs on (faces from about 7 % of it up)
FACE_SCAN = 400
#: the ink washes (203) are laid out on a copy with this long side (faces need a little more than colour)
INK_SIDE = 512
#: the washes are laid out on a copy with this long side (they are soft; the paper and grain are full size)
WASH_SIDE = 448


def _smoothstep(x: F32, edge: F32 | float, width: float) -> F32:
    """0 below ``edge``, 1 above ``edge + width``, a smooth (Hermite) step between."""
    t = np.clip((x - edge) * np.float32(1.0 / max(1e-4, width)), 0.0, 1.0)
    return _a(t * t * (np.float32(3.0) - np.float32(2.0) * t))


def _glazes(colour: F32, req: StyleRequest, detail: F32) -> F32:
    """Watercolour as layered transparent glazes (Bousseau et al. 2006, Curtis et al. 1997): the
    picture's pigment density split into a broad wet-in-wet first wash, then successively smaller, darker
    hard-edged washes, each with wobbling borders and a dark rim where its pigment dried at the edge.
    ``detail`` (0..1) narrows the brush (faces). Returns the RGB optical density (-ln transmittance)."""
    h, w = colour.shape[:2]
    u = _unit(np.empty((h, w), np.uint8))
    dens = _a(-np.log(np.clip(colour, 0.03, 1.0)))
    dark = _a(cv2.transform(dens, np.full((1, 3), 1.0 / 3.0, np.float32)))

    # one displacement field moves every wash border a little: borders wobble, no islands appear
    unit_x, unit_y = _warp_maps("wc", h, w, req.seed, amplitude=1.0, cell=10 * u)
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    amp = np.float32(level(req, 1.0, 2.5) * u)
    wobble = (_a(gx + (unit_x - gx) * amp), _a(gy + (unit_y - gy) * amp))
    flat = level(req, 0.52, 0.98)  # how far each wash is one even tone
    # (threshold, brush sigma, edge softness) per wash, light to dark
    washes = [(0.10, 6.0, 0.10), (0.40, 3.0, 0.03), (0.80, 1.8, 0.025), (1.3, 1.0, 0.02)]
    total = np.zeros((h, w, 3), np.float32)
    below = 0.0
    for i, (theta, sigma, soft) in enumerate(washes):
        s = sigma * u * float(level(req, 0.5, 1.0))
        blurred = _a(_blur(dark, s))
        d = _a(blurred + (dark - blurred) * detail)
        mask = _smoothstep(d, theta, soft)
        # no specks: a wash is laid in one movement; then its border wobbles
        mask = _f(np.asarray(cv2.medianBlur(_u8(mask), 5), np.uint8))
        mask = _a(cv2.remap(mask, wobble[0], wobble[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
        nxt = washes[i + 1][0] if i + 1 < len(washes) else theta + 0.5
        step = np.float32((theta + nxt) / 2.0 - below)
        below = (theta + nxt) / 2.0
        # a wash is an even layer of its colour: its hue is the picture's, averaged over the brush
        hue_src = _a(_blur(dens, s))
        hue = _a(hue_src / cv2.merge([_a(_blur(dark, s)) + np.float32(1e-3)] * 3))
        if i > 0:  # pigment gathers in a dark rim inside a wash that dried with a hard edge
            rim = _clip(_a(mask - _a(_blur(mask, 1.5 * u))) * np.float32(4.0))
            mask = _a(mask * (1.0 + np.float32(level(req, 0.6, 1.4)) * rim))
        total += _a(hue * cv2.merge([_a(mask * step)] * 3))
    # the rest of the picture's gradation inside each wash (none: flat washes)
    smooth = _a(dens * np.float32(1.0 - flat))
    total = _a(total * np.float32(flat) + smooth)
    return total


def _watercolor(image: U8, req: StyleRequest) -> U8:
    """Watercolour after Bousseau et al. 2006: the image abstracted and laid down as layered transparent
    washes (``_glazes``: a wet-in-wet first wash, then hard-edged darker ones with wobbling borders and
    dark rims), pigment density effects at full size (turbulence, granulation in the paper's tooth),
    white paper left in the lights and around the picture, and a loose pen drawing over it (line and wash).
    Params: colors. Strength: abstraction, flatness of the washes, pigment effects, unpainted margin."""
    u = _unit(image)
    h, w = image.shape[:2]
    work = _fit(image, WASH_SIDE)
    smooth = _edge_preserving(_bilateral(work, 1, 7, 25.0, 3.0), 30.0, 0.4)
    palette = _palette(image, int(param(req, "colors", 16)), req.seed)
    flat = _f(_clean(_quantize(smooth, palette), 1.5 * _unit(work)))
    colour = _mix(_f(smooth), flat, level(req, 0.2, 0.5))
    zone = face_zone(_fit(work, FACE_SCAN), work.shape)  # a quick scan: faces are large or many
    if zone.any():  # faces are painted with a finer brush, from the less simplified copy
        colour = _mix(colour, _f(_bilateral(work, 1, 5, 20.0, 2.0)), _a(zone * np.float32(0.8)))
    # watercolour is high key: the values move up towards the paper, the colours stay clear
    colour = _f(_hsv(_u8(colour), sat=level(req, 1.1, 1.5)))
    key = np.float32(level(req, 0.62, 0.42))  # (faces a little lighter: their lines read better)
    colour = _a(1.0 - _times(1.0 - colour, _a(key + (np.float32(0.35) - key) * zone)))
    req.checkpoint()
    density = _glazes(colour, req, zone)
    req.checkpoint()
    density = _a(_to(density, image.shape))

    def make(rng: np.random.Generator) -> list[F32]:
        turbulence = _fractal(rng, h, w, 50 * u, 3)
        grain = _noise(rng, h, w, 1.0) * np.float32(0.5) + _noise(rng, h, w, 2.0 * u) * np.float32(0.5)
        ragged = _fractal(rng, h, w, 40 * u, 2)
        return [turbulence, grain, ragged]

    turbulence, grain, ragged = _texture(f"wc-pigment{u:.2f}", h, w, req.seed, make)
    paper = _paper(h, w, req.seed, u)
    k = level(req, 0.4, 1.0)
    # pigment density effects: low-frequency turbulence, granulation settling in the paper's tooth
    effects = 1.0 + np.float32(0.06 * k) * turbulence + np.float32(0.06 * k) * grain
    effects = effects + np.float32(2.5 * k) * (paper - 1.0)
    # the picture is painted up to a ragged line short of the sheet's edges
    y = np.minimum(np.arange(h, dtype=np.float32), np.arange(h, dtype=np.float32)[::-1])[:, None]
    x = np.minimum(np.arange(w, dtype=np.float32), np.arange(w, dtype=np.float32)[::-1])[None, :]
    border = np.minimum(y, x) / np.float32(max(h, w))
    margin = level(req, -0.01, 0.035)
    wash = np.clip((border - margin + 0.012 * ragged) * np.float32(50.0), 0.0, 1.0)
    effects = _a(np.clip(effects, 0.3, 2.0) * wash)
    f = _a(np.exp(-_times(density, effects)))
    big = _a(_to(zone, image.shape))
    # line and wash: a loose pen drawing over the washes (drawn from the photo, not the washes: they drift)
    g = _lum(_f(np.asarray(_blur(image, 0.9 * u), np.uint8)))
    pen = _dog_lines(g, 0.9 * u, threshold=0.005, gain=level(req, 14.0, 50.0))
    pen = _a(1.0 - np.clip((1.0 - pen) * (1.0 + 0.6 * big), 0.0, 1.0))  # faces: firmer
    f = _mix((0.1, 0.09, 0.09), f, pen)
    return _u8(_tint(_times(f, paper), (0.985, 0.975, 0.94)))


WASHES = np.asarray(
    [(0.45, 0.55, 0.62), (0.70, 0.55, 0.40), (0.55, 0.63, 0.50), (0.80, 0.70, 0.45), (0.74, 0.30, 0.22)],
    np.float32,
)


@recipe("guofeng", native_strength=True)
def guofeng(image: U8, req: StyleRequest) -> U8:
    """Ink wash (see ``_guofeng``), painted at most ``SOFT_SIDE`` pixels across."""
    return _at_most(SOFT_SIDE, _guofeng, image, req)


def _guofeng(image: U8, req: StyleRequest) -> U8:
    """Chinese ink wash (shuimo) with light colour (qianjiang): the picture as layered washes of ink
    (``_glazes``: pale broad washes, then smaller darker ones whose edges dry darker and wobble) that
    feather into xuan paper, dry-brush outlines, the lights left as empty paper, and thin washes of
    indigo, ochre, stone green and vermilion. Strength: ink abstraction, empty space, outline weight, how
    far colours move to the classical washes."""
    u = _unit(image)
    h, w = image.shape[:2]
    work = _fit(image, INK_SIDE)
    small = _edge_preserving(work, 50.0, 0.4)
    req.checkpoint()
    zone = face_zone(work, work.shape)
    # ink tones from lightness: the lights become empty paper, the darks a pale-to-dense ink, never black
    grey = _lum(_f(small))
    if zone.any():  # faces are modelled with a finer brush, from the sharper picture
        grey = _a(grey + (_lum(_f(_bilateral(work, 1, 5, 20.0, 2.0))) - grey) * zone)
    pale = np.float32(level(req, 0.8, 0.45))
    grey = _a(1.0 - (1.0 - np.clip(grey * np.float32(1.15), 0.0, 1.0)) * pale)
    density = _glazes(_a(cv2.merge([grey, grey, grey])), req, _a(zone * np.float32(0.7)))
    ink = _a(1.0 - np.exp(-_a(_to(density[..., 0], image.shape))))

    def make(rng: np.random.Generator) -> list[F32]:
        fibres = _streaks(rng, h, w, cell=1.0, length=13 * u, angle=30.0) + _streaks(
            rng, h, w, cell=1.0, length=13 * u, angle=-50.0
        )
        bleed = _fractal(rng, h, w, 8 * u, 3)
        dry = _streaks(rng, h, w, cell=max(1.0, 1.2 * u), length=40 * u, angle=20.0)
        return [_normal(fibres), bleed, dry]

    fibres, bleed, dry = _texture(f"xuan{u:.2f}", h, w, req.seed, make)
    # ink feathers into the paper: a wider, paler halo whose edge follows the fibres
    halo = _a(_blur(ink, 2.0 * u))
    ink = np.maximum(ink, halo * np.clip(0.75 + 0.25 * bleed + 0.1 * fibres, 0.0, 1.0))
    req.checkpoint()
    # dry-brush outlines: dark, broken where the brush ran out of ink
    gray = _a(_to(_lum(_f(small)), image.shape, cv2.INTER_CUBIC))
    lines = 1.0 - _dog_lines(gray, 1.0 * u, threshold=0.006, gain=level(req, 22.0, 60.0))
    big = _a(_to(zone, image.shape))
    if big.any():  # the features of a face in a finer line
        sharp = _lum(_f(np.asarray(_blur(image, 0.7 * u), np.uint8)))
        features = 1.0 - _dog_lines(sharp, 0.6 * u, threshold=0.006, gain=level(req, 15.0, 40.0))
        lines = np.maximum(lines * (1.0 - big), features * big)
    lines = _a(lines * np.clip(0.75 + 0.45 * dry, 0.0, 1.0))
    ink = _a(np.clip(ink + lines * np.float32(0.9), 0.0, 1.0))
    colour = _light_colour(image, small, req)  # light colour (qianjiang), laid only where there is ink
    paper = _a(np.clip(1.0 + 0.008 * fibres, 0.9, 1.1) * (0.5 + 0.5 * _paper(h, w, req.seed, u)))
    ground = _times(_a(np.full((h, w, 3), (0.95, 0.925, 0.86), np.float32)), paper)
    tint = _a(np.float32(0.8) * np.clip(ink * 3.0, 0.0, 1.0))
    f = _a(cv2.multiply(ground, _mix((1.0, 1.0, 1.0), colour, tint)))
    # ink is transparent: the colour washes still show under its paler tones
    return _u8(_a(cv2.multiply(f, _mix((1.0, 1.0, 1.0), (0.12, 0.12, 0.13), _a(ink * 0.92)))))


def _light_colour(image: U8, small: U8, req: StyleRequest) -> F32:
    """Qianjiang light colour at the size of ``image``: the hues of ``small`` (its smoothed copy) moved
    to the classical washes (``WASHES``: the nearest in hue and chroma; greys and browns stay as they are),
    each at a light value, since the ink gives the darks. Strength: how far the hues move."""
    colour = _f(_hsv(small, sat=level(req, 0.8, 0.55)))
    palette = _palette(image, 6, req.seed)
    lab = cv2.cvtColor(palette.reshape(-1, 1, 3) / np.float32(255.0), cv2.COLOR_RGB2Lab).reshape(-1, 3)
    wlab = cv2.cvtColor(WASHES.reshape(-1, 1, 3), cv2.COLOR_RGB2Lab).reshape(-1, 3)
    pick = WASHES[((lab[:, None, 1:] - wlab[None, :, 1:]) ** 2).sum(-1).argmin(1)]
    dull = (np.hypot(lab[:, 1], lab[:, 2]) < 18.0)[:, None]  # greys and browns stay ink, no wash
    pick = np.where(dull, palette / np.float32(255.0), pick).astype(np.float32)
    washes = _f(_quantize(small, pick * np.float32(255.0)))
    colour = _mix(colour, _a(_blur(washes, 2.0)), level(req, 0.3, 0.8))
    # a wash is thin: its hue at a light value (the ink gives the darks)
    lum = _lum(colour)
    colour = _clip(_times(colour, _a(np.float32(0.85) / (lum + np.float32(0.04)))))
    colour = _a(1.0 - (1.0 - colour) * np.float32(0.65))
    return _a(_to(colour, image.shape))
