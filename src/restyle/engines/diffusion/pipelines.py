"""Loading pipelines offline and keeping a bounded number resident (LRU), with LoRA adapters swapped on a
shared base and ControlNet pipelines built on the base's components (``from_pipe``: no second copy).

Every load is local: diffusers folders with ``local_files_only=True``, single files with
``from_single_file(config=<folder>)`` where the folder is one restyle ships (``configs/<arch>``) or the
operator's, LoRA and ControlNet weights from files. ``HF_HUB_OFFLINE=1`` is set before diffusers is imported.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import threading
import warnings
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from restyle.engines.diffusion import registry as reg

log = logging.getLogger("restyle.engines.diffusion")

SCHEDULER_CLASSES = {
    "ddim": "DDIMScheduler",
    "euler": "EulerDiscreteScheduler",
    "euler_a": "EulerAncestralDiscreteScheduler",
    "dpm++": "DPMSolverMultistepScheduler",
    "lcm": "LCMScheduler",
    "pndm": "PNDMScheduler",
}


def offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("DIFFUSERS_OFFLINE", "1")


@dataclass(frozen=True)
class GpuOptions:
    """How pipelines are placed and tuned (the diffusion_* settings)."""

    device: str = "auto"  # auto | cpu | cuda | cuda:N
    dtype: str = "auto"  # auto | float32 | float16 | bfloat16
    attention: str = "sdpa"  # sdpa | eager
    channels_last: bool = False
    compile: bool = False
    vae_tiling: bool = False
    cpu_offload: str = "none"  # none | model | sequential (CUDA only)
    threads: int = 0

    def resolve_device(self) -> str:
        import torch

        if self.device.startswith("cuda") and not torch.cuda.is_available():
            msg = f"diffusion_device = {self.device}, but torch sees no CUDA device"
            raise RuntimeError(msg)
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def torch_dtype(self, device: str) -> Any:
        import torch

        if self.dtype == "auto":
            return torch.float16 if device.startswith("cuda") else torch.float32
        return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[self.dtype]


@dataclass
class Resident:
    """One loaded base model and what hangs off it."""

    model: reg.Model
    pipe: Any  # img2img pipeline
    device: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    loras: set[str] = field(default_factory=set)  # adapters loaded into this base
    active: tuple[tuple[str, float], ...] = ()
    control_pipes: dict[str, Any] = field(default_factory=dict)
    schedulers: dict[str, Any] = field(default_factory=dict)
    ip_adapter: str = ""  # the IP-Adapter loaded into this base (one at a time)
    ip_embeds: dict[str, Any] = field(default_factory=dict)  # reference path -> (negative, positive) embeds

    def pipeline(self, controlnet: reg.Model | None, loader: ModelCache) -> Any:
        """The img2img pipeline, or a ControlNet img2img pipeline sharing the base's components."""
        if controlnet is None:
            return self.pipe
        pipe = self.control_pipes.get(controlnet.name)
        if pipe is None:
            from diffusers import AutoPipelineForImage2Image

            cn = loader.load_controlnet(controlnet, self.device, self.pipe.unet.dtype)
            pipe = AutoPipelineForImage2Image.from_pipe(self.pipe, controlnet=cn)
            pipe.set_progress_bar_config(disable=True)
            self.control_pipes[controlnet.name] = pipe
            loader.loads["controlnet:" + controlnet.name] += 1
        return pipe

    def use_loras(
        self, loras: tuple[tuple[str, float], ...], models: reg.Registry, loader: ModelCache
    ) -> None:
        """Load adapters not loaded yet, then activate exactly ``loras`` (none: LoRA off)."""
        changed = False
        for name, _ in loras:
            if name not in self.loras:
                model = models.get("lora", name)
                from safetensors.torch import load_file

                state = (
                    load_file(str(model.path)) if model.path.suffix == ".safetensors" else _torch_load(model)
                )
                with warnings.catch_warnings():  # peft warns that a second adapter is a second adapter
                    warnings.filterwarnings("ignore", message="Already found a `peft_config`")
                    self.pipe.load_lora_weights(state, adapter_name=_adapter(name))
                self.loras.add(name)
                loader.loads["lora:" + name] += 1
                changed = True  # loading an adapter activates it: set the wanted ones again
        if loras == self.active and not changed:
            return
        if not loras:
            if self.loras:
                self.pipe.disable_lora()
        else:
            self.pipe.enable_lora()
            self.pipe.set_adapters([_adapter(n) for n, _ in loras], adapter_weights=[w for _, w in loras])
        self.active = loras

    def use_ip_adapter(
        self, model: reg.Model | None, reference: str, scale: float, batch: int, cfg: bool, loader: ModelCache
    ) -> list[Any] | None:
        """``ip_adapter_image_embeds`` for a batch of ``batch`` items: the reference image's embeddings (encoded
        once per reference), or, for a preset without an IP-Adapter on a base that holds one, zeros at scale
        0 (the UNet then needs image embeddings, and adds nothing). None when this base has no IP-Adapter."""
        import torch

        pair: Any
        if model is None:
            if self.ip_adapter and not self.ip_embeds:  # loaded, but its reference failed: take it out
                self.pipe.unload_ip_adapter()
                self.ip_adapter = ""
            if not self.ip_adapter:
                return None
            self.pipe.set_ip_adapter_scale(0.0)
            pair = torch.zeros_like(next(iter(self.ip_embeds.values())))
        else:
            if self.ip_adapter != model.name:
                self._load_ip_adapter(model, loader)
            self.pipe.set_ip_adapter_scale(scale)
            pair = self.ip_embeds.get(reference)
            if pair is None:
                pair = self._encode_reference(reference)
                self.ip_embeds[reference] = pair
        negative, positive = pair.chunk(2)
        rows = [negative.repeat(batch, *[1] * (negative.ndim - 1))] if cfg else []
        rows.append(positive.repeat(batch, *[1] * (positive.ndim - 1)))
        return [torch.cat(rows)]

    def _load_ip_adapter(self, model: reg.Model, loader: ModelCache) -> None:
        offline()
        if self.ip_adapter:
            self.pipe.unload_ip_adapter()
            self.ip_embeds.clear()
            self.ip_adapter = ""
        weights = model.weights_file()
        encoder = model.encoder_folder()
        if not (encoder / "config.json").is_file():
            msg = f"ip_adapter {model.name}: image encoder {encoder} has no config.json"
            raise ValueError(msg)
        # diffusers' own loader: the weights file, and the CLIP vision encoder as a folder relative to it
        self.pipe.load_ip_adapter(
            str(weights.parent),
            subfolder="",
            weight_name=weights.name,
            image_encoder_folder=os.path.relpath(encoder, weights.parent),
            local_files_only=True,
        )
        if loader.options.attention == "eager":  # load_ip_adapter installs SDPA processors
            from diffusers.models.attention_processor import AttnProcessor, IPAdapterAttnProcessor

            procs: dict[str, Any] = {}
            for name, proc in self.pipe.unet.attn_processors.items():
                if type(proc).__name__ == "IPAdapterAttnProcessor2_0":
                    eager = IPAdapterAttnProcessor(  # type: ignore[no-untyped-call]
                        proc.hidden_size, proc.cross_attention_dim, proc.num_tokens, proc.scale
                    )
                    eager.load_state_dict(proc.state_dict())
                    procs[name] = eager.to(self.pipe.unet.device, self.pipe.unet.dtype)
                else:
                    procs[name] = AttnProcessor()
            self.pipe.unet.set_attn_processor(procs)
        self.ip_adapter = model.name
        loader.loads["ip_adapter:" + model.name] += 1

    def _encode_reference(self, reference: str) -> Any:
        """(negative, positive) image embeddings of the reference, shape (2, tokens…), on the pipeline's device."""
        import torch
        from PIL import Image

        with Image.open(reference) as im:
            image = im.convert("RGB")
        with torch.inference_mode():
            (pair,) = self.pipe.prepare_ip_adapter_image_embeds(
                ip_adapter_image=[image],
                ip_adapter_image_embeds=None,
                device=self.pipe._execution_device,
                num_images_per_prompt=1,
                do_classifier_free_guidance=True,
            )
        return pair

    def use_scheduler(self, pipe: Any, name: str) -> None:
        if "default" not in self.schedulers:
            self.schedulers["default"] = self.pipe.scheduler
        if name == "default":
            pipe.scheduler = self.schedulers["default"]
            return
        sched = self.schedulers.get(name)
        if sched is None:
            cls = getattr(importlib.import_module("diffusers"), SCHEDULER_CLASSES[name])
            with quiet_numpy_copy_warning():
                sched = cls.from_config(self.schedulers["default"].config)
            self.schedulers[name] = sched
        pipe.scheduler = sched


@contextlib.contextmanager
def quiet_numpy_copy_warning() -> Iterator[None]:
    """diffusers' Euler schedulers call ``np.array(tensor)``, which numpy 2 warns about (harmless)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, message="__array__ implementation")
        yield


def _adapter(name: str) -> str:
    return "lora_" + "".join(c if c.isalnum() else "_" for c in name)


def _torch_load(model: reg.Model) -> Any:
    import torch

    return torch.load(str(model.path), map_location="cpu", weights_only=True)


class ModelCache:
    """Base models by name, at most ``max_resident`` loaded; the least recently used is dropped."""

    def __init__(self, models: reg.Registry, options: GpuOptions, max_resident: int = 2) -> None:
        self.models = models
        self.options = options
        self.max_resident = max(1, max_resident)
        self._lock = threading.Lock()
        self._resident: OrderedDict[str, Resident] = OrderedDict()
        self._loading: dict[str, threading.Lock] = {}
        #: how often each model was loaded (a LoRA swap must not reload its base)
        self.loads: Counter[str] = Counter()
        self._threads_set = False

    def model(self, base: str) -> reg.Model:
        if base.startswith("path:"):
            path = Path(base[5:]).expanduser().resolve()
            return reg.Model(kind="base", name=base, path=path)
        return self.models.get("base", base)

    def resident(self) -> list[str]:
        with self._lock:
            return list(self._resident)

    def base(self, base: str) -> Resident:
        with self._lock:
            res = self._resident.get(base)
            if res is not None:
                self._resident.move_to_end(base)
                return res
            loading = self._loading.setdefault(base, threading.Lock())
        with loading:  # one load per model at a time; others wait for it
            with self._lock:
                res = self._resident.get(base)
                if res is not None:
                    self._resident.move_to_end(base)
                    return res
            res = self.load_base(self.model(base))
            with self._lock:
                self._resident[base] = res
                self._resident.move_to_end(base)
                while len(self._resident) > self.max_resident:
                    old, dropped = self._resident.popitem(last=False)
                    log.info(
                        "diffusion model %s unloaded (diffusion_resident_models = %d)", old, self.max_resident
                    )
                    with dropped.lock:  # a running job keeps its reference; wait for it, then free
                        dropped.control_pipes.clear()
                        dropped.ip_embeds.clear()
                    _free_memory(dropped.device)
            return res

    # -- loading -----------------------------------------------------------------------------------

    def load_base(self, model: reg.Model) -> Resident:
        offline()
        import torch
        from diffusers import AutoPipelineForImage2Image
        from diffusers.utils import logging as diffusers_logging

        diffusers_logging.disable_progress_bar()
        opts = self.options
        if opts.threads and not self._threads_set:
            torch.set_num_threads(opts.threads)
            self._threads_set = True
        device = opts.resolve_device()
        dtype = opts.torch_dtype(device)
        if model.path.is_dir():
            if not (model.path / "model_index.json").is_file():
                msg = f"{model.path} has no model_index.json (not a diffusers pipeline folder)"
                raise ValueError(msg)
            pipe = AutoPipelineForImage2Image.from_pretrained(  # type: ignore[no-untyped-call]
                str(model.path), local_files_only=True, dtype=dtype
            )
        else:
            pipe = AutoPipelineForImage2Image.from_pipe(self._single_file(model, dtype))
        self.loads["base:" + model.name] += 1
        pipe = self._place(pipe, device)
        log.info("diffusion base %s loaded (%s) on %s, %s", model.name, type(pipe).__name__, device, dtype)
        return Resident(model, pipe, device)

    def _single_file(self, model: reg.Model, dtype: Any) -> Any:
        import diffusers

        cfg = model.config_folder()
        if cfg is None:
            msg = (
                f"base model {model.name}: a single file needs arch (sd15, sd21, sd21-v, sdxl) or config "
                "(a diffusers config folder) so nothing is fetched from a hub"
            )
            raise ValueError(msg)
        if not (cfg / "model_index.json").is_file():
            msg = f"base model {model.name}: config folder {cfg} has no model_index.json"
            raise ValueError(msg)
        class_name = json.loads((cfg / "model_index.json").read_text("utf-8"))["_class_name"]
        cls = getattr(diffusers, class_name)
        return cls.from_single_file(
            str(model.path), config=str(cfg), local_files_only=True, torch_dtype=dtype
        )

    def load_controlnet(self, model: reg.Model, device: str, dtype: Any) -> Any:
        offline()
        from diffusers import ControlNetModel

        if model.path.is_dir():
            cn = ControlNetModel.from_pretrained(  # type: ignore[no-untyped-call]
                str(model.path), local_files_only=True, torch_dtype=dtype
            )
        else:
            cfg = model.config_folder()
            if cfg is None:
                msg = f"controlnet {model.name}: a single file needs config (a folder with config.json)"
                raise ValueError(msg)
            cn = ControlNetModel.from_single_file(
                str(model.path), config=str(cfg), local_files_only=True, torch_dtype=dtype
            )
        cn = cn.to(device)
        if self.options.channels_last:
            import torch

            cn = cn.to(memory_format=torch.channels_last)
        return cn

    def _place(self, pipe: Any, device: str) -> Any:
        import torch

        opts = self.options
        pipe.set_progress_bar_config(disable=True)
        if opts.attention == "eager":
            from diffusers.models.attention_processor import AttnProcessor

            pipe.unet.set_attn_processor(AttnProcessor())
            pipe.vae.set_attn_processor(AttnProcessor())
        if opts.cpu_offload != "none" and device.startswith("cuda"):
            if opts.cpu_offload == "model":
                pipe.enable_model_cpu_offload(device=device)
            else:
                pipe.enable_sequential_cpu_offload(device=device)
        else:
            if opts.cpu_offload != "none":
                log.info("diffusion_cpu_offload = %s ignored on %s", opts.cpu_offload, device)
            pipe = pipe.to(device)
        if opts.channels_last:
            pipe.unet.to(memory_format=torch.channels_last)
            pipe.vae.to(memory_format=torch.channels_last)
        if opts.vae_tiling:
            pipe.vae.enable_tiling()
        if opts.compile:
            pipe.unet = torch.compile(pipe.unet)
        return pipe


def _free_memory(device: str) -> None:
    import gc

    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
