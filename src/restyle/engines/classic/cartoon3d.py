"""Shaded CG cartoons, volume lit from a relief estimate: 210 2.5D anime (game CG), 116 3D cartoon.

Both start, like the drawn cartoons of ``cartoon``, from the flow-based abstraction of ``toon``, then give
the picture volume: a height field estimated from the simplified picture (``relief``), lit by a key light
from the upper left with glossy highlights and rim light. 210 keeps dark violet outlines and cel steps; 116
is a toon-shaded render without outlines, every coarse colour region inflated into a rounded form.

Strength drives the rendering (``native_strength``): abstraction, relief depth, gloss, outline weight and
the painted sky all grow with it.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic import lines as ln
from restyle.engines.classic.base import F32, U8, level, param, recipe
from restyle.engines.classic.relief import diffuse, domes, normals, occlusion, rim, specular
from restyle.engines.classic.toolkit import (
    _a,
    _bloom,
    _blur,
    _clip,
    _f,
    _fit,
    _lum,
    _mix,
    _plus,
    _regions,
    _relief,
    _specular,
    _times,
    _tint,
    _to,
    _u8,
)
from restyle.engines.classic.toon import (
    CelFace,
    Sky,
    Toon,
    airbrush,
    anime_face,
    cel_face,
    cel_tone,
    cool_warm,
    face_field,
    finish,
    flatten,
    saturate,
    toon,
    with_sky,
)

#: 210: a dusk sky (colours at the top, at the horizon, of lit and shaded clouds; cloud cover)
DUSK_SKY = Sky((0.16, 0.26, 0.66), (1.0, 0.8, 0.66), (1.0, 0.93, 0.86), (0.62, 0.56, 0.78), 0.5)
#: 210: warm skin with violet shade and ink, a little harder tone steps
GAME_FACE = CelFace((1.0, 0.84, 0.74), (0.8, 0.66, 0.8), (0.2, 0.07, 0.2), sharp=0.07)


def smooth_step(lo: float, hi: float, x: F32) -> F32:
    """0 below ``lo``, 1 above ``hi``, a smooth cubic between."""
    v = _clip((x - np.float32(lo)) * np.float32(1.0 / (hi - lo)))
    return _a(v * v * (np.float32(3.0) - np.float32(2.0) * v))


def _volume(t: Toon, f: F32, req: StyleRequest) -> F32:
    """Relief of the smoothed luminance, lit from the upper left, with a crisp glossy highlight, and a warm
    rim light on the bright side of each contour."""
    lum = _lum(f)
    height = _a(_blur(lum, 5 * t.u))
    depth = 30 * t.u * level(req, 0.4, 1.0)
    shade = _relief(height, depth=depth)
    spec = smooth_step(0.3, 0.6, _specular(height, depth=depth, power=24.0)) * _clip(lum * 1.4 - 0.25)
    f = _plus(
        _times(f, _a(0.78 + 0.22 * _clip(shade, 0.0, 1.4))), _a(spec * np.float32(level(req, 0.2, 0.45)))
    )
    glow = _clip((_a(_blur(lum, 1.0 * t.u)) - _a(_blur(lum, 4.0 * t.u))) * np.float32(6.0)) * _clip(
        shade - 0.9
    )
    return _mix(_clip(f), (1.0, 0.9, 0.72), _a(glow * np.float32(level(req, 0.3, 0.7))))


@recipe("anime25d", native_strength=True)
def anime25d(image: U8, req: StyleRequest) -> U8:
    """2.5D anime (game CG): palette regions with airbrushed edges and soft-stepped shading, volume from a
    relief estimate with crisp toon highlights, a warm rim light on the lit side of every contour, violet
    shadows and a golden key light, dark violet outlines, a dusk painted sky, strong glow. Params: colors."""
    t = toon(image, req, abstraction=level(req, 0.55, 1.0), line_sigma=1.2, texture_floor=0.2)
    air = airbrush(t.smooth, 30.0, 0.35)
    f = _mix(t.smooth, air, level(req, 0.4, 1.0))
    f = saturate(f, level(req, 1.2, 1.55))
    f = flatten(f, req, colors=int(param(req, "colors", 20)), amount=level(req, 0.4, 0.85))
    f = _a(_blur(f, level(req, 0.4, 0.9) * t.u))  # soft region edges: airbrush, not cel
    f = cel_tone(f, levels=3.0, sharp=level(req, 1.0, 2.2), amount=level(req, 0.4, 0.8))
    f = _volume(t, f, req)
    f = cool_warm(f, shadow=(0.68, 0.72, 1.22), light=(1.1, 1.02, 0.86), lo=0.5, hi=0.55)
    f = anime_face(t, f, req, GAME_FACE, blush=(1.0, 0.55, 0.6), blush_amount=level(req, 0.1, 0.25))
    req.checkpoint()
    f = with_sky(t, f, req, DUSK_SKY, amount=level(req, 0.55, 1.0))
    f = _bloom(f, threshold=0.6, sigma=14 * t.u, amount=level(req, 0.3, 0.6))
    field = _a(_blur(face_field(t, t.field, keep=level(req, 0.7, 1.0)), 0.4 * t.u))
    ink = ln.ink(field, t.shape, epsilon=level(req, 0.018, 0.006), phi=level(req, 120.0, 400.0))
    return finish(t, f, _a(ink * np.float32(level(req, 0.7, 1.0))), (0.16, 0.06, 0.22))


#: 116: a clean CG sky
CG_SKY = Sky((0.2, 0.5, 0.95), (0.7, 0.88, 1.0), (1.0, 1.0, 1.0), (0.86, 0.9, 1.0), 0.45)
#: 116: smooth two-tone skin with drawn eyes and mouth, hardly any creases
TOY_FACE = CelFace((1.0, 0.8, 0.66), (0.86, 0.7, 0.68), (0.14, 0.07, 0.06), sharp=0.14, wrinkles=0.1)


def _height(t: Toon, coarse: U8, g: F32, cu: float, req: StyleRequest) -> F32:
    """Height field of ``coarse`` (a small copy, luminance ``g``, feature size ``cu``): each coarse palette
    region a pillow and a head one rounded form, over the large forms of the luminance."""
    regions = _regions(coarse, int(param(req, "colors", 6)), req.seed, (7, 5))
    pillows = _a(_blur(domes(regions, 60 * cu), 6 * cu))
    if t.faces is not None:  # a head is one rounded form, not a pillow per patch of skin tone
        head = _a(_to(t.faces.region, coarse.shape, cv2.INTER_AREA))
        form = _a(np.sqrt(_clip(_a(_blur(head, 10 * cu)) * np.float32(1.6))))
        pillows = _mix(pillows[..., None].repeat(3, 2), _a(cv2.merge([form] * 3)), head)[..., 0]
    return _a(_blur(g, 24 * cu) * np.float32(0.3) + pillows * np.float32(0.7))


def _lighting(t: Toon, f: F32, req: StyleRequest, k: float) -> tuple[F32, F32, F32]:
    """Light the forms of ``f``, computed on a small copy: (wrapped key light with ambient occlusion in the
    creases, soft glossy highlight, Fresnel rim), each brought to the size of ``f``; ``k``: strength."""
    coarse = _fit(_u8(f), 192)
    cu = max(coarse.shape[:2]) / 640.0
    g = _lum(_f(coarse))
    height = _height(t, coarse, g, cu, req)
    n = normals(height, level(req, 10.0, 26.0) * cu)
    light = _a(0.5 + 0.6 * diffuse(n, azimuth=125.0, elevation=50.0, wrap=0.5))
    light = _a(light * occlusion(height, 10 * cu, 1.6 * k))
    gloss = smooth_step(0.45, 0.75, specular(n, power=24.0, azimuth=125.0, elevation=50.0))
    gloss = _a(gloss * _clip(_a(_blur(g, 2 * cu)) * np.float32(1.6) - np.float32(0.15)))
    edge = rim(n, 4.0)
    light, gloss, edge = (_a(_to(m, f.shape, cv2.INTER_CUBIC)) for m in (light, gloss, edge))
    return light, gloss, edge


@recipe("cartoon3d", native_strength=True)
def cartoon3d(image: U8, req: StyleRequest) -> U8:
    """3D cartoon render (toon-shaded CG, the animated-feature look): the picture as smooth, saturated
    plastic forms. Colours are airbrushed and simplified; every coarse palette region is inflated into a
    rounded pillow over the smoothed luminance, and that relief, computed on a small copy, is lit: wrapped
    key light warm, fill shadows cool, ambient occlusion in the creases between forms, a soft glossy
    highlight and a bright Fresnel rim. Faces get smooth two-tone skin with drawn eyes and mouth, outdoor
    photos a clean CG sky, no outlines. Strength: relief depth, gloss, smoothing. Params: colors."""
    t = toon(
        image, req, abstraction=level(req, 0.6, 0.9), line_sigma=1.2, texture_floor=0.3, lines=False, side=448
    )
    k = level(req, 0.3, 1.0)
    air = airbrush(t.smooth, 40.0, 0.3)
    f = saturate(_mix(t.smooth, air, level(req, 0.5, 0.9)), level(req, 1.2, 1.55))
    f = with_sky(t, f, req, CG_SKY, amount=level(req, 0.6, 1.0))
    f = cel_face(t, f, req, TOY_FACE)
    req.checkpoint()
    light, gloss, edge = _lighting(t, f, req, k)
    lit = _times(f, light)
    # key light warm, fill light cool: the shadow side of every form turns a little blue-violet
    lit = _mix(lit, _tint(lit, (0.82, 0.86, 1.12)), _clip(_a((np.float32(0.9) - light) * np.float32(2.5))))
    f = _plus(lit, _a(gloss * np.float32(0.3 * k)))
    f = _mix(f, (0.86, 0.93, 1.0), _a(edge * np.float32(0.25 * k)))
    # dark small features (eyes, mouths, nostrils of people and animals) kept: a toy still has its face
    base_lum = _lum(t.smooth)
    dark_detail = np.minimum(base_lum - _a(_blur(base_lum, 3.0 * t.u)), np.float32(0.0))
    f = _plus(f, _a(dark_detail * np.float32(level(req, 0.3, 0.5))))
    f = _bloom(_clip(f), threshold=0.72, sigma=10 * t.u, amount=level(req, 0.25, 0.45))
    return _u8(_a(_to(_tint(f, (1.04, 1.0, 0.95)), t.shape, cv2.INTER_CUBIC)))
