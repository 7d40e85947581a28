"""One resident base pipeline and what hangs off it: LoRA adapters swapped on the shared base (peft),
ControlNet pipelines built on the base's components (``from_pipe``: no second copy), an IP-Adapter with its
reference embeddings, and schedulers. Loading the base itself is :mod:`.pipelines`."""

from __future__ import annotations

import importlib
import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from restyle.engines.diffusion import registry as reg
from restyle.engines.diffusion.env import offline, quiet_numpy_copy_warning

if TYPE_CHECKING:
    from restyle.engines.diffusion.pipelines import ModelCache

SCHEDULER_CLASSES = {
    "ddim": "DDIMScheduler",
    "euler": "EulerDiscreteScheduler",
    "euler_a": "EulerAncestralDiscreteScheduler",
    "dpm++": "DPMSolverMultistepScheduler",
    "lcm": "LCMScheduler",
    "pndm": "PNDMScheduler",
}


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


def _adapter(name: str) -> str:
    return "lora_" + "".join(c if c.isalnum() else "_" for c in name)


def _torch_load(model: reg.Model) -> Any:
    import torch

    return torch.load(str(model.path), map_location="cpu", weights_only=True)
