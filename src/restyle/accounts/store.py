"""SQLite store: accounts, keys (secrets encrypted at rest) and job records."""

from __future__ import annotations

import base64
import os
import re
import secrets
import sqlite3
import string
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from restyle import keyfile
from restyle.accounts.cache import ByteLRU

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',      -- active | stopped
    quota INTEGER,                              -- remaining jobs; NULL = unlimited
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS keys (
    secret_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    secret_enc BLOB NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',      -- active | disabled
    actions TEXT NOT NULL DEFAULT '*',          -- comma-separated actions this key may call, * = all
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    request_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    secret_id TEXT NOT NULL,
    style TEXT,
    code TEXT NOT NULL,                         -- "OK" or the Tencent error code
    duration_ms REAL NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_account ON jobs(account_id, created_at);
"""
ID_ALPHABET = string.ascii_letters + string.digits
MASTER_KEY_BYTES = 32  # AES-256-GCM
#: Tencent SecretIds are ``AKID`` + 32 letters and digits (36 characters); temporary (STS) ones are
#: longer but far below this. Anything longer, or with other characters, can name no key.
MAX_SECRET_ID_CHARS = 128
_SECRET_ID_RE = re.compile(rf"[A-Za-z0-9_\-]{{1,{MAX_SECRET_ID_CHARS}}}")


def valid_secret_id(secret_id: str) -> bool:
    """True if ``secret_id`` has the shape a key can have (letters, digits, ``_``/``-``, ≤ 128 chars)."""
    return _SECRET_ID_RE.fullmatch(secret_id) is not None


@dataclass(frozen=True)
class KeyRecord:
    secret_id: str
    secret_key: str
    account_id: str
    status: str
    actions: tuple[str, ...]
    account_status: str
    quota: int | None

    def may_call(self, action: str) -> bool:
        return "*" in self.actions or action in self.actions


def load_master_key(data_dir: Path, configured: str | None) -> bytes:
    if configured:
        key = base64.b64decode(configured)
        if len(key) != MASTER_KEY_BYTES:
            msg = "RESTYLE_MASTER_KEY must be 32 bytes, base64-encoded"
            raise ValueError(msg)
        return key
    key = keyfile.read_or_create(data_dir / "master.key", MASTER_KEY_BYTES)
    if len(key) != MASTER_KEY_BYTES:
        msg = f"{data_dir / 'master.key'} must hold a {MASTER_KEY_BYTES}-byte key, not {len(key)} bytes"
        raise keyfile.KeyFileError(msg)
    return key


def new_secret_id() -> str:
    return "AKID" + "".join(secrets.choice(ID_ALPHABET) for _ in range(32))


def new_secret_key() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(32))


class Store:
    """Thread-safe SQLite access. Key lookups are cached in memory; the cache is dropped whenever
    another connection (e.g. ``restyle keys disable`` in another process) has committed a change,
    which SQLite's ``PRAGMA data_version`` tells without reading any table.

    Hits and misses are cached apart, each in an LRU bounded by bytes (``HIT_CACHE_BYTES``,
    ``MISS_CACHE_BYTES``): a flood of unknown SecretIds evicts only other misses, never a known key,
    and can hold no more than the miss budget whatever the length or number of ids sent."""

    CACHE_S = 30.0
    HIT_CACHE_BYTES = 4 * 1024 * 1024
    MISS_CACHE_BYTES = 1024 * 1024

    def __init__(self, path: Path, master_key: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._aead = AESGCM(master_key)
        self._hits: ByteLRU[KeyRecord] = ByteLRU(self.HIT_CACHE_BYTES, self.CACHE_S)
        self._misses: ByteLRU[None] = ByteLRU(self.MISS_CACHE_BYTES, self.CACHE_S)
        self._data_version = self._version()

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- secrets at rest -----------------------------------------------------------------------
    def _encrypt(self, secret_id: str, secret_key: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, secret_key.encode(), secret_id.encode())

    def _decrypt(self, secret_id: str, blob: bytes) -> str:
        return self._aead.decrypt(blob[:12], blob[12:], secret_id.encode()).decode()

    # --- accounts and keys ---------------------------------------------------------------------
    def ensure_account(self, account_id: str, name: str | None = None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO accounts(id, name, created_at) VALUES (?, ?, ?)",
                (account_id, name or account_id, time.time()),
            )

    def create_key(
        self,
        account_id: str,
        *,
        secret_id: str | None = None,
        secret_key: str | None = None,
        actions: str = "*",
    ) -> tuple[str, str]:
        self.ensure_account(account_id)
        sid = secret_id or new_secret_id()
        if not valid_secret_id(sid):
            msg = f"a SecretId is 1-{MAX_SECRET_ID_CHARS} letters, digits, '_' or '-'"
            raise ValueError(msg)
        skey = secret_key or new_secret_key()
        with self._lock:
            self._db.execute(
                "INSERT INTO keys(secret_id, account_id, secret_enc, actions, created_at) VALUES (?, ?, ?, ?, ?)",
                (sid, account_id, self._encrypt(sid, skey), actions, time.time()),
            )
            self._forget(sid)
        return sid, skey

    def ensure_key(self, account_id: str, secret_id: str, secret_key: str) -> bool:
        """Make sure this exact pair exists and is active; True if it was created or changed."""
        rec = self.lookup(secret_id, use_cache=False)
        if rec is not None and rec.secret_key == secret_key and rec.status == "active":
            return False
        if rec is not None:
            self.delete_key(secret_id)
        self.create_key(account_id, secret_id=secret_id, secret_key=secret_key)
        return True

    def _forget(self, secret_id: str) -> None:
        self._hits.pop(secret_id)
        self._misses.pop(secret_id)

    def _clear_cache(self) -> None:
        self._hits.clear()
        self._misses.clear()

    def lookup(self, secret_id: str, *, use_cache: bool = True) -> KeyRecord | None:
        if not valid_secret_id(secret_id):
            return None  # no key can have this id: no query, nothing cached
        with self._lock:
            version = self._version()
            if version != self._data_version:
                self._data_version = version
                self._clear_cache()
        if use_cache:
            found, hit = self._hits.get(secret_id)
            if found:
                return hit
            if self._misses.get(secret_id)[0]:
                return None
        with self._lock:
            row = self._db.execute(
                "SELECT k.secret_id, k.secret_enc, k.account_id, k.status, k.actions, a.status, a.quota "
                "FROM keys k JOIN accounts a ON a.id = k.account_id WHERE k.secret_id = ?",
                (secret_id,),
            ).fetchone()
        if row is None:
            self._misses.put(secret_id, None)
            return None
        rec = KeyRecord(
            secret_id=row[0],
            secret_key=self._decrypt(row[0], row[1]),
            account_id=row[2],
            status=row[3],
            actions=tuple(a.strip() for a in row[4].split(",") if a.strip()),
            account_status=row[5],
            quota=row[6],
        )
        size = sum(sys.getsizeof(v) for v in (rec.secret_id, rec.secret_key, rec.account_id, rec.status))
        self._hits.put(secret_id, rec, size + sum(sys.getsizeof(a) for a in rec.actions))
        return rec

    def list_keys(self) -> list[dict[str, object]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT secret_id, account_id, status, actions, created_at FROM keys ORDER BY created_at"
            ).fetchall()
        return [
            {"secret_id": r[0], "account_id": r[1], "status": r[2], "actions": r[3], "created_at": r[4]}
            for r in rows
        ]

    def count_keys(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM keys").fetchone()[0])

    def set_key_status(self, secret_id: str, status: str) -> bool:
        with self._lock:
            cur = self._db.execute("UPDATE keys SET status = ? WHERE secret_id = ?", (status, secret_id))
            self._forget(secret_id)
        return cur.rowcount > 0

    def delete_key(self, secret_id: str) -> bool:
        with self._lock:
            cur = self._db.execute("DELETE FROM keys WHERE secret_id = ?", (secret_id,))
            self._forget(secret_id)
        return cur.rowcount > 0

    def set_account(
        self, account_id: str, *, status: str | None = None, quota: int | None | str = "keep"
    ) -> bool:
        with self._lock:
            n = 0
            if status is not None:
                n += self._db.execute(
                    "UPDATE accounts SET status = ? WHERE id = ?", (status, account_id)
                ).rowcount
            if quota != "keep":
                n += self._db.execute(
                    "UPDATE accounts SET quota = ? WHERE id = ?", (quota, account_id)
                ).rowcount
            self._clear_cache()
        return n > 0

    def consume_quota(self, account_id: str) -> bool:
        """Take one job from a limited quota; False when none is left (unlimited → always True)."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE accounts SET quota = quota - 1 WHERE id = ? AND quota IS NOT NULL AND quota > 0",
                (account_id,),
            )
            if cur.rowcount:
                self._clear_cache()
                return True
            row = self._db.execute("SELECT quota FROM accounts WHERE id = ?", (account_id,)).fetchone()
        return row is not None and row[0] is None

    def refund_quota(self, account_id: str) -> None:
        """Give back a job taken by :meth:`consume_quota` for a call that delivered no result."""
        with self._lock:
            self._db.execute(
                "UPDATE accounts SET quota = quota + 1 WHERE id = ? AND quota IS NOT NULL", (account_id,)
            )
            self._clear_cache()

    # --- job records -----------------------------------------------------------------------------
    RUNNING = "Running"  # code of an admitted job that has not finished (or whose node died)

    def admit_job(self, *, request_id: str, account_id: str, secret_id: str) -> None:
        """A row as soon as a job holds a slot, so a job whose node is killed still leaves a trace."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO jobs(request_id, account_id, secret_id, style, code, duration_ms, created_at) "
                "VALUES (?, ?, ?, NULL, ?, 0, ?)",
                (request_id, account_id, secret_id, self.RUNNING, time.time()),
            )

    def prune_jobs(self, *, older_than_s: float, now: float | None = None) -> int:
        """Delete job rows older than ``older_than_s``; return how many were removed."""
        cutoff = (now if now is not None else time.time()) - older_than_s
        with self._lock:
            return int(self._db.execute("DELETE FROM jobs WHERE created_at < ?", (cutoff,)).rowcount)

    def record_job(
        self,
        *,
        request_id: str,
        account_id: str,
        secret_id: str,
        style: str | None,
        code: str,
        duration_ms: float,
    ) -> None:
        """Mark the job finished (its admission row keeps its start time), or insert it if it has none."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE jobs SET style = ?, code = ?, duration_ms = ? WHERE request_id = ?",
                (style, code, duration_ms, request_id),
            )
            if cur.rowcount == 0:
                self._db.execute(
                    "INSERT INTO jobs(request_id, account_id, secret_id, style, code, duration_ms, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (request_id, account_id, secret_id, style, code, duration_ms, time.time()),
                )

    def recent_jobs(self, limit: int = 20) -> list[tuple[object, ...]]:
        with self._lock:
            return list(
                self._db.execute(
                    "SELECT request_id, account_id, style, code, duration_ms, created_at FROM jobs "
                    "ORDER BY created_at DESC LIMIT ?",
                    (limit,),
                ).fetchall()
            )
