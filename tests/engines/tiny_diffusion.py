"""Tiny random diffusion models, built here from small configs (no downloads), for tests and benches.

* :func:`build_tiny_pipeline`: a Stable Diffusion img2img pipeline (UNet, VAE, CLIP text encoder and
  tokenizer) saved as a diffusers folder.
* :func:`save_single_file`: the same weights as one ``.safetensors`` in the original (LDM) layout that
  A1111/ComfyUI checkpoints have, so ``from_single_file`` converts it as it converts a real checkpoint.
* :func:`build_tiny_lora`: a peft LoRA on the UNet's attention projections, saved in the diffusers LoRA
  format (``pytorch_lora_weights.safetensors``), its B matrices random so it changes the output.
* :func:`build_tiny_controlnet`: a ControlNet matching the tiny UNet, its zero convolutions made random so
  the conditioning image matters.
* :func:`build_tiny_ip_adapter`: an IP-Adapter for the tiny UNet in the layout IP-Adapter releases use
  (``ip-adapter_tiny.safetensors`` with ``image_proj.*`` and ``ip_adapter.<n>.to_{k,v}_ip.weight`` tensors,
  and a random CLIP vision encoder in ``image_encoder/``), so diffusers' ``load_ip_adapter`` reads it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any


def build_tiny_pipeline(folder: Path, seed: int = 0, *, vae_blocks: int = 2) -> Path:
    """UNet2DConditionModel + AutoencoderKL + CLIPTextModel + CLIPTokenizer, random weights (seed 0).

    ``vae_blocks = 4`` makes the VAE downsample 8× like a real one (benches at 512² and up: with 2 blocks
    the latents are half the picture's size and attention over them is quadratic)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionImg2ImgPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=2,
        norm_num_groups=4,
    )
    channels = (8, 16) if vae_blocks == 2 else (8, 8, 16, 16)[:vae_blocks]
    vae = AutoencoderKL(
        block_out_channels=channels,
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * len(channels),
        up_block_types=("UpDecoderBlock2D",) * len(channels),
        latent_channels=4,
        norm_num_groups=4,
        sample_size=32,
    )
    text = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=2,
            pad_token_id=1,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=2,
            vocab_size=1000,
        )
    )
    # transformers 5.x: a CLIP tokenizer straight from a vocab dict and a merges list (no files to fetch)
    vocab = {"<|startoftext|>": 0, "!": 1, "<|endoftext|>": 2}
    for i, ch in enumerate("abcdefghijklmnopqrstuvwxyz,"):
        vocab[ch] = 3 + i
        vocab[ch + "</w>"] = 40 + i
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipe = StableDiffusionImg2ImgPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    return folder


# --- diffusers -> original (LDM) single-file layout ---------------------------------------------------

_RESNET = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "time_emb_proj": "emb_layers.1",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "conv_shortcut": "skip_connection",
}
_VAE_ATTN = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _sub(rest: str, table: dict[str, str]) -> str:
    for old, new in table.items():
        if rest == old or rest.startswith(old + "."):
            return new + rest[len(old) :]
    return rest


def unet_to_ldm(state: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    per = int(config["layers_per_block"]) + 1
    up_attn = ["CrossAttn" in t for t in config["up_block_types"]]
    out: dict[str, Any] = {}
    for key, value in state.items():
        parts = key.split(".")
        if key.startswith("conv_in."):
            new = "input_blocks.0.0." + key[len("conv_in.") :]
        elif key.startswith("time_embedding.linear_1."):
            new = "time_embed.0." + parts[-1]
        elif key.startswith("time_embedding.linear_2."):
            new = "time_embed.2." + parts[-1]
        elif key.startswith("conv_norm_out."):
            new = "out.0." + parts[-1]
        elif key.startswith("conv_out."):
            new = "out.2." + parts[-1]
        elif key.startswith("down_blocks."):
            i, kind = int(parts[1]), parts[2]
            rest = ".".join(parts[4:])
            if kind == "resnets":
                new = f"input_blocks.{1 + i * per + int(parts[3])}.0.{_sub(rest, _RESNET)}"
            elif kind == "attentions":
                new = f"input_blocks.{1 + i * per + int(parts[3])}.1.{rest}"
            else:  # downsamplers.0.conv
                new = f"input_blocks.{(i + 1) * per}.0.op.{'.'.join(parts[5:])}"
        elif key.startswith("mid_block."):
            kind, j, rest = parts[1], int(parts[2]), ".".join(parts[3:])
            if kind == "resnets":
                new = f"middle_block.{2 * j}.{_sub(rest, _RESNET)}"
            else:
                new = f"middle_block.1.{rest}"
        elif key.startswith("up_blocks."):
            i, kind = int(parts[1]), parts[2]
            rest = ".".join(parts[4:])
            if kind == "resnets":
                new = f"output_blocks.{i * per + int(parts[3])}.0.{_sub(rest, _RESNET)}"
            elif kind == "attentions":
                new = f"output_blocks.{i * per + int(parts[3])}.1.{rest}"
            else:  # upsamplers.0.conv
                slot = 2 if up_attn[i] else 1
                new = f"output_blocks.{i * per + per - 1}.{slot}.conv.{'.'.join(parts[5:])}"
        else:
            msg = f"unmapped UNet key {key}"
            raise KeyError(msg)
        out["model.diffusion_model." + new] = value
    return out


def vae_to_ldm(state: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    n = len(config["block_out_channels"])
    out: dict[str, Any] = {}
    for key, value in state.items():
        parts = key.split(".")
        side = parts[0]
        if side in ("encoder", "decoder") and parts[1] in ("down_blocks", "up_blocks"):
            i, kind = int(parts[2]), parts[3]
            ldm_i = i if side == "encoder" else n - 1 - i
            word = "down" if side == "encoder" else "up"
            if kind == "resnets":
                rest = _sub(".".join(parts[5:]), {"conv_shortcut": "nin_shortcut"})
                new = f"{side}.{word}.{ldm_i}.block.{parts[4]}.{rest}"
            else:
                sample = "downsample" if side == "encoder" else "upsample"
                new = f"{side}.{word}.{ldm_i}.{sample}.{'.'.join(parts[5:])}"
        elif side in ("encoder", "decoder") and parts[1] == "mid_block":
            kind, j, rest = parts[2], int(parts[3]), ".".join(parts[4:])
            if kind == "resnets":
                new = f"{side}.mid.block_{j + 1}.{_sub(rest, {'conv_shortcut': 'nin_shortcut'})}"
            else:
                new = f"{side}.mid.attn_1.{_sub(rest, _VAE_ATTN)}"
                if value.ndim == 2:  # the original attention uses 1×1 convolutions
                    value = value[:, :, None, None]
        elif side in ("encoder", "decoder") and parts[1] == "conv_norm_out":
            new = f"{side}.norm_out.{parts[-1]}"
        else:
            new = key
        out["first_stage_model." + new] = value
    return out


def save_single_file(folder: Path, target: Path) -> Path:
    """The pipeline in ``folder`` as one original-layout ``.safetensors`` (UNet, VAE, CLIP text encoder)."""
    from safetensors.torch import load_file, save_file

    def weights(sub: str) -> dict[str, Any]:
        return load_file(
            str(
                folder / sub / "diffusion_pytorch_model.safetensors"
                if sub != "text_encoder"
                else folder / sub / "model.safetensors"
            )
        )

    def config(sub: str) -> dict[str, Any]:
        return json.loads((folder / sub / "config.json").read_text())

    state: dict[str, Any] = {}
    state.update(unet_to_ldm(weights("unet"), config("unet")))
    state.update(vae_to_ldm(weights("vae"), config("vae")))
    for key, value in weights("text_encoder").items():
        state["cond_stage_model.transformer.text_model." + key] = value
    save_file({k: v.contiguous() for k, v in state.items()}, str(target))
    return target


def config_folder(folder: Path, target: Path) -> Path:
    """The pipeline's config files without weights: what ``from_single_file(config=...)`` reads."""
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    return target


# --- LoRA and ControlNet -----------------------------------------------------------------------------


def build_tiny_lora(folder: Path, target: Path, seed: int = 1, scale: float = 0.5) -> Path:
    """A rank-4 LoRA on the tiny UNet's attention projections, as ``pytorch_lora_weights.safetensors``."""
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet = UNet2DConditionModel.from_pretrained(str(folder), subfolder="unet", local_files_only=True)
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in unet.named_parameters():
            if "lora_B" in name or "lora_A" in name:  # lora_B starts at zero: no effect until trained
                param.copy_(torch.randn(param.shape, generator=gen) * scale)
    target.mkdir(parents=True, exist_ok=True)
    StableDiffusionPipeline.save_lora_weights(
        str(target), unet_lora_layers=get_peft_model_state_dict(unet), safe_serialization=True
    )
    return target / "pytorch_lora_weights.safetensors"


def build_tiny_controlnet(folder: Path, target: Path, seed: int = 2) -> Path:
    """A ControlNet made from the tiny UNet, with random (not zero) output convolutions."""
    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(str(folder), subfolder="unet", local_files_only=True)
    cn = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in cn.named_parameters():
            if name.startswith(
                ("controlnet_down_blocks", "controlnet_mid_block", "controlnet_cond_embedding")
            ):
                param.copy_(torch.randn(param.shape, generator=gen) * 0.3)
    cn.save_pretrained(str(target))
    return target


def build_tiny_ip_adapter(folder: Path, target: Path, seed: int = 3, scale: float = 0.5) -> Path:
    """An IP-Adapter (plain: 4 image tokens) for the tiny UNet, with a tiny CLIP vision encoder; returns the
    weights file. Keys as in diffusers' ``_convert_ip_adapter_attn_to_diffusers``: every cross-attention
    processor in ``unet.attn_processors`` order takes ids 1, 3, 5, …"""
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    unet = UNet2DConditionModel.from_pretrained(str(folder), subfolder="unet", local_files_only=True)
    cfg = unet.config
    cross = int(cfg.cross_attention_dim)
    projection = 8
    gen = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> Any:
        return torch.randn(shape, generator=gen) * scale

    state: dict[str, Any] = {}
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            hidden = cfg.block_out_channels[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(cfg.block_out_channels))[int(name[len("up_blocks.")])]
        else:
            hidden = cfg.block_out_channels[int(name[len("down_blocks.")])]
        state[f"ip_adapter.{key_id}.to_k_ip.weight"] = rand(hidden, cross)
        state[f"ip_adapter.{key_id}.to_v_ip.weight"] = rand(hidden, cross)
        key_id += 2
    state["image_proj.proj.weight"] = rand(4 * cross, projection)
    state["image_proj.proj.bias"] = rand(4 * cross)
    state["image_proj.norm.weight"] = torch.ones(cross)
    state["image_proj.norm.bias"] = torch.zeros(cross)
    target.mkdir(parents=True, exist_ok=True)
    weights = target / "ip-adapter_tiny.safetensors"
    save_file(state, str(weights))
    torch.manual_seed(seed)
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=16,
            projection_dim=projection,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            image_size=32,
            patch_size=4,
        )
    )
    encoder.save_pretrained(str(target / "image_encoder"))
    return weights


def patient(cli: Any, seconds: float = 240.0) -> None:
    """A Tencent SDK client that waits longer for a reply: the first diffusion call loads the models, and a
    shared 2-core machine can be slow (the tests bound time by their own timeouts)."""
    cli.request.set_req_timeout(seconds)
    cli.request.conn.timeout = seconds
