"""Results as files under ``<data_dir>/results``; links are HMAC-signed and expire."""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

from restyle.config import Settings
from restyle.storages import BaseStorage, LinkSigner, needs_signer

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}\.(jpg|png)$")


class Storage(BaseStorage):
    name = "local"

    def __init__(self, root: Path, signer: LinkSigner) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.signer = signer

    @classmethod
    def from_settings(cls, settings: Settings, signer: LinkSigner | None = None) -> Storage:
        return cls(settings.data_dir / "results", needs_signer(cls.name, signer))

    def _path(self, key: str) -> Path:
        if not KEY_RE.match(key):
            msg = f"invalid result key {key!r}"
            raise KeyError(msg)
        return self.root / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (KeyError, FileNotFoundError):
            return None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except KeyError:
            pass

    def url_for(self, key: str, *, ttl_s: int, base_url: str) -> str:
        return self.signer.link(base_url, key, ttl_s)

    def sweep(self, *, older_than_s: int) -> int:
        cutoff = time.time() - older_than_s
        removed = 0
        for path in self.root.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
