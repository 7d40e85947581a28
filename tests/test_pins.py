"""Dependencies are pinned: scripts/install and scripts/test take versions from constraints files or ==."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pip_installs() -> list[tuple[str, list[str]]]:
    out = []
    # scripts/lock is the deliberate upgrade: it resolves the newest versions and writes the pins
    for script in (ROOT / "scripts/install", ROOT / "scripts/test"):
        text = script.read_text("utf-8").replace("\\\n", " ")  # continuation lines joined
        for line in text.splitlines():
            if "pip install" in line and not line.lstrip().startswith("#"):
                command = line.split("pip install", 1)[1].split(" #")[0].split(">")[0].split("||")[0]
                out.append((f"{script.name}: {line.strip()}", shlex.split(command)))
    return out


def test_every_install_is_pinned() -> None:
    installs = pip_installs()
    assert installs, "no pip install found in scripts/"
    for where, args in installs:
        constraints = [args[i + 1] for i, a in enumerate(args) if a == "-c" and i + 1 < len(args)]
        for c in constraints:
            assert (ROOT / c).is_file() or c.startswith("$"), f"{where}: {c} does not exist"
        wanted = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "-c")]
        for req in wanted:
            if req.startswith(".") or req == "pip":  # restyle itself; pip upgrades itself
                continue
            pinned = "==" in req or bool(constraints)
            assert pinned, f"{where}: {req} is installed without a pin"


def test_ray_pins_exist_for_everything_ray_adds() -> None:
    pins = (ROOT / "constraints-ray.txt").read_text("utf-8").splitlines()
    names = {re.split(r"==", p)[0].lower() for p in pins if p and not p.startswith("#")}
    assert {"ray", "fastapi", "grpcio", "aiohttp"} <= names
    assert all("==" in p for p in pins if p and not p.startswith("#"))
