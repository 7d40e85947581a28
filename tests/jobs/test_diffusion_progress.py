"""Progress of a diffusion async job rises with the engine's step callbacks (tiny random pipeline built
here, nothing downloaded), seen through Query while it runs, and ends at 100."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest

from restyle.engines import diffusion as diffusion_engine
from tests.conftest import Server, encode, photo, start_server
from tests.jobs.conftest import act, common, wait_state

# building and loading the tiny model takes ~20 s alone, minutes on a shared, loaded machine
pytestmark = [pytest.mark.restyle_only, pytest.mark.timeout(900)]
if diffusion_engine.missing_packages():
    pytest.skip("restyle[diffusion] is not installed", allow_module_level=True)

from tests.engines.tiny_diffusion import build_tiny_pipeline  # noqa: E402

STEPS = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("diffusion-jobs")
    checkpoint = build_tiny_pipeline(tmp / "tiny-sd")
    cfg = tmp / "restyle.toml"
    cfg.write_text(
        f'diffusion_checkpoint = "{checkpoint}"\n'
        "diffusion_steps = 4\n"  # the engine default; the style's own preset says how many run
        'diffusion_device = "cpu"\n'
        "jobs_timeout_s = 600\n"
        f'[diffusion_styles.990]\ntemplate = "{{prompt}}, oil painting"\nsteps = {STEPS}\n'
    )
    srv = start_server(tmp, config=str(cfg), requests_per_second=1000, wait_s=180)
    yield srv
    srv.stop()


def test_diffusion_job_progress_rises_with_steps_and_ends_at_100(server: Server) -> None:
    cli = common(server)
    params = {
        "InputImage": base64.b64encode(encode(photo("chelsea", (64, 56)), "PNG")).decode(),
        "Styles": ["990"],
        "Prompt": "a cat",
        "Strength": 1.0,
        "LogoAdd": 0,
    }
    warm = act(cli, "SubmitImageToImageJob", {**params, "Strength": 0.1})["JobId"]  # loads the model
    assert wait_state(cli, warm, ("4", "5"), timeout=600)["JobStatusCode"] == "5"
    job_id = act(cli, "SubmitImageToImageJob", params)["JobId"]
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        q = act(cli, "QueryImageToImageJob", {"JobId": job_id})
        seen.append((q["JobStatusCode"], q["Progress"]))
        if q["JobStatusCode"] in ("4", "5"):
            break
        time.sleep(0.02)
    assert seen[-1] == ("5", 100), seen[-10:]
    values = [p for _, p in seen]
    assert values == sorted(values), values  # never goes back
    stylising = sorted({p for code, p in seen if code == "2" and 20 < p < 85})
    assert len(stylising) >= 3, seen  # the step callbacks moved it, several times, inside the engine's band
    done = act(cli, "QueryImageToImageJob", {"JobId": job_id})
    assert done["EffectiveParameters"]["Steps"] == STEPS, done["EffectiveParameters"]
