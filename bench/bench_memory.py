"""Peak memory of one `restyle serve` process under the heaviest legal load: 3 accounts × 3 jobs
(9 concurrent calls, the per-account limit) of 4999×4999 inputs, each under 8 MiB of base64.

    .venv/bin/python bench/bench_memory.py [--formats jpeg png] [--resolution origin]

For each input format a fresh server is started (so its high-water mark is this scenario's), the 9
calls are sent at once, and the server's peak resident set size is read from /proc/<pid>/status
(VmHWM). Target: 1.5 GiB. Inputs are made here: a smooth photo (scikit-image astronaut) upscaled to
4999×4999 as JPEG, and a smooth synthetic image as PNG (a photo that size does not fit 8 MiB as PNG).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import Server, photo, start_server  # noqa: E402

from restyle.api.signing import sign_tc3_headers  # noqa: E402

MiB = 1024 * 1024
SIDE = 4999
TARGET = int(1.5 * 1024 * MiB)
B64_LIMIT = 8 * MiB


def jpeg_input() -> bytes:
    img = Image.fromarray(photo("astronaut", None)).resize((SIDE, SIDE), Image.Resampling.BICUBIC)
    img = img.filter(ImageFilter.GaussianBlur(1))
    for quality in (98, 95, 92, 88, 84, 80, 75, 70, 60):  # the largest file that fits
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=quality)
        if len(base64.b64encode(buf.getvalue())) < B64_LIMIT:
            return buf.getvalue()
    msg = "no JPEG quality fits 8 MiB of base64"
    raise SystemExit(msg)


def png_input() -> bytes:
    """Smooth gradients + a few soft shapes: PNG's filters make this compress far under 8 MiB."""
    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) / SIDE
    rgb = np.stack([x * 255, y * 255, (1 - x) * (1 - y) * 255], axis=2)
    for cx, cy, r in ((0.3, 0.3, 0.15), (0.7, 0.6, 0.2)):
        mask = ((x - cx) ** 2 + (y - cy) ** 2) < r * r
        rgb[mask] = rgb[mask] * 0.5 + 100
    buf = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buf, format="PNG", optimize=False, compress_level=9)
    data = buf.getvalue()
    if len(base64.b64encode(data)) >= B64_LIMIT:
        msg = f"the PNG is {len(data)} bytes; over 8 MiB as base64"
        raise SystemExit(msg)
    return data


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def create_keys(srv: Server, n: int) -> list[tuple[str, str]]:
    keys = [(srv.secret_id, srv.secret_key)]
    for i in range(1, n):
        out = srv.restyle("keys", "create", "--account", f"bench-{i}")
        pair = json.loads(out.stdout)
        keys.append((pair["SecretId"], pair["SecretKey"]))
    return keys


def post(srv: Server, key: tuple[str, str], params: dict[str, object]) -> tuple[str, float]:
    body = json.dumps(params).encode()
    headers = sign_tc3_headers(
        secret_id=key[0], secret_key=key[1], host=srv.endpoint, body=body, timestamp=int(time.time())
    )
    t0 = time.perf_counter()
    with httpx.Client(trust_env=False, timeout=300) as http:
        resp = http.post(f"{srv.url}/", content=body, headers=headers)
    payload = resp.json()["Response"]
    return payload.get("Error", {}).get("Code", "OK"), time.perf_counter() - t0


def scenario(name: str, data: bytes, args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    (tmp / name).mkdir(parents=True, exist_ok=True)
    extra = {"compute_threads": args.compute_threads} if args.compute_threads else {}
    srv = start_server(tmp / name, requests_per_second=100, job_timeout_s=300, **extra)
    try:
        keys = create_keys(srv, args.accounts)
        text = base64.b64encode(data).decode()
        params = {"InputImage": text, "ResultConfig": {"Resolution": args.resolution}, "Styles": [args.style]}
        idle = status_kib(srv.proc.pid, "VmRSS")
        peak_seen = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak_seen
            while not stop.wait(0.05):
                peak_seen = max(peak_seen, status_kib(srv.proc.pid, "VmRSS"))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        jobs = [k for k in keys for _ in range(args.jobs)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(len(jobs)) as pool:
            results = list(pool.map(lambda k: post(srv, k, params), jobs))
        wall = time.perf_counter() - t0
        stop.set()
        sampler.join()
        hwm = status_kib(srv.proc.pid, "VmHWM")
    finally:
        srv.stop()
    codes: dict[str, int] = {}
    for code, _ in results:
        codes[code] = codes.get(code, 0) + 1
    return {
        "input": name,
        "bytes": len(data),
        "b64": len(text),
        "calls": len(jobs),
        "codes": ", ".join(f"{c}×{n}" for c, n in codes.items()),
        "wall": wall,
        "slowest": max(s for _, s in results),
        "idle_mib": idle / 1024,
        "peak_mib": hwm / 1024,
        "sampled_mib": peak_seen / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--formats", nargs="+", default=["jpeg", "png"], choices=["jpeg", "png"])
    ap.add_argument("--accounts", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=3, help="concurrent jobs per account")
    ap.add_argument("--resolution", default="origin")
    ap.add_argument("--style", default="201")
    ap.add_argument("--compute-threads", type=int, default=0, help="RESTYLE_COMPUTE_THREADS (0 = CPU count)")
    args = ap.parse_args()
    makers = {"jpeg": jpeg_input, "png": png_input}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats:
            data = makers[fmt]()
            print(
                f"{fmt}: {SIDE}x{SIDE}, {len(data) / MiB:.2f} MiB ({len(base64.b64encode(data)) / MiB:.2f} MiB base64)",
                flush=True,
            )
            rows.append(scenario(fmt, data, args, Path(tmp)))
    print()
    print(
        f"{args.accounts} accounts x {args.jobs} jobs of {SIDE}x{SIDE}, Resolution={args.resolution}, style {args.style}"
    )
    print(
        "| input | base64 MiB | calls | codes | wall s | slowest s | idle RSS MiB | peak RSS (VmHWM) MiB | target MiB | within |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ok = "yes" if r["peak_mib"] * MiB <= TARGET else "NO"  # type: ignore[operator]
        print(
            f"| {r['input']} | {r['b64'] / MiB:.2f} | {r['calls']} | {r['codes']} | {r['wall']:.1f} | "  # type: ignore[operator]
            f"{r['slowest']:.1f} | {r['idle_mib']:.0f} | {r['peak_mib']:.0f} | {TARGET / MiB:.0f} | {ok} |"
        )


if __name__ == "__main__":
    main()
