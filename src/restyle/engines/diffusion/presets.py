"""Per-style presets: which base model, LoRAs, ControlNet, and how to paint (steps, guidance, scheduler).

A preset lives in the style's ``params`` (written by :func:`configure_catalogue` from
``[diffusion_styles.<id>]``), so it travels with the style to a Ray replica unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from restyle.styles import Style, configured

if TYPE_CHECKING:
    from restyle.config import Settings

DEFAULT_MAX_SIDE = 768
DEFAULT_GUIDANCE = 7.5
SCHEDULERS = ("default", "ddim", "euler", "euler_a", "dpm++", "lcm", "pndm")
CONTROLS = ("canny", "lines")


@dataclass(frozen=True)
class Preset:
    base: str  # registry name, or "path:<folder>" for the legacy diffusion_checkpoint
    loras: tuple[tuple[str, float], ...] = ()
    steps: int = 20
    guidance: float = DEFAULT_GUIDANCE
    scheduler: str = "default"
    controlnet: str = ""
    control: str = "canny"
    control_scale: float = 1.0
    negative: str = ""
    max_side: int = DEFAULT_MAX_SIDE
    ip_adapter: str = ""  # registry name of an IP-Adapter: the look of ``reference`` is painted in
    reference: str = ""  # the operator's style reference image (absolute path)
    ip_scale: float = 0.6
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_style(cls, style: Style, *, default_steps: int, default_base: str = "") -> Preset:
        p = style.params
        base = str(p.get("base") or "")
        if not base:
            checkpoint = p.get("checkpoint") or default_base
            if not checkpoint:
                msg = f"style {style.id}: no diffusion base model (set base, or diffusion_checkpoint)"
                raise ValueError(msg)
            base = "path:" + str(checkpoint)
        scheduler = str(p.get("scheduler") or "default")
        if scheduler not in SCHEDULERS:
            msg = f"style {style.id}: scheduler {scheduler!r} is not one of {', '.join(SCHEDULERS)}"
            raise ValueError(msg)
        control = str(p.get("control") or "canny")
        if control not in CONTROLS:
            msg = f"style {style.id}: control {control!r} is not one of {', '.join(CONTROLS)}"
            raise ValueError(msg)
        loras: Mapping[str, Any] = p.get("loras") or {}
        ip_adapter, reference = str(p.get("ip_adapter") or ""), str(p.get("reference") or "")
        if bool(ip_adapter) != bool(reference):
            msg = f"style {style.id}: ip_adapter and reference (a style image) go together"
            raise ValueError(msg)
        return cls(
            base=base,
            loras=tuple(sorted((str(k), float(v)) for k, v in loras.items())),
            steps=int(p.get("steps") or default_steps),
            guidance=float(p["guidance"]) if p.get("guidance") is not None else DEFAULT_GUIDANCE,
            scheduler=scheduler,
            controlnet=str(p.get("controlnet") or ""),
            control=control,
            control_scale=float(p.get("control_scale", 1.0)),
            negative=str(p.get("negative", "")),
            max_side=int(p.get("max_side") or DEFAULT_MAX_SIDE),
            ip_adapter=ip_adapter,
            reference=reference,
            ip_scale=float(p.get("ip_scale", 0.6)),
        )

    def describe(self) -> str:
        parts = [f"base {self.base}"]
        if self.loras:
            parts.append("lora " + ", ".join(f"{n}×{w:g}" for n, w in self.loras))
        if self.controlnet:
            parts.append(f"controlnet {self.controlnet} ({self.control}, scale {self.control_scale:g})")
        if self.ip_adapter:
            parts.append(
                f"ip_adapter {self.ip_adapter} ({Path(self.reference).name}, scale {self.ip_scale:g})"
            )
        parts.append(f"{self.steps} steps, guidance {self.guidance:g}, scheduler {self.scheduler}")
        return "; ".join(parts)


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


def working_size(h: int, w: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(h, w))
    return max(8, round(h * scale / 8) * 8), max(8, round(w * scale / 8) * 8)


def configure_catalogue(catalogue: Mapping[str, Style], settings: Settings) -> dict[str, Style]:
    """The catalogue after ``[diffusion_styles.<id>]`` are applied: existing ids switched, new ids added."""
    out = dict(catalogue)
    for sid, cfg in settings.diffusion_styles.items():
        if not cfg.base and settings.diffusion_checkpoint is None:
            msg = (
                f"diffusion_styles.{sid} names no base model, and diffusion_checkpoint "
                "(a local checkpoint folder) is not set"
            )
            raise ValueError(msg)
        base = out.get(sid)
        params: dict[str, Any] = {"negative": cfg.negative}
        if cfg.base:
            params["base"] = cfg.base
        else:
            params["checkpoint"] = str(settings.diffusion_checkpoint)
        if cfg.loras:
            params["loras"] = dict(cfg.loras)
        if cfg.controlnet:
            params.update(controlnet=cfg.controlnet, control=cfg.control, control_scale=cfg.control_scale)
        for key in ("steps", "guidance", "max_side"):
            value = getattr(cfg, key)
            if value is not None:
                params[key] = value
        if cfg.scheduler:
            params["scheduler"] = cfg.scheduler
        if cfg.ip_adapter:
            if cfg.reference is None:
                msg = f"diffusion_styles.{sid}: ip_adapter needs reference (the style image)"
                raise ValueError(msg)
            params.update(
                ip_adapter=cfg.ip_adapter,
                reference=str(cfg.reference.expanduser().resolve()),
                ip_scale=cfg.ip_adapter_scale,
            )
        out[sid] = configured(
            sid,
            cfg,
            base,
            name=sid,
            strength=0.6,
            engine="diffusion",
            recipe="img2img",
            prompt=True,
            latency="slow",
            params=params,
            template=cfg.template,
        )
    return out
