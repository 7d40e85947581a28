"""Shape from a photo for the material styles: a height field, its normals and their lighting.

The material recipes (wood, clay, felt, jade, porcelain, brass) render the subject *as an object made of
the material*. They need a surface: ``height_field`` builds a shallow relief from the photo itself (in the
spirit of digital bas-relief, Weyrich et al. 2007, which squeezes depth into a few units): an edge-aware
smoothed luminance gives the large forms (light = near), rounded domes inside flat-colour regions give each
part its own volume, and the detail layer is kept at a reduced weight. Faces (the engine's shared detection,
``face.face_boxes``, drawn as soft ellipses by ``face_mask``) keep their detail and lose the domes, and
``face_detail`` carves the photo's eyes, brows and mouth into the material there.

The shading functions light a height field with Lambert diffuse (optionally wrapped, for subsurface materials), a
Blinn-Phong highlight, a Fresnel-like rim and a cheap ambient occlusion (height minus its blur), all from
one set of normals. Everything runs on the reduced copy the recipe gives it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from restyle.engines.classic.base import F32, U8
from restyle.engines.classic.face import face_boxes
from restyle.engines.classic.toolkit import _a, _blur, _clip, _f, _gray


def face_mask(image: U8, shape: tuple[int, ...] | None = None, *, fit: bool = False) -> F32:
    """Soft mask (0..1) over the faces found in ``image``: an ellipse per face, drawn at the height and width
    of ``shape`` (default: the image's). ``fit``: the soft border scales with each face (full strength over
    small faces too) instead of with the picture."""
    h, w = (shape or image.shape)[:2]
    sy, sx = h / image.shape[0], w / image.shape[1]
    mask = np.zeros((h, w), np.float32)
    boxes = face_boxes(image)[:8]
    grow = 1.35 if fit else 1.0  # fitted: hair and jaw line too, the outline a detector sees
    for x, y, bw, bh in boxes:
        centre = (round((x + bw / 2) * sx), round((y + bh * 0.55) * sy))
        axes = (max(1, round(bw * 0.62 * grow * sx)), max(1, round(bh * 0.78 * grow * sy)))
        cv2.ellipse(mask, centre, axes, 0.0, 0.0, 360.0, 1.0, -1)
    if not mask.any():
        return mask
    if fit:
        return _clip(_a(_blur(mask, 0.12 * min(b[3] for b in boxes) * sy)) * np.float32(1.3))
    return _clip(_a(_blur(mask, 0.04 * max(h, w))) * np.float32(1.6))


def face_detail(image: U8, faces: F32, sigma: float, gain: float = 1.0) -> F32:
    """Multiplicative detail map (about 1) putting the photo's own eyes, brows and mouth back inside faces:
    luminance over its blur (``sigma`` pixels), faded in by the face mask ``faces`` (size of ``image``) and
    scaled by ``gain``."""
    if not faces.any():
        return np.ones(image.shape[:2], np.float32)
    g = _a(_f(_gray(image)) + np.float32(0.05))
    ratio = _a(g / _a(_blur(g, sigma)))
    return _a(1.0 + (np.clip(ratio, 0.3, 1.6) - 1.0) * faces * np.float32(gain))


def domes(labels_img: U8, radius: float) -> F32:
    """0..1 height rising like a cushion inside each flat-colour region of ``labels_img`` (``radius`` px)."""
    grad = cv2.morphologyEx(labels_img, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    g = grad if grad.ndim == 2 else cv2.cvtColor(grad, cv2.COLOR_RGB2GRAY)
    inside = np.asarray(g == 0, dtype=np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    t = np.minimum(dist / np.float32(max(1.0, radius)), 1.0)
    return _a(np.sqrt(1.0 - (1.0 - t) ** 2))


def height_field(
    image: U8,
    *,
    flat: U8 | None = None,
    base: float = 1.0,
    dome: float = 0.0,
    dome_radius: float = 8.0,
    detail: float = 0.3,
    smooth: float = 6.0,
    faces: F32 | None = None,
    soften: float = 1.0,
) -> F32:
    """Height (about 0..1) of ``image`` seen as a relief: large forms from smoothed luminance (``base``),
    cushions inside the regions of ``flat`` (``dome``), fine luminance detail (``detail``). Faces keep their
    detail and lose the domes (a face carved as one smooth form with its features)."""
    g = _f(_gray(image))
    smoothed = _a(_blur(g, smooth))
    fine = _a(_blur(g, 0.8))
    height = _a(smoothed * np.float32(base) + (fine - smoothed) * np.float32(detail))
    if flat is not None and dome > 0:
        d = domes(flat, dome_radius)
        if faces is not None and faces.any():
            d = _a(d * (1.0 - faces) + faces * 0.7)
        height = _a(height + _a(_blur(d, soften)) * np.float32(dome))
    if faces is not None and faces.any():
        height = _a(height + faces * (fine - smoothed) * np.float32(0.6))
    return height


@dataclass(frozen=True)
class Normals:
    nx: F32
    ny: F32
    nz: F32


def normals(height: F32, depth: float) -> Normals:
    """Unit normals of ``height`` scaled by ``depth`` (pixels of rise per unit of height), y down."""
    gx = _a(cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3, scale=depth / 8.0))
    gy = _a(cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3, scale=depth / 8.0))
    inv = _a(1.0 / np.sqrt(gx * gx + gy * gy + 1.0))
    return Normals(_a(-gx * inv), _a(-gy * inv), inv)


def _direction(azimuth: float, elevation: float) -> tuple[float, float, float]:
    az, el = np.deg2rad(azimuth), np.deg2rad(elevation)
    return float(np.cos(el) * np.cos(az)), float(-np.cos(el) * np.sin(az)), float(np.sin(el))


def diffuse(n: Normals, *, azimuth: float = 135.0, elevation: float = 45.0, wrap: float = 0.0) -> F32:
    """Lambert (``wrap`` > 0: wrapped, light reaches past the terminator like in skin or jade), 1 on a flat."""
    lx, ly, lz = _direction(azimuth, elevation)
    d = _a(n.nx * np.float32(lx) + n.ny * np.float32(ly) + n.nz * np.float32(lz))
    if wrap > 0:
        d = _a((d + np.float32(wrap)) / np.float32(1.0 + wrap))
        flat = (lz + wrap) / (1.0 + wrap)
    else:
        flat = lz
    return _a(np.maximum(d, 0.0) / np.float32(flat))


def specular(n: Normals, *, power: float, azimuth: float = 135.0, elevation: float = 45.0) -> F32:
    """Blinn-Phong highlight 0..1, viewer straight above."""
    lx, ly, lz = _direction(azimuth, elevation)
    hx, hy, hz = lx, ly, lz + 1.0
    norm = float(np.sqrt(hx * hx + hy * hy + hz * hz))
    ndoth = _a(n.nx * np.float32(hx / norm) + n.ny * np.float32(hy / norm) + n.nz * np.float32(hz / norm))
    return _a(np.power(np.maximum(ndoth, 0.0), np.float32(power)))


def rim(n: Normals, power: float = 2.0) -> F32:
    """Fresnel-like rim 0..1: grazing normals (steep slopes) light up."""
    return _a(np.power(np.clip(1.0 - n.nz, 0.0, 1.0), np.float32(power)))


def occlusion(height: F32, sigma: float, gain: float) -> F32:
    """Cheap ambient occlusion 0..1 (1 = open): creases lower than their surroundings darken."""
    hollow = _a(_blur(height, sigma)) - height
    return _clip(1.0 - np.maximum(hollow, 0.0) * np.float32(gain))


def cast_shadow(height: F32, *, shift: float, sigma: float, gain: float, azimuth: float = 125.0) -> F32:
    """Soft shadow 0..1 (1 = lit) that raised parts throw on what lies lower beside them, away from a light
    at ``azimuth`` degrees: the height moved ``shift`` pixels away from the light, where it stands above
    the height there, blurred by ``sigma``."""
    az = np.deg2rad(azimuth)
    dx, dy = -float(np.cos(az)) * shift, float(np.sin(az)) * shift  # y down: away from the light
    m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
    moved = cv2.warpAffine(height, m, (height.shape[1], height.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    above = np.maximum(_a(moved) - height, np.float32(0.0))
    return _clip(1.0 - _a(_blur(above, sigma)) * np.float32(gain))


def matcap(n: Normals, stops: list[tuple[float, float]]) -> F32:
    """A studio environment read by the normal: a soft window reflection above-left, dark floor below."""
    # reflection vector of a viewer straight above: r = 2 nz n - (0, 0, 1); use its x and y
    rx = _a(2.0 * n.nz * n.nx)
    ry = _a(2.0 * n.nz * n.ny)
    t = _a(0.5 - 0.35 * ry - 0.15 * rx)
    xs, ys = zip(*stops, strict=True)
    lut = np.interp(np.linspace(0.0, 1.0, 256), xs, ys).astype(np.float32)
    idx = np.clip(t * 255.0, 0, 255).astype(np.uint8)
    return _a(cv2.LUT(idx, lut))
