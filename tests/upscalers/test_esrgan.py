"""EnhanceImage ``esrgan``: the converted model reproduces the npm package's own sample, tiles are seamless,
the size never changes, and without onnxruntime the ``sharpen`` upscaler takes over."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from restyle import onnx_sessions
from restyle.upscalers import esrgan, sharpen
from tests.conftest import b64, encode, photo

pytestmark = pytest.mark.restyle_only
pytest.importorskip("onnxruntime")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "esrgan"


@pytest.fixture(scope="module")
def up() -> esrgan.Upscaler:
    return esrgan.Upscaler(threads=2)


def sharpness(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def test_model_is_small_and_licensed() -> None:
    path = esrgan.model_path()
    assert path.is_file() and path.stat().st_size < 1_000_000
    licences = (path.parent / "LICENSES.md").read_text("utf-8")
    assert "esrgan-slim-x2.onnx" in licences and "MIT" in licences


@pytest.mark.parametrize("tile", [128, 192, 1024])
def test_reproduces_the_package_reference_output(up: esrgan.Upscaler, tile: int) -> None:
    """``assets/fixture.png`` -> ``assets/samples/2x/result.png`` of @upscalerjs/esrgan-slim 1.0.0."""
    src = np.asarray(Image.open(FIXTURES / "fixture.png").convert("RGB"))
    want = np.asarray(Image.open(FIXTURES / "result-x2.png").convert("RGB"))
    up_tiled = esrgan.Upscaler(threads=2, tile=tile, overlap=16)
    got = up_tiled.upscale(src)
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
    assert got.shape == want.shape
    # one pass: within 1 level; tiled (8 px blends of two tiles' slightly different borders): within 2
    assert diff.max() <= (1 if tile >= src.shape[0] else 2), diff.max()
    assert diff.mean() < 0.05, diff.mean()


def test_tiles_have_no_seams(up: esrgan.Upscaler) -> None:
    img = photo("astronaut", (300, 260))
    whole = esrgan.Upscaler(threads=2, tile=512).upscale(img)
    tiled = esrgan.Upscaler(threads=2, tile=96, overlap=8).upscale(img)
    diff = np.abs(whole.astype(np.int16) - tiled.astype(np.int16))
    assert diff.mean() < 0.5 and diff.max() <= 16, (diff.mean(), diff.max())


@pytest.mark.parametrize(("width", "height"), [(51, 51), (768, 512), (333, 197)])
def test_same_size_and_sharper(up: esrgan.Upscaler, width: int, height: int) -> None:
    img = np.ascontiguousarray(cv2.GaussianBlur(photo("coffee", (width, height)), (0, 0), 1.2))
    out = up.enhance(img)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert sharpness(out) > 1.1 * sharpness(img)
    assert np.abs(out.astype(int) - img).mean() < 6  # a detail boost, not a different picture


def test_gentler_than_sharpen_on_jpeg_blocks(up: esrgan.Upscaler) -> None:
    img = photo("chelsea", (384, 384))
    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 40])
    assert ok
    blocky = np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_UNCHANGED))
    assert sharpness(blocky) < sharpness(up.enhance(blocky)) < sharpness(sharpen.Upscaler().enhance(blocky))


def test_falls_back_to_sharpen_without_onnxruntime(monkeypatch: pytest.MonkeyPatch) -> None:
    img = photo("rocket", (200, 150))
    monkeypatch.setattr(onnx_sessions, "version", lambda: None)
    u = esrgan.Upscaler()
    assert u.available() == (False, "onnxruntime is not installed (pip install 'restyle[onnx]')")
    assert np.array_equal(u.enhance(img), sharpen.Upscaler().enhance(img))


def test_falls_back_to_sharpen_without_model(tmp_path: Path) -> None:
    img = photo("rocket", (200, 150))
    u = esrgan.Upscaler(model=tmp_path / "missing.onnx")
    assert not u.available()[0]
    assert np.array_equal(u.enhance(img), sharpen.Upscaler().enhance(img))


def test_sdk_enhance_image_with_esrgan(make_server: object) -> None:
    from tests.wire import sdk

    srv = make_server(upscaler="esrgan", onnx_threads=2)  # type: ignore[operator]
    cli = sdk.client(sdk.Target(srv, srv.secret_id, srv.secret_key))
    src = photo("astronaut", (320, 240))
    # a style of smooth areas and lines (201 anime): a grainy one (104 watercolour paper) measures its grain
    params = {"InputImage": b64(encode(src, "PNG")), "Styles": ["201"], "LogoAdd": 0, "Strength": 0.5}
    plain = sdk.call(cli, params)
    enhanced = sdk.call(cli, {**params, "EnhanceImage": 1})
    a = np.asarray(Image.open(io.BytesIO(base64.b64decode(plain.ResultImage))).convert("RGB"))
    b = np.asarray(Image.open(io.BytesIO(base64.b64decode(enhanced.ResultImage))).convert("RGB"))
    assert a.shape == b.shape == (240, 320, 3)
    assert sharpness(b) > sharpness(a)
