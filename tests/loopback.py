"""Loopback peers for URL tests: an HTTP host with fixed routes, and a bare listener that only counts
connection attempts (proof that no connection was made where none may be)."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait before answering at all
    drip_s: float = 0.0  # seconds between single bytes of the body


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that writes no access log."""

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_http(
    handler: type[http.server.BaseHTTPRequestHandler], host: str = "127.0.0.1"
) -> http.server.HTTPServer:
    """Serve ``handler`` on a free port of loopback ``host`` from a daemon thread; stop with ``close_http``."""
    httpd = http.server.ThreadingHTTPServer((host, 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def close_http(httpd: http.server.HTTPServer) -> None:
    """Stop serving (waits for the serving thread to leave its loop) and close the socket."""
    httpd.shutdown()
    httpd.server_close()


class Host:
    """A threaded HTTP server on a loopback address with fixed routes (unknown paths answer 404);
    counts connections and records the paths asked for."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        self.connections = 0
        self._stop = threading.Event()
        outer = self

        class Handler(QuietHandler):
            def setup(self) -> None:
                outer.connections += 1
                super().setup()

            def do_GET(self) -> None:
                outer.hits.append(self.path)
                route = outer.routes.get(self.path, Route(404, b"not found\n"))
                if route.delay_s and outer._stop.wait(route.delay_s):
                    return
                self.send_response(route.status)
                for k, v in route.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                try:
                    if route.drip_s:
                        for i in range(len(route.body)):
                            if outer._stop.wait(route.drip_s):
                                return
                            self.wfile.write(route.body[i : i + 1])
                            self.wfile.flush()
                    else:
                        self.wfile.write(route.body)
                except OSError:
                    pass  # the client gave up (time budget, size cap)

        self.httpd = serve_http(Handler, host)
        self.host = host
        self.port = int(self.httpd.server_address[1])

    def add(self, path: str, body: bytes = b"", **kw: Any) -> str:
        self.routes[path] = Route(body=body, **kw)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def stop(self) -> None:
        self._stop.set()
        close_http(self.httpd)


class Listener:
    """A bare TCP listener that counts connection attempts (and answers nothing)."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.host = host
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0  # connection attempts, not counting settle()'s markers
        self._markers: dict[tuple[str, int], threading.Event] = {}
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            marker = self._markers.pop(peer[:2], None)
            if marker is None:
                self.connections += 1
            conn.close()
            if marker is not None:
                marker.set()

    def settle(self, timeout: float = 10.0) -> int:
        """``connections`` once every attempt made before this call is counted (a barrier, no sleep).

        A marker connection is queued behind any earlier attempt (the accept queue is FIFO); when the
        marker has been accepted, every earlier attempt has been counted. The marker is not counted.
        """
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", 0))
            me = sock.getsockname()[:2]
            seen = self._markers[me] = threading.Event()
            sock.settimeout(timeout)
            sock.connect((self.host, self.port))
        finally:
            sock.close()
        assert seen.wait(timeout), "the listener did not accept its marker connection"
        return self.connections

    def url(self, path: str = "/a.png") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()


Peer = TypeVar("Peer", Host, Listener)


def serving(peer: Peer) -> Iterator[Peer]:
    """The body of a loopback peer's fixture: ``yield from serving(Host(...))`` yields it, then stops it."""
    try:
        yield peer
    finally:
        peer.stop()
