"""Wire-suite fixtures: proxy-free environment, a dedicated key on the shared server, loopback image hosts.

Every test under tests/wire must carry exactly one provenance marker (checked at collection).
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import Server, start_server
from tests.wire.sdk import PROXY_VARS, Target

PROVENANCE = ("derived_from_docs", "validated_on_tencent", "restyle_only")
WIRE_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each wire test says where its expectation comes from: exactly one provenance marker."""
    for item in items:
        if WIRE_DIR not in Path(str(item.fspath)).resolve().parents:
            continue
        found = [m for m in PROVENANCE if item.get_closest_marker(m) is not None]
        if len(found) != 1:
            raise pytest.UsageError(f"{item.nodeid}: needs exactly one of {PROVENANCE}, has {found}")


@pytest.fixture(scope="session", autouse=True)
def _no_proxy_env() -> Iterator[None]:
    """The SDK and tccli pick an HTTP proxy from the environment for http endpoints (contract §6)."""
    saved = {k: os.environ.pop(k) for k in PROXY_VARS if k in os.environ}
    yield
    os.environ.update(saved)


def create_key(server: Server, *, account: str, actions: str = "*") -> tuple[str, str]:
    """``restyle keys create`` against the server's data dir; returns (SecretId, SecretKey)."""
    out = server.restyle("keys", "create", "--account", account, "--actions", actions)
    assert out.returncode == 0, out.stderr
    pair = json.loads(out.stdout)
    return pair["SecretId"], pair["SecretKey"]


@pytest.fixture(scope="session")
def wire(server: Server) -> Target:
    """The shared server with a key of its own account, so the suite's request rate is its own."""
    sid, skey = create_key(server, account="wire-suite")
    return Target(server, sid, skey)


@pytest.fixture(scope="session")
def aux_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second server for settings the shared one cannot have: short result TTL and download budget."""
    srv = start_server(tmp_path_factory.mktemp("aux"), result_ttl_s=2, download_timeout_s=1.0)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def aux(aux_server: Server) -> Target:
    return Target(aux_server, aux_server.secret_id, aux_server.secret_key)


# --- loopback HTTP hosts --------------------------------------------------------------------------
@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class ImageHost:
    """A tiny threaded HTTP server on ``host`` serving fixed routes; unknown paths answer 404."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        self._stop = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits.append(self.path)
                route = outer.routes.get(self.path, Route(404, b"not found\n"))
                if route.delay_s:
                    outer._stop.wait(route.delay_s)
                self.send_response(route.status)
                for k, v in route.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                try:
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host = str(self.httpd.server_address[0])
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, body: bytes = b"", *, status: int = 200, **kw: object) -> str:
        self.routes[path] = Route(status, body, **kw)  # type: ignore[arg-type]
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(scope="session")
def images() -> Iterator[ImageHost]:
    """Loopback image host (127.0.0.1 is on the servers' URL allow-list)."""
    host = ImageHost("127.0.0.1")
    yield host
    host.stop()


class Sink:
    """A listener on 127.0.0.2 (loopback, but not on the allow-list) that counts connection attempts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.2", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def url(self, path: str = "/a.png") -> str:
        return f"http://127.0.0.2:{self.port}{path}"

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture(scope="session")
def sink() -> Iterator[Sink]:
    s = Sink()
    yield s
    s.stop()
