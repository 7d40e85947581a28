"""The tables of the settings file: ``[onnx_models.<id>]`` and ``[diffusion_styles.<id>]`` (see config.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class OnnxModel(BaseModel):
    """A user ONNX image-to-image model registered for a style id (``[onnx_models.<id>]``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    path: str = Field(description="The .onnx file (relative: to onnx_models_dir).")
    layout: Literal["NCHW", "NHWC"] = Field("NCHW", description="Input and output tensor layout.")
    value_range: Literal["0..1", "-1..1", "0..255"] = Field(
        "0..1", alias="range", description="Pixel value range of input and output."
    )
    multiple: int = Field(1, ge=1, le=1024, description="Height and width are padded to a multiple of this.")
    channels: Literal["RGB", "BGR"] = Field("RGB", description="Channel order.")
    max_side: int = Field(0, ge=0, description="Style at most this large, then resize back (0 = full size).")
    tile: int = Field(0, ge=0, description="Tile size for this model (0 = onnx_tile).")
    zh: str = Field("", description="Chinese name (default: the current style's, or the file name).")
    en: str = Field("", description="English name (default: the current style's, or the file name).")
    strength: float | None = Field(None, gt=0, le=1, description="Default Strength.")
    latency: Literal["fast", "medium", "slow"] = Field("medium", description="Latency class.")

    def params(self) -> dict[str, Any]:
        """The catalogue ``params`` of the onnx engine's ``model`` recipe."""
        out: dict[str, Any] = {
            "path": self.path,
            "layout": self.layout,
            "range": self.value_range,
            "multiple": self.multiple,
            "channels": self.channels,
            "max_side": self.max_side,
        }
        if self.tile:
            out["tile"] = self.tile
        return out


class DiffusionStyle(BaseModel):
    """A style id painted by the diffusion engine (``[diffusion_styles.<id>]``)."""

    model_config = ConfigDict(extra="forbid")

    template: str = Field("{prompt}", description="Prompt template; {prompt} is the caller's Prompt.")
    negative: str = Field("", description="Negative prompt added to the caller's NegativePrompt.")
    strength: float | None = Field(None, gt=0, le=1, description="Default Strength.")
    zh: str = Field("", description="Chinese name (default: the current style's, or the id).")
    en: str = Field("", description="English name (default: the current style's, or the id).")
    # the preset: which models, how many steps (restyle.engines.diffusion.presets)
    base: str = Field(
        "", description="Base model name in the model registry (default: diffusion_checkpoint)."
    )
    loras: dict[str, float] = Field({}, description="LoRA names in the model registry and their weights.")
    steps: int | None = Field(None, ge=1, le=200, description="Steps (default: diffusion_steps).")
    guidance: float | None = Field(None, ge=0, le=30, description="Classifier-free guidance scale.")
    scheduler: str = Field("", description="default | ddim | euler | euler_a | dpm++ | lcm | pndm.")
    controlnet: str = Field("", description="ControlNet name in the model registry (none: plain img2img).")
    control: Literal["canny", "lines"] = Field("canny", description="ControlNet conditioning image.")
    control_scale: float = Field(1.0, ge=0, le=2, description="ControlNet conditioning scale.")
    max_side: int | None = Field(None, ge=64, le=4096, description="Paint at most this large, then resize.")
    ip_adapter: str = Field(
        "", description="IP-Adapter name in the model registry: paint in the look of `reference`."
    )
    reference: Path | None = Field(
        None, description="The style's reference image for ip_adapter (a local file of the operator's)."
    )
    ip_adapter_scale: float = Field(0.6, ge=0, le=2, description="How strongly the reference image steers.")

    @field_validator("reference")
    @classmethod
    def _absolute_reference(cls, value: Path | None) -> Path | None:
        # absolute at load time: Ray replicas rebuild these settings in another working folder
        return value.expanduser().resolve() if value is not None else None
