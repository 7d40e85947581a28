"""Server overhead per call vs a direct in-process pipeline call on the same image, side by side,
and the latency of admission rejections (JobNumExceed, RequestLimitExceeded).

    .venv/bin/python bench/bench_overhead.py [--calls 30]

Overhead = median(HTTP call through a real `restyle serve` process) - median(direct pipeline.run)
covers signing verification, admission, JSON parsing, validation, the envelope and loopback HTTP.
Both paths decode the same base64 JPEG, stylise, label and encode the same way.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.api.test_admission import GatedImageServer  # noqa: E402
from tests.conftest import Server, encode, photo, start_server  # noqa: E402

from restyle.config import Settings  # noqa: E402
from restyle.pipeline.job import ImageRef, Job  # noqa: E402
from restyle.pipeline.run import run  # noqa: E402
from restyle.service import build_service  # noqa: E402


def prepare(srv: Server, params: dict[str, object]) -> tuple[bytes, dict[str, str]]:
    """Body and signed headers, built before timing so client-side work is not counted."""
    body = json.dumps(params).encode()
    return body, srv.sign(body)


LAST_TIMING: dict[str, float] = {}


def timed_post(
    client: httpx.Client, srv: Server, params: dict[str, object]
) -> tuple[float, dict[str, object]]:
    body, headers = prepare(srv, params)
    t0 = time.perf_counter()
    reply = client.post(f"{srv.url}/", content=body, headers=headers)
    elapsed = time.perf_counter() - t0
    LAST_TIMING.clear()
    for part in reply.headers.get("server-timing", "").split(","):
        name, _, dur = part.strip().partition(";dur=")
        if dur:
            LAST_TIMING[name] = float(dur) / 1000
    return elapsed, json.loads(reply.content)["Response"]  # type: ignore[no-any-return]


def signed_post(client: httpx.Client, srv: Server, params: dict[str, object]) -> dict[str, object]:
    return timed_post(client, srv, params)[1]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--style", default="201")
    args = ap.parse_args()
    image_b64 = base64.b64encode(encode(photo("astronaut", (768, 768)), quality=90)).decode()
    params = {"InputImage": image_b64, "Styles": [args.style], "ResultConfig": {"Resolution": "768:768"}}

    tmp = Path(tempfile.mkdtemp(prefix="restyle-bench-"))
    service = build_service(Settings(data_dir=tmp / "direct", storage="memory"))
    srv = start_server(tmp, requests_per_second=10_000)
    rows: list[tuple[str, str]] = []
    try:
        direct: list[float] = []
        stylize: list[float] = []
        http: list[float] = []
        server_stylize: list[float] = []
        wire: list[float] = []  # total - pipeline: auth, admission, parsing, validation, envelope
        overhead_enc: list[float] = []  # + encode and base64 delivery
        steps: list[float] = []  # the chain steps themselves (Server-Timing chain.*, provider excluded)
        with httpx.Client(timeout=60) as client:
            for _ in range(3):  # warm up both paths
                run(
                    Job("w", ImageRef(base64=image_b64), [args.style], resolution="768:768"),
                    service.plugins,
                    service.limits,
                )
                signed_post(client, srv, params)
            for i in range(args.calls):  # interleaved, so machine noise hits both alike
                job = Job(f"d{i}", ImageRef(base64=image_b64), [args.style], resolution="768:768")
                t0 = time.perf_counter()
                result = run(job, service.plugins, service.limits)
                direct.append(time.perf_counter() - t0)
                stylize.append(result.timings_ms["stylize"] / 1000)
                elapsed, reply = timed_post(client, srv, params)
                http.append(elapsed)
                t = LAST_TIMING
                server_stylize.append(t["stylize"])
                wire.append(t["total"] - t["pipeline"])
                steps.append(
                    sum(v for k, v in t.items() if k.startswith("chain.") and k != "chain.call_provider")
                )
                overhead_enc.append(t["total"] - t["pipeline"] + t["encode"] + t["deliver"])
                assert "ResultImage" in reply, reply
        ratios = [o / s for o, s in zip(overhead_enc, server_stylize, strict=True)]
        rows += [
            (f"direct: stylise only (engine, 768², style {args.style})", f"{median_ms(stylize):8.1f} ms"),
            ("direct: pipeline.run (decode..encode)", f"{median_ms(direct):8.1f} ms"),
            ("HTTP: whole call seen by the client", f"{median_ms(http):8.1f} ms"),
            ("HTTP: stylise step inside the server", f"{median_ms(server_stylize):8.1f} ms"),
            (
                "server wire overhead (auth, admission, parse, validate, envelope)",
                f"{median_ms(wire):8.2f} ms",
            ),
            (
                "  of which the chain steps (headers, signature, account, admission, parse)",
                f"{median_ms(steps):8.2f} ms",
            ),
            ("server overhead incl. encode + base64", f"{median_ms(overhead_enc):8.2f} ms"),
            (
                "overhead incl. encode / stylise (median per call)",
                f"{statistics.median(ratios) * 100:8.2f} %",
            ),
            ("HTTP call - direct pipeline (client view)", f"{median_ms(http) - median_ms(direct):8.1f} ms"),
        ]

        # admission rejections while the account's 3 slots are held by jobs blocked on a download
        gated = GatedImageServer(encode(photo("astronaut", (200, 200))))
        try:
            holders = [
                threading.Thread(target=lambda: httpx_post_quiet(srv, {"InputUrl": gated.url}), daemon=True)
                for _ in range(3)
            ]
            for t in holders:
                t.start()
            while gated.arrived < 3:
                time.sleep(0.01)
            rejected: list[float] = []
            with httpx.Client(timeout=30) as client:
                for _ in range(args.calls):
                    elapsed, reply = timed_post(client, srv, params)
                    rejected.append(elapsed)
                    assert reply["Error"]["Code"] == "RequestLimitExceeded.JobNumExceed", reply  # type: ignore[index]
            rows.append(("JobNumExceed answer (10 MB-class body, signed)", f"{median_ms(rejected):8.1f} ms"))
            small: list[float] = []
            with httpx.Client(timeout=30) as client:
                for _ in range(args.calls):
                    elapsed, reply = timed_post(client, srv, {"InputUrl": "http://127.0.0.1:9/x.jpg"})
                    small.append(elapsed)
            rows.append(("JobNumExceed answer (small body)", f"{median_ms(small):8.1f} ms"))
        finally:
            gated.release()
            for t in holders:
                t.join(30)
            gated.close()
        limited = start_server(tmp, requests_per_second=1)
        try:
            lat: list[float] = []
            with httpx.Client(timeout=30) as client:
                signed_post(client, limited, {"InputUrl": "http://127.0.0.1:9/x.jpg"})
                for _ in range(args.calls):
                    elapsed, reply = timed_post(client, limited, {"InputUrl": "http://127.0.0.1:9/x.jpg"})
                    lat.append(elapsed)
                    assert reply["Error"]["Code"] == "RequestLimitExceeded", reply  # type: ignore[index]
            rows.append(("RequestLimitExceeded answer (small body)", f"{median_ms(lat):8.1f} ms"))
        finally:
            limited.stop()
    finally:
        srv.stop()
        service.close()
    width = max(len(r[0]) for r in rows)
    print(f"{f'measure (median of {args.calls})':<{width}}  value")
    print("-" * (width + 14))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def httpx_post_quiet(srv: Server, params: dict[str, object]) -> None:
    with httpx.Client(timeout=60) as client:
        signed_post(client, srv, params)


if __name__ == "__main__":
    main()
