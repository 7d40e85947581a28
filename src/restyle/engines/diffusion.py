"""The ``diffusion`` engine: diffusers image-to-image from a local checkpoint folder (torch, lazily).

* The checkpoint is a folder written by ``save_pretrained`` (``model_index.json`` + components), named in
  configuration (``diffusion_checkpoint``); it is loaded with ``local_files_only=True`` and
  ``HF_HUB_OFFLINE=1``, so nothing is ever fetched from a hub. ``AutoPipelineForImage2Image`` picks the
  pipeline class from the folder (Stable Diffusion 1.x/2.x, SDXL, ... img2img).
* Prompt: the style's ``template`` with ``{prompt}`` replaced by the caller's Prompt; NegativePrompt is
  joined with the style's ``negative``.
* Strength is the denoising strength. diffusers runs ``int(steps * strength)`` of ``steps`` steps, so few-step
  settings with a low strength would run none: the engine raises steps to at least ``ceil(1 / strength)``
  and logs the steps actually run (``effective_steps``).
* Seed: a CPU ``torch.Generator`` seeded with the job's seed, so a seed gives the same image on any device.
* Device: CUDA (float16) when torch sees a GPU and ``diffusion_device`` allows it, else CPU (float32).
* The picture is painted at most ``max_side`` pixels large (params, default 768) in multiples of 8 and
  resized back. One job runs the pipeline at a time per process (diffusers schedulers keep state).

Needs ``pip install 'restyle[diffusion]'`` (torch, diffusers, transformers, accelerate).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from restyle.engines import BaseEngine, StyleRequest
from restyle.styles import Style

if TYPE_CHECKING:
    from restyle.config import Settings

log = logging.getLogger("restyle.engines.diffusion")

EXTRA = "pip install 'restyle[diffusion]'"
REQUIRED = ("torch", "diffusers", "transformers", "accelerate")
DEFAULT_MAX_SIDE = 768
DEFAULT_GUIDANCE = 7.5


def missing_packages() -> list[str]:
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


def effective_steps(steps: int, strength: float) -> tuple[int, int]:
    """(steps to ask diffusers for, denoising steps it will run) so at least one step runs.

    diffusers' img2img runs ``min(int(steps * strength), steps)`` steps; ``steps`` is raised to
    ``ceil(1 / strength)`` when that would be zero.
    """
    steps = max(1, int(steps))
    steps = max(steps, math.ceil(1.0 / strength))
    while int(steps * strength) < 1:  # float rounding, e.g. 0.29 * 4 = 1.16 is fine, 0.3333 * 3 is not
        steps += 1
    return steps, min(int(steps * strength), steps)


def render_prompt(template: str, prompt: str) -> str:
    """The style's template with the caller's prompt; separators left dangling by an empty prompt go."""
    text = (template or "{prompt}").replace("{prompt}", prompt.strip())
    return ", ".join(part.strip() for part in text.split(",") if part.strip())


def _working_size(h: int, w: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(h, w))
    return max(8, round(h * scale / 8) * 8), max(8, round(w * scale / 8) * 8)


@dataclass
class Loaded:
    pipeline: Any
    device: str
    lock: threading.Lock


class Engine(BaseEngine):
    """Paints with a diffusers img2img pipeline; one pipeline per checkpoint folder, loaded on first use."""

    name = "diffusion"
    uses_gpu = True

    def __init__(self, *, checkpoint: Path | None = None, steps: int = 20, device: str = "auto") -> None:
        self.checkpoint = checkpoint
        self.steps = steps
        self.device = device
        self._lock = threading.Lock()
        self._loaded: dict[Path, Loaded] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Engine:
        return cls(
            checkpoint=settings.diffusion_checkpoint,
            steps=settings.diffusion_steps,
            device=settings.diffusion_device,
        )

    # -- doctor / startup --------------------------------------------------------------------------

    def available(self) -> tuple[bool, str]:
        missing = missing_packages()
        if missing:
            return False, f"{', '.join(missing)} not installed ({EXTRA})"
        if self.checkpoint is None:
            return False, "no diffusion_checkpoint configured (a local diffusers img2img folder)"
        if not (self.checkpoint / "model_index.json").is_file():
            return False, f"{self.checkpoint} has no model_index.json (not a diffusers checkpoint folder)"
        return True, f"checkpoint {self.checkpoint}, device {self.resolve_device()}"

    def resolve_device(self) -> str:
        import torch

        if self.device == "cuda" and not torch.cuda.is_available():
            msg = "diffusion_device = cuda, but torch sees no CUDA device"
            raise RuntimeError(msg)
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def check_style(self, style: Style) -> None:
        """Fail at startup, naming the style, when it cannot be painted here."""
        missing = missing_packages()
        if missing:
            msg = f"style {style.id} uses engine diffusion, which needs {', '.join(missing)}: {EXTRA}"
            raise RuntimeError(msg)
        folder = self._checkpoint(style)
        if not (folder / "model_index.json").is_file():
            msg = f"style {style.id}: diffusion checkpoint {folder} has no model_index.json"
            raise ValueError(msg)
        if "{prompt}" not in (style.template or "{prompt}"):
            log.warning(
                "style %s: template %r has no {prompt}; the caller's Prompt is unused",
                style.id,
                style.template,
            )

    # -- stylise -----------------------------------------------------------------------------------

    def stylize(self, image: np.ndarray, request: StyleRequest) -> np.ndarray:
        import torch
        from PIL import Image

        style = request.style
        p = style.params
        loaded = self._pipeline(self._checkpoint(style))
        steps, run_steps = effective_steps(int(p.get("steps", self.steps)), request.strength)
        prompt = render_prompt(style.template, request.prompt)
        negative = ", ".join(x for x in (request.negative_prompt.strip(), str(p.get("negative", ""))) if x)
        h, w = image.shape[:2]
        wh, ww = _working_size(h, w, int(p.get("max_side", DEFAULT_MAX_SIDE)))
        work = image if (wh, ww) == (h, w) else cv2.resize(image, (ww, wh), interpolation=cv2.INTER_AREA)
        generator = torch.Generator(device="cpu").manual_seed(int(request.seed))

        def on_step(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            request.checkpoint()  # the job's time budget: stop between steps
            return kwargs

        while not loaded.lock.acquire(timeout=0.05):  # one job in the pipeline at a time
            request.checkpoint()
        try:
            result = loaded.pipeline(
                prompt=prompt,
                negative_prompt=negative or None,
                image=Image.fromarray(work),
                strength=float(request.strength),
                num_inference_steps=steps,
                guidance_scale=float(p.get("guidance", DEFAULT_GUIDANCE)),
                generator=generator,
                output_type="np",
                callback_on_step_end=on_step,
            )
        finally:
            loaded.lock.release()
        log.info(
            "diffusion style %s: effective_steps=%d (asked %d, strength %.3f), seed %d, %dx%d on %s",
            style.id,
            run_steps,
            steps,
            request.strength,
            request.seed,
            ww,
            wh,
            loaded.device,
        )
        out = np.clip(np.asarray(result.images[0]) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        if out.shape[:2] != (h, w):
            out = np.asarray(cv2.resize(out, (w, h), interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
        return np.ascontiguousarray(out[:, :, :3])

    # -- pipelines ---------------------------------------------------------------------------------

    def _checkpoint(self, style: Style) -> Path:
        folder = style.params.get("checkpoint") or self.checkpoint
        if not folder:
            msg = f"style {style.id}: no diffusion checkpoint (set diffusion_checkpoint)"
            raise ValueError(msg)
        return Path(str(folder)).expanduser()

    def _pipeline(self, folder: Path) -> Loaded:
        with self._lock:
            loaded = self._loaded.get(folder)
            if loaded is None:
                loaded = self._load(folder)
                self._loaded[folder] = loaded
        return loaded

    def _load(self, folder: Path) -> Loaded:
        os.environ["HF_HUB_OFFLINE"] = "1"  # belt and braces: local_files_only below already says so
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        missing = missing_packages()
        if missing:
            msg = f"engine diffusion needs {', '.join(missing)}: {EXTRA}"
            raise RuntimeError(msg)
        import torch
        from diffusers import AutoPipelineForImage2Image
        from diffusers.utils import logging as diffusers_logging

        diffusers_logging.disable_progress_bar()
        device = self.resolve_device()
        dtype = torch.float16 if device == "cuda" else torch.float32
        pipe = AutoPipelineForImage2Image.from_pretrained(  # type: ignore[no-untyped-call]
            str(folder), local_files_only=True, dtype=dtype
        )
        pipe = pipe.to(device)
        pipe.set_progress_bar_config(disable=True)
        log.info("diffusion checkpoint %s loaded (%s) on %s", folder, type(pipe).__name__, device)
        return Loaded(pipe, device, threading.Lock())


# --- catalogue wiring (configuration -> styles) -----------------------------------------------------


def configure_catalogue(catalogue: Mapping[str, Style], settings: Settings) -> dict[str, Style]:
    """The catalogue after ``[diffusion_styles.<id>]`` are applied: existing ids switched, new ids added."""
    out = dict(catalogue)
    if settings.diffusion_styles and settings.diffusion_checkpoint is None:
        msg = "diffusion_styles are configured, but diffusion_checkpoint (a local checkpoint folder) is not"
        raise ValueError(msg)
    for sid, cfg in settings.diffusion_styles.items():
        base = out.get(sid)
        params: dict[str, Any] = {"checkpoint": str(settings.diffusion_checkpoint), "negative": cfg.negative}
        out[sid] = Style(
            id=sid,
            zh=cfg.zh or (base.zh if base else sid),
            en=cfg.en or (base.en if base else sid),
            engine="diffusion",
            recipe="img2img",
            strength=cfg.strength if cfg.strength is not None else (base.strength if base else 0.6),
            prompt=True,
            latency="slow",
            params=params,
            template=cfg.template,
        )
    return out
