"""The ``diffusion`` engine: diffusers img2img from local models, described per style (torch, lazily).

* **Models as configuration** (:mod:`.registry`): a TOML registry of base checkpoints (diffusers folders or
  single ``.safetensors``/``.ckpt`` files), LoRA files and ControlNet models, each with a sha256 and a
  licence note (``restyle models add/list/check``). Single files load with ``from_single_file`` and a
  config folder restyle ships (``configs/<arch>``: sd15, sd21, sd21-v, sdxl) or the operator's, so nothing
  is fetched from a hub; ``HF_HUB_OFFLINE=1`` is set before diffusers loads anything. The older
  ``diffusion_checkpoint`` (one diffusers folder) still works as the default base.
* **Presets** (:mod:`.presets`): per style a base, LoRAs with weights, prompt/negative templates, steps,
  guidance, scheduler, an optional ControlNet (Canny or a flow-based line drawing of the input, :mod:`.control`)
  with its conditioning scale. Styles sharing a base share one loaded pipeline: LoRA adapters are swapped
  (peft), ControlNet pipelines reuse the base's components; at most ``diffusion_resident_models`` bases
  stay loaded (LRU) (:mod:`.pipelines`, :mod:`.adapters`).
* **Reference-image styles** (optional): an IP-Adapter in the registry (``ip_adapter``: its weights file and
  CLIP vision encoder folder, loaded by diffusers' ``load_ip_adapter``, offline) and a reference image per
  preset; the reference is encoded once per base and reused, and styles without one on the same base get
  zero image embeddings at scale 0 (an exact no-op). Tencent's wire has no reference-image field: the
  reference belongs to the style id.
* **Speed**: dtype, SDPA or eager attention, channels-last, ``torch.compile``, VAE tiling, CPU offload (CUDA),
  warm-up; concurrent requests of one preset are painted in one batch (:mod:`.batcher`) with one CPU
  generator per request, so a seed gives the same picture alone or batched. On Ray Serve, replicas batch with
  ``@serve.batch`` and :meth:`Engine.stylize_many` instead. Step callbacks report
  progress (``StyleRequest.progress``) and stop a job whose time is out.
* Strength is the denoising strength: diffusers runs ``int(steps * strength)`` steps, so ``steps`` is
  raised to at least ``ceil(1 / strength)`` and the steps actually run are logged (``effective_steps``).
* Prompt: the style's ``template`` with ``{prompt}`` replaced by the caller's Prompt; NegativePrompt is
  joined with the preset's ``negative``.

Needs ``pip install 'restyle[diffusion]'`` (torch, diffusers, transformers, accelerate, peft).
"""

from __future__ import annotations

from restyle.engines.diffusion.engine import EXTRA, REQUIRED, Engine, missing_packages, options_from_settings
from restyle.engines.diffusion.presets import (
    DEFAULT_GUIDANCE,
    DEFAULT_MAX_SIDE,
    Preset,
    configure_catalogue,
    effective_steps,
    render_prompt,
)

__all__ = [
    "DEFAULT_GUIDANCE",
    "DEFAULT_MAX_SIDE",
    "EXTRA",
    "REQUIRED",
    "Engine",
    "Preset",
    "configure_catalogue",
    "effective_steps",
    "missing_packages",
    "options_from_settings",
    "render_prompt",
]
