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

from tests.conftest import cli, encode, free_port, photo

pytestmark = pytest.mark.restyle_only


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


def test_version_and_help_without_type_noise() -> None:
    from restyle import __version__

    out = cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"restyle {__version__}"
    helptext = cli("stylize", "--help").stdout
    assert "--enhance / --no-enhance" in helptext and "<bool>" not in helptext


def test_stylize_unreadable_input_or_unknown_style_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = cli("stylize", str(tmp_path / "nope.jpg"), cwd=tmp_path)
    assert missing.returncode == 2
    assert (
        missing.stderr.strip()
        == f"restyle stylize: cannot read {tmp_path / 'nope.jpg'}: No such file or directory"
    )
    src = tmp_path / "in.jpg"
    src.write_bytes(encode(photo("coffee", (64, 48))))
    unknown = cli("stylize", str(src), "-s", "999", cwd=tmp_path)
    assert unknown.returncode == 2 and "`restyle styles` lists them" in unknown.stderr
    assert "Traceback" not in missing.stderr + unknown.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jpg"]


def test_stylize_into_a_folder_with_several_styles_leaves_nothing_behind(tmp_path: Path) -> None:
    src = tmp_path / "in.jpg"
    src.write_bytes(encode(photo("coffee", (96, 64))))
    r = cli("stylize", str(src), "-s", "201,133", "-s", "132", "-o", "res/", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "res").iterdir()) == ["in-132.jpg", "in-133.jpg", "in-201.jpg"]
    existing = tmp_path / "existing"
    existing.mkdir()
    assert cli("stylize", str(src), "-o", str(existing), cwd=tmp_path).returncode == 0
    assert [p.name for p in existing.iterdir()] == ["in-201.jpg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing", "in.jpg", "res"]  # no .restyle-cli/


def test_key_commands_name_their_data_folder_and_never_create_an_empty_one(tmp_path: Path) -> None:
    d = tmp_path / "data"
    for args in (["keys", "list"], ["keys", "disable", "AKIDx"], ["accounts", "set", "a", "--quota", "1"]):
        r = cli(*args, "--data-dir", str(d))
        assert r.returncode == 2 and f"no restyle data in {d}" in r.stderr, (args, r.stderr)
        assert not d.exists()
    assert cli("keys", "create", "--data-dir", str(d)).returncode == 0
    listing = cli("keys", "list", "--data-dir", str(d))
    assert listing.returncode == 0 and f"data folder: {d}" in listing.stderr


def test_sign_without_credentials_names_the_variables() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENCENTCLOUD_")}
    r = subprocess.run(
        [sys.executable, "-m", "restyle", "sign", "{}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2
    assert "TENCENTCLOUD_SECRET_ID" in r.stderr and "TENCENTCLOUD_SECRET_KEY" in r.stderr and not r.stdout


def test_doctor_prints_install_hints_literally(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from restyle import cli as cli_module
    from restyle import doctor

    hint = "not installed (pip install 'restyle[diffusion]')"
    monkeypatch.setattr(
        doctor, "run_checks", lambda settings: [doctor.Check("engine", "diffusion", False, hint)]
    )
    monkeypatch.setattr(doctor, "gpu_summary", lambda checks: "no GPU")
    result = CliRunner().invoke(cli_module.app, ["doctor"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "pip install 'restyle[diffusion]'" in result.output
