"""Loading base pipelines offline and keeping a bounded number resident (LRU); what hangs off a loaded base
(LoRA adapters, ControlNet pipelines, IP-Adapter, schedulers) is :mod:`.adapters`.

Every load is local: diffusers folders with ``local_files_only=True``, single files with
``from_single_file(config=<folder>)`` where the folder is one restyle ships (``configs/<arch>``) or the
operator's, LoRA and ControlNet weights from files. ``HF_HUB_OFFLINE=1`` is set before diffusers is imported.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restyle.engines.diffusion import registry as reg
from restyle.engines.diffusion.adapters import Resident
from restyle.engines.diffusion.env import offline

log = logging.getLogger("restyle.engines.diffusion")


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
