"""Cel, anime and cartoon recipes: 201 anime, 123 fresh anime, 107 cartoon, 210 2.5D, 116 3D, 124 picture book.

All of them start from one flow-based abstraction (``_Toon``): a reduced copy smoothed by bilateral passes
and along its edge tangent flow (``flow.along``), the flow itself, and the flow-based XDoG ink field of
``lines``. Each recipe then shades, colours and inks it its own way. Faces (the engine's one detection per
call, ``face``) are drawn like the rest of the picture: the skin of head and neck in flat cel tones of each
face's own colour, eyes, brows and mouth inked back from the photo, eye sockets a little shaded, a soft
blush (``face.cel_skin``); outdoor photos get a painted sky with cel-shaded clouds where their sky was
(``sky``).

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
from restyle.engines.classic.face import FaceMaps, cel_skin, face_maps
from restyle.engines.classic.flow import Flow, along_straight, structure_flow
from restyle.engines.classic.relief import diffuse, domes, normals, occlusion, rim, specular
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
    _edge_preserving,
    _f,
    _fit,
    _gray,
    _lum,
    _mix,
    _palette,
    _plus,
    _quantize,
    _regions,
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
    image: U8,
    req: StyleRequest,
    *,
    abstraction: float,
    line_sigma: float,
    texture_floor: float,
    lines: bool = True,
    side: int = WORK_SIDE,
) -> _Toon:
    """Abstract ``image``: ``abstraction`` 0..1 sets how much bilateral and flow smoothing it gets;
    ``lines=False`` skips the ink field (left at zero) for styles without outlines."""
    work = _fit(image, side)
    u = max(work.shape[:2]) / 640.0
    light = _bilateral(work, 1, 5, 20.0, 3.0 * u)
    heavy = _bilateral(light, 2, 7, 36.0, 5.0 * u)
    req.checkpoint()
    g_light = _a(_gray(light)) * np.float32(1.0 / 255.0)
    flow = structure_flow(g_light, 2.5 * u)
    heavy_f = along_straight(_f(heavy), flow, length=8.0 * u, steps=3)
    smooth = _mix(_f(light), heavy_f, float(np.clip(abstraction, 0.0, 1.0)))
    req.checkpoint()
    field = _a(np.zeros(g_light.shape, np.float32))
    if lines:
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


def _anime_face(
    t: _Toon,
    f: F32,
    req: StyleRequest,
    *,
    tone: Colour,
    shade: Colour,
    ink: Colour,
    sharp: float = 0.04,
    wrinkles: float = 0.5,
) -> F32:
    """Faces painted like the rest of the picture: flat cel skin and inked features (``face.cel_skin``)."""
    if t.faces is None:
        return f
    amount = level(req, 0.6, 1.0)
    return cel_skin(
        f,
        _f(t.image),
        t.faces,
        tone=tone,
        shade=shade,
        ink=ink,
        amount=amount,
        sharp=sharp,
        wrinkles=wrinkles,
    )


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
    f = _anime_face(t, f, req, tone=(1.0, 0.86, 0.78), shade=(0.86, 0.7, 0.76), ink=(0.2, 0.08, 0.1))
    f = _skin(t, f, smooth=0.0, blush=(0.98, 0.6, 0.62), blush_amount=level(req, 0.1, 0.3))
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
    f = _anime_face(t, f, req, tone=(1.0, 0.9, 0.84), shade=(0.9, 0.78, 0.86), ink=(0.32, 0.18, 0.24))
    f = _skin(t, f, smooth=0.0, blush=(1.0, 0.62, 0.66), blush_amount=level(req, 0.15, 0.4))
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
    f = _anime_face(t, f, req, tone=(1.0, 0.8, 0.64), shade=(0.84, 0.66, 0.64), ink=(0.05, 0.03, 0.05))
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
    f = _anime_face(
        t, f, req, tone=(1.0, 0.84, 0.74), shade=(0.8, 0.66, 0.8), ink=(0.2, 0.07, 0.2), sharp=0.07
    )
    f = _skin(t, f, smooth=0.0, blush=(1.0, 0.55, 0.6), blush_amount=level(req, 0.1, 0.25))
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
    field = _a(_blur(_face_field(t, t.field, keep=level(req, 0.7, 1.0)), 0.4 * t.u))
    ink = ln.ink(field, t.shape, epsilon=level(req, 0.018, 0.006), phi=level(req, 120.0, 400.0))
    return _finish(t, f, _a(ink * np.float32(level(req, 0.7, 1.0))), (0.16, 0.06, 0.22))


@recipe("cartoon3d", native_strength=True)
def cartoon3d(image: U8, req: StyleRequest) -> U8:
    """3D cartoon render (toon-shaded CG, the animated-feature look): the picture as smooth, saturated
    plastic forms. Colours are airbrushed and simplified; every coarse palette region is inflated into a
    rounded pillow over the smoothed luminance, and that relief, computed on a small copy, is lit: wrapped
    key light warm, fill shadows cool, ambient occlusion in the creases between forms, a soft glossy
    highlight and a bright Fresnel rim. Faces get smooth two-tone skin with drawn eyes and mouth, outdoor
    photos a clean CG sky, no outlines. Strength: relief depth, gloss, smoothing. Params: colors."""
    t = _toon(
        image, req, abstraction=level(req, 0.6, 0.9), line_sigma=1.2, texture_floor=0.3, lines=False, side=448
    )
    k = level(req, 0.3, 1.0)
    air = _airbrush(t.smooth, 40.0, 0.3)
    f = _sat(_mix(t.smooth, air, level(req, 0.5, 0.9)), level(req, 1.2, 1.55))
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
    f = _anime_face(
        t,
        f,
        req,
        tone=(1.0, 0.8, 0.66),
        shade=(0.86, 0.7, 0.68),
        ink=(0.14, 0.07, 0.06),
        sharp=0.14,
        wrinkles=0.1,
    )
    req.checkpoint()
    # shape, on a small copy: each coarse palette region a pillow, over the large forms of the luminance
    coarse = _fit(_u8(f), 192)
    cu = max(coarse.shape[:2]) / 640.0
    regions = _regions(coarse, int(param(req, "colors", 6)), req.seed, (7, 5))
    g = _lum(_f(coarse))
    pillows = _a(_blur(domes(regions, 60 * cu), 6 * cu))
    if t.faces is not None:  # a head is one rounded form, not a pillow per patch of skin tone
        head = _a(_to(t.faces.region, coarse.shape, cv2.INTER_AREA))
        form = _a(np.sqrt(_clip(_a(_blur(head, 10 * cu)) * np.float32(1.6))))
        pillows = _mix(pillows[..., None].repeat(3, 2), _a(cv2.merge([form] * 3)), head)[..., 0]
    height = _a(_blur(g, 24 * cu) * np.float32(0.3) + pillows * np.float32(0.7))
    n = normals(height, level(req, 10.0, 26.0) * cu)
    light = _a(0.5 + 0.6 * diffuse(n, azimuth=125.0, elevation=50.0, wrap=0.5))
    light = _a(light * occlusion(height, 10 * cu, 1.6 * k))
    gloss = _smooth_step(0.45, 0.75, specular(n, power=24.0, azimuth=125.0, elevation=50.0))
    gloss = _a(gloss * _clip(_a(_blur(g, 2 * cu)) * np.float32(1.6) - np.float32(0.15)))
    edge = rim(n, 4.0)
    light, gloss, edge = (_a(_to(m, f.shape, cv2.INTER_CUBIC)) for m in (light, gloss, edge))
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
