"""The nsfw image moderator: the shipped ONNX reproduces nsfwjs (TF.js), photos and styled results
pass, refusals carry the contract's codes, and a missing onnxruntime stops startup with a fix.

Reference: ``nsfwjs_reference.json`` holds nsfwjs 4.3.0's MobileNetV2 outputs computed by TF.js 4 (CPU
backend, node) on the inputs of ``_reference_inputs`` (scripts/convert_nsfwjs.py --check).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from restyle import errors
from restyle.moderators import nsfw
from tests.conftest import Server, encode, photo
from tests.hostile.conftest import FAST, call

HERE = Path(__file__).resolve().parent
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "hubble_deep_field", "immunohistochemistry")


def _reference_inputs() -> dict[str, np.ndarray]:
    """The 224×224 inputs of scripts/convert_nsfwjs.py --check, from the script itself."""
    spec = importlib.util.spec_from_file_location(
        "convert_nsfwjs", HERE.parents[1] / "scripts" / "convert_nsfwjs.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    images: dict[str, np.ndarray] = script.check_images()
    return images


@pytest.fixture(scope="module")
def moderator() -> nsfw.Moderator:
    return nsfw.Moderator()


def test_onnx_reproduces_the_tfjs_model(moderator: nsfw.Moderator) -> None:
    reference = json.loads((HERE / "nsfwjs_reference.json").read_text())
    session = moderator.classifier.session
    for name, img in _reference_inputs().items():
        got = session.run(["probs"], {"input": img[None].astype(np.float32) / 255.0})[0][0]
        np.testing.assert_allclose(got, reference[name], atol=1e-4, err_msg=name)


def test_model_file_is_small_and_licensed() -> None:
    path = nsfw.model_path()
    assert path.stat().st_size < 3_000_000
    assert "MIT License" in (path.parent / "LICENSE.nsfwjs").read_text()


@pytest.mark.parametrize("name", PHOTOS)
def test_photos_are_neutral_or_drawing(moderator: nsfw.Moderator, name: str) -> None:
    scores = moderator.classifier.scores(photo(name, None))
    assert max(scores, key=scores.__getitem__) in ("Neutral", "Drawing"), scores
    assert moderator.verdict(photo(name, None)) is None


def test_styled_results_pass(moderator: nsfw.Moderator) -> None:
    """No false positive on the output stage: every style of the catalogue on three photos."""
    from restyle import engines
    from restyle.config import Settings
    from restyle.pipeline import stylize
    from restyle.pipeline.job import ImageRef, Job
    from restyle.service import build_plugin, configured_catalogue

    settings = Settings()
    catalogue = configured_catalogue(settings)
    built: dict[str, engines.BaseEngine] = {}
    worst = (0.0, "")
    for style in catalogue.values():
        if style.engine not in built:
            built[style.engine] = build_plugin("engine", style.engine, engines.REGISTRY, settings)
        for name in ("astronaut", "chelsea", "camera"):
            job = Job(request_id="t", source=ImageRef(base64="x"), styles=[style.id])
            out = stylize.stylize(photo(name, (256, 256)), job, style, built, 1)
            scores = moderator.classifier.scores(out)
            assert moderator.verdict(out) is None, (style.id, name, scores)
            worst = max(worst, (max(scores["Porn"], scores["Hentai"]), f"{style.id}/{name}"))
    print(f"highest Porn/Hentai score on a styled result: {worst}")


def test_stage_decides_the_code_and_the_message_names_it() -> None:
    strict = nsfw.Moderator({"Neutral": 0.5})
    img = photo("coffee", (128, 128))
    with pytest.raises(errors.ImageIllegalDetected, match=r"stage: input, category: Neutral"):
        strict.check_image(img, "input")
    with pytest.raises(errors.GenerateImageFailed, match=r"stage: output, category: Neutral"):
        strict.check_image(img, "output")


@pytest.mark.parametrize("bad", [{"Nude": 0.5}, {"Porn": 0.0}, {"Porn": 1.5}])
def test_thresholds_are_validated(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="nsfw threshold"):
        nsfw.Moderator(bad)


def test_tiny_and_huge_images_are_classified() -> None:
    m = nsfw.Moderator()
    for shape in ((51, 51, 3), (4000, 60, 3), (60, 4000, 3)):
        scores = m.classifier.scores(np.full(shape, 128, np.uint8))
        assert abs(sum(scores.values()) - 1) < 1e-4


def test_through_the_server(make_server: Callable[..., Server]) -> None:
    """wordlist+nsfw with a strict Neutral threshold: photos refused at input; texts still checked."""
    srv = make_server(moderator="wordlist+nsfw", nsfw_thresholds={"Neutral": 0.5}, **FAST)
    image = base64.b64encode(encode(photo("coffee", (128, 128)))).decode()
    reply = call(srv, {"InputImage": image})
    assert reply.code == "OperationDenied.ImageIllegalDetected", reply
    assert "stage: input" in reply.message and "Neutral" in reply.message
    assert call(srv, {"InputImage": image, "Prompt": "nude"}).code == "OperationDenied.TextIllegalDetected"


def test_output_stage_through_the_server(make_server: Callable[..., Server]) -> None:
    """A photo passes the input stage; style 908 paints it (Drawing ≈ 0.99) and the output is refused."""
    srv = make_server(moderator="nsfw", nsfw_thresholds={"Drawing": 0.9}, **FAST)
    image = base64.b64encode(encode(photo("astronaut", (256, 256)))).decode()
    reply = call(srv, {"InputImage": image, "Styles": ["908"]})
    if reply.code == "InvalidParameterValue.ParameterValueError":
        pytest.skip("style 908 is not in this catalogue")
    assert reply.code == "FailedOperation.GenerateImageFailed", reply
    assert "stage: output" in reply.message and "Drawing" in reply.message
    assert call(srv, {"InputImage": image, "Styles": ["201"], "LogoAdd": 0}).code == "OK"


def test_default_moderator_is_wordlist_plus_nsfw() -> None:
    from restyle.config import Settings

    assert Settings().moderator == "wordlist+nsfw"


def test_missing_onnxruntime_stops_startup_with_the_fix(tmp_path: Path) -> None:
    """An onnxruntime that cannot be imported: building the moderator fails, naming what to install."""
    blocker = tmp_path / "onnxruntime"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('blocked for this test')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", "from restyle.moderators.nsfw import Moderator; Moderator()"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert out.returncode != 0
    assert "moderator nsfw needs onnxruntime: pip install onnxruntime" in out.stderr
