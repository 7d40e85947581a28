"""C2PA manifests and the AIGC XMP label, written by restyle and read back with c2pa-python's Reader."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import c2pa
import pytest
from PIL import Image

from restyle.provenance import Chain, c2pa_manifest, xmp
from restyle.provenance.verify import inspect
from tests.conftest import encode, photo

FACTS = {
    "Engine": "classic",
    "Model": "anime",
    "Version": "0.1.0",
    "Style": "201",
    "Strength": 0.6,
    "Resolution": "160x120",
    "Seed": 7,
}


@pytest.fixture(scope="module")
def writer(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    folder = tmp_path_factory.mktemp("prov")
    chain, key = c2pa_manifest.create_credentials(folder, organisation="restyle-test")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    signer = c2pa_manifest.Writer(chain.read_bytes(), key.read_bytes(), generator="restyle-test")
    return Chain(xmp.Writer(producer="restyle-test", propagator="unit"), signer)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_manifest_and_label_read_back(writer: Chain, fmt: str) -> None:
    src = encode(photo("coffee", (160, 120)), fmt)
    ctype = "image/png" if fmt == "PNG" else "image/jpeg"
    out = writer.embed(src, ctype, FACTS, content_id="req-123")
    assert Image.open(io.BytesIO(out)).size == (160, 120)  # still a valid image
    # c2pa-python's own reader
    reader = c2pa.Reader(ctype, io.BytesIO(out))
    store = json.loads(reader.json())
    assert reader.get_validation_state() in ("Valid", "Trusted")
    reader.close()
    manifest = store["manifests"][store["active_manifest"]]
    assert manifest["claim_generator_info"][0]["name"] == "restyle-test"
    (actions,) = [a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions")]
    (created,) = actions["data"]["actions"]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert created["parameters"]["Style"] == "201" and created["parameters"]["content_id"] == "req-123"
    codes = {s["code"] for s in store.get("validation_status", [])}
    assert codes <= {"signingCredential.untrusted"}, codes  # self-made CA: untrusted, otherwise valid
    # the AIGC label
    label = xmp.read_label(xmp.extract(out) or b"")
    aigc = label["AIGC"]
    assert (
        aigc["Label"] == "1" and aigc["ContentProducer"] == "restyle-test" and aigc["ProduceID"] == "req-123"
    )
    assert aigc["ContentPropagator"] == "unit" and aigc["ReservedCode1"].startswith("sha256:")
    assert label["EffectiveParameters"] == FACTS
    report = inspect(out)
    assert report.ok, report.problems


def test_tampered_pixels_are_reported(writer: Chain) -> None:
    out = bytearray(writer.embed(encode(photo("coffee", (160, 120))), "image/jpeg", FACTS, content_id="x"))
    out[-200] ^= 0xFF  # inside the entropy-coded data, covered by the hash binding
    report = inspect(bytes(out))
    assert not report.ok
    assert any("C2PA validation" in p for p in report.problems), report.problems


def test_plain_file_has_nothing() -> None:
    report = inspect(encode(photo("coffee", (160, 120))))
    assert not report.ok and report.c2pa is None and report.aigc is None


def test_verify_command(writer: Chain, tmp_path: Path) -> None:
    good = tmp_path / "good.jpg"
    good.write_bytes(writer.embed(encode(photo("coffee", (160, 120))), "image/jpeg", FACTS, content_id="cli"))
    plain = tmp_path / "plain.jpg"
    plain.write_bytes(encode(photo("coffee", (160, 120))))
    run = [sys.executable, "-m", "restyle", "verify"]
    ok = subprocess.run([*run, str(good), "--json"], capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert '"ProduceID": "cli"' in ok.stdout and "trainedAlgorithmicMedia" in ok.stdout
    bad = subprocess.run([*run, str(plain)], capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 1 and "none" in bad.stdout
