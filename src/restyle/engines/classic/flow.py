"""Local orientation of an image: the smoothed structure tensor and the edge tangent flow it gives.

Kyprianidis, Kang and Döllner (2009) compute the edge tangent flow (Kang et al. 2007) from the smoothed
structure tensor, which is cheaper than the iterative ETF filter and as coherent. Shared by the flow-based
line drawing (cartoon, anime, sketch) and the anisotropic Kuwahara / oriented strokes (painting).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from restyle.engines.classic.base import F32
from restyle.engines.classic.toolkit import _a, _blur


@dataclass(frozen=True)
class Flow:
    """Per-pixel orientation: unit tangent (along edges), unit gradient direction, anisotropy 0..1."""

    tx: F32
    ty: F32
    anisotropy: F32
    #: largest eigenvalue (squared gradient strength, smoothed)
    strength: F32

    @property
    def gx(self) -> F32:
        """x of the unit gradient direction (across edges)."""
        return _a(-self.ty)

    @property
    def gy(self) -> F32:
        return self.tx

    def angle(self) -> F32:
        """Tangent angle in radians, image coordinates (y down)."""
        return _a(np.arctan2(self.ty, self.tx))


def structure_flow(gray: F32, sigma: float, *, pre: float = 1.0) -> Flow:
    """Edge tangent flow of a 0..1 grey image: structure tensor of Sobel gradients smoothed by ``sigma``."""
    g = _a(_blur(gray, pre)) if pre > 0 else gray
    dx = _a(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3, scale=0.125))
    dy = _a(cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3, scale=0.125))
    e = _a(_blur(dx * dx, sigma))
    f = _a(_blur(dx * dy, sigma))
    g2 = _a(_blur(dy * dy, sigma))
    root = np.sqrt((e - g2) ** 2 + 4.0 * f * f)
    lam1 = (e + g2 + root) * np.float32(0.5)
    lam2 = (e + g2 - root) * np.float32(0.5)
    # eigenvector of the smaller eigenvalue = tangent (along the edge)
    tx = _a(lam1 - e)
    ty = _a(-f)
    flat = (tx * tx + ty * ty) < 1e-12
    tx = np.where(flat, np.float32(0.0), tx)
    ty = np.where(flat, np.float32(1.0), ty)
    norm = np.sqrt(tx * tx + ty * ty) + np.float32(1e-12)
    anisotropy = np.where(lam1 + lam2 > 1e-9, (lam1 - lam2) / (lam1 + lam2 + 1e-12), 0.0)
    return Flow(
        tx=_a(tx / norm), ty=_a(ty / norm), anisotropy=_a(np.clip(anisotropy, 0.0, 1.0)), strength=_a(lam1)
    )


def along(image: F32, flow: Flow, *, length: float, steps: int = 4) -> F32:
    """Line-integral smoothing of ``image`` along the tangent field (``steps`` samples each way, ``length``
    pixels in all), following the flow as it bends (second-order steps through ``cv2.remap``)."""
    h, w = image.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    step = np.float32(length / (2 * max(1, steps)))
    total = image.astype(np.float32, copy=True)
    weight = 1.0
    for sign in (1.0, -1.0):
        px, py = xs.copy(), ys.copy()
        vx, vy = flow.tx * np.float32(sign), flow.ty * np.float32(sign)
        for i in range(1, steps + 1):
            px = px + vx * step
            py = py + vy * step
            sample = cv2.remap(image, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            k = float(np.exp(-0.5 * (i / (0.5 * steps + 1e-6)) ** 2))
            total += _a(sample) * np.float32(k)
            weight += k
            # follow the field where we are, keeping the direction consistent with the previous step
            nx = cv2.remap(flow.tx, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            ny = cv2.remap(flow.ty, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            flip = np.where(nx * vx + ny * vy < 0, np.float32(-1.0), np.float32(1.0))
            vx, vy = _a(nx * flip), _a(ny * flip)
    return _a(total / np.float32(weight))


def along_straight(image: F32, flow: Flow, *, length: float, steps: int = 3) -> F32:
    """Cheaper ``along``: Gaussian-weighted samples on the straight tangent line through each pixel
    (``steps`` each way over ``length`` pixels in all); one ``cv2.remap`` per sample, none to follow the
    field, so it suits short lengths, where the flow barely bends."""
    h, w = image.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    step = np.float32(length / (2 * max(1, steps)))
    total = image.astype(np.float32, copy=True)
    weight = 1.0
    for i in range(1, steps + 1):
        k = float(np.exp(-0.5 * (i / (0.5 * steps + 1e-6)) ** 2))
        dx, dy = flow.tx * (step * i), flow.ty * (step * i)
        for sign in (1.0, -1.0):
            px = _a(xs + dx) if sign > 0 else _a(xs - dx)
            py = _a(ys + dy) if sign > 0 else _a(ys - dy)
            total += _a(
                cv2.remap(image, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            ) * np.float32(k)
            weight += k
    return _a(total / np.float32(weight))
