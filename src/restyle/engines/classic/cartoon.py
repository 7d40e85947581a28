"""Cel, anime and cartoon recipes: 201 anime, 123 fresh anime, 107 cartoon, 210 2.5D, 116 3D, 124 picture book.

All of them start from one flow-based abstraction (``_Toon``): a reduced copy smoothed by bilateral passes
and along its edge tangent flow (``flow.along``), the flow itself, and the flow-based XDoG ink field of
``lines``. Each recipe then shades, colours and inks it its own way. Faces found by the shipped detector
get smooth skin, a soft blush and their eye and mouth lines kept (``face``); outdoor photos get a painted
sky with cel-shaded clouds where their sky was (``sky``).

Strength drives the rendering (``native_strength``): abstraction, tone quantisation, palette, line weight
and the painted sky all grow with it, so every strength is a picture in the style and a smaller one keeps
more of the source.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic import lines as ln
from restyle.engines.classic.base import F32, U8, Colour, level, param, recipe
from restyle.engines.classic.face import FaceMaps, face_maps, skin_colour
from restyle.engines.classic.flow import Flow, along_straight, structure_flow
from restyle.engines.classic.sky import painted_sky, sky_mask
from restyle.engines.classic.textures import _paper
from restyle.engines.classic.toolkit import (
    _a,
    _bilateral,
    _bloom,
    _blur,
    _clean,
    _clip,
    _dog_lines,
    _domes,
    _edge_preserving,
    _f,
    _fit,
    _gray,
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

#: everything but the final ink threshold runs on a copy with this long side
WORK_SIDE = 576


@dataclass
class _Toon:
    """The shared abstraction of one image at the working size; ``finish`` brings it to the output size."""

    shape: tuple[int, ...]  # output (height, width, 3)
    image: U8  # the input at the working size
    smooth: F32  # abstracted colour, 0..1 RGB
    field: F32  # flow-based DoG field (ink where it is high)
    flow: Flow  # edge tangent flow
    faces: FaceMaps | None
    u: float  # feature size at the working size (1.0 at 640 px)


def _toon(
    image: U8, req: StyleRequest, *, abstraction: float, line_sigma: float, texture_floor: float
) -> _Toon:
    """Abstract ``image``: ``abstraction`` 0..1 sets how much bilateral and flow smoothing it gets."""
    work = _fit(image, WORK_SIDE)
    u = max(work.shape[:2]) / 640.0
    light = _bilateral(work, 1, 5, 20.0, 3.0 * u)
    heavy = _bilateral(light, 2, 7, 36.0, 5.0 * u)
    req.checkpoint()
    g_light = _a(_gray(light)) * np.float32(1.0 / 255.0)
    flow = structure_flow(g_light, 2.5 * u)
    heavy_f = along_straight(_f(heavy), flow, length=8.0 * u, steps=3)
    smooth = _mix(_f(light), heavy_f, float(np.clip(abstraction, 0.0, 1.0)))
    req.checkpoint()
    field = ln.dog_field(g_light, flow, line_sigma * u)
    field = along_straight(field, flow, length=6.0 * u, steps=2)
    field = _a(field * ln.texture_weight(flow, floor=texture_floor))
    field = ln.drop_specks(field, level=0.012, min_area=14.0 * u * u)
    faces = face_maps(image, work.shape)
    return _Toon(
        shape=image.shape, image=work, smooth=_clip(smooth), field=field, flow=flow, faces=faces, u=u
    )


def _finish(t: _Toon, colour: F32, ink: F32, ink_colour: Colour | F32) -> U8:
    """Upsample the colour to the output size and lay the ink (thresholded at that size) over it."""
    up = _a(_to(colour, t.shape, cv2.INTER_CUBIC))
    if isinstance(ink_colour, tuple):
        return _u8(_mix(up, ink_colour, ink))
    return _u8(_mix(up, _a(_to(ink_colour, t.shape, cv2.INTER_CUBIC)), ink))


def _soft_levels(x: F32, n: float, sharp: float) -> F32:
    """Soft quantisation of 0..1 ``x`` into ``n`` levels (Winnemöller et al. 2006): flat bands joined by
    tanh ramps whose steepness is ``sharp`` (small: close to the input, large: hard steps)."""
    step = np.float32(1.0 / n)
    q = np.floor(x / step + np.float32(0.5)) * step
    ramp = np.tanh((x - q) * np.float32(sharp) / step) / np.float32(np.tanh(sharp * 0.5) + 1e-6)
    return _a(q + step * np.float32(0.5) * ramp)


def _sat(f: F32, amount: float) -> F32:
    """Scale chroma around the luminance by ``amount``."""
    lum = _lum(f)
    return _clip(_mix(_a(cv2.merge([lum, lum, lum])), f, amount))


def _skin(t: _Toon, f: F32, *, smooth: float, blush: Colour, blush_amount: float) -> F32:
    """Smooth, clean skin and a soft blush where faces were found."""
    if t.faces is None:
        return f
    soft = _a(_blur(f, 4.0 * t.u))
    f = _mix(f, soft, _a(t.faces.skin * (1.0 - t.faces.features) * np.float32(smooth)))
    return _mix(f, blush, _a(t.faces.blush * np.float32(blush_amount)))


def _face_field(t: _Toon, field: F32, *, keep: float) -> F32:
    """Clear texture lines off the skin, keep (and darken) eyes, brows and mouth."""
    if t.faces is None:
        return field
    clear = _a(t.faces.skin * (1.0 - t.faces.features) * np.float32(keep))
    return _a(field * (1.0 - clear) * (1.0 + 0.6 * t.faces.features))


def _with_sky(
    t: _Toon,
    f: F32,
    req: StyleRequest,
    *,
    amount: float,
    top: Colour,
    horizon: Colour,
    cloud: Colour,
    cloud_shade: Colour,
    clouds: float,
) -> tuple[F32, F32 | None]:
    """Paint the sky of an outdoor photo; returns the image and the sky mask (None: no sky). Portraits
    (a face taller than an eighth of the picture) keep their background."""
    if t.faces is not None and t.faces.largest > 0.125 * t.image.shape[0]:
        return f, None
    mask = sky_mask(t.image, f.shape, t.image)
    if mask is None:
        return f, None
    req.checkpoint()
    sky = painted_sky(
        mask, req.seed, top=top, horizon=horizon, cloud=cloud, cloud_shade=cloud_shade, clouds=clouds
    )
    return _mix(f, sky, _a(mask * np.float32(amount))), mask


def _cool_warm(f: F32, *, shadow: Colour, light: Colour, lo: float, hi: float) -> F32:
    """Anime grade: shadows pulled towards a cool colour, highlights towards a warm one."""
    lum = _lum(f)
    f = _mix(f, _tint(f, shadow), _clip((np.float32(lo) - lum) * np.float32(1.0 / max(lo, 1e-3))))
    return _mix(f, _tint(f, light), _clip((lum - np.float32(hi)) * np.float32(1.0 / max(1.0 - hi, 1e-3))))


def _airbrush(f: F32, sigma_s: float, sigma_r: float) -> F32:
    """Edge-preserving smoothing (recursive domain transform) on a half-size copy: soft airbrushed forms;
    ``sigma_s`` in pixels of a 640-pixel image."""
    small = _fit(_u8(f), 320)
    out = _edge_preserving(small, sigma_s * max(small.shape[:2]) / 640.0, sigma_r)
    return _a(_to(_f(out), f.shape, cv2.INTER_LINEAR))


def _flatten(f: F32, req: StyleRequest, *, colors: int, amount: float) -> F32:
    """Pull colours towards a k-means palette of the image (flat regions), by ``amount``."""
    u8 = _u8(f)
    flat = _quantize(u8, _palette(u8, colors, req.seed))
    flat = np.asarray(cv2.medianBlur(flat, 3), dtype=np.uint8)
    return _mix(f, _f(flat), amount)


def _cel_tone(f: F32, *, levels: float, sharp: float, amount: float) -> F32:
    """Soft luminance quantisation into cel tones; chroma is kept, so each region gets its own tones."""
    lum = _lum(f)
    q = _soft_levels(lum, levels, sharp)
    ratio = np.float32(1.0) + (q - lum) * np.float32(amount) / (lum + np.float32(0.04))
    return _clip(_times(f, _a(ratio)))


# --- recipes ---------------------------------------------------------------------------------------------


@recipe("anime", native_strength=True)
def anime(image: U8, req: StyleRequest) -> U8:
    """Japanese anime: flow-smoothed flats in cel tones, saturated colour with cool shadows and warm light,
    thin dark flow-based ink lines, a painted sky with cel clouds, bloom. Params: levels, line."""
    t = _toon(image, req, abstraction=level(req, 0.45, 1.0), line_sigma=1.3, texture_floor=0.15)
    f = _sat(t.smooth, level(req, 1.15, 1.5))
    f = _cel_tone(
        f, levels=param(req, "levels", 4.0), sharp=level(req, 1.5, 5.0), amount=level(req, 0.5, 1.0)
    )
    f = _cool_warm(f, shadow=(0.78, 0.84, 1.12), light=(1.06, 1.01, 0.9), lo=0.45, hi=0.65)
    f = _flatten(f, req, colors=int(param(req, "colors", 14)), amount=level(req, 0.35, 0.85))
    f = _skin(t, f, smooth=level(req, 0.5, 0.9), blush=(0.98, 0.6, 0.62), blush_amount=level(req, 0.1, 0.3))
    req.checkpoint()
    f, _ = _with_sky(
        t,
        f,
        req,
        amount=level(req, 0.55, 1.0),
        top=(0.12, 0.36, 0.86),
        horizon=(0.62, 0.84, 0.98),
        cloud=(1.0, 0.99, 0.97),
        cloud_shade=(0.72, 0.77, 0.93),
        clouds=0.55,
    )
    f = _bloom(f, threshold=0.78, sigma=12 * t.u, amount=level(req, 0.2, 0.45))
    field = _face_field(t, t.field, keep=level(req, 0.6, 0.95))
    phi = level(req, 600.0, 1500.0) * param(req, "line", 1.0)
    ink = ln.ink(field, t.shape, epsilon=level(req, 0.02, 0.006), phi=phi)
    return _finish(t, f, _a(ink * np.float32(level(req, 0.7, 1.0))), (0.12, 0.08, 0.16))


@recipe("anime_fresh", native_strength=True)
def anime_fresh(image: U8, req: StyleRequest) -> U8:
    """Fresh anime: airy high-key pastels in soft cel tones, cool blue shadows, warm glow and strong bloom,
    thin lines tinted by the colour under them, a pale painted sky. Params: levels, colors."""
    t = _toon(image, req, abstraction=level(req, 0.45, 1.0), line_sigma=1.1, texture_floor=0.1)
    f = _sat(t.smooth, level(req, 1.0, 1.15))
    f = _cel_tone(
        f, levels=param(req, "levels", 3.0), sharp=level(req, 1.0, 3.0), amount=level(req, 0.4, 0.8)
    )
    f = _flatten(f, req, colors=int(param(req, "colors", 16)), amount=level(req, 0.45, 0.9))
    key = level(req, 0.08, 0.22)  # high key: lift everything towards white
    f = _mix(f, (1.0, 1.0, 1.0), _a(np.float32(key) * (1.0 - _lum(f) * 0.6)))
    f = _cool_warm(f, shadow=(0.84, 0.94, 1.14), light=(1.04, 1.02, 0.94), lo=0.6, hi=0.72)
    f = _skin(t, f, smooth=level(req, 0.6, 1.0), blush=(1.0, 0.62, 0.66), blush_amount=level(req, 0.15, 0.4))
    req.checkpoint()
    f, _ = _with_sky(
        t,
        f,
        req,
        amount=level(req, 0.5, 1.0),
        top=(0.42, 0.68, 0.96),
        horizon=(0.86, 0.94, 0.99),
        cloud=(1.0, 1.0, 1.0),
        cloud_shade=(0.82, 0.87, 0.97),
        clouds=0.45,
    )
    f = _bloom(f, threshold=0.62, sigma=16 * t.u, amount=level(req, 0.35, 0.7))
    field = _face_field(t, t.field, keep=level(req, 0.7, 1.0))
    ink = ln.ink(field, t.shape, epsilon=level(req, 0.02, 0.007), phi=level(req, 40.0, 80.0))
    tinted = _tint(f, (0.22, 0.24, 0.36))
    return _finish(t, f, _a(ink * np.float32(level(req, 0.7, 1.0))), tinted)


@recipe("cartoon", native_strength=True)
def cartoon(image: U8, req: StyleRequest) -> U8:
    """Cartoon illustration: a few saturated flat colours (k-means palette of the abstraction, painted sky
    included), bold black flow-based outlines that thicken with strength. Params: colors."""
    t = _toon(image, req, abstraction=level(req, 0.6, 1.0), line_sigma=1.6, texture_floor=0.05)
    f = _sat(t.smooth, level(req, 1.3, 1.75))
    f = _clip(_a((f - np.float32(0.5)) * np.float32(level(req, 1.05, 1.2)) + np.float32(0.5)))
    f, _ = _with_sky(
        t,
        f,
        req,
        amount=level(req, 0.6, 1.0),
        top=(0.1, 0.5, 0.95),
        horizon=(0.55, 0.85, 1.0),
        cloud=(1.0, 1.0, 1.0),
        cloud_shade=(0.75, 0.85, 1.0),
        clouds=0.5,
    )
    req.checkpoint()
    u8 = _u8(f)
    flat = _f(_clean(_quantize(u8, _palette(u8, int(param(req, "colors", 8)), req.seed)), 1.5 * t.u))
    f = _mix(f, flat, level(req, 0.55, 1.0))
    if t.faces is not None:  # flat colour must not swallow eyes and mouth
        f = _mix(f, _sat(t.smooth, 1.4), _a(t.faces.features * np.float32(0.6)))
    # bold lines: the ink field widened by a max filter whose size grows with strength
    r = max(1, round(level(req, 1.0, 2.0) * t.u))
    field = _a(cv2.dilate(t.field, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))))
    field = _face_field(t, field, keep=level(req, 0.5, 0.9))
    ink = ln.ink(field, t.shape, epsilon=level(req, 0.022, 0.008), phi=level(req, 50.0, 100.0))
    return _finish(t, f, ink, (0.04, 0.03, 0.05))


@recipe("anime25d", native_strength=True)
def anime25d(image: U8, req: StyleRequest) -> U8:
    """2.5D anime (game CG): palette regions with airbrushed edges and soft-stepped shading, volume from a
    relief estimate with crisp toon highlights, a warm rim light on the lit side of every contour, violet
    shadows and a golden key light, dark violet outlines, a dusk painted sky, strong glow. Params: colors."""
    t = _toon(image, req, abstraction=level(req, 0.55, 1.0), line_sigma=1.2, texture_floor=0.2)
    air = _airbrush(t.smooth, 30.0, 0.35)
    f = _mix(t.smooth, air, level(req, 0.4, 1.0))
    f = _sat(f, level(req, 1.2, 1.55))
    f = _flatten(f, req, colors=int(param(req, "colors", 20)), amount=level(req, 0.4, 0.85))
    f = _a(_blur(f, level(req, 0.4, 0.9) * t.u))  # soft region edges: airbrush, not cel
    f = _cel_tone(f, levels=3.0, sharp=level(req, 1.0, 2.2), amount=level(req, 0.4, 0.8))
    # volume: relief of the smoothed luminance, lit from the upper left, with a crisp glossy highlight
    lum = _lum(f)
    height = _a(_blur(lum, 5 * t.u))
    depth = 30 * t.u * level(req, 0.4, 1.0)
    shade = _relief(height, depth=depth)
    spec = _smooth_step(0.3, 0.6, _specular(height, depth=depth, power=24.0)) * _clip(lum * 1.4 - 0.25)
    f = _plus(
        _times(f, _a(0.78 + 0.22 * _clip(shade, 0.0, 1.4))), _a(spec * np.float32(level(req, 0.2, 0.45)))
    )
    # rim light: the bright side of each contour glows warm
    rim = _clip((_a(_blur(lum, 1.0 * t.u)) - _a(_blur(lum, 4.0 * t.u))) * np.float32(6.0)) * _clip(
        shade - 0.9
    )
    f = _mix(_clip(f), (1.0, 0.9, 0.72), _a(rim * np.float32(level(req, 0.3, 0.7))))
    f = _cool_warm(f, shadow=(0.68, 0.72, 1.22), light=(1.1, 1.02, 0.86), lo=0.5, hi=0.55)
    f = _skin(t, f, smooth=level(req, 0.4, 0.7), blush=(1.0, 0.55, 0.6), blush_amount=level(req, 0.1, 0.25))
    req.checkpoint()
    f, _ = _with_sky(
        t,
        f,
        req,
        amount=level(req, 0.55, 1.0),
        top=(0.16, 0.26, 0.66),
        horizon=(1.0, 0.8, 0.66),
        cloud=(1.0, 0.93, 0.86),
        cloud_shade=(0.62, 0.56, 0.78),
        clouds=0.5,
    )
    f = _bloom(f, threshold=0.6, sigma=14 * t.u, amount=level(req, 0.3, 0.6))
    if t.faces is not None:  # airbrush, gloss and glow must not wipe eyes and mouth: bring them back
        f = _mix(f, _sat(t.smooth, 1.3), _a(t.faces.features * np.float32(0.85)))
    if t.faces is not None:  # on faces, dark small features (eyes, brows, lashes) painted back crisp
        base_lum = _lum(t.smooth)
        dark_detail = np.minimum(base_lum - _a(_blur(base_lum, 2.5 * t.u)), np.float32(0.0))
        on_face = np.maximum(t.faces.skin, t.faces.features)
        f = _clip(_plus(f, _a(dark_detail * on_face * np.float32(level(req, 1.0, 1.8)))))
    field = _a(_blur(_face_field(t, t.field, keep=level(req, 0.7, 1.0)), 0.4 * t.u))
    ink = ln.ink(field, t.shape, epsilon=level(req, 0.02, 0.007), phi=level(req, 35.0, 70.0))
    return _finish(t, f, _a(ink * np.float32(level(req, 0.7, 1.0))), (0.16, 0.06, 0.22))


@recipe("cartoon3d", native_strength=True)
def cartoon3d(image: U8, req: StyleRequest) -> U8:
    """3D cartoon render (toon-shaded CG): the picture as smooth plastic forms. Colours are airbrushed and
    pulled towards a palette, a relief is estimated (smoothed luminance at two scales plus a pillow per
    coarse palette region) and lit: toon-stepped wrap light, ambient occlusion in the creases, a soft-edged
    glossy highlight and a rim light; dark small features (eyes, mouths) painted back, faces kept smooth,
    a clean CG sky with puffy clouds, saturated plastic colours, no outlines. Params: colors."""
    t = _toon(image, req, abstraction=level(req, 0.6, 0.9), line_sigma=1.2, texture_floor=0.3)
    k = level(req, 0.3, 1.0)
    air = _airbrush(t.smooth, 40.0, 0.3)
    f = _sat(_mix(t.smooth, air, level(req, 0.4, 0.85)), level(req, 1.2, 1.6))
    # a clean CG sky whose clouds get inflated and lit with the rest
    f, _ = _with_sky(
        t,
        f,
        req,
        amount=level(req, 0.6, 1.0),
        top=(0.2, 0.5, 0.95),
        horizon=(0.7, 0.88, 1.0),
        cloud=(1.0, 1.0, 1.0),
        cloud_shade=(0.86, 0.9, 1.0),
        clouds=0.45,
    )
    # big simple forms: a coarse palette segmentation on a quarter-size copy, each region inflated
    u8 = _u8(f)
    coarse = _fit(u8, 160)
    regions = _quantize(coarse, _palette(coarse, int(param(req, "colors", 8)), req.seed))
    regions = np.asarray(cv2.medianBlur(regions, 5), np.uint8)
    radius = 20.0 * max(coarse.shape[:2]) / 640.0
    pillow = _a(_to(_domes(regions, radius) * np.float32(1.0 / radius), f.shape, cv2.INTER_LINEAR))
    pillow = _a(_blur(pillow, 4.0 * t.u))
    flat = _f(_quantize(u8, _palette(u8, 16, req.seed)))
    f = _a(_blur(_mix(f, flat, level(req, 0.2, 0.5)), 1.2 * t.u))
    lum = _lum(f)
    height = _a(
        _blur(lum, 12 * t.u) * np.float32(0.55)
        + _blur(lum, 4 * t.u) * np.float32(0.25)
        + pillow * np.float32(0.2)
    )
    depth = 36 * t.u * k
    shade = _relief(height, depth=depth, elevation=55.0)
    wrap = _clip((shade + np.float32(0.4)) / np.float32(1.4))
    wrap = _smooth_step(0.0, 1.0, wrap)  # smooth large-scale shading (a render, not cel steps)
    # ambient occlusion: creases and concave places (below their surroundings at two scales) darken
    soft_height = _a(_blur(height, 2 * t.u))  # no dark seams along every colour border
    crease = (
        _a(_blur(height, 18 * t.u))
        - soft_height
        + (_a(_blur(height, 6 * t.u)) - soft_height) * np.float32(0.6)
    )
    ao = _clip(np.float32(1.0) - _clip(crease, 0.0, 1.0) * np.float32(1.8 * k))
    f = _times(f, _a((0.6 + 0.45 * wrap) * ao))
    # dark small features (eyes, brows, mouths, nostrils) are painted back: a toy still has its face
    base_lum = _lum(t.smooth)
    dark_detail = np.minimum(base_lum - _a(_blur(base_lum, 3.0 * t.u)), np.float32(0.0))
    f = _plus(f, _a(dark_detail * np.float32(level(req, 1.0, 1.6))))
    spec = _specular(_a(_blur(height, 3 * t.u)), depth=depth, power=16.0) * _clip(lum * 1.5 - 0.1)
    spec = _smooth_step(0.3, 0.75, spec)  # toon highlight: a soft-edged glossy spot
    rim = _clip(np.float32(0.9) - shade) * _clip(lum * 2.0 - 0.2)
    f = _plus(f, _a(spec * np.float32(0.22 * k) + rim * np.float32(0.08 * k)))
    # skin (of faces too small for the detector as well) keeps the forms of the abstraction under the light
    skin = _a(skin_colour(t.image, f.shape) * np.float32(0.7))
    if t.faces is not None:  # faces stay smooth but keep their features: less relief on them
        skin = _clip(np.maximum(skin, _a(np.maximum(t.faces.features, t.faces.skin) * np.float32(0.75))))
    f = _mix(f, _tint(_sat(t.smooth, 1.3), (1.05, 1.0, 0.97)), skin)
    req.checkpoint()
    f = _bloom(_clip(f), threshold=0.72, sigma=12 * t.u, amount=level(req, 0.25, 0.5))
    return _finish(t, _tint(f, (1.04, 1.0, 0.95)), _a(np.zeros(t.shape[:2], np.float32)), (0.0, 0.0, 0.0))


def _smooth_step(lo: float, hi: float, x: F32) -> F32:
    v = _clip((x - np.float32(lo)) * np.float32(1.0 / (hi - lo)))
    return _a(v * v * (np.float32(3.0) - np.float32(2.0) * v))


@recipe("picture_book", native_strength=True)
def picture_book(image: U8, req: StyleRequest) -> U8:
    """Picture-book illustration: clean, soft, simplified shapes (airbrushed abstraction, a palette of the
    picture's colours with rounded borders, softened like gouache) in two or three gentle tones, muted
    colour lifted towards the paper, warm light, brown pen outlines (the main flow-based contours and fine
    drawing lines of the simplified picture), on cream paper with a faint tooth. Params: colors."""
    h, w = image.shape[:2]
    t = _toon(image, req, abstraction=level(req, 0.6, 1.0), line_sigma=1.1, texture_floor=0.05)
    f = _mix(t.smooth, _airbrush(t.smooth, 40.0, 0.3), level(req, 0.5, 1.0))
    req.checkpoint()
    # clean shapes: a palette of the picture's colours, borders rounded off, then softened like gouache
    u8 = _u8(f)
    flat = _f(_clean(_quantize(u8, _palette(u8, int(param(req, "colors", 10)), req.seed)), 3.0 * t.u))
    f = _mix(f, flat, level(req, 0.45, 0.8))
    f = _a(_blur(f, level(req, 0.5, 1.0) * t.u))
    f = _cel_tone(f, levels=3.0, sharp=level(req, 1.0, 2.0), amount=level(req, 0.3, 0.5))
    # gentle colour: muted, warm light, lifted towards the paper
    f = _sat(f, level(req, 1.0, 0.8))
    f = _cool_warm(f, shadow=(0.9, 0.9, 1.08), light=(1.05, 1.02, 0.92), lo=0.4, hi=0.7)
    f = _mix(f, (0.98, 0.95, 0.87), level(req, 0.08, 0.32))
    if t.faces is not None:  # soft shapes must not swallow eyes and mouth
        f = _mix(f, t.smooth, _a(t.faces.features * np.float32(0.7)))
    f = _skin(t, f, smooth=0.6, blush=(0.95, 0.6, 0.56), blush_amount=level(req, 0.08, 0.2))
    # pen outlines: the main flow-based contours, and fine lines drawn from the simplified picture
    field = _face_field(t, t.field, keep=0.8)
    ink = ln.ink(field, t.shape, epsilon=level(req, 0.025, 0.006), phi=level(req, 40.0, 100.0))
    lines = _dog_lines(_lum(t.smooth), 0.5 * t.u, threshold=0.005, gain=level(req, 30.0, 90.0))
    ink = _a(np.maximum(ink, 1.0 - _a(_to(lines, t.shape))))
    tooth = _a(1.0 + 0.5 * (_paper(h, w, req.seed, _unit(image)) - 1.0))
    page = _times(_a(_to(f, t.shape)), tooth)
    return _u8(_mix(page, (0.3, 0.2, 0.15), ink))
