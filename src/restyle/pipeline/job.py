"""Job (validated request, snake_case) and Result."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from restyle import errors


@dataclass(frozen=True)
class ImageRef:
    """An image given by URL or by base64 text; the URL wins when both are set (contract §10)."""

    url: str | None = None
    base64: str | None = None


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Logo:
    image: ImageRef
    rect: Rect | None


@dataclass
class Job:
    request_id: str
    source: ImageRef
    styles: list[str] = field(default_factory=list)
    strength: float | None = None  # None → the style's default
    prompt: str = ""
    negative_prompt: str = ""
    resolution: str = "origin"
    logo_add: int = 1  # 0 = no label; any other value = label (Tencent doc)
    logo: Logo | None = None
    rsp_img_type: str = "base64"
    enhance: int = 0
    restore_face: int = 0
    seed: int | None = None
    account_id: str = ""
    budget_s: float = 60.0
    started: float = field(default_factory=time.monotonic)
    cancelled: threading.Event = field(default_factory=threading.Event)

    @property
    def style_id(self) -> str:
        """The style used: the first id, ``201`` when none is given (contract §10)."""
        return self.styles[0] if self.styles else "201"

    def checkpoint(self) -> None:
        """Raise RequestTimeout when the job's budget is spent or the caller gave up."""
        if self.cancelled.is_set() or time.monotonic() - self.started > self.budget_s:
            self.cancelled.set()
            msg = f"The job exceeded its time budget of {self.budget_s:g} s."
            raise errors.RequestTimeout(msg)

    def enter_step(self, name: str) -> None:
        """Called as each pipeline step starts (async jobs report it as progress)."""
        self.checkpoint()

    def engine_checkpoint(self) -> None:
        """What the style engine calls between its stages (diffusion: every step); async jobs count
        these for their progress."""
        self.checkpoint()

    def engine_progress(self, done: int, total: int) -> None:
        """Engines that work in steps (diffusion) report ``done`` of ``total`` here; async jobs show it."""


@dataclass
class Result:
    result_image: str  # base64 text or URL, as the wire wants it
    data: bytes
    width: int
    height: int
    style_id: str
    engine: str
    strength: float
    seed: int
    timings_ms: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
