"""The ``restyle`` command line: keys, styles, stylize, sign, config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.conftest import encode, free_port, photo

pytestmark = pytest.mark.restyle_only


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "restyle", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_keys_lifecycle(tmp_path: Path) -> None:
    d = str(tmp_path / "data")
    out = cli("keys", "create", "--account", "acme", "--data-dir", d)
    assert out.returncode == 0, out.stderr
    key = json.loads(out.stdout)
    assert key["SecretId"].startswith("AKID") and len(key["SecretKey"]) >= 32
    listing = cli("keys", "list", "--data-dir", d)
    assert key["SecretId"] in listing.stdout and key["SecretKey"] not in listing.stdout
    assert cli("keys", "disable", key["SecretId"], "--data-dir", d).returncode == 0
    assert "disabled" in cli("keys", "list", "--data-dir", d).stdout
    assert cli("keys", "enable", key["SecretId"], "--data-dir", d).returncode == 0
    assert cli("keys", "delete", key["SecretId"], "--data-dir", d).returncode == 0
    assert cli("keys", "delete", key["SecretId"], "--data-dir", d).returncode == 1


def test_styles_lists_the_catalogue() -> None:
    out = cli("styles")
    assert out.returncode == 0
    for sid in ("201", "104", "133", "210"):
        assert sid in out.stdout


def test_stylize_single_and_batch(tmp_path: Path) -> None:
    src = tmp_path / "in.png"
    src.write_bytes(encode(photo("coffee", (300, 200)), "PNG"))
    out = tmp_path / "out.jpg"
    r = cli("stylize", str(src), "--style", "132", "-o", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with Image.open(out) as im:
        assert im.format == "JPEG" and im.size == (300, 200)
    second = tmp_path / "in2.jpg"
    second.write_bytes(encode(photo("chelsea", (200, 160))))
    folder = tmp_path / "batch"
    r = cli(
        "stylize",
        str(src),
        str(second),
        "--style",
        "201",
        "--resolution",
        "768:768",
        "-o",
        str(folder),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["in-201.jpg", "in2-201.jpg"]
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    r = cli("stylize", str(bad), "-o", str(tmp_path / "x.jpg"), cwd=tmp_path)
    assert r.returncode == 1 and "ImageDecodeFailed" in r.stderr


def test_first_serve_creates_and_prints_a_key_once(tmp_path: Path) -> None:
    port = free_port()
    d = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "restyle", "serve", "--port", str(port), "--data-dir", str(d)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        text = "".join(lines)
        assert "SecretId:" in text and "SecretKey:" in text
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
        listing = cli("keys", "list", "--data-dir", str(d))
        assert listing.stdout.count("AKID") == 1
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_sign_prints_a_working_curl(server: object) -> None:
    from tests.conftest import Server

    srv: Server = server  # type: ignore[assignment]
    body = json.dumps({"InputImage": "bm90IGFuIGltYWdl"})
    r = cli(
        "sign",
        body,
        "--endpoint",
        srv.endpoint,
        env={"TENCENTCLOUD_SECRET_ID": srv.secret_id, "TENCENTCLOUD_SECRET_KEY": srv.secret_key},
    )
    assert r.returncode == 0 and r.stdout.startswith("curl")
    reply = subprocess.run(["bash", "-c", r.stdout], capture_output=True, text=True, timeout=30, check=False)
    assert json.loads(reply.stdout)["Response"]["Error"]["Code"] == "FailedOperation.ImageDecodeFailed"


def test_config_lists_every_setting() -> None:
    out = cli("config")
    assert out.returncode == 0
    assert "RESTYLE_JOBS_PER_ACCOUNT" in out.stdout and "RESTYLE_RESULT_TTL_S" in out.stdout
