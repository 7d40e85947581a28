"""The ``diffusion`` engine on a tiny random Stable Diffusion img2img pipeline built here from configs.

Nothing is downloaded: the components are made from small configs, ``save_pretrained`` writes them to a
temporary folder, and a real ``restyle serve`` loads that folder offline (``diffusion_checkpoint``) for a
style id mapped to the engine in a config TOML file. Calls go through the official Tencent SDK.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restyle.engines import StyleRequest
from restyle.engines import diffusion as diffusion_engine
from restyle.styles import Style
from tests.conftest import b64, encode, photo
from tests.engines.tiny_diffusion import build_tiny_pipeline, patient

pytestmark = pytest.mark.restyle_only
if diffusion_engine.missing_packages():
    pytest.skip("restyle[diffusion] is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd") / "checkpoint")


@pytest.fixture(scope="module")
def engine(checkpoint: Path) -> diffusion_engine.Engine:
    return diffusion_engine.Engine(checkpoint=checkpoint, steps=4, device="cpu")


STYLE = Style(
    id="990",
    zh="油画",
    en="Oil painting",
    engine="diffusion",
    recipe="img2img",
    strength=0.6,
    prompt=True,
    latency="slow",
    params={"max_side": 64},
    template="{prompt}, oil painting",
)


def run(engine: diffusion_engine.Engine, img: np.ndarray, **kw: object) -> np.ndarray:
    args: dict[str, object] = {"style": STYLE, "strength": 0.6, "prompt": "a cat", "seed": 1, **kw}
    return engine.stylize(img, StyleRequest(**args))  # type: ignore[arg-type]


def test_effective_steps_rule() -> None:
    # diffusers runs int(steps * strength) steps: at least one must run
    assert diffusion_engine.effective_steps(20, 0.6) == (20, 12)
    assert diffusion_engine.effective_steps(1, 0.3) == (4, 1)
    assert diffusion_engine.effective_steps(2, 0.01) == (100, 1)
    for strength in (0.01, 0.07, 0.1, 0.29, 1 / 3, 0.5, 0.99, 1.0):
        for steps in (1, 2, 4, 25):
            asked, ran = diffusion_engine.effective_steps(steps, strength)
            assert asked >= steps and 1 <= ran == min(int(asked * strength), asked)


def test_prompt_template() -> None:
    assert diffusion_engine.render_prompt("{prompt}, oil painting", "a cat") == "a cat, oil painting"
    assert diffusion_engine.render_prompt("{prompt}, oil painting", "") == "oil painting"
    assert diffusion_engine.render_prompt("", "a dog") == "a dog"


def test_same_seed_same_image(engine: diffusion_engine.Engine) -> None:
    img = photo("astronaut", (80, 64))
    a, b, c = run(engine, img), run(engine, img), run(engine, img, seed=2)
    assert a.shape == img.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert np.abs(a.astype(int) - c).mean() > 2


def test_prompt_and_strength_change_the_result(engine: diffusion_engine.Engine) -> None:
    img = photo("coffee", (64, 64))
    base = run(engine, img)
    assert np.abs(run(engine, img, prompt="a dog").astype(int) - base).mean() > 0.5
    # strength: more denoising steps and further from the least-denoised result
    near = run(engine, img, strength=0.1)
    dists = [float(np.abs(run(engine, img, strength=s).astype(int) - near).mean()) for s in (0.3, 0.6, 1.0)]
    assert dists == sorted(dists), dists


def test_checkpoint_is_required(tmp_path: Path) -> None:
    eng = diffusion_engine.Engine(checkpoint=tmp_path)
    ok, why = eng.available()
    assert not ok and "model_index.json" in why
    with pytest.raises(ValueError, match="model_index.json"):
        eng.check_style(Style(**{**STYLE.__dict__, "params": {"checkpoint": str(tmp_path)}}))


def test_sdk_end_to_end(checkpoint: Path, tmp_path: Path, make_server: object) -> None:
    """A config file maps style 990 (new) and 133 (a Tencent id) to the diffusion engine."""
    from tests.wire import sdk

    cfg = tmp_path / "restyle.toml"
    cfg.write_text(
        f'diffusion_checkpoint = "{checkpoint}"\n'
        "diffusion_steps = 3\n"
        "job_timeout_s = 300\n"
        'diffusion_device = "cpu"\n'
        '[diffusion_styles.990]\ntemplate = "{prompt}, oil painting"\nzh = "油画"\nen = "Oil painting"\n'
        '[diffusion_styles.133]\ntemplate = "{prompt}, impressionist garden"\nnegative = "blurry"\n'
    )
    srv = make_server(config=str(cfg), wait_s=180)  # type: ignore[operator]
    cli = sdk.client(sdk.Target(srv, srv.secret_id, srv.secret_key))
    patient(cli)
    src = b64(encode(photo("chelsea", (72, 64)), "PNG"))
    base = {"InputImage": src, "LogoAdd": 0, "Prompt": "a cat", "NegativePrompt": "dark"}

    def image(**kw: object) -> np.ndarray:
        resp = sdk.call(cli, {**base, **kw})
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(resp.ResultImage))).convert("RGB"))

    one = image(Styles=["990"], Strength=0.5)
    two = image(Styles=["990"], Strength=0.5)
    assert one.shape == (64, 72, 3)
    # restyle seeds from the picture when the wire gives none: the same call gives the same image
    assert np.array_equal(one, two)
    other = image(Styles=["990"], Strength=0.5, Prompt="a dog")
    assert np.abs(one.astype(int) - other).mean() > 0.5
    image(Styles=["133"], Strength=0.2)
    log = srv.log()
    runs = re.findall(r"diffusion style (\d+): effective_steps=(\d+) \(asked (\d+)", log)
    assert ("990", "1", "3") in runs, log[-2000:]  # 0.5 x 3 steps: int(1.5) = 1 runs
    assert ("133", "1", "5") in runs, log[-2000:]  # 0.2 x 3 steps would run none: asked 5, 1 runs
