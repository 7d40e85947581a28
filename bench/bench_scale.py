"""Scale-out on loopback: throughput of 1 vs 2 API nodes sharing Redis admission, and the latency of
admission rejections (JobNumExceed) with the Redis limiter vs the in-process one.

    .venv/bin/python bench/bench_scale.py [--calls 40] [--clients 4] [--size 512] [--compute-threads 1]

Throughput: the same fixed job (a --size² JPEG, style 201, base64 result, no label) sent by --clients
concurrent clients, --calls calls in all (and at most --max-seconds), round-robin over the nodes.
Every node runs with RESTYLE_COMPUTE_THREADS=--compute-threads and the nodes share one Redis; the
account may run --clients jobs at once so admission does not cap the measurement.

Admission latency: the account's 3 slots are held by jobs waiting on a gated loopback download; then
--rejects calls are answered JobNumExceed; the median client-side time is reported.
Everything runs on 127.0.0.1; servers are stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.api.test_admission import GatedImageServer  # noqa: E402
from tests.conftest import Server, encode, photo, start_server  # noqa: E402
from tests.scale.backends import start_redis  # noqa: E402


def post(client: httpx.Client, srv: Server, params: dict[str, object]) -> tuple[float, str]:
    body = json.dumps(params).encode()
    headers = srv.sign(body)
    t0 = time.perf_counter()
    reply = client.post(f"{srv.url}/", content=body, headers=headers, timeout=120)
    elapsed = time.perf_counter() - t0
    resp = json.loads(reply.content)["Response"]
    return elapsed, str(resp.get("Error", {}).get("Code", "OK"))


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def pin(server: Server, core: int) -> None:
    """Pin every thread of a node to one core (threads it starts later inherit it)."""
    for task in Path(f"/proc/{server.proc.pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), {core})
        except (ProcessLookupError, PermissionError):
            continue


def throughput(
    nodes: list[Server], args: argparse.Namespace, params: dict[str, object]
) -> tuple[float, int, float]:
    """Calls per second over ``nodes``, how many calls succeeded, and machine CPU use (cores busy)."""
    counter = iter(range(args.calls))
    lock = threading.Lock()
    ok = [0]
    deadline = time.monotonic() + args.max_seconds

    def worker(w: int) -> None:
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                _, code = post(client, nodes[i % len(nodes)], params)
                if code == "OK":
                    with lock:
                        ok[0] += 1

    # warm-up: one call per node (imports, first-use caches)
    with httpx.Client() as client:
        for n in nodes:
            post(client, n, params)
    busy0, total0 = cpu_times()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(worker, range(args.clients)))
    elapsed = time.perf_counter() - t0
    busy1, total1 = cpu_times()
    cores = (os.cpu_count() or 1) * (busy1 - busy0) / max(1.0, total1 - total0)
    return ok[0] / elapsed, ok[0], cores


def rejection_latency(node: Server, gated: GatedImageServer, rejects: int) -> float:
    """Median ms of JobNumExceed answers while the account's 3 slots are held."""
    hold = {"InputUrl": gated.url, "Styles": ["201"]}
    small = {"InputImage": base64.b64encode(encode(photo("coffee", (160, 120)))).decode()}
    samples: list[float] = []
    with ThreadPoolExecutor(3) as pool, httpx.Client() as client:
        holders = [pool.submit(post, httpx.Client(), node, hold) for _ in range(3)]
        deadline = time.monotonic() + 20
        while gated.arrived < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        for _ in range(5):  # warm-up
            post(client, node, small)
        for _ in range(rejects):
            elapsed, code = post(client, node, small)
            if code != "RequestLimitExceeded.JobNumExceed":
                msg = f"expected JobNumExceed, got {code}"
                raise RuntimeError(msg)
            samples.append(elapsed)
        gated.release()
        for h in holders:
            h.result(timeout=30)
    return statistics.median(samples) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--compute-threads", type=int, default=1)
    ap.add_argument(
        "--opencv-threads",
        type=int,
        default=1,
        help="OpenCV threads per node (1: one node = one core of work)",
    )
    ap.add_argument("--max-seconds", type=float, default=60.0)
    ap.add_argument(
        "--pin", action="store_true", help="pin node i to core i, so 1 node = 1 core and 2 nodes = 2 cores"
    )
    ap.add_argument("--rejects", type=int, default=100)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="restyle-bench-scale-"))
    redis = start_redis(tmp)
    servers: list[Server] = []
    try:
        common = {
            "limiter": "redis",
            "redis_url": redis.url,
            "jobs_per_account": max(3, args.clients),
            "requests_per_second": 10000,
            "compute_threads": args.compute_threads,
            "opencv_threads": args.opencv_threads,
            "log_level": "warning",
        }
        servers = [start_server(tmp, **common, redis_prefix="tp:") for _ in range(2)]
        if args.pin:
            for i, node in enumerate(servers):
                pin(node, i % (os.cpu_count() or 1))
        image = base64.b64encode(encode(photo("astronaut", (args.size, args.size)))).decode()
        params = {"InputImage": image, "Styles": ["201"], "LogoAdd": 0}
        one, ok1, cpu1 = throughput(servers[:1], args, params)
        two, ok2, cpu2 = throughput(servers, args, params)

        gated = GatedImageServer(encode(photo("astronaut", (200, 200))))
        mem_node = start_server(tmp, requests_per_second=10000, log_level="warning")
        servers.append(mem_node)
        mem_ms = rejection_latency(mem_node, gated, args.rejects)
        gated.close()
        gated = GatedImageServer(encode(photo("astronaut", (200, 200))))
        redis_node = start_server(
            tmp,
            limiter="redis",
            redis_url=redis.url,
            redis_prefix="adm:",
            requests_per_second=10000,
            log_level="warning",
        )
        servers.append(redis_node)
        redis_ms = rejection_latency(redis_node, gated, args.rejects)
        gated.close()
    finally:
        for s in servers:
            s.stop()
        redis.stop()

    print(
        f"\nThroughput: {args.size}x{args.size} JPEG, style 201, {args.clients} clients, "
        f"compute_threads={args.compute_threads}, opencv_threads={args.opencv_threads} per node, "
        f"{'each node pinned to its own core, ' if args.pin else ''}Redis admission"
    )
    print(f"| API nodes | calls OK | calls/s | ratio | CPU cores busy (of {os.cpu_count()}) |")
    print("|---|---|---|---|---|")
    print(f"| 1 | {ok1} | {one:.2f} | 1.00 | {cpu1:.2f} |")
    print(f"| 2 | {ok2} | {two:.2f} | {two / one:.2f} | {cpu2:.2f} |")
    print(f"\nAdmission: median ms of {args.rejects} JobNumExceed answers (client-side, loopback HTTP)")
    print("| limiter | median ms |")
    print("|---|---|")
    print(f"| in-process (memory) | {mem_ms:.2f} |")
    print(f"| Redis | {redis_ms:.2f} |")


if __name__ == "__main__":
    main()
