"""The toon abstraction and the shading steps shared by the ``cartoon`` and ``cartoon3d`` recipes.

Every one of those recipes starts from one flow-based abstraction (``toon`` -> ``Toon``): a reduced copy
smoothed by bilateral passes and along its edge tangent flow (``flow.along``), the flow itself, and the
flow-based XDoG ink field of ``lines``. The steps below then shade, colour and ink it: cel tones, a palette
pull, a cool/warm grade, airbrushing, cel-painted faces (the engine's one detection per call, ``face``), a
painted sky with cel-shaded clouds where an outdoor photo had its sky (``sky``), and ``finish``, which
brings colour and ink to the output size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic import lines as ln
from restyle.engines.classic.base import F32, U8, Colour, level
from restyle.engines.classic.face import FaceMaps, cel_skin, face_maps
from restyle.engines.classic.flow import Flow, along_straight, structure_flow
from restyle.engines.classic.sky import painted_sky, sky_mask
from restyle.engines.classic.toolkit import (
    _a,
    _bilateral,
    _blur,
    _clean,
    _clip,
    _edge_preserving,
    _f,
    _fit,
    _gray,
    _lum,
    _mix,
    _palette,
    _quantize,
    _times,
    _tint,
    _to,
    _u8,
)

#: everything but the final ink threshold runs on a copy with this long side
WORK_SIDE = 576


@dataclass
class Toon:
    """The shared abstraction of one image at the working size; ``finish`` brings it to the output size."""

    shape: tuple[int, ...]  # output (height, width, 3)
    image: U8  # the input at the working size
    smooth: F32  # abstracted colour, 0..1 RGB
    field: F32  # flow-based DoG field (ink where it is high)
    flow: Flow  # edge tangent flow
    faces: FaceMaps | None
    u: float  # feature size at the working size (1.0 at 640 px)


class Sky(NamedTuple):
    """Colours of a painted sky (``sky.painted_sky``) and how cloudy it is (0..1)."""

    top: Colour
    horizon: Colour
    cloud: Colour
    cloud_shade: Colour
    clouds: float


class CelFace(NamedTuple):
    """Colours of cel-painted faces (``face.cel_skin``): skin tone, its shade, feature ink; how hard the
    tone steps are (``sharp``) and how much of the skin's creases is drawn (``wrinkles``)."""

    tone: Colour
    shade: Colour
    ink: Colour
    sharp: float = 0.04
    wrinkles: float = 0.5


def toon(
    image: U8,
    req: StyleRequest,
    *,
    abstraction: float,
    line_sigma: float,
    texture_floor: float,
    lines: bool = True,
    side: int = WORK_SIDE,
) -> Toon:
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
    return Toon(shape=image.shape, image=work, smooth=_clip(smooth), field=field, flow=flow, faces=faces, u=u)


def finish(t: Toon, colour: F32, ink: F32, ink_colour: Colour | F32) -> U8:
    """Upsample the colour to the output size and lay the ink (thresholded at that size) over it."""
    up = _a(_to(colour, t.shape, cv2.INTER_CUBIC))
    if isinstance(ink_colour, tuple):
        return _u8(_mix(up, ink_colour, ink))
    return _u8(_mix(up, _a(_to(ink_colour, t.shape, cv2.INTER_CUBIC)), ink))


def soft_levels(x: F32, n: float, sharp: float) -> F32:
    """Soft quantisation of 0..1 ``x`` into ``n`` levels (Winnemöller et al. 2006): flat bands joined by
    tanh ramps whose steepness is ``sharp`` (small: close to the input, large: hard steps)."""
    step = np.float32(1.0 / n)
    q = np.floor(x / step + np.float32(0.5)) * step
    ramp = np.tanh((x - q) * np.float32(sharp) / step) / np.float32(np.tanh(sharp * 0.5) + 1e-6)
    return _a(q + step * np.float32(0.5) * ramp)


def saturate(f: F32, amount: float) -> F32:
    """Scale chroma around the luminance by ``amount``."""
    lum = _lum(f)
    return _clip(_mix(_a(cv2.merge([lum, lum, lum])), f, amount))


def skin(t: Toon, f: F32, *, smooth: float, blush: Colour, blush_amount: float) -> F32:
    """Smooth, clean skin and a soft blush where faces were found."""
    if t.faces is None:
        return f
    soft = _a(_blur(f, 4.0 * t.u))
    f = _mix(f, soft, _a(t.faces.skin * (1.0 - t.faces.features) * np.float32(smooth)))
    return _mix(f, blush, _a(t.faces.blush * np.float32(blush_amount)))


def cel_face(t: Toon, f: F32, req: StyleRequest, face: CelFace) -> F32:
    """Faces painted like the rest of the picture: flat cel skin and inked features (``face.cel_skin``)."""
    if t.faces is None:
        return f
    tone, shade, ink, sharp, wrinkles = face
    photo, amount = _f(t.image), level(req, 0.6, 1.0)
    return cel_skin(
        f, photo, t.faces, tone=tone, shade=shade, ink=ink, amount=amount, sharp=sharp, wrinkles=wrinkles
    )


def anime_face(
    t: Toon, f: F32, req: StyleRequest, face: CelFace, *, blush: Colour, blush_amount: float
) -> F32:
    """Cel-painted faces (``cel_face``) with a soft ``blush`` on the cheeks."""
    f = cel_face(t, f, req, face)
    return skin(t, f, smooth=0.0, blush=blush, blush_amount=blush_amount)


def face_field(t: Toon, field: F32, *, keep: float) -> F32:
    """Clear texture lines off the skin, keep (and darken) eyes, brows and mouth."""
    if t.faces is None:
        return field
    clear = _a(t.faces.skin * (1.0 - t.faces.features) * np.float32(keep))
    return _a(field * (1.0 - clear) * (1.0 + 0.6 * t.faces.features))


def with_sky(t: Toon, f: F32, req: StyleRequest, sky: Sky, *, amount: float) -> F32:
    """Paint the sky of an outdoor photo over ``f`` by ``amount``. Portraits (a face taller than an eighth
    of the picture) and pictures without a sky keep their background."""
    if t.faces is not None and t.faces.largest > 0.125 * t.image.shape[0]:
        return f
    mask = sky_mask(t.image, f.shape, t.image)
    if mask is None:
        return f
    req.checkpoint()
    top, horizon, cloud, cloud_shade, clouds = sky
    painted = painted_sky(
        mask, req.seed, top=top, horizon=horizon, cloud=cloud, cloud_shade=cloud_shade, clouds=clouds
    )
    return _mix(f, painted, _a(mask * np.float32(amount)))


def cool_warm(f: F32, *, shadow: Colour, light: Colour, lo: float, hi: float) -> F32:
    """Anime grade: shadows pulled towards a cool colour, highlights towards a warm one."""
    lum = _lum(f)
    f = _mix(f, _tint(f, shadow), _clip((np.float32(lo) - lum) * np.float32(1.0 / max(lo, 1e-3))))
    return _mix(f, _tint(f, light), _clip((lum - np.float32(hi)) * np.float32(1.0 / max(1.0 - hi, 1e-3))))


def airbrush(f: F32, sigma_s: float, sigma_r: float) -> F32:
    """Edge-preserving smoothing (recursive domain transform) on a half-size copy: soft airbrushed forms;
    ``sigma_s`` in pixels of a 640-pixel image."""
    small = _fit(_u8(f), 320)
    out = _edge_preserving(small, sigma_s * max(small.shape[:2]) / 640.0, sigma_r)
    return _a(_to(_f(out), f.shape, cv2.INTER_LINEAR))


def flatten(f: F32, req: StyleRequest, *, colors: int, amount: float) -> F32:
    """Pull colours towards a k-means palette of the image (flat regions), by ``amount``."""
    u8 = _u8(f)
    flat = _quantize(u8, _palette(u8, colors, req.seed))
    flat = np.asarray(cv2.medianBlur(flat, 3), dtype=np.uint8)
    return _mix(f, _f(flat), amount)


def clean_flatten(t: Toon, f: F32, req: StyleRequest, *, colors: int, radius: float, amount: float) -> F32:
    """Pull colours towards a k-means palette of the image whose region borders are rounded off over
    ``radius`` (``toolkit._clean``; in pixels of a 640-pixel image), by ``amount``."""
    u8 = _u8(f)
    flat = _f(_clean(_quantize(u8, _palette(u8, colors, req.seed)), radius * t.u))
    return _mix(f, flat, amount)


def cel_tone(f: F32, *, levels: float, sharp: float, amount: float) -> F32:
    """Soft luminance quantisation into cel tones; chroma is kept, so each region gets its own tones."""
    lum = _lum(f)
    q = soft_levels(lum, levels, sharp)
    ratio = np.float32(1.0) + (q - lum) * np.float32(amount) / (lum + np.float32(0.04))
    return _clip(_times(f, _a(ratio)))
