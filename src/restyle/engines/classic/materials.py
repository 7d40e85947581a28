"""Material recipes: 120 wood carving, 121 clay, 128/135 felt, 126 jade, 127 porcelain."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines import StyleRequest
from restyle.engines.classic.base import F32, U8, Colour, level, param, recipe
from restyle.engines.classic.relief import diffuse, face_mask, height_field, normals, occlusion, specular
from restyle.engines.classic.textures import (
    _fractal,
    _normal,
    _streaks,
    _texture,
    _vignette,
    _warp,
    _warp_maps,
)
from restyle.engines.classic.toolkit import (
    _a,
    _bilateral,
    _blur,
    _clip,
    _curve,
    _dog_lines,
    _domes,
    _edge_preserving,
    _f,
    _fit,
    _gradient_map,
    _gray,
    _hsv,
    _mix,
    _palette,
    _plus,
    _quantize,
    _relief,
    _screen,
    _specular,
    _times,
    _tint,
    _to,
    _u8,
    _unit,
)


@recipe("woodcarving")
def woodcarving(image: U8, req: StyleRequest) -> U8:
    """Relief carved in wood: terraced depth from tone, lit chisel edges, pine-to-walnut grain. Params: levels."""
    u = _unit(image)
    h, w = image.shape[:2]
    g = _f(_gray(np.asarray(_to(_bilateral(_fit(image, 320), 3, 9, 50.0, 7.0), image.shape), np.uint8)))
    levels = param(req, "levels", 5)
    height = _a(_blur(_a(np.floor(g * levels) / levels), 1.2 * u))
    req.checkpoint()

    def make(rng: np.random.Generator) -> list[F32]:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        warp = _fractal(rng, h, w, 60 * u, 3) * np.float32(18 * u)
        rings = np.sin((y * 0.9 + 0.15 * x + warp) * np.float32(2 * np.pi / (9 * u)))
        return [_a(0.5 + 0.3 * rings + 0.25 * _streaks(rng, h, w, cell=1.0, length=31 * u, angle=8.0))]

    (grain,) = _texture(f"wood{u:.2f}", h, w, req.seed, make)
    shade = _relief(height, depth=200 * u, azimuth=120.0, elevation=40.0)
    tone = _u8(_clip(0.25 + 0.55 * height + 0.25 * grain))
    stops = [(0.0, (58, 30, 14)), (0.45, (128, 78, 40)), (0.8, (196, 142, 86)), (1.0, (228, 186, 130))]
    return _u8(_times(_f(_gradient_map(tone, stops)), _clip(0.35 + 0.65 * shade, 0.0, 1.4)))


@recipe("clay", native_strength=True)
def clay(image: U8, req: StyleRequest) -> U8:
    """Claymation: the subject modelled in plasticine. Flat saturated clay colours (k-means), each region a
    rounded lump (domes over a smoothed-luminance relief), lit by a soft key light with a waxy sheen and
    dark creases between lumps; fine thumbprints and tool dents in the surface. Faces keep their features.
    Strength: clay coverage (photo colours -> plasticine palette), lump depth, smoothing. Params: colors."""
    h, w = image.shape[:2]
    work = _fit(image, 400)
    wu = _unit(work)
    faces = face_mask(work)
    smooth = _edge_preserving(work, 40.0, 0.45)
    req.checkpoint()
    flat = _quantize(smooth, _palette(smooth, int(param(req, "colors", 12)), req.seed))
    flat = np.asarray(cv2.medianBlur(cv2.medianBlur(flat, 7), 7), dtype=np.uint8)
    vivid = _hsv(flat, sat=1.45, value=_curve([(0, 0.14), (0.5, 0.6), (1, 0.96)]))
    cover = _a(np.float32(level(req, 0.3, 0.95)) * (1.0 - 0.55 * faces))
    albedo = _a(_blur(_mix(_f(smooth), _f(vivid), cover), 0.7 * wu))
    height = height_field(
        work, flat=flat, base=0.8, dome=level(req, 0.2, 0.6), dome_radius=18.0 * wu, detail=0.1,
        smooth=3.0 * wu, faces=faces, soften=2.5 * wu,
    )
    req.checkpoint()
    n = normals(height, level(req, 6.0, 16.0) * wu)
    light = _a(0.4 + 0.6 * diffuse(n, azimuth=125.0, elevation=50.0, wrap=0.3))
    light = _a(light * occlusion(height, 6.0 * wu, level(req, 0.5, 1.6)))
    sheen = _a(specular(n, power=14.0, azimuth=125.0, elevation=50.0) * np.float32(level(req, 0.06, 0.16)))
    small = _plus(_times(albedo, light), sheen)
    out = _a(_to(small, image.shape, cv2.INTER_CUBIC))
    req.checkpoint()
    u = _unit(image)

    def make(rng: np.random.Generator) -> list[F32]:
        swirl = _fractal(rng, h, w, 22 * u, 2)
        ridges = np.sin(swirl * np.float32(9.0))  # contour lines of smooth noise: whorls like fingerprints
        where = np.clip(_fractal(rng, h, w, 70 * u, 2) - 0.6, 0.0, 1.0)
        prints = _a(_blur(_a(ridges * where), 0.6 * u))
        dents = _fractal(rng, h, w, 5 * u, 2)
        surface = _a(prints * np.float32(0.8) + dents * np.float32(0.25))
        slope_x = cv2.Sobel(surface, cv2.CV_32F, 1, 0, ksize=3)
        slope_y = cv2.Sobel(surface, cv2.CV_32F, 0, 1, ksize=3)
        return [_a((0.57 * slope_x + 0.82 * slope_y) * np.float32(0.25))]  # lit from the key light

    (prints,) = _texture(f"clayprints{u:.2f}", h, w, req.seed, make)
    out = _times(out, _a(1.0 + prints * np.float32(level(req, 0.03, 0.09))))
    return _u8(_tint(out, (1.03, 1.0, 0.95)))


def _felt(image: U8, req: StyleRequest, *, sat: float, value: U8, tint: Colour, fibre: float) -> U8:
    """Needle felt: flat wool regions that puff up like pillows, fuzzy borders and fibre texture."""
    u = _unit(image)
    h, w = image.shape[:2]
    small = _edge_preserving(_fit(image, 224), 40.0, 0.5)
    small = _hsv(small, sat=sat, value=value)
    req.checkpoint()
    flat = _quantize(small, _palette(small, int(param(req, "colors", 9)), req.seed))
    flat = np.asarray(cv2.medianBlur(flat, 7), dtype=np.uint8)
    height = _a(_to(_domes(flat, 6.0), image.shape)) * np.float32(h / flat.shape[0])

    def make(rng: np.random.Generator) -> list[F32]:
        parts = [_streaks(rng, h, w, cell=1.0, length=7 * u, angle=a) for a in (15.0, 75.0, 135.0)]
        return [_normal(np.maximum(np.maximum(parts[0], parts[1]), parts[2]))]

    (fibres,) = _texture(f"felt{u:.2f}", h, w, req.seed, make)
    req.checkpoint()
    fuzzy = _warp(
        np.asarray(_to(flat, image.shape, cv2.INTER_CUBIC), np.uint8),
        _warp_maps("felt", h, w, req.seed, amplitude=2.0 * u, cell=2.5 * u),
    )
    height = _a(_blur(height, 3.0 * u)) + np.float32(0.6 * u) * fibres
    shade = _relief(height, depth=0.5)
    f = _times(_f(fuzzy), _clip(0.55 + 0.45 * shade, 0.0, 1.2) * (1.0 + fibre * fibres))
    return _u8(_tint(f, tint))


@recipe("felt")
def felt(image: U8, req: StyleRequest) -> U8:
    """Western needle felt: bold saturated wool blobs, fuzzy borders, visible fibres. Params: colors."""
    return _felt(
        image,
        req,
        sat=1.5,
        value=_curve([(0, 0.08), (0.5, 0.55), (1, 0.95)]),
        tint=(1.0, 1.0, 1.0),
        fibre=0.1,
    )


@recipe("felt_asian")
def felt_asian(image: U8, req: StyleRequest) -> U8:
    """Asian felt: the same wool in soft pastel, creamy-pink tones with finer fibre contrast. Params: colors."""
    return _felt(
        image,
        req,
        sat=0.65,
        value=_curve([(0, 0.4), (0.5, 0.8), (1, 1.0)]),
        tint=(1.04, 0.97, 0.94),
        fibre=0.06,
    )


@recipe("jade")
def jade(image: U8, req: StyleRequest) -> U8:
    """Carved jade: translucent greens from tone, cloudy veins, inner glow and a polished sheen."""
    u = _unit(image)
    h, w = image.shape[:2]
    gf = _f(_gray(np.asarray(_to(_bilateral(_fit(image, 320), 3, 9, 40.0, 6.0), image.shape), np.uint8)))
    req.checkpoint()

    def make(rng: np.random.Generator) -> list[F32]:
        ridge = np.clip(1.0 - np.abs(_fractal(rng, h, w, 50 * u, 4)), 0.0, 1.0) ** 6
        return [_fractal(rng, h, w, 80 * u, 4), _a(ridge)]

    cloud, veins = _texture(f"jade{u:.2f}", h, w, req.seed, make)
    tone = _clip(gf * 0.9 + 0.05 + 0.07 * cloud)
    stops = [(0.0, (10, 52, 32)), (0.35, (44, 122, 78)), (0.7, (128, 196, 146)), (1.0, (214, 240, 212))]
    f = _f(_gradient_map(_u8(tone), stops))
    glow = _a(_blur(gf, 16 * u))
    f = _screen(f, _tint(_a(cv2.merge([glow, glow, glow])), (0.2, 0.45, 0.28)))
    f = _mix(f, (0.86, 0.97, 0.86), veins * np.float32(0.3))
    height = _a(_blur(gf, 4 * u))
    shade = _relief(height, depth=25 * u)
    spec = _specular(height, depth=25 * u, power=60.0)
    return _u8(_plus(_times(f, _clip(0.7 + 0.3 * shade, 0.0, 1.3)), 0.35 * spec))


@recipe("porcelain")
def porcelain(image: U8, req: StyleRequest) -> U8:
    """Blue-and-white porcelain: cobalt outlines and layered washes on glossy white glaze, fine crackle."""
    u = _unit(image)
    h, w = image.shape[:2]
    g = _f(_gray(np.asarray(_to(_bilateral(_fit(image, 384), 3, 9, 45.0, 6.0), image.shape), np.uint8)))
    req.checkpoint()
    density = np.clip((0.78 - g) / 0.6, 0.0, 0.999)
    washes = _a(_blur(_a(np.floor(density * 3.0) / 3.0), 1.0 * u))
    lines = _dog_lines(g, 0.9 * u, threshold=0.006, gain=40.0)
    pigment = _clip(0.8 * washes + (1.0 - lines))

    def make(rng: np.random.Generator) -> list[F32]:
        return [_a(np.clip(1.0 - np.abs(_fractal(rng, h, w, 60 * u, 3)), 0.0, 1.0) ** 24)]

    (crackle,) = _texture(f"crackle{u:.2f}", h, w, req.seed, make)
    height = _a(_blur(g, 20 * u))
    gloss = _specular(height, depth=60 * u, power=40.0)
    f = _mix((0.95, 0.965, 0.985), (0.07, 0.16, 0.5), pigment)
    f = _times(f, (1.0 - 0.15 * crackle) * (0.88 + 0.12 * _vignette(h, w, 0.5)))
    return _u8(_plus(f, 0.6 * gloss))
