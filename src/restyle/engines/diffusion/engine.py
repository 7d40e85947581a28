"""The diffusion engine: presets → resident base pipelines (LRU) → micro-batched img2img calls."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from restyle import errors
from restyle.engines import BaseEngine, StyleRequest
from restyle.engines.diffusion import control, presets
from restyle.engines.diffusion import registry as reg
from restyle.engines.diffusion.adapters import Resident
from restyle.engines.diffusion.batcher import MicroBatcher
from restyle.engines.diffusion.env import quiet_numpy_copy_warning
from restyle.engines.diffusion.pipelines import GpuOptions, ModelCache
from restyle.engines.diffusion.presets import Preset, effective_steps, render_prompt, working_size
from restyle.styles import Style

if TYPE_CHECKING:
    from restyle.config import Settings

log = logging.getLogger("restyle.engines.diffusion")

EXTRA = "pip install 'restyle[diffusion]'"
REQUIRED = ("torch", "diffusers", "transformers", "accelerate", "peft", "safetensors")


def missing_packages() -> list[str]:
    import importlib.util

    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


@dataclass
class _Item:
    image: Any  # PIL image at the working size
    control: Any  # PIL conditioning image, or None
    prompt: str
    negative: str
    seed: int
    size: tuple[int, int]  # the caller's (h, w)
    checkpoint: Callable[[], None]
    progress: Callable[[int, int], None] | None
    style_id: str


@dataclass(frozen=True)
class _Job:
    """What one batch paints with."""

    resident: Resident
    cn: reg.Model | None
    preset: Preset
    strength: float
    steps: int
    run_steps: int


def _expired(item: _Item) -> bool:
    try:
        item.checkpoint()
    except errors.TencentError:
        return True
    return False


class Engine(BaseEngine):
    """Paints with diffusers img2img (optionally ControlNet) pipelines described by per-style presets."""

    name = "diffusion"
    uses_gpu = True

    @classmethod
    def configure_catalogue(cls, catalogue: Mapping[str, Style], settings: Settings) -> dict[str, Style]:
        """``[diffusion_styles.<id>]`` applied (see diffusion.presets)."""
        return presets.configure_catalogue(catalogue, settings)

    def __init__(
        self,
        *,
        checkpoint: Path | None = None,
        steps: int = 20,
        device: str = "auto",
        models: reg.Registry | None = None,
        options: GpuOptions | None = None,
        resident_models: int = 2,
        batch_size: int = 1,
        batch_wait_s: float = 0.01,
        warmup: bool = False,
    ) -> None:
        self.checkpoint = checkpoint
        self.steps = steps
        self.models = models or reg.Registry()
        self.options = options or GpuOptions(device=device)
        self.device = self.options.device
        self.cache = ModelCache(self.models, self.options, resident_models)
        self.batcher: MicroBatcher[_Item, np.ndarray] = MicroBatcher(batch_size, batch_wait_s)
        self.batch_size = max(1, batch_size)
        self.batch_wait_s = batch_wait_s
        #: sizes of the pipeline calls so far (tests, logs)
        self.batch_sizes: list[int] = []
        self.warmup = warmup
        self._warm: set[str] = set()
        self._warm_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Engine:
        return cls(
            checkpoint=settings.diffusion_checkpoint,
            steps=settings.diffusion_steps,
            models=reg.load(settings.diffusion_models),
            options=options_from_settings(settings),
            resident_models=settings.diffusion_resident_models,
            batch_size=settings.diffusion_batch_size,
            batch_wait_s=settings.diffusion_batch_wait_ms / 1000.0,
            warmup=settings.diffusion_warmup,
        )

    @staticmethod
    def batching(settings: Settings) -> tuple[int, float]:
        """(batch size, wait in s): on Ray Serve, the ``@serve.batch`` settings of this engine's replicas."""
        return settings.diffusion_batch_size, settings.diffusion_batch_wait_ms / 1000.0

    # -- doctor / startup --------------------------------------------------------------------------

    def available(self) -> tuple[bool, str]:
        missing = missing_packages()
        if missing:
            return False, f"{', '.join(missing)} not installed ({EXTRA})"
        bases = list(self.models.models["base"])
        if self.checkpoint is None and not bases:
            return False, "no diffusion_checkpoint and no base model in the registry (diffusion_models)"
        if self.checkpoint is not None and not (self.checkpoint / "model_index.json").is_file():
            return False, f"{self.checkpoint} has no model_index.json (not a diffusers checkpoint folder)"
        what = [f"checkpoint {self.checkpoint}"] if self.checkpoint else []
        what += [f"base {b}" for b in bases]
        return True, f"{', '.join(what)}; device {self.resolve_device()}"

    def resolve_device(self) -> str:
        return self.options.resolve_device()

    def preset(self, style: Style) -> Preset:
        default = str(self.checkpoint) if self.checkpoint else ""
        return Preset.from_style(style, default_steps=self.steps, default_base=default)

    def check_style(self, style: Style) -> None:
        """Fail at startup, naming the style, when it cannot be painted here; warm it up if asked."""
        missing = missing_packages()
        if missing:
            msg = f"style {style.id} uses engine diffusion, which needs {', '.join(missing)}: {EXTRA}"
            raise RuntimeError(msg)
        preset = self.preset(style)
        try:
            base = self.cache.model(preset.base)
            for name, _ in preset.loras:
                self.models.get("lora", name)
            if preset.controlnet:
                self.models.get("controlnet", preset.controlnet)
            if preset.ip_adapter:
                self.models.get("ip_adapter", preset.ip_adapter)
        except KeyError as exc:
            msg = f"style {style.id}: {exc.args[0]}"
            raise ValueError(msg) from None
        if preset.reference:
            check_reference(style.id, preset.reference)
        if base.path.is_dir() and not (base.path / "model_index.json").is_file():
            msg = f"style {style.id}: diffusion checkpoint {base.path} has no model_index.json"
            raise ValueError(msg)
        if not base.path.exists():
            msg = f"style {style.id}: diffusion base {base.path} does not exist"
            raise ValueError(msg)
        if "{prompt}" not in (style.template or "{prompt}"):
            log.warning(
                "style %s: template %r has no {prompt}; the caller's Prompt is unused",
                style.id,
                style.template,
            )
        if self.warmup:
            self.warm_up(style)

    def warm_up(self, style: Style) -> None:
        """Load the style's models and paint a small picture once (kernels, allocator, compile)."""
        with self._warm_lock:
            if style.id in self._warm:
                return
            self._warm.add(style.id)
        grey = np.full((64, 64, 3), 128, np.uint8)
        self.stylize(grey, StyleRequest(style=style, strength=style.strength, prompt="", seed=0))
        log.info("diffusion style %s warmed up (%s)", style.id, self.preset(style).describe())

    # -- stylise -----------------------------------------------------------------------------------

    def _prepare(self, image: np.ndarray, request: StyleRequest) -> tuple[Any, _Item, _Job]:
        """The batch key of a request, its item, and what its batch paints with."""
        from PIL import Image

        style = request.style
        preset = self.preset(style)
        resident = self.cache.base(preset.base)
        cn = self.models.get("controlnet", preset.controlnet) if preset.controlnet else None
        steps, run_steps = effective_steps(preset.steps, request.strength)
        h, w = image.shape[:2]
        wh, ww = working_size(h, w, preset.max_side)
        work = image if (wh, ww) == (h, w) else cv2.resize(image, (ww, wh), interpolation=cv2.INTER_AREA)
        cond = Image.fromarray(control.conditioning(preset.control, work)) if cn is not None else None
        negative = ", ".join(x for x in (request.negative_prompt.strip(), preset.negative) if x)
        item = _Item(
            image=Image.fromarray(work),
            control=cond,
            prompt=render_prompt(style.template, request.prompt),
            negative=negative,
            seed=int(request.seed),
            size=(h, w),
            checkpoint=request.checkpoint,
            progress=request.progress,
            style_id=style.id,
        )
        strength = round(float(request.strength), 6)
        key = (preset, strength, steps, wh, ww)
        return key, item, _Job(resident, cn, preset, float(request.strength), steps, run_steps)

    def stylize(self, image: np.ndarray, request: StyleRequest) -> np.ndarray:
        key, item, job = self._prepare(image, request)

        def run(items: list[_Item]) -> list[np.ndarray]:
            return self._paint(job, items)

        return self.batcher.submit(
            key, item, run, lambda members: self._hold(job.resident, members), request.checkpoint
        )

    def stylize_many(
        self, images: list[np.ndarray], requests: list[StyleRequest]
    ) -> list[np.ndarray | BaseException]:
        """Paint requests that arrived together (Ray Serve's ``@serve.batch``): those with the same batch key
        (preset, strength, steps, working size) in one pipeline call each; one result or error per request,
        in order. A request that is out of time before its batch runs gets its error and is not painted."""
        out: list[np.ndarray | BaseException | None] = [None] * len(requests)
        groups: dict[Any, tuple[_Job, list[int], list[_Item]]] = {}
        for i, (image, request) in enumerate(zip(images, requests, strict=True)):
            try:
                request.checkpoint()
                key, item, job = self._prepare(image, request)
            except Exception as exc:
                out[i] = exc
                continue
            group = groups.setdefault(key, (job, [], []))
            group[1].append(i)
            group[2].append(item)
        for job, indices, items in groups.values():
            try:
                with self._hold(job.resident, lambda items=items: items):  # type: ignore[misc]
                    results: list[Any] = self._paint(job, items)
            except Exception as exc:
                results = [exc] * len(items)
            for i, result in zip(indices, results, strict=True):
                out[i] = result
        return [r if r is not None else RuntimeError("not painted") for r in out]

    @contextlib.contextmanager
    def _hold(self, resident: Resident, members: Callable[[], list[_Item]]) -> Iterator[None]:
        """The base's pipeline lock; waiting stops only when every member of the batch is out of time."""
        while not resident.lock.acquire(timeout=0.05):
            items = members()
            if all(_expired(it) for it in items):
                items[0].checkpoint()
        try:
            yield
        finally:
            resident.lock.release()

    def _paint(self, job: _Job, items: list[_Item]) -> list[np.ndarray]:
        import torch

        self.batch_sizes.append(len(items))
        pipe, ip_embeds = self._pipeline(job, len(items))
        args = _call_args(job, items, ip_embeds)
        with torch.inference_mode(), quiet_numpy_copy_warning():
            result = pipe(**args)
        outs = []
        for it, img in zip(items, result.images, strict=True):
            log.info(
                "diffusion style %s: effective_steps=%d (asked %d, strength %.3f), seed %d, %dx%d on %s, "
                "batch %d, %s",
                it.style_id,
                job.run_steps,
                job.steps,
                job.strength,
                it.seed,
                it.image.width,
                it.image.height,
                job.resident.device,
                len(items),
                job.preset.describe(),
            )
            outs.append(_to_caller_size(img, it.size))
        return outs

    def _pipeline(self, job: _Job, batch: int) -> tuple[Any, Any]:
        """The base's pipeline with the preset's LoRAs, scheduler and IP-Adapter in place, and the
        IP-Adapter's image embeddings (None without one)."""
        resident, preset = job.resident, job.preset
        pipe = resident.pipeline(job.cn, self.cache)
        resident.use_loras(preset.loras, self.models, self.cache)
        resident.use_scheduler(pipe, preset.scheduler)
        ip = self.models.get("ip_adapter", preset.ip_adapter) if preset.ip_adapter else None
        cfg = preset.guidance > 1 and pipe.unet.config.get("time_cond_proj_dim") is None
        ip_embeds = resident.use_ip_adapter(ip, preset.reference, preset.ip_scale, batch, cfg, self.cache)
        return pipe, ip_embeds


def _call_args(job: _Job, items: list[_Item], ip_embeds: Any) -> dict[str, Any]:
    """The keyword arguments of one img2img (or ControlNet img2img) pipeline call for a batch."""
    import torch

    # one CPU generator per request: a seed gives the same image alone, in a batch, on any device
    generators = [torch.Generator(device="cpu").manual_seed(it.seed) for it in items]
    negatives = [it.negative for it in items]
    args: dict[str, Any] = {
        "prompt": [it.prompt for it in items],
        "negative_prompt": negatives if any(negatives) else None,
        "image": [it.image for it in items],
        "strength": job.strength,
        "num_inference_steps": job.steps,
        "guidance_scale": job.preset.guidance,
        "generator": generators,
        "output_type": "np",
        "callback_on_step_end": _on_step(items, job.run_steps),
    }
    if ip_embeds is not None:
        args["ip_adapter_image_embeds"] = ip_embeds
    if job.cn is not None:
        args["control_image"] = [it.control for it in items]
        args["controlnet_conditioning_scale"] = job.preset.control_scale
    return args


def _on_step(items: list[_Item], run_steps: int) -> Callable[[Any, int, Any, dict[str, Any]], dict[str, Any]]:
    """The pipeline's step-end callback: reports progress, and stops once every request is out of time."""

    def on_step(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        alive = [it for it in items if not _expired(it)]
        if not alive:  # everyone's budget is spent: stop between steps
            items[0].checkpoint()
        for it in alive:
            if it.progress is not None:
                it.progress(min(step + 1, run_steps), run_steps)
        return kwargs

    return on_step


def _to_caller_size(img: Any, size: tuple[int, int]) -> np.ndarray:
    """A pipeline output (float RGB(A) in 0..1) as RGB uint8 at the caller's (h, w)."""
    out = np.clip(np.asarray(img, dtype=np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    h, w = size
    if out.shape[:2] != (h, w):
        out = np.asarray(cv2.resize(out, (w, h), interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
    return np.ascontiguousarray(out[:, :, :3])


def check_reference(style_id: str, reference: str) -> None:
    """The style's reference image exists and decodes (an operator's file: fail at startup, not per call)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(reference) as im:
            im.verify()
    except (OSError, UnidentifiedImageError) as exc:
        msg = f"style {style_id}: reference image {reference} cannot be read ({exc})"
        raise ValueError(msg) from None


def options_from_settings(settings: Settings) -> GpuOptions:
    return GpuOptions(
        device=settings.diffusion_device,
        dtype=settings.diffusion_dtype,
        attention=settings.diffusion_attention,
        channels_last=settings.diffusion_channels_last,
        compile=settings.diffusion_compile,
        vae_tiling=settings.diffusion_vae_tiling,
        cpu_offload=settings.diffusion_cpu_offload,
        threads=settings.diffusion_threads,
    )
