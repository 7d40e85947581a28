"""Job queue in SQLite (``<data_dir>/jobs.db``): the embedded default, durable across kill -9.

Every change is one ``BEGIN IMMEDIATE`` transaction, so processes sharing the file serialise on the
database lock: two Submits with one ClientToken cannot both insert, two workers cannot claim one job.
``synchronous=FULL``: a Submit is answered only after its record reached the disk.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

from restyle import errors
from restyle.jobs import (
    CANCELLED,
    DONE,
    FAILED,
    LOST,
    RUNNING,
    TOKEN_WINDOW_S,
    WAITING,
    BaseQueue,
    Finish,
    JobRecord,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    secret_id TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    client_token TEXT,
    callback_url TEXT,
    result_ttl_s INTEGER NOT NULL,
    started_at REAL,
    finished_at REAL,
    progress INTEGER NOT NULL DEFAULT 0,
    error_code TEXT NOT NULL DEFAULT '',
    error_msg TEXT NOT NULL DEFAULT '',
    result_key TEXT,
    result_expires_at REAL,
    effective TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    node TEXT,
    lease_until REAL,
    callback_state TEXT NOT NULL DEFAULT '',
    base_url TEXT NOT NULL DEFAULT '',
    callback_node TEXT,                      -- the node sending a pending callback
    callback_lease REAL                      -- ... until then (its node died if past)
);
CREATE INDEX IF NOT EXISTS jobs_waiting ON jobs(state, account_id, seq);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_token ON jobs(account_id, client_token) WHERE client_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_callbacks ON jobs(callback_lease) WHERE callback_state = 'pending';
CREATE INDEX IF NOT EXISTS jobs_expiry ON jobs(result_expires_at) WHERE result_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS job_accounts (
    account_id TEXT PRIMARY KEY,
    served INTEGER NOT NULL                  -- turn counter: the smallest is served next
);
"""
_FIELDS = [f.name for f in fields(JobRecord)]
_COLUMNS = ", ".join(_FIELDS)


def _row(row: tuple[Any, ...]) -> JobRecord:
    values = dict(zip(_FIELDS, row, strict=True))
    values["params"] = json.loads(values["params"])
    values["effective"] = json.loads(values["effective"]) if values["effective"] else None
    values["cancel_requested"] = bool(values["cancel_requested"])
    return JobRecord(**values)


class Queue(BaseQueue):
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        have = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for column, kind in (("callback_node", "TEXT"), ("callback_lease", "REAL")):
            if have and column not in have:  # a jobs.db made before callbacks had leases
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> Queue:
        return cls(Path(settings.data_dir) / "jobs.db")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    # --- submit / read ----------------------------------------------------------------------------
    def submit(self, rec: JobRecord, *, max_waiting: int) -> tuple[JobRecord, bool]:
        with self._tx() as db:
            if rec.client_token is not None:
                row = db.execute(
                    f"SELECT {_COLUMNS} FROM jobs WHERE account_id = ? AND client_token = ?",
                    (rec.account_id, rec.client_token),
                ).fetchone()
                if row is not None:
                    old = _row(row)
                    if old.created_at > time.time() - TOKEN_WINDOW_S:
                        return old, False
                    db.execute("UPDATE jobs SET client_token = NULL WHERE job_id = ?", (old.job_id,))
            (waiting,) = db.execute(
                "SELECT COUNT(*) FROM jobs WHERE state = ? AND account_id = ?", (WAITING, rec.account_id)
            ).fetchone()
            if waiting >= max_waiting:
                msg = (
                    f"This account already has {waiting} jobs waiting; at most {max_waiting} may wait. "
                    "Query them and submit more when some have finished."
                )
                raise errors.JobNumExceed(msg)
            values = [getattr(rec, f) for f in _FIELDS]
            values[_FIELDS.index("params")] = json.dumps(rec.params, ensure_ascii=False)
            values[_FIELDS.index("effective")] = json.dumps(rec.effective) if rec.effective else None
            db.execute(f"INSERT INTO jobs({_COLUMNS}) VALUES ({', '.join('?' * len(_FIELDS))})", values)
        return rec, True

    def get(self, job_id: str) -> JobRecord | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,))
        return _row(rows[0]) if rows else None

    def lines(self, rec: JobRecord) -> tuple[int, list[tuple[str, int]]] | None:
        with self._lock:
            self._db.execute("BEGIN")  # one read transaction: a consistent picture
            try:
                own, turns = self._lines(rec)
            finally:
                self._db.execute("COMMIT")
        return (own, turns) if own else None

    def _lines(self, rec: JobRecord) -> tuple[int, list[tuple[str, int]]]:
        own = self._db.execute(
            "SELECT COUNT(*) FROM jobs WHERE state = ? AND account_id = ? "
            "AND seq <= (SELECT seq FROM jobs WHERE job_id = ? AND state = ?)",
            (WAITING, rec.account_id, rec.job_id, WAITING),
        ).fetchone()[0]
        turns = self._db.execute(
            "SELECT j.account_id, COUNT(*) FROM jobs j LEFT JOIN job_accounts a "
            "ON a.account_id = j.account_id WHERE j.state = ? GROUP BY j.account_id "
            "ORDER BY COALESCE(MAX(a.served), -1), MIN(j.seq)",
            (WAITING,),
        ).fetchall()
        return int(own), [(a, int(n)) for a, n in turns]

    def waiting_accounts(self) -> list[str]:
        rows = self._read(
            "SELECT j.account_id FROM jobs j LEFT JOIN job_accounts a ON a.account_id = j.account_id "
            "WHERE j.state = ? GROUP BY j.account_id ORDER BY COALESCE(MAX(a.served), -1), MIN(j.seq)",
            (WAITING,),
        )
        return [r[0] for r in rows]

    # --- running ----------------------------------------------------------------------------------
    def claim(self, account_id: str, *, node: str, lease_s: float) -> JobRecord | None:
        now = time.time()
        with self._tx() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE state = ? AND account_id = ? ORDER BY seq LIMIT 1",
                (WAITING, account_id),
            ).fetchone()
            if row is None:
                return None
            rec = _row(row)
            db.execute(
                "UPDATE jobs SET state = ?, node = ?, lease_until = ?, started_at = ?, attempts = attempts + 1, "
                "progress = 0 WHERE job_id = ?",
                (RUNNING, node, now + lease_s, now, rec.job_id),
            )
            db.execute(
                "INSERT INTO job_accounts(account_id, served) VALUES (?, "
                "(SELECT COALESCE(MAX(served), 0) + 1 FROM job_accounts)) "
                "ON CONFLICT(account_id) DO UPDATE SET served = "
                "(SELECT COALESCE(MAX(served), 0) + 1 FROM job_accounts)",
                (account_id,),
            )
        rec.state, rec.node, rec.started_at, rec.attempts = RUNNING, node, now, rec.attempts + 1
        return rec

    def heartbeat(self, job_id: str, *, node: str, progress: int, lease_s: float) -> tuple[bool, bool]:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET lease_until = ?, progress = MAX(progress, ?) "
                "WHERE job_id = ? AND node = ? AND state = ?",
                (time.time() + lease_s, progress, job_id, node, RUNNING),
            )
            if not cur.rowcount:
                return False, False
            (cancel,) = db.execute("SELECT cancel_requested FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return True, bool(cancel)

    def finish(self, job_id: str, *, node: str, outcome: Finish) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET state = ?, error_code = ?, error_msg = ?, result_key = ?, "
                "result_expires_at = ?, effective = ?, finished_at = ?, lease_until = NULL, "
                "progress = CASE WHEN ? = ? THEN 100 ELSE progress END, callback_state = "
                "CASE WHEN callback_url IS NOT NULL THEN 'pending' ELSE '' END "
                "WHERE job_id = ? AND node = ? AND state = ?",
                (
                    outcome.state,
                    outcome.error_code,
                    outcome.error_msg,
                    outcome.result_key,
                    outcome.result_expires_at,
                    json.dumps(outcome.effective) if outcome.effective else None,
                    time.time(),
                    outcome.state,
                    DONE,
                    job_id,
                    node,
                    RUNNING,
                ),
            )
            return bool(cur.rowcount)

    def release(self, job_id: str, *, node: str) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET state = ?, node = NULL, lease_until = NULL, progress = 0, "
                "attempts = MAX(0, attempts - 1) WHERE job_id = ? AND node = ? AND state = ?",
                (WAITING, job_id, node, RUNNING),
            )
            return bool(cur.rowcount)

    def cancel(self, job_id: str) -> JobRecord | None:
        with self._tx() as db:
            now = time.time()
            db.execute(
                "UPDATE jobs SET state = ?, error_code = ?, error_msg = ?, finished_at = ?, "
                "callback_state = CASE WHEN callback_url IS NOT NULL THEN 'pending' ELSE '' END "
                "WHERE job_id = ? AND state = ?",
                (FAILED, CANCELLED, "The job was cancelled before it started.", now, job_id, WAITING),
            )
            db.execute(
                "UPDATE jobs SET cancel_requested = 1 WHERE job_id = ? AND state = ?", (job_id, RUNNING)
            )
        return self.get(job_id)

    def requeue_expired(self, *, max_attempts: int) -> list[str]:
        now = time.time()
        with self._tx() as db:
            rows = db.execute(
                "SELECT job_id, attempts, cancel_requested FROM jobs WHERE state = ? AND lease_until < ?",
                (RUNNING, now),
            ).fetchall()
            for job_id, attempts, cancel in rows:
                if cancel or attempts >= max_attempts:
                    code, text = (
                        (CANCELLED, "The job was cancelled.")
                        if cancel
                        else (LOST, f"The job's node stopped while running it, {attempts} times.")
                    )
                    db.execute(
                        "UPDATE jobs SET state = ?, error_code = ?, error_msg = ?, finished_at = ?, "
                        "node = NULL, lease_until = NULL, callback_state = "
                        "CASE WHEN callback_url IS NOT NULL THEN 'pending' ELSE '' END WHERE job_id = ?",
                        (FAILED, code, text, now, job_id),
                    )
                else:
                    db.execute(
                        "UPDATE jobs SET state = ?, node = NULL, lease_until = NULL, progress = 0 "
                        "WHERE job_id = ?",
                        (WAITING, job_id),
                    )
        return [r[0] for r in rows]

    # --- results and callbacks --------------------------------------------------------------------
    def clear_result(self, job_id: str) -> str | None:
        with self._tx() as db:
            row = db.execute("SELECT result_key FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            db.execute(
                "UPDATE jobs SET result_key = NULL, result_expires_at = NULL WHERE job_id = ?", (job_id,)
            )
        return row[0] if row else None

    def expired_results(self, now: float) -> list[tuple[str, str]]:
        rows = self._read(
            "SELECT job_id, result_key FROM jobs WHERE result_key IS NOT NULL AND result_expires_at < ?",
            (now,),
        )
        return [(r[0], r[1]) for r in rows]

    def set_callback_state(self, job_id: str, state: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET callback_state = ?, callback_node = NULL, callback_lease = NULL "
                "WHERE job_id = ?",
                (state, job_id),
            )

    def pending_callbacks(self) -> list[str]:
        return [r[0] for r in self._read("SELECT job_id FROM jobs WHERE callback_state = 'pending'")]

    def claim_callbacks(
        self, *, node: str, lease_s: float, job_id: str | None = None, limit: int = 100
    ) -> list[str]:
        now = time.time()
        only = " AND job_id = ?" if job_id is not None else ""
        args: tuple[Any, ...] = (node, now + lease_s, now, *((job_id,) if job_id is not None else ()), limit)
        with self._tx() as db:
            rows = db.execute(
                "UPDATE jobs SET callback_node = ?, callback_lease = ? WHERE job_id IN ("
                "SELECT job_id FROM jobs WHERE callback_state = 'pending' "
                f"AND (callback_lease IS NULL OR callback_lease < ?){only} LIMIT ?) RETURNING job_id",
                args,
            ).fetchall()
        return [r[0] for r in rows]

    def renew_callback(self, job_id: str, *, node: str, lease_s: float) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET callback_lease = ? WHERE job_id = ? AND callback_node = ? "
                "AND callback_state = 'pending'",
                (time.time() + lease_s, job_id, node),
            )
            return bool(cur.rowcount)

    def purge(self, *, older_than_s: float) -> int:
        with self._tx() as db:
            cur = db.execute(
                "DELETE FROM jobs WHERE state IN (?, ?) AND finished_at < ? AND result_key IS NULL "
                "AND callback_state != 'pending'",
                (FAILED, DONE, time.time() - older_than_s),
            )
            return int(cur.rowcount)

    def ready(self) -> None:
        self._read("SELECT 1")

    def close(self) -> None:
        with self._lock:
            self._db.close()
