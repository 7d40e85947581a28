"""An async job on the diffusion engine (tiny random pipeline): the effective steps are reported."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from tests.conftest import encode, photo, start_server
from tests.engines.test_diffusion import build_tiny_pipeline
from tests.jobs.conftest import act, common, wait_state

pytestmark = pytest.mark.restyle_only


def test_diffusion_job_reports_steps_and_progress(tmp_path: Path) -> None:
    checkpoint = build_tiny_pipeline(tmp_path / "tiny-sd")
    cfg = tmp_path / "restyle.toml"
    cfg.write_text(
        f'diffusion_checkpoint = "{checkpoint}"\ndiffusion_steps = 6\ndiffusion_device = "cpu"\n'
        '[diffusion_styles.990]\ntemplate = "{prompt}, oil painting"\n'
    )
    srv = start_server(tmp_path, wait_s=120, config=str(cfg), requests_per_second=1000)
    try:
        cli = common(srv)
        src = base64.b64encode(encode(photo("chelsea", (72, 64)), "PNG")).decode()
        job_id = act(
            cli,
            "SubmitImageToImageJob",
            {"InputImage": src, "Styles": ["990"], "Strength": 0.5, "LogoAdd": 0, "Prompt": "a cat"},
        )["JobId"]
        seen = set()
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            q = act(cli, "QueryImageToImageJob", {"JobId": job_id})
            seen.add(q["Progress"])
            if q["JobStatusCode"] in ("4", "5"):
                break
            time.sleep(0.2)
        done = wait_state(cli, job_id, ("5",))
        eff = done["EffectiveParameters"]
        assert eff["Engine"] == "diffusion" and eff["Steps"] == 3 and eff["Strength"] == 0.5  # int(6 x 0.5)
        assert eff["Model"].startswith("img2img:") and eff["Resolution"] == "72x64"
        assert seen <= set(range(101)) and 100 in seen
    finally:
        srv.stop()
