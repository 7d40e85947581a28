"""Async jobs: Submit answer latency, queue throughput, and the cost of provenance per call.

    .venv/bin/python bench/bench_jobs.py [--submits 200] [--jobs 2000]

1. Submit latency: SubmitImageToImageJob through a real `restyle serve` (SQLite queue, and Redis
   queue when `redis-server` is installed), next to a synchronous ImageToImage of the same image.
   Jobs are held at their download (a gate) so Submit is measured against a busy node.
2. Queue throughput: submit + claim + finish cycles per second against each queue, in-process,
   one thread (no pipeline), and the end-to-end rate of tiny jobs through a server.
3. Provenance: `embed` per result (XMP label, C2PA manifest, both) on a 768x768 JPEG, next to the
   stylisation of that image (style 201), all in one process.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.api.test_admission import GatedImageServer  # noqa: E402
from tests.conftest import encode, photo, start_server  # noqa: E402
from tests.scale.backends import redis_binary, start_redis  # noqa: E402

from restyle.jobs import DONE, Finish, JobRecord  # noqa: E402
from restyle.jobs import sqlite as sqlite_queue  # noqa: E402

ROWS: list[tuple[str, str]] = []


def row(name: str, value: str) -> None:
    ROWS.append((name, value))
    print(f"  {name}: {value}", file=sys.stderr)


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"median {statistics.median(values) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def post(client: httpx.Client, srv: Any, action: str, params: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    body = json.dumps(params).encode()
    headers = srv.sign(body, action=action)
    t0 = time.perf_counter()
    reply = client.post(f"{srv.url}/", content=body, headers=headers)
    elapsed = time.perf_counter() - t0
    out: dict[str, Any] = reply.json()["Response"]
    if "Error" in out:
        raise RuntimeError(f"{action}: {out['Error']}")
    return elapsed, out


def bench_submit(tmp: Path, n: int, label: str, **settings: Any) -> None:
    tmp.mkdir(parents=True, exist_ok=True)
    gate = GatedImageServer(encode(photo("astronaut", (200, 200))))
    srv = start_server(tmp, requests_per_second=100000, jobs_max_waiting=n + 100, **settings)
    try:
        with httpx.Client(trust_env=False, timeout=60) as client:
            image = base64.b64encode(encode(photo("astronaut", (512, 512)))).decode()
            sync = [
                post(client, srv, "ImageToImage", {"InputImage": image, "LogoAdd": 0})[0] for _ in range(10)
            ]
            held = {"InputUrl": gate.url, "LogoAdd": 0}
            times = [post(client, srv, "SubmitImageToImageJob", held)[0] for _ in range(n)]
            inline = [post(client, srv, "SubmitImageToImageJob", {"InputImage": image})[0] for _ in range(20)]
        row(f"Submit answer, {label} queue, URL input ({n} calls, node busy)", ms(times))
        row(f"Submit answer, {label} queue, 512x512 base64 input (20)", ms(inline))
        row("ImageToImage (sync) of the 512x512 input, same node (10)", ms(sync))
    finally:
        gate.close()
        srv.stop()


def bench_queue(queue: Any, n: int, label: str) -> None:
    t0 = time.perf_counter()
    for _ in range(n):
        rec = JobRecord(
            job_id=str(uuid.uuid4()), account_id=f"a{_ % 7}", secret_id="s", params={"Styles": ["201"]}
        )
        queue.submit(rec, max_waiting=n)
    t_submit = time.perf_counter() - t0
    t0 = time.perf_counter()
    done = 0
    while True:
        accounts = queue.waiting_accounts()
        if not accounts:
            break
        got = queue.claim(accounts[0], node="bench", lease_s=30)
        if got is None:
            continue
        queue.finish(
            got.job_id,
            node="bench",
            outcome=Finish(DONE, result_key="k.jpg", result_expires_at=time.time() + 60),
        )
        done += 1
    t_run = time.perf_counter() - t0
    row(f"queue {label}: submit", f"{n / t_submit:,.0f} jobs/s")
    row(
        f"queue {label}: pick account + claim + finish",
        f"{done / t_run:,.0f} jobs/s ({done} jobs, 7 accounts)",
    )


def bench_end_to_end(tmp: Path, n: int) -> None:
    tmp.mkdir(parents=True, exist_ok=True)
    srv = start_server(tmp, requests_per_second=100000, jobs_max_waiting=n + 10, provenance="c2pa+xmp")
    try:
        tiny = base64.b64encode(encode(photo("coffee", (96, 72)))).decode()
        with httpx.Client(trust_env=False, timeout=60) as client:
            t0 = time.perf_counter()
            ids = [
                post(client, srv, "SubmitImageToImageJob", {"InputImage": tiny, "LogoAdd": 0})[1]["JobId"]
                for _ in range(n)
            ]
            pending = set(ids)
            while pending:
                for job_id in list(pending)[:20]:
                    state = post(client, srv, "QueryImageToImageJob", {"JobId": job_id})[1]["JobStatusCode"]
                    if state in ("4", "5"):
                        pending.discard(job_id)
                time.sleep(0.05)
            elapsed = time.perf_counter() - t0
            t0 = time.perf_counter()
            for _ in range(n // 2):
                post(client, srv, "ImageToImage", {"InputImage": tiny, "LogoAdd": 0})
            sync_rate = (n // 2) / (time.perf_counter() - t0)
        row(f"end to end: {n} tiny jobs (96x72) submitted and finished", f"{n / elapsed:.1f} jobs/s")
        row(f"same image, ImageToImage one call after another ({n // 2})", f"{sync_rate:.1f} calls/s")
    finally:
        srv.stop()


def bench_provenance(tmp: Path, calls: int, styles: tuple[str, ...] = ("201", "133")) -> None:
    """Each writer's ``embed`` per call next to the whole pipeline of the same 768x768 image, per style,
    interleaved (one call of each in turn) so load changes hit every column alike."""
    from restyle.config import Settings
    from restyle.pipeline.job import ImageRef, Job
    from restyle.pipeline.run import run
    from restyle.provenance import Chain, c2pa_manifest, xmp
    from restyle.service import build_service

    service = build_service(Settings(data_dir=tmp / "prov-data", provenance="none", moderator="none"))
    image = base64.b64encode(encode(photo("astronaut", (768, 768)))).decode()
    chain, key = c2pa_manifest.create_credentials(tmp / "prov")
    writers: dict[str, Any] = {
        "xmp": xmp.Writer(producer="restyle"),
        "c2pa": c2pa_manifest.Writer(chain.read_bytes(), key.read_bytes()),
        "c2pa, verified after signing (before)": c2pa_manifest.Writer(
            chain.read_bytes(), key.read_bytes(), verify_after_sign=True
        ),
    }
    writers["c2pa+xmp"] = Chain(writers["xmp"], writers["c2pa"])
    times: dict[str, list[float]] = {name: [] for name in [*styles, *writers]}
    jpeg, facts = b"", {}
    for i in range(calls // 2 + 3):
        for style in styles:
            job = Job(request_id=f"r{i}", source=ImageRef(base64=image), styles=[style], logo_add=0)
            t0 = time.perf_counter()
            result = run(job, service.plugins, service.limits)
            times[style].append(time.perf_counter() - t0)
            jpeg, facts = result.data, result.extra["effective"]
    names = list(writers)
    for i in range(calls * 3 + 3):  # the writers take turns, each first in line as often as the others
        for k in range(len(names)):
            name = names[(i + k) % len(names)]
            t0 = time.perf_counter()
            out = writers[name].embed(jpeg, "image/jpeg", facts, content_id=f"c{i}")
            times[name].append(time.perf_counter() - t0)
            if i == 0:
                row(f"provenance {name}: bytes added", f"+{len(out) - len(jpeg)}")
    med = {name: statistics.median(values[3:]) for name, values in times.items()}
    for style in styles:
        row(f"pipeline.run 768x768 style {style} (no provenance)", ms(times[style][3:]))
    fastest = min(styles, key=lambda s: med[s])
    for name in writers:
        row(
            f"provenance {name} per call",
            f"{ms(times[name][3:])}; {med[name] / med[fastest] * 100:.1f} % of style {fastest}",
        )
    row(
        "c2pa without / with verify-after-sign",
        f"{med['c2pa'] / med['c2pa, verified after signing (before)']:.2f}x the time",
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--submits", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--e2e", type=int, default=60)
    ap.add_argument("--provenance-calls", type=int, default=40)
    ap.add_argument("--only", choices=["provenance"], help="run one part")
    args = ap.parse_args()
    if args.only == "provenance":
        with tempfile.TemporaryDirectory() as d:
            bench_provenance(Path(d), args.provenance_calls)
        report()
        return
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "redis").mkdir()
        redis = start_redis(tmp / "redis") if redis_binary() else None
        try:
            bench_submit(tmp / "s1", args.submits, "SQLite")
            if redis is not None:
                bench_submit(
                    tmp / "s2",
                    args.submits,
                    "Redis",
                    jobs_queue="redis",
                    limiter="redis",
                    redis_url=redis.url,
                )
            bench_queue(sqlite_queue.Queue(tmp / "q.db"), args.jobs, "SQLite (synchronous=FULL)")
            if redis is not None:
                from restyle.jobs import redis as redis_queue

                bench_queue(redis_queue.Queue(redis.url, prefix="bench:"), args.jobs, "Redis")
            bench_end_to_end(tmp / "e2e", args.e2e)
            bench_provenance(tmp, args.provenance_calls)
        finally:
            if redis is not None:
                redis.stop()
    report()


def report() -> None:
    width = max(len(n) for n, _ in ROWS)
    print(f"{'measure':<{width}}  value")
    print("-" * (width + 40))
    for name, value in ROWS:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
