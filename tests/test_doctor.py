"""``restyle doctor``: a table of what works here and why not; always exit code 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from restyle.config import load_settings
from restyle.doctor import Check, gpu_summary, run_checks

pytestmark = pytest.mark.restyle_only


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_default_machine() -> None:
    checks = by_name(run_checks(load_settings(None)))
    assert checks["classic"].ok
    assert checks["onnx"].ok and "30 styles" in checks["onnx"].detail
    assert checks["onnxruntime"].ok and "CPUExecutionProvider" in checks["onnxruntime"].detail
    assert checks["esrgan-slim x2 (EnhanceImage)"].ok
    assert checks["face cascades (RestoreFace)"].ok and checks["label font (LogoAdd)"].ok
    assert not checks["diffusion checkpoint"].ok
    assert "diffusion_checkpoint" in checks["diffusion"].detail


def test_says_why_not(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        diffusion_checkpoint=str(tmp_path),
        onnx_models={"981": {"path": str(tmp_path / "gone.onnx")}},
        upscaler="esrgan",
    )
    checks = by_name(run_checks(settings))
    assert (
        not checks["diffusion checkpoint"].ok and "model_index.json" in checks["diffusion checkpoint"].detail
    )
    assert not checks["onnx_models.981"].ok and "does not exist" in checks["onnx_models.981"].detail
    assert "in use" in checks["esrgan-slim x2 (EnhanceImage)"].detail


def test_gpu_summary() -> None:
    cpu = [Check("runtime", "torch", True, "2.13.0+cpu; CPU only")]
    gpu = [Check("runtime", "torch", True, "2.13.0; CUDA 12.4: NVIDIA L4")]
    assert gpu_summary(cpu).startswith("no GPU")
    assert gpu_summary(gpu) == "GPU: available"


def test_cli_prints_a_table_and_exits_zero(tmp_path: Path) -> None:
    cfg = tmp_path / "restyle.toml"
    cfg.write_text(f'diffusion_checkpoint = "{tmp_path / "nothing"}"\n')
    out = subprocess.run(
        [sys.executable, "-m", "restyle", "doctor", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    for word in ("restyle doctor", "onnxruntime", "multistyle26", "esrgan-slim", "diffusion", "cascades"):
        assert word in out.stdout, word
    assert "no GPU" in out.stdout or "GPU: available" in out.stdout
