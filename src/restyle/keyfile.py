"""Secret files shared by every node on one data dir (``links.key``, ``master.key``).

A key file is written whole to a temporary file, flushed, then hard-linked into place: another node
(or process) either sees no file or the complete key, never an empty or half-written one. When two
nodes race, the first link wins and both read the winner's key. A key shorter than required (a
truncated or hand-edited file) stops startup instead of weakening every signature made with it.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from pathlib import Path


class KeyFileError(ValueError):
    """A key file that exists but cannot be used."""


def read_or_create(path: Path, nbytes: int) -> bytes:
    """The base64 key in ``path``; a new random one of ``nbytes`` is created if none exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _create(path, os.urandom(nbytes))
    return read(path, nbytes)


def read(path: Path, nbytes: int) -> bytes:
    raw = path.read_bytes().strip()
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        msg = f"{path} is not base64; restore it from a backup or remove it to make a new key"
        raise KeyFileError(msg) from None
    return check_length(key, nbytes, str(path))


def check_length(key: bytes, nbytes: int, name: str) -> bytes:
    if len(key) < nbytes:
        msg = f"{name} holds a {len(key)}-byte key; at least {nbytes} bytes are required"
        raise KeyFileError(msg)
    return key


def _create(path: Path, key: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64encode(key))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic, and never replaces a key another node already made
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
