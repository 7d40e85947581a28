"""The container runtime of the container tests: rootful podman from Debian, set up by the tests.

Every fact measured on this machine kind is a setting (environment variable), not an assumption:

==============================  ==========================================  ===================================
setting                         default                                     why
==============================  ==========================================  ===================================
RESTYLE_TEST_CONTAINER          1                                           0 skips these tests (loudly)
RESTYLE_CT_INSTALL              1                                           apt-get install what is missing (root)
RESTYLE_CT_APT_PACKAGES         podman runc catatonit mmdebstrap ...        what that installs
RESTYLE_CT_PODMAN               podman                                      the engine binary
RESTYLE_CT_RUNTIME              runc                                        crun fails on this kernel's hybrid
                                                                            cgroups ("" = podman's default)
RESTYLE_CT_ULIMITS              nofile=4096:4096 nproc=4096:4096            the default open-files limit is
                                                                            refused here ("" = none)
RESTYLE_CT_INIT                 0                                           1: --init for every container (the
                                                                            drain test runs both ways anyway)
RESTYLE_CT_HOST_CA              /etc/ssl/certs/ca-certificates.crt          the host's CA bundle, mounted
                                                                            read-only into build steps only
                                                                            (a TLS-inspecting proxy); "" = none
RESTYLE_CT_BASE_IMAGE           (empty: build one with mmdebstrap)          e.g. docker.io/library/python:3.11-slim
                                                                            where a registry is reachable
RESTYLE_CT_MIRROR               the host's Debian mirror (apt sources)      mmdebstrap's mirror
RESTYLE_CT_SUITE                the host's codename (bookworm)              mmdebstrap's suite
RESTYLE_CT_CACHE                /var/cache/restyle-container (root),        the base root filesystem tarball,
                                ~/.cache/restyle-container otherwise        kept between runs
RESTYLE_CT_MMDEBSTRAP_ARGS      --dpkgopt=force-unsafe-io                   more mmdebstrap options (no fsync
                                                                            while unpacking: a throwaway rootfs)
RESTYLE_CT_MMDEBSTRAP_TIMEOUT   900                                         seconds (measured 20-190 s)
RESTYLE_CT_BUILD_TIMEOUT        1200                                        seconds per image build
==============================  ==========================================  ===================================
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
DEFAULT_APT = (
    "podman runc catatonit mmdebstrap podman-compose golang-github-containernetworking-plugin-dnsname "
    "iptables"
)


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _host_mirror() -> str:
    """The host's Debian mirror, read from its apt sources (deb822 or one-line)."""
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        try:
            text = path.read_text("utf-8", "replace")
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if words[:1] == ["URIs:"] and len(words) > 1 and "security" not in words[1]:
                return words[1]
            if words[:1] == ["deb"]:
                uri = next((w for w in words[1:] if "://" in w), "")
                if uri and "security" not in uri:
                    return uri
    return "http://deb.debian.org/debian"


def _host_suite() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME=") and line.split("=", 1)[1].strip('"'):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return "bookworm"


def _default_cache() -> Path:
    if os.geteuid() == 0:
        return Path("/var/cache/restyle-container")
    return Path.home() / ".cache" / "restyle-container"


@dataclass
class Settings:
    enabled: bool = field(default_factory=lambda: _env("RESTYLE_TEST_CONTAINER", "1") != "0")
    install: bool = field(default_factory=lambda: _env("RESTYLE_CT_INSTALL", "1") != "0")
    apt_packages: list[str] = field(
        default_factory=lambda: _env("RESTYLE_CT_APT_PACKAGES", DEFAULT_APT).split()
    )
    podman: str = field(default_factory=lambda: _env("RESTYLE_CT_PODMAN", "podman"))
    runtime: str = field(default_factory=lambda: _env("RESTYLE_CT_RUNTIME", "runc"))
    ulimits: list[str] = field(
        default_factory=lambda: _env("RESTYLE_CT_ULIMITS", "nofile=4096:4096 nproc=4096:4096").split()
    )
    init: bool = field(default_factory=lambda: _env("RESTYLE_CT_INIT", "0") == "1")
    host_ca: str = field(
        default_factory=lambda: _env("RESTYLE_CT_HOST_CA", "/etc/ssl/certs/ca-certificates.crt")
    )
    base_image: str = field(default_factory=lambda: _env("RESTYLE_CT_BASE_IMAGE", ""))
    mirror: str = field(default_factory=lambda: _env("RESTYLE_CT_MIRROR", "") or _host_mirror())
    suite: str = field(default_factory=lambda: _env("RESTYLE_CT_SUITE", "") or _host_suite())
    cache: Path = field(default_factory=lambda: Path(_env("RESTYLE_CT_CACHE", "") or _default_cache()))
    mmdebstrap_args: list[str] = field(
        default_factory=lambda: shlex.split(_env("RESTYLE_CT_MMDEBSTRAP_ARGS", "--dpkgopt=force-unsafe-io"))
    )
    mmdebstrap_timeout: float = field(
        default_factory=lambda: float(_env("RESTYLE_CT_MMDEBSTRAP_TIMEOUT", "900"))
    )
    build_timeout: float = field(default_factory=lambda: float(_env("RESTYLE_CT_BUILD_TIMEOUT", "1200")))

    def global_args(self) -> list[str]:
        """podman's global options (before the subcommand)."""
        return ["--runtime", self.runtime] if self.runtime else []

    def run_args(self, *, init: bool | None = None) -> list[str]:
        """Options for every `podman run`."""
        args: list[str] = []
        for u in self.ulimits:
            args += ["--ulimit", u]
        if self.init if init is None else init:
            args.append("--init")
        return args

    def build_args(self) -> list[str]:
        """Options for every `podman build`: the host CA bundle for the build steps only."""
        args = ["--format", "docker"]  # keeps HEALTHCHECK
        if self.host_ca and Path(self.host_ca).is_file():
            args += ["-v", f"{self.host_ca}:/run/host-ca.crt:ro", "--build-arg", "PIP_CERT=/run/host-ca.crt"]
        return args

    def containers_conf(self, path: Path) -> Path:
        """A containers.conf with the same settings, for tools that call podman themselves (compose)."""
        lines = ["[containers]"]
        if self.ulimits:
            lines.append("default_ulimits = " + json.dumps(self.ulimits))
        if self.init:
            lines.append("init = true")
        lines.append("[engine]")
        if self.runtime:
            lines.append(f"runtime = {json.dumps(self.runtime)}")
        path.write_text("\n".join(lines) + "\n")
        return path


def log(msg: str) -> None:
    """Progress lines on the terminal even under pytest's capture (setup takes minutes)."""
    sys.__stderr__.write(f"[container tests] {msg}\n")  # type: ignore[union-attr]
    sys.__stderr__.flush()  # type: ignore[union-attr]


def loud(msg: str) -> None:
    bar = "!" * 100
    log(f"\n{bar}\n!!! {msg}\n{bar}")


def sh(
    cmd: list[str],
    *,
    timeout: float = 120,
    check: bool = True,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        msg = f"{shlex.join(cmd)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
        raise RuntimeError(msg)
    return proc


def ensure_tools(s: Settings) -> str | None:
    """Install podman & co. from Debian when missing. Returns why the runtime is unusable, or None."""
    missing = [p for p in s.apt_packages if not _installed(p)]
    if missing and s.install and os.geteuid() == 0 and shutil.which("apt-get"):
        log(f"apt-get install {' '.join(missing)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        sh(["apt-get", "update", "-qq"], timeout=600, check=False, env=env)
        proc = sh(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            timeout=900,
            check=False,
            env=env,
        )
        if proc.returncode != 0:
            return f"apt-get install {' '.join(missing)} failed: {proc.stderr[-2000:]}"
    if not shutil.which(s.podman):
        return f"{s.podman} is not installed and could not be installed (root: {os.geteuid() == 0})"
    if os.geteuid() != 0:
        return "the container tests use rootful podman and run as root (CI does)"
    proc = sh([s.podman, *s.global_args(), "info", "--format", "{{.Host.OCIRuntime.Name}}"], check=False)
    if proc.returncode != 0:
        return f"podman info failed: {proc.stderr[-2000:]}"
    return None


def _installed(pkg: str) -> bool:
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Status}", pkg], capture_output=True, text=True, check=False
    )
    return proc.returncode == 0 and "install ok installed" in proc.stdout


def image_exists(s: Settings, ref: str) -> bool:
    return sh([s.podman, "image", "exists", ref], check=False).returncode == 0


def base_image(s: Settings) -> str:
    """The build's base image: RESTYLE_CT_BASE_IMAGE, else a Debian rootfs made by mmdebstrap (cached)."""
    if s.base_image:
        return s.base_image
    key = hashlib.sha1(f"{s.suite} {s.mirror} minbase {' '.join(BASE_PACKAGES)}".encode()).hexdigest()[:10]
    ref = f"localhost/restyle-test-base:{s.suite}-{key}"
    if image_exists(s, ref):
        return ref
    s.cache.mkdir(parents=True, exist_ok=True)
    tar = s.cache / f"rootfs-{s.suite}-{key}.tar"
    if not tar.exists():
        if not shutil.which("mmdebstrap"):
            raise RuntimeError("mmdebstrap is missing (RESTYLE_CT_APT_PACKAGES must include it)")
        log(f"mmdebstrap {s.suite} from {s.mirror} -> {tar} (cached for later runs)")
        t0 = time.monotonic()
        tmp = tar.with_suffix(".part.tar")
        sh(
            [
                "mmdebstrap",
                "--variant=minbase",
                "--include=" + ",".join(BASE_PACKAGES),
                *s.mmdebstrap_args,
                s.suite,
                str(tmp),
                s.mirror,
            ],
            timeout=s.mmdebstrap_timeout,
        )
        tmp.rename(tar)
        log(f"mmdebstrap took {time.monotonic() - t0:.0f} s ({tar.stat().st_size / 1e6:.0f} MB)")
    t0 = time.monotonic()
    sh([s.podman, "import", str(tar), ref], timeout=600)
    log(f"podman import took {time.monotonic() - t0:.1f} s")
    return ref


def build(
    s: Settings, tag: str, context: Path, containerfile: Path, *, base: str, extra: list[str] | None = None
) -> float:
    """podman build; returns its duration in seconds. The image it replaces under ``tag`` is removed."""
    before = sh([s.podman, "image", "inspect", "--format", "{{.Id}}", tag], check=False).stdout.strip()
    t0 = time.monotonic()
    sh(
        [
            s.podman,
            *s.global_args(),
            "build",
            *s.build_args(),
            "--build-arg",
            f"BASE_IMAGE={base}",
            *(extra or []),
            "-f",
            str(containerfile),
            "-t",
            tag,
            str(context),
        ],
        timeout=s.build_timeout,
    )
    took = time.monotonic() - t0
    after = sh([s.podman, "image", "inspect", "--format", "{{.Id}}", tag], check=False).stdout.strip()
    if before and before != after:
        sh([s.podman, "rmi", before], check=False)  # only ours; fails harmlessly if something uses it
    return took
