"""ControlNet conditioning images made from the input, with no detector weights: Canny edges, and a
flow-guided line drawing (edge tangent flow + difference of Gaussians along it, as in Kang et al.'s
coherent line drawing), white lines on black as line-art ControlNets expect."""

from __future__ import annotations

import cv2
import numpy as np


def canny(image: np.ndarray, low: int = 100, high: int = 200) -> np.ndarray:
    """Canny edges of an RGB uint8 image, as a 3-channel uint8 image (edges 255 on 0)."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(gray, low, high)
    return np.ascontiguousarray(np.repeat(edges[:, :, None], 3, axis=2))


def _tangent_flow(gray: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit edge-tangent vectors from the smoothed structure tensor (coherent along edges)."""
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    exx = cv2.GaussianBlur(gx * gx, (0, 0), sigma)
    eyy = cv2.GaussianBlur(gy * gy, (0, 0), sigma)
    exy = cv2.GaussianBlur(gx * gy, (0, 0), sigma)
    # the minor eigenvector of the tensor points along the edge
    lam = 0.5 * (exx + eyy - np.sqrt((exx - eyy) ** 2 + 4 * exy * exy))
    tx, ty = lam - eyy, exy
    norm = np.sqrt(tx * tx + ty * ty)
    flat = norm < 1e-6
    tx = np.where(flat, 1.0, tx / np.maximum(norm, 1e-6)).astype(np.float32)
    ty = np.where(flat, 0.0, ty / np.maximum(norm, 1e-6)).astype(np.float32)
    return tx, ty


def lines(image: np.ndarray, *, sigma: float = 1.0, tau: float = 0.98, steps: int = 4) -> np.ndarray:
    """Flow-based line drawing: DoG across the edge, smoothed along the edge tangent flow, thresholded.

    Returns a 3-channel uint8 image, lines 255 on 0."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    side = max(gray.shape)
    s = sigma * max(1.0, side / 640.0)
    dog = cv2.GaussianBlur(gray, (0, 0), s) - tau * cv2.GaussianBlur(gray, (0, 0), 1.6 * s)
    tx, ty = _tangent_flow(gray, 2.0 * s)
    h, w = gray.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    acc = dog.copy()
    weight = 1.0
    for direction in (1.0, -1.0):  # integrate the DoG along the flow, both ways
        px, py = xs.copy(), ys.copy()
        for i in range(1, steps + 1):
            fx = cv2.remap(tx, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            fy = cv2.remap(ty, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            px = px + direction * fx
            py = py + direction * fy
            g = float(np.exp(-(i * i) / (2.0 * (steps / 2.0) ** 2)))
            acc += g * cv2.remap(dog, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            weight += g
    acc /= weight
    ink = (acc < 0) & (1.0 + np.tanh(40.0 * acc) < 0.7)
    out = np.where(ink, 255, 0).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(out[:, :, None], 3, axis=2))


def conditioning(kind: str, image: np.ndarray) -> np.ndarray:
    if kind == "canny":
        return canny(image)
    if kind == "lines":
        return lines(image)
    msg = f"unknown control {kind!r} (canny or lines)"
    raise ValueError(msg)
