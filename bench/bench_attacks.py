"""Denial-of-service attacks of issue 11 (#1-#4) against a real server, with and without the fixes.

    .venv/bin/python bench/bench_attacks.py [--baseline REV] [--attacks secretids scanbomb conns bodies]

For each attack a fresh server is started; while the attack runs, a signed caller (another loopback
address than the attacker's, like a remote attacker) makes small calls back to back. Printed per
attack: the server's resident set before, at its peak during, and 2 s after the attack; the attack's
seconds (scan bomb: until both bombs are answered); and the share of signed calls answered OK within
``--ok-s`` seconds during the attack, and the slowest of those calls (a call still waiting gives up
after 30 s). With ``--baseline REV`` (e.g. the commit before the fixes) the
same attacks also run against that revision, exported with ``git archive``, side by side in one run.

Attacks (all bounded in count and time):
- secretids: 60 legacy-v1 form posts, each with a distinct 4 MiB SecretId;
- scanbomb: 2 progressive JPEGs (4992² grey) whose last scan is repeated ``--scans`` times, at once,
  from another account than the signed caller's;
- conns: 1000 idle sockets plus 600 slowloris sockets (half a head, reconnecting) for 8 s;
- bodies: 150 unsigned POSTs each sending 9 of their 10 MiB body, held for 6 s.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import Server, encode, photo, start_server  # noqa: E402
from tests.hostile import media  # noqa: E402
from tests.hostile.conftest import v1_form  # noqa: E402

from restyle.api.signing import sign_tc3_headers  # noqa: E402

MiB = 1024 * 1024
SMALL = base64.b64encode(encode(photo("astronaut", (96, 96)), quality=85)).decode()
PARAMS = {"InputImage": SMALL, "LogoAdd": 0, "RspImgType": "url"}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def signed_post(
    srv: Server, params: dict[str, object] | bytes, timeout: float, key: tuple[str, str] | None = None
) -> tuple[str, float]:
    body = params if isinstance(params, bytes) else json.dumps(params).encode()
    sid, skey = key or (srv.secret_id, srv.secret_key)
    headers = sign_tc3_headers(
        secret_id=sid,
        secret_key=skey,
        host=srv.endpoint,
        body=body,
        timestamp=int(time.time()),
    )
    t0 = time.perf_counter()
    try:
        with httpx.Client(trust_env=False, timeout=timeout) as http:
            resp = http.post(f"{srv.url}/", content=body, headers=headers)
        if resp.headers.get("content-type") != "application/json":
            return f"HTTP {resp.status_code} {resp.headers.get('content-type')}", time.perf_counter() - t0
        payload = resp.json()["Response"]
        return payload.get("Error", {}).get("Code", "OK"), time.perf_counter() - t0
    except httpx.HTTPError as exc:
        return type(exc).__name__, time.perf_counter() - t0


class Observer:
    """Samples the server's RSS and makes signed calls back to back until stopped."""

    def __init__(self, srv: Server, ok_s: float) -> None:
        self.srv, self.ok_s = srv, ok_s
        self.peak = 0.0
        self.results: list[tuple[str, float]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._sample), threading.Thread(target=self._call)]

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_mib(self.srv.proc.pid))

    def _call(self) -> None:
        while not self._stop.is_set() and len(self.results) < 200:
            self.results.append(signed_post(self.srv, PARAMS, timeout=max(30.0, self.ok_s)))
            self._stop.wait(0.1)

    def __enter__(self) -> Observer:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(120)

    def served(self) -> str:
        ok = sum(1 for code, s in self.results if code == "OK" and s <= self.ok_s)
        other = sorted({code for code, _ in self.results if code != "OK"})
        tail = f" ({', '.join(other)[:60]})" if other else ""
        return f"{ok}/{len(self.results)}{tail}"


# --- attacks: each runs for a bounded time and returns a note --------------------------------------
def attack_secretids(srv: Server, args: argparse.Namespace) -> str:
    codes: dict[str, int] = {}
    with httpx.Client(trust_env=False, timeout=60) as http:
        for i in range(60):
            resp = http.post(
                f"{srv.url}/",
                content=v1_form(f"AKID{i:03d}" + "x" * (4 * MiB)),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            code = resp.json()["Response"]["Error"]["Code"]
            codes[code] = codes.get(code, 0) + 1
    return ", ".join(f"{c}×{n}" for c, n in codes.items())


def attack_scanbomb(srv: Server, args: argparse.Namespace) -> str:
    bomb = base64.b64encode(media.progressive_scan_bomb(repeats=args.scans)).decode()
    pair = json.loads(srv.restyle("keys", "create", "--account", "attacker").stdout)
    attacker = (pair["SecretId"], pair["SecretKey"])  # another account than the signed caller's
    out: list[tuple[str, float]] = []

    def one() -> None:
        out.append(signed_post(srv, {"InputImage": bomb, "LogoAdd": 0}, timeout=900, key=attacker))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return "; ".join(f"{code} in {s:.1f} s" for code, s in out)


def _sock(srv: Server, source: str, first: bytes = b"") -> socket.socket | None:
    s = socket.socket()
    try:
        s.bind((source, 0))
        s.settimeout(2)
        s.connect(("127.0.0.1", srv.port))
        if first:
            s.sendall(first)
        return s
    except OSError:
        s.close()
        return None


def attack_conns(srv: Server, args: argparse.Namespace) -> str:
    idle = [s for s in (_sock(srv, "127.0.0.2") for _ in range(1000)) if s is not None]
    head = f"POST / HTTP/1.1\r\nHost: {srv.endpoint}\r\nX-Slow: ".encode()
    loris = [s for s in (_sock(srv, "127.0.0.7", head) for _ in range(600)) if s is not None]
    reconnects = 0
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        for i, s in enumerate(loris):
            try:
                s.sendall(b"a")
            except OSError:
                s.close()
                fresh = _sock(srv, "127.0.0.7", head)
                reconnects += 1
                if fresh is not None:
                    loris[i] = fresh
        time.sleep(0.2)
    for s in idle + loris:
        s.close()
    return f"{len(idle)} idle + {len(loris)} slowloris opened, {reconnects} reconnects"


def attack_bodies(srv: Server, args: argparse.Namespace) -> str:
    socks = []
    block = b" " * 65536
    for _ in range(150):
        s = _sock(srv, "127.0.0.2")
        if s is None:
            continue
        try:
            s.sendall(
                f"POST / HTTP/1.1\r\nHost: {srv.endpoint}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {10 * MiB - 1}\r\n\r\n".encode()
            )
            for _ in range(9 * MiB // len(block)):
                s.sendall(block)
        except OSError:
            pass
        socks.append(s)
    time.sleep(6)
    for s in socks:
        s.close()
    return f"{len(socks)} connections"


ATTACKS: dict[str, Callable[[Server, argparse.Namespace], str]] = {
    "secretids": attack_secretids,
    "scanbomb": attack_scanbomb,
    "conns": attack_conns,
    "bodies": attack_bodies,
}


def run(name: str, label: str, src: Path | None, args: argparse.Namespace, tmp: Path) -> dict[str, str]:
    saved = os.environ.get("PYTHONPATH")
    if src is not None:
        os.environ["PYTHONPATH"] = str(src)  # the server subprocess imports restyle from there
    try:
        work = tmp / f"{label}-{name}"
        work.mkdir()
        srv = start_server(work, requests_per_second=1000, jobs_per_account=3, compute_threads=2)
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    try:
        signed_post(srv, PARAMS, timeout=60)  # warm up
        before = rss_mib(srv.proc.pid)
        t0 = time.perf_counter()
        with Observer(srv, args.ok_s) as obs:
            note = ATTACKS[name](srv, args)
            seconds = time.perf_counter() - t0
        time.sleep(2)
        after = rss_mib(srv.proc.pid)
    finally:
        srv.stop()
    return {
        "attack": name,
        "code": label,
        "rss before": f"{before:.0f}",
        "rss peak": f"{max(obs.peak, after):.0f}",
        "rss after": f"{after:.0f}",
        "attack s": f"{seconds:.1f}",
        "signed OK": obs.served(),
        "worst call s": f"{max((sec for _, sec in obs.results), default=0.0):.1f}",
        "note": note,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attacks", nargs="+", default=list(ATTACKS), choices=list(ATTACKS))
    ap.add_argument("--baseline", help="git revision to compare with (exported with git archive)")
    ap.add_argument("--scans", type=int, default=300, help="repeats of the last scan in the scan bomb")
    ap.add_argument("--ok-s", type=float, default=5.0, help="a signed call counts as served within this")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        trees: list[tuple[str, Path | None]] = []
        if args.baseline:
            base = tmp / "baseline"
            base.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", args.baseline, "src"], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
            trees.append((f"before ({args.baseline[:10]})", base / "src"))
        trees.append(("after (this tree)", None))
        for name in args.attacks:
            for label, src in trees:
                print(f"{name}: {label} …", file=sys.stderr, flush=True)
                rows.append(run(name, label, src, args, tmp))
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    print(" | ".join(c.ljust(widths[c]) for c in cols))
    print("-+-".join("-" * widths[c] for c in cols))
    for r in rows:
        print(" | ".join(r[c].ljust(widths[c]) for c in cols))
    print(f"\nRSS in MiB; 'signed OK': signed calls answered OK within {args.ok_s:g} s during the attack.")


if __name__ == "__main__":
    main()
