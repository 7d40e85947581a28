"""InputUrl / LogoUrl downloads, SSRF-safe.

- http/https only, no credentials in the URL (``pipeline.check.check_url``);
- the host is resolved once per hop and **every** address is checked (loopback, private, link-local,
  CGNAT, multicast, reserved, IPv4-mapped/6to4/Teredo/NAT64 IPv6); numeric forms such as
  ``http://2130706433/`` or ``http://0x7f.1/`` are resolved by the system like any name and refused by
  the address they mean. The socket then connects to the checked address only (``_PinnedBackend``
  ignores the name it is given), while the Host header, TLS SNI and certificate check keep the name,
  so a second lookup (DNS rebinding) cannot change the target;
- redirects are followed by hand, each hop checked, up to ``max_redirects``;
- every resolved address is tried in turn (a host whose first address is down still loads);
- one total deadline for the whole download: the DNS lookup, every connect, TLS handshake, write and read waits at
  most for what is left of it (a server that drips one byte a second is cut off on time), and a
  byte cap enforced while reading;
- ``Accept-Encoding: identity`` and raw reads (httpcore never decodes): nothing is decompressed, so a
  ``Content-Encoding: gzip`` bomb arrives as its compressed bytes and is judged (and refused) as such.
An allow-list of hosts or CIDRs lets tests and private deployments fetch from chosen addresses.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore

from restyle import __version__, errors, untrusted
from restyle.config import Settings
from restyle.loaders import BaseLoader
from restyle.pipeline.check import check_url
from restyle.pipeline.job import ImageRef

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = f"restyle/{__version__}"  # downloads and job callbacks


def address_allowed(ip: IPAddress) -> bool:
    """True for public unicast addresses only."""
    if isinstance(ip, ipaddress.IPv6Address):
        for embedded in (ip.ipv4_mapped, ip.sixtofour, (ip.teredo or (None, None))[1]):
            if embedded is not None and not address_allowed(embedded):
                return False
    if ip in _CGNAT:
        return False
    return bool(
        ip.is_global
        and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local or ip.is_private)
        and not ip.is_unspecified
    )


class AllowList:
    """Hosts (exact, case-insensitive) and networks that may be fetched even when not public."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.hosts: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry.lower())

    def permits(self, host: str, ip: IPAddress) -> bool:
        return host.lower() in self.hosts or any(ip in net for net in self.networks)


# getaddrinfo cannot be interrupted: each lookup runs on a daemon thread and the download waits for it
# only until its deadline. At most MAX_LOOKUPS run at once (a resolver that hangs holds one until it
# gives up), so hung lookups cannot pile up threads.
MAX_LOOKUPS = 8
_LOOKUPS = threading.BoundedSemaphore(MAX_LOOKUPS)


def resolve(host: str, port: int, deadline: float | None = None) -> list[IPAddress]:
    """Every address of ``host``, looked up within the download's ``deadline`` (monotonic)."""
    left = None if deadline is None else max(0.0, deadline - time.monotonic())
    late = f"Resolving the host {untrusted.shown(host)} exceeded the download's time budget."
    if not _LOOKUPS.acquire(timeout=left):
        raise errors.ImageDownloadError(late)
    answer: list[Any] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the waiting download
            answer.append(exc)
        finally:
            _LOOKUPS.release()
            done.set()

    threading.Thread(target=lookup, name="restyle-dns", daemon=True).start()
    if not done.wait(None if deadline is None else max(0.0, deadline - time.monotonic())):
        raise errors.ImageDownloadError(late)
    infos = answer[0]
    if isinstance(infos, OSError | UnicodeError):
        msg = f"The host {untrusted.shown(host)} could not be resolved."
        raise errors.ImageDownloadError(msg)
    if isinstance(infos, BaseException):
        raise infos
    out: list[IPAddress] = []
    for info in infos:
        addr = str(info[4][0]).split("%", 1)[0]
        ip = ipaddress.ip_address(addr)
        if ip not in out:
            out.append(ip)
    return out


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation waits at most until the download's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self.inner = inner
        self.deadline = deadline

    def _left(self, timeout: float | None) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            msg = "The image download exceeded its time budget."
            raise errors.ImageDownloadError(msg)
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self._left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self._left(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self.inner.start_tls(ssl_context, server_hostname, self._left(timeout))
        return _DeadlineStream(tls, self.deadline)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the checked addresses whatever host name httpcore asks for (no second lookup),
    trying each in turn until one accepts, all within the download's deadline."""

    def __init__(self, ips: list[IPAddress], deadline: float) -> None:
        self.ips = ips
        self.deadline = deadline
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for ip in self.ips:
            left = self.deadline - time.monotonic()
            if left <= 0:
                msg = "The image download exceeded its time budget."
                raise errors.ImageDownloadError(msg)
            try:
                stream = self.inner.connect_tcp(str(ip), port, timeout=left, socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
                failure = exc  # refused or unreachable: the next address may answer
                continue
            return _DeadlineStream(stream, self.deadline)
        assert failure is not None  # ips is never empty (pick_addresses refuses a host with none)
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        msg = "unix sockets are never used for downloads"
        raise errors.ImageDownloadError(msg)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Loader(BaseLoader):
    name = "http"

    def __init__(
        self, *, allowlist: Iterable[str] = (), max_redirects: int = 3, user_agent: str = USER_AGENT
    ) -> None:
        self.allow = AllowList(allowlist)
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self.ssl_context = ssl.create_default_context()

    @classmethod
    def from_settings(cls, settings: Settings) -> Loader:
        return cls(allowlist=settings.url_allowlist, max_redirects=settings.max_redirects)

    def pick_address(self, host: str, port: int, deadline: float | None = None) -> list[IPAddress]:
        """Resolve ``host`` and return the addresses to connect to, if every one of them is allowed."""
        try:
            literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        addresses = [literal] if literal is not None else resolve(host, port, deadline)
        if not addresses:
            msg = f"The host {untrusted.shown(host)} has no address."
            raise errors.ImageDownloadError(msg)
        for ip in addresses:
            if not (address_allowed(ip) or self.allow.permits(host, ip)):
                msg = (
                    f"the host {untrusted.shown(host)} resolves to a non-public address and cannot be fetched "
                    "(an operator can allow it with RESTYLE_URL_ALLOWLIST)."
                )
                raise errors.UrlIllegal(msg)
        return addresses

    def load(self, ref: ImageRef, *, max_bytes: int, deadline_s: float) -> bytes:
        url = (ref.url or "").strip()
        deadline = time.monotonic() + deadline_s
        for _hop in range(self.max_redirects + 1):
            check_url(url, "InputUrl")
            status, location, body = self._fetch_once(url, max_bytes=max_bytes, deadline=deadline)
            if status in REDIRECTS:
                if not location:
                    msg = f"Redirect {status} without a Location header."
                    raise errors.ImageDownloadError(msg)
                url = urljoin(url, location)
                continue
            if not 200 <= status < 300:
                msg = f"The image URL answered HTTP {status}."
                raise errors.ImageDownloadError(msg)
            return body
        msg = f"The image URL redirected more than {self.max_redirects} times."
        raise errors.ImageDownloadError(msg)

    def _fetch_once(self, url: str, *, max_bytes: int, deadline: float) -> tuple[int, str | None, bytes]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        ips = self.pick_address(host, port, deadline)
        headers = [("Accept-Encoding", "identity"), ("User-Agent", self.user_agent)]
        backend = _PinnedBackend(ips, deadline)
        try:
            with (
                httpcore.ConnectionPool(
                    ssl_context=self.ssl_context, network_backend=backend, max_connections=1, retries=0
                ) as pool,
                pool.stream("GET", url, headers=headers) as resp,
            ):
                location = _header(resp.headers, b"location")
                if resp.status in REDIRECTS or not 200 <= resp.status < 300:
                    return resp.status, location, b""
                declared = _header(resp.headers, b"content-length")
                if declared is not None and untrusted.is_digits(declared, 30) and int(declared) > max_bytes:
                    msg = f"The downloaded image is {int(declared)} bytes; at most {max_bytes} are allowed."
                    raise errors.ImageSizeExceed(msg)
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_stream():
                    size += len(chunk)
                    if size > max_bytes:
                        msg = f"The downloaded image is larger than {max_bytes} bytes."
                        raise errors.ImageSizeExceed(msg)
                    chunks.append(chunk)
                return resp.status, None, b"".join(chunks)
        except errors.TencentError:
            raise
        except httpcore.TimeoutException:
            msg = "The image download exceeded its time budget."
            raise errors.ImageDownloadError(msg) from None
        except (httpcore.LocalProtocolError, httpcore.UnsupportedProtocol, ValueError, UnicodeError) as exc:
            msg = f"the URL cannot be requested: {type(exc).__name__}."
            raise errors.UrlIllegal(msg) from None
        except (httpcore.ProtocolError, httpcore.NetworkError, OSError) as exc:
            msg = f"The image could not be downloaded: {type(exc).__name__}."
            raise errors.ImageDownloadError(msg) from None


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None
