"""PIL ⇄ ndarray conversions, mode normalisation and resizing."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from restyle.imaging.arrays import U8

RGB_WHITE = (255, 255, 255)


def from_pil(im: Image.Image) -> np.ndarray:
    """Any PIL mode → RGB uint8 H×W×3 (alpha composited on white, 16-bit scaled, CMYK converted)."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.clip(np.asarray(im).astype(np.int64), 0, None)
        hi = int(arr.max()) if arr.size else 0
        if mode != "I" or 255 < hi <= 65535:
            arr8 = (np.minimum(arr, 65535) >> 8).astype(np.uint8)  # 16-bit grey (PNG/TIFF)
        elif hi <= 255:
            arr8 = arr.astype(np.uint8)  # 32-bit integer storage of 8-bit values
        else:
            arr8 = (arr * 255 // hi).astype(np.uint8)  # wider than 16 bits: stretch to the maximum
        return np.ascontiguousarray(np.repeat(arr8[:, :, None], 3, axis=2))
    if mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        peak = float(arr.max()) if arr.size else 1.0
        scale = 255.0 if peak <= 1.0 else 1.0
        arr8 = np.clip(arr * scale, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(arr8[:, :, None], 3, axis=2))
    if mode in ("P", "L", "RGB") and "transparency" in im.info:  # PNG tRNS: one colour is transparent
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*RGB_WHITE, 255))
        background.alpha_composite(rgba)
        im = background
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


def from_pil_rgba(im: Image.Image) -> np.ndarray:
    """Any PIL mode → RGBA uint8 H×W×4, keeping transparency (opaque modes get alpha 255).

    For logos only: the rest of restyle works on RGB (``from_pil``)."""
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode in ("P", "L", "RGB") and "transparency" in im.info
    )
    if not has_alpha:
        rgb = from_pil(im)
        alpha = np.full((*rgb.shape[:2], 1), 255, np.uint8)
        return np.ascontiguousarray(np.concatenate([rgb, alpha], axis=2))
    if im.mode in ("RGBa", "La"):  # premultiplied storage: convert un-premultiplies
        im = im.convert("RGBA")
    return np.ascontiguousarray(np.asarray(im.convert("RGBA"), dtype=np.uint8))


def to_pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(ensure_rgb(image), mode="RGB")


def ensure_rgb(image: np.ndarray) -> np.ndarray:
    """Validate / coerce an array to the canonical RGB uint8 H×W×3 form."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        msg = f"expected an H×W×3 image, got shape {arr.shape}"
        raise ValueError(msg)
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    return np.ascontiguousarray(arr)


def to_gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def fit(image: U8, side: int) -> U8:
    """Downscale (area filter) so the long side is at most ``side``; never upscales."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize with INTER_AREA when shrinking, Lanczos when growing."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    interp = cv2.INTER_AREA if width * height < w * h else cv2.INTER_LANCZOS4
    return np.ascontiguousarray(cv2.resize(image, (width, height), interpolation=interp))
