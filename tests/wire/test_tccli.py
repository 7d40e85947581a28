"""tccli 3.1.171.1 (the last with ``aiart ImageToImage``) against restyle, as contract §7 describes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.wire.conftest import ImageHost
from tests.wire.media import jpeg, open_jpeg, result_jpeg
from tests.wire.sdk import PROXY_VARS, Target

pytestmark = pytest.mark.derived_from_docs

ROOT = Path(__file__).resolve().parents[2]
TCCLI = Path(os.environ.get("TCCLI", ROOT / ".venv-tccli" / "bin" / "tccli"))


@pytest.fixture(scope="module")
def tccli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not TCCLI.exists():
        pytest.fail(f"tccli not found at {TCCLI}: run ./scripts/install --dev (or set TCCLI)")
    return tmp_path_factory.mktemp("tccli-home")


def tccli(target: Target, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS and not k.startswith("TENCENTCLOUD_")}
    env.update(
        HOME=str(home),
        TENCENTCLOUD_SECRET_ID=target.secret_id,
        TENCENTCLOUD_SECRET_KEY=target.secret_key,
    )
    cmd = [
        str(TCCLI),
        "aiart",
        "ImageToImage",
        *args,
        "--region",
        "ap-singapore",
        "--endpoint",
        f"http://127.0.0.1:{target.port}",
    ]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, check=False)


def test_json_argument_form(wire: Target, images: ImageHost, tccli_home: Path) -> None:
    url = images.add("/tccli/json.jpg", jpeg(160, 120))
    out = tccli(
        wire,
        tccli_home,
        "--InputUrl",
        url,
        "--Prompt",
        "女孩",
        "--Styles",
        '["201"]',
        "--ResultConfig",
        '{"Resolution":"768:768"}',
        "--Strength",
        "0.6",
    )
    assert out.returncode == 0, out.stderr
    reply = json.loads(out.stdout)  # the Response object, without the wrapper
    assert reply["RequestId"]
    assert result_jpeg(reply["ResultImage"]).size == (768, 768)


def test_unfolded_argument_form_with_url_result(wire: Target, images: ImageHost, tccli_home: Path) -> None:
    url = images.add("/tccli/unfold.jpg", jpeg(200, 150))
    logo = images.add("/tccli/logo.png", jpeg(64, 32))
    out = tccli(
        wire,
        tccli_home,
        "--cli-unfold-argument",
        "--InputUrl",
        url,
        "--Styles",
        "201",
        "--ResultConfig.Resolution",
        "1024:768",
        "--LogoParam.LogoUrl",
        logo,
        "--LogoParam.LogoRect.X",
        "10",
        "--LogoParam.LogoRect.Y",
        "10",
        "--LogoParam.LogoRect.Width",
        "64",
        "--LogoParam.LogoRect.Height",
        "32",
        "--RspImgType",
        "url",
    )
    assert out.returncode == 0, out.stderr
    reply = json.loads(out.stdout)
    link = reply["ResultImage"]
    # tccli sends `Host: http://127.0.0.1:PORT`; the link must still be a plain URL to this server
    assert urlsplit(link).netloc == f"127.0.0.1:{wire.port}", link
    with httpx.Client(trust_env=False, timeout=10) as http:
        got = http.get(link)
    assert got.status_code == 200
    assert open_jpeg(got.content).size == (1024, 768)


def test_error_exits_non_zero_with_the_code(wire: Target, tccli_home: Path) -> None:
    out = tccli(wire, tccli_home, "--Prompt", "猫")
    assert out.returncode != 0
    assert "[TencentCloudSDKException]" in out.stderr
    assert "code:InvalidParameterValue.ImageEmpty" in out.stderr
    assert "requestId:" in out.stderr


def test_unfolded_array_style_conflict(wire: Target, images: ImageHost, tccli_home: Path) -> None:
    """Unfolded, an array is given as separate words: ``--Styles 104 201``."""
    url = images.add("/tccli/conflict.jpg", jpeg(96, 96))
    out = tccli(wire, tccli_home, "--cli-unfold-argument", "--InputUrl", url, "--Styles", "104", "201")
    assert out.returncode != 0
    assert "code:InvalidParameterValue.StyleConflict" in out.stderr
