"""InputUrl / LogoUrl downloads, SSRF-safe.

- http/https only, no credentials in the URL (``pipeline.check.check_url``);
- the host is resolved once per hop and **every** address is checked (loopback, private, link-local,
  CGNAT, multicast, reserved, IPv4-mapped/6to4/Teredo IPv6); the connection then goes to the checked
  address (the Host header and TLS SNI keep the name), so a second lookup cannot change the target;
- redirects are followed by hand, each hop checked, up to ``max_redirects``;
- one total deadline for the whole download (not per read), and a byte cap enforced while reading;
- ``Accept-Encoding: identity`` and raw reads: nothing is decompressed.
An allow-list of hosts or CIDRs lets tests and private deployments fetch from chosen addresses.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from restyle import errors
from restyle.loaders import BaseLoader
from restyle.pipeline.check import check_url
from restyle.pipeline.job import ImageRef

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
REDIRECTS = (301, 302, 303, 307, 308)


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


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        msg = f"The host {host!r} could not be resolved."
        raise errors.ImageDownloadError(msg) from None
    out: list[IPAddress] = []
    for info in infos:
        addr = str(info[4][0]).split("%", 1)[0]
        ip = ipaddress.ip_address(addr)
        if ip not in out:
            out.append(ip)
    return out


class Loader(BaseLoader):
    name = "http"

    def __init__(
        self, *, allowlist: Iterable[str] = (), max_redirects: int = 3, user_agent: str = "restyle"
    ) -> None:
        self.allow = AllowList(allowlist)
        self.max_redirects = max_redirects
        self.user_agent = user_agent

    def pick_address(self, host: str, port: int) -> IPAddress:
        """Resolve ``host`` and return an address to connect to, if every address is allowed."""
        try:
            literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        addresses = [literal] if literal is not None else resolve(host, port)
        if not addresses:
            msg = f"The host {host!r} has no address."
            raise errors.ImageDownloadError(msg)
        for ip in addresses:
            if not (address_allowed(ip) or self.allow.permits(host, ip)):
                msg = f"The URL host {host!r} resolves to a non-public address; it cannot be fetched."
                raise errors.UrlIllegal(msg)
        return addresses[0]

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
        ip = self.pick_address(host, port)
        ip_host = f"[{ip}]" if ip.version == 6 else str(ip)
        default_port = port == (443 if scheme == "https" else 80)
        host_header = host if default_port else f"{host}:{port}"
        if ":" in host and not host.startswith("["):
            host_header = f"[{host}]" if default_port else f"[{host}]:{port}"
        target = urlunsplit((scheme, f"{ip_host}:{port}", parts.path or "/", parts.query, ""))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            msg = "The image download exceeded its time budget."
            raise errors.ImageDownloadError(msg)
        timeout = httpx.Timeout(remaining)
        headers = {"Host": host_header, "Accept-Encoding": "identity", "User-Agent": self.user_agent}
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        try:
            with (
                httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
                client.stream("GET", target, headers=headers, extensions=extensions) as resp,
            ):
                if resp.status_code in REDIRECTS or not 200 <= resp.status_code < 300:
                    return resp.status_code, resp.headers.get("location"), b""
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    msg = f"The downloaded image is {declared} bytes; at most {max_bytes} are allowed."
                    raise errors.ImageSizeExceed(msg)
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_raw():
                    size += len(chunk)
                    if size > max_bytes:
                        msg = f"The downloaded image is larger than {max_bytes} bytes."
                        raise errors.ImageSizeExceed(msg)
                    if time.monotonic() > deadline:
                        msg = "The image download exceeded its time budget."
                        raise errors.ImageDownloadError(msg)
                    chunks.append(chunk)
                return resp.status_code, None, b"".join(chunks)
        except errors.TencentError:
            raise
        except httpx.TimeoutException:
            msg = "The image download exceeded its time budget."
            raise errors.ImageDownloadError(msg) from None
        except (httpx.HTTPError, OSError) as exc:
            msg = f"The image could not be downloaded: {type(exc).__name__}."
            raise errors.ImageDownloadError(msg) from None
