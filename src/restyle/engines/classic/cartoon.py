"""Drawn cartoons, flat colour and ink outlines: 201 anime, 123 fresh anime, 107 cartoon, 124 picture book.

Each recipe takes the flow-based abstraction of ``toon`` and shades, colours and inks it its own way: cel
tones, a palette pull and a cool/warm grade; faces (the engine's one detection per call, ``face``) drawn like
the rest of the picture: the skin of head and neck in flat cel tones of each face's own colour, eyes, brows
and mouth inked back from the photo, a soft blush (``face.cel_skin``); outdoor photos get a painted sky with
cel-shaded clouds where their sky was (``sky``). The shaded CG looks (2.5D, 3D) are in ``cartoon3d``.

Strength drives the rendering (``native_strength``): abstraction, tone quantisation, palette, line weight
and the painted sky all grow with it, so every strength is a picture in the style and a smaller one keeps
more of the source.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic import lines as ln
from restyle.engines.classic.base import U8, level, param, recipe
from restyle.engines.classic.textures import _paper
from restyle.engines.classic.toolkit import (
    _a,
    _bloom,
    _blur,
    _clip,
    _dog_lines,
    _lum,
    _mix,
    _times,
    _tint,
    _to,
    _u8,
    _unit,
)
from restyle.engines.classic.toon import (
    CelFace,
    Sky,
    airbrush,
    anime_face,
    cel_face,
    cel_tone,
    clean_flatten,
    cool_warm,
    face_field,
    finish,
    flatten,
    saturate,
    skin,
    toon,
    with_sky,
)

#: 201: a deep blue sky (colours at the top, at the horizon, of lit and shaded clouds; cloud cover)
ANIME_SKY = Sky((0.12, 0.36, 0.86), (0.62, 0.84, 0.98), (1.0, 0.99, 0.97), (0.72, 0.77, 0.93), 0.55)
#: 201: rosy skin tone, its shade, dark red-brown feature ink
ANIME_FACE = CelFace((1.0, 0.86, 0.78), (0.86, 0.7, 0.76), (0.2, 0.08, 0.1))


@recipe("anime", native_strength=True)
def anime(image: U8, req: StyleRequest) -> U8:
    """Japanese anime: flow-smoothed flats in cel tones, saturated colour with cool shadows and warm light,
    thin dark flow-based ink lines, a painted sky with cel clouds, bloom. Params: levels, line."""
    t = toon(image, req, abstraction=level(req, 0.45, 1.0), line_sigma=1.3, texture_floor=0.15)
    f = saturate(t.smooth, level(req, 1.15, 1.5))
    f = cel_tone(f, levels=param(req, "levels", 4.0), sharp=level(req, 1.5, 5.0), amount=level(req, 0.5, 1.0))
    f = cool_warm(f, shadow=(0.78, 0.84, 1.12), light=(1.06, 1.01, 0.9), lo=0.45, hi=0.65)
    f = flatten(f, req, colors=int(param(req, "colors", 14)), amount=level(req, 0.35, 0.85))
    f = anime_face(t, f, req, ANIME_FACE, blush=(0.98, 0.6, 0.62), blush_amount=level(req, 0.1, 0.3))
    req.checkpoint()
    f = with_sky(t, f, req, ANIME_SKY, amount=level(req, 0.55, 1.0))
    f = _bloom(f, threshold=0.78, sigma=12 * t.u, amount=level(req, 0.2, 0.45))
    field = face_field(t, t.field, keep=level(req, 0.6, 0.95))
    phi = level(req, 600.0, 1500.0) * param(req, "line", 1.0)
    ink = ln.ink(field, t.shape, epsilon=level(req, 0.02, 0.006), phi=phi)
    return finish(t, f, _a(ink * np.float32(level(req, 0.7, 1.0))), (0.12, 0.08, 0.16))


#: 123: a pale, airy sky
FRESH_SKY = Sky((0.42, 0.68, 0.96), (0.86, 0.94, 0.99), (1.0, 1.0, 1.0), (0.82, 0.87, 0.97), 0.45)
#: 123: light pastel skin, soft mauve feature ink
FRESH_FACE = CelFace((1.0, 0.9, 0.84), (0.9, 0.78, 0.86), (0.32, 0.18, 0.24))


@recipe("anime_fresh", native_strength=True)
def anime_fresh(image: U8, req: StyleRequest) -> U8:
    """Fresh anime: airy high-key pastels in soft cel tones, cool blue shadows, warm glow and strong bloom,
    thin lines tinted by the colour under them, a pale painted sky. Params: levels, colors."""
    t = toon(image, req, abstraction=level(req, 0.45, 1.0), line_sigma=1.1, texture_floor=0.1)
    f = saturate(t.smooth, level(req, 1.0, 1.15))
    f = cel_tone(f, levels=param(req, "levels", 3.0), sharp=level(req, 1.0, 3.0), amount=level(req, 0.4, 0.8))
    f = flatten(f, req, colors=int(param(req, "colors", 16)), amount=level(req, 0.45, 0.9))
    key = level(req, 0.08, 0.22)  # high key: lift everything towards white
    f = _mix(f, (1.0, 1.0, 1.0), _a(np.float32(key) * (1.0 - _lum(f) * 0.6)))
    f = cool_warm(f, shadow=(0.84, 0.94, 1.14), light=(1.04, 1.02, 0.94), lo=0.6, hi=0.72)
    f = anime_face(t, f, req, FRESH_FACE, blush=(1.0, 0.62, 0.66), blush_amount=level(req, 0.15, 0.4))
    req.checkpoint()
    f = with_sky(t, f, req, FRESH_SKY, amount=level(req, 0.5, 1.0))
    f = _bloom(f, threshold=0.62, sigma=16 * t.u, amount=level(req, 0.35, 0.7))
    field = face_field(t, t.field, keep=level(req, 0.7, 1.0))
    ink = ln.ink(field, t.shape, epsilon=level(req, 0.02, 0.007), phi=level(req, 40.0, 80.0))
    tinted = _tint(f, (0.22, 0.24, 0.36))
    return finish(t, f, _a(ink * np.float32(level(req, 0.7, 1.0))), tinted)


#: 107: a bright cartoon-blue sky
CARTOON_SKY = Sky((0.1, 0.5, 0.95), (0.55, 0.85, 1.0), (1.0, 1.0, 1.0), (0.75, 0.85, 1.0), 0.5)
#: 107: warm skin, near-black feature ink
CARTOON_FACE = CelFace((1.0, 0.8, 0.64), (0.84, 0.66, 0.64), (0.05, 0.03, 0.05))


@recipe("cartoon", native_strength=True)
def cartoon(image: U8, req: StyleRequest) -> U8:
    """Cartoon illustration: a few saturated flat colours (k-means palette of the abstraction, painted sky
    included), bold black flow-based outlines that thicken with strength. Params: colors."""
    t = toon(image, req, abstraction=level(req, 0.6, 1.0), line_sigma=1.6, texture_floor=0.05)
    f = saturate(t.smooth, level(req, 1.3, 1.75))
    f = _clip(_a((f - np.float32(0.5)) * np.float32(level(req, 1.05, 1.2)) + np.float32(0.5)))
    f = with_sky(t, f, req, CARTOON_SKY, amount=level(req, 0.6, 1.0))
    req.checkpoint()
    f = clean_flatten(
        t, f, req, colors=int(param(req, "colors", 8)), radius=1.5, amount=level(req, 0.55, 1.0)
    )
    f = cel_face(t, f, req, CARTOON_FACE)
    # bold lines: the ink field widened by a max filter whose size grows with strength
    r = max(1, round(level(req, 1.0, 2.0) * t.u))
    field = _a(cv2.dilate(t.field, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))))
    field = face_field(t, field, keep=level(req, 0.5, 0.9))
    ink = ln.ink(field, t.shape, epsilon=level(req, 0.022, 0.008), phi=level(req, 50.0, 100.0))
    return finish(t, f, ink, (0.04, 0.03, 0.05))


@recipe("picture_book", native_strength=True)
def picture_book(image: U8, req: StyleRequest) -> U8:
    """Picture-book illustration: clean, soft, simplified shapes (airbrushed abstraction, a palette of the
    picture's colours with rounded borders, softened like gouache) in two or three gentle tones, muted
    colour lifted towards the paper, warm light, brown pen outlines (the main flow-based contours and fine
    drawing lines of the simplified picture), on cream paper with a faint tooth. Params: colors."""
    h, w = image.shape[:2]
    t = toon(image, req, abstraction=level(req, 0.6, 1.0), line_sigma=1.1, texture_floor=0.05)
    f = _mix(t.smooth, airbrush(t.smooth, 40.0, 0.3), level(req, 0.5, 1.0))
    req.checkpoint()
    # clean shapes: a palette of the picture's colours, borders rounded off, then softened like gouache
    f = clean_flatten(
        t, f, req, colors=int(param(req, "colors", 10)), radius=3.0, amount=level(req, 0.45, 0.8)
    )
    f = _a(_blur(f, level(req, 0.5, 1.0) * t.u))
    f = cel_tone(f, levels=3.0, sharp=level(req, 1.0, 2.0), amount=level(req, 0.3, 0.5))
    # gentle colour: muted, warm light, lifted towards the paper
    f = saturate(f, level(req, 1.0, 0.8))
    f = cool_warm(f, shadow=(0.9, 0.9, 1.08), light=(1.05, 1.02, 0.92), lo=0.4, hi=0.7)
    f = _mix(f, (0.98, 0.95, 0.87), level(req, 0.08, 0.32))
    if t.faces is not None:  # soft shapes must not swallow eyes and mouth
        f = _mix(f, t.smooth, _a(t.faces.features * np.float32(0.7)))
    f = skin(t, f, smooth=0.6, blush=(0.95, 0.6, 0.56), blush_amount=level(req, 0.08, 0.2))
    # pen outlines: the main flow-based contours, and fine lines drawn from the simplified picture
    field = face_field(t, t.field, keep=0.8)
    ink = ln.ink(field, t.shape, epsilon=level(req, 0.025, 0.006), phi=level(req, 40.0, 100.0))
    lines = _dog_lines(_lum(t.smooth), 0.5 * t.u, threshold=0.005, gain=level(req, 30.0, 90.0))
    ink = _a(np.maximum(ink, 1.0 - _a(_to(lines, t.shape))))
    tooth = _a(1.0 + 0.5 * (_paper(h, w, req.seed, _unit(image)) - 1.0))
    page = _times(_a(_to(f, t.shape)), tooth)
    return _u8(_mix(page, (0.3, 0.2, 0.15), ink))
