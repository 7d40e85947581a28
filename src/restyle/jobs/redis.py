"""Job queue in Redis, shared by every node: any node takes Submits, any node runs jobs.

Every check-and-change is one Lua script, so two nodes never both insert one ClientToken, never both
claim one job, and a dead node's jobs are put back in line exactly once. Durability is Redis's: run it
with ``appendonly yes`` (``appendfsync everysec`` or ``always``) so an accepted job survives a Redis
restart too.

Keys (``{prefix}`` is ``redis_prefix`` + ``jobs:``)::

    {prefix}j:{id}            HASH    the job record (params and effective parameters as JSON)
    {prefix}w:{account}       LIST    waiting job ids of an account, oldest first
    {prefix}turns             ZSET    accounts with waiting jobs -> turn last served (smallest goes next)
    {prefix}served            HASH    account -> turn last served (kept when its line empties)
    {prefix}turn              STRING  turn counter
    {prefix}running           ZSET    running job id -> lease expiry (ms)
    {prefix}exp               ZSET    job id -> result expiry (s)
    {prefix}cbl               ZSET    job id -> callback lease expiry (ms; 0: nobody sends it yet)
    {prefix}cbo               HASH    job id -> the node sending its callback
    {prefix}t:{account}:{tok} STRING  ClientToken -> job id, expires after 24 h

Finished records expire ``jobs_keep_s`` after their result is gone (Redis does the purge).
Needs ``pip install restyle[redis]``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import fields
from typing import Any

from restyle import errors
from restyle.jobs import CANCELLED, LOST, TOKEN_WINDOW_S, BaseQueue, Finish, JobRecord
from restyle.jobs.redis_lua import (
    CANCEL,
    CLAIM,
    CLAIM_CALLBACKS,
    FINISH,
    HEARTBEAT,
    LINES,
    RELEASE,
    RENEW_CALLBACK,
    REQUEUE,
    SUBMIT,
)

try:
    import redis
except ImportError as exc:  # pragma: no cover - depends on the environment
    msg = "jobs queue 'redis' needs `pip install restyle[redis]`"
    raise ImportError(msg) from exc

log = logging.getLogger("restyle.jobs.redis")
_FIELDS = {f.name: f for f in fields(JobRecord)}
_JSON = {"params", "effective"}
_FLOAT = {"created_at", "started_at", "finished_at", "result_expires_at"}
_INT = {"result_ttl_s", "progress", "attempts"}


def _encode(name: str, value: Any) -> str:
    if name in _JSON:
        return json.dumps(value, ensure_ascii=False) if value is not None else ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def _decode(raw: dict[bytes, bytes]) -> JobRecord:
    values: dict[str, Any] = {}
    for k, v in raw.items():
        name, text = k.decode(), v.decode("utf-8")
        if name not in _FIELDS:
            continue
        if name in _JSON:
            values[name] = json.loads(text) if text else None
        elif name in _FLOAT:
            values[name] = float(text) if text else None
        elif name in _INT:
            values[name] = int(text or 0)
        elif name == "cancel_requested":
            values[name] = text == "1"
        elif name in ("client_token", "callback_url", "result_key", "node"):
            values[name] = text or None
        else:
            values[name] = text
    if values.get("params") is None:
        values["params"] = {}
    return JobRecord(**values)


def _pairs(values: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for k, v in values.items():
        out += [k, _encode(k, v)]
    return out


class Queue(BaseQueue):
    name = "redis"

    def __init__(
        self, url: str = "redis://127.0.0.1:6379/0", *, prefix: str = "restyle:", keep_s: float = 2 * 86400
    ) -> None:
        self.url = url
        self.p = f"{prefix}jobs:"
        self.keep_s = int(keep_s)
        self.redis: Any = redis.Redis.from_url(
            url, socket_timeout=5.0, socket_connect_timeout=2.0, health_check_interval=30
        )
        self._submit = self.redis.register_script(SUBMIT)
        self._claim = self.redis.register_script(CLAIM)
        self._heartbeat = self.redis.register_script(HEARTBEAT)
        self._finish = self.redis.register_script(FINISH)
        self._release = self.redis.register_script(RELEASE)
        self._cancel = self.redis.register_script(CANCEL)
        self._requeue = self.redis.register_script(REQUEUE)
        self._claim_callbacks = self.redis.register_script(CLAIM_CALLBACKS)
        self._lines = self.redis.register_script(LINES)
        self._renew_callback = self.redis.register_script(RENEW_CALLBACK)

    @classmethod
    def from_settings(cls, settings: Any) -> Queue:
        return cls(settings.redis_url, prefix=settings.redis_prefix, keep_s=settings.jobs_keep_s)

    def _k(self, *parts: str) -> str:
        return self.p + ":".join(parts)

    def _do(self, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except redis.RedisError as exc:
            log.error("redis job queue at %s failed: %s", self.url, exc)
            msg = "The job queue is unreachable; retry the call."
            raise errors.ServerError(msg) from exc

    # --- submit / read ----------------------------------------------------------------------------
    def submit(self, rec: JobRecord, *, max_waiting: int) -> tuple[JobRecord, bool]:
        token = rec.client_token
        values = {name: getattr(rec, name) for name in _FIELDS}
        status, value = self._do(
            self._submit,
            keys=[
                self._k("t", rec.account_id, token or "-"),
                self._k("w", rec.account_id),
                self._k("j", rec.job_id),
                self._k("turns"),
                self._k("served"),
            ],
            args=[
                "1" if token is not None else "0",
                rec.job_id,
                rec.account_id,
                max_waiting,
                TOKEN_WINDOW_S,
                "",
                "",
                self._k("j", ""),
                *_pairs(values),
            ],
        )
        if status == -1:
            msg = (
                f"This account already has {int(value)} jobs waiting; at most {max_waiting} may wait. "
                "Query them and submit more when some have finished."
            )
            raise errors.JobNumExceed(msg)
        if status == 0:
            old = self.get(value.decode())
            if old is not None:
                return old, False
        return rec, True

    def get(self, job_id: str) -> JobRecord | None:
        raw = self._do(self.redis.hgetall, self._k("j", job_id))
        return _decode(raw) if raw else None

    def lines(self, rec: JobRecord) -> tuple[int, list[tuple[str, int]]] | None:
        raw = self._do(
            self._lines, keys=[self._k("turns")], args=[self._k("w", ""), rec.account_id, rec.job_id]
        )
        if not raw or raw[0] == 0:
            return None
        pairs = raw[1:]
        return int(raw[0]), [(pairs[i].decode(), int(pairs[i + 1])) for i in range(0, len(pairs), 2)]

    def waiting_accounts(self) -> list[str]:
        return [a.decode() for a in self._do(self.redis.zrange, self._k("turns"), 0, -1)]

    # --- running ----------------------------------------------------------------------------------
    def claim(self, account_id: str, *, node: str, lease_s: float) -> JobRecord | None:
        job_id = self._do(
            self._claim,
            keys=[
                self._k("w", account_id),
                self._k("turns"),
                self._k("served"),
                self._k("turn"),
                self._k("running"),
            ],
            args=[account_id, node, repr(time.time()), int(lease_s * 1000), self._k("j", "")],
        )
        return self.get(job_id.decode()) if job_id else None

    def heartbeat(self, job_id: str, *, node: str, progress: int, lease_s: float) -> tuple[bool, bool]:
        owned, cancel = self._do(
            self._heartbeat,
            keys=[self._k("j", job_id), self._k("running")],
            args=[job_id, node, repr(time.time()), int(lease_s * 1000), progress],
        )
        return bool(owned), bool(cancel)

    def finish(self, job_id: str, *, node: str, outcome: Finish) -> bool:
        values: dict[str, Any] = {
            "state": outcome.state,
            "error_code": outcome.error_code,
            "error_msg": outcome.error_msg,
            "result_key": outcome.result_key,
            "result_expires_at": outcome.result_expires_at,
            "effective": outcome.effective,
            "finished_at": time.time(),
        }
        if outcome.state == "5":
            values["progress"] = 100
        ok = self._do(
            self._finish,
            keys=[self._k("j", job_id), self._k("running"), self._k("exp"), self._k("cbl")],
            args=[job_id, node, self.keep_s, "", *_pairs(values)],
        )
        return bool(ok)

    def release(self, job_id: str, *, node: str) -> bool:
        rec = self.get(job_id)
        if rec is None:
            return False
        ok = self._do(
            self._release,
            keys=[
                self._k("j", job_id),
                self._k("running"),
                self._k("w", rec.account_id),
                self._k("turns"),
                self._k("served"),
            ],
            args=[job_id, node, rec.account_id],
        )
        return bool(ok)

    def cancel(self, job_id: str) -> JobRecord | None:
        rec = self.get(job_id)
        if rec is None:
            return None
        self._do(
            self._cancel,
            keys=[self._k("j", job_id), self._k("w", rec.account_id), self._k("turns"), self._k("cbl")],
            args=[
                job_id,
                rec.account_id,
                repr(time.time()),
                self.keep_s,
                CANCELLED,
                "The job was cancelled before it started.",
            ],
        )
        return self.get(job_id)

    def requeue_expired(self, *, max_attempts: int) -> list[str]:
        ids = self._do(
            self._requeue,
            keys=[self._k("running"), self._k("w", ""), self._k("turns"), self._k("served"), self._k("cbl")],
            args=[repr(time.time()), max_attempts, self._k("j", ""), self.keep_s, CANCELLED, LOST],
        )
        return [i.decode() for i in ids]

    # --- results and callbacks --------------------------------------------------------------------
    def clear_result(self, job_id: str) -> str | None:
        jk = self._k("j", job_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hget(jk, "result_key")
        pipe.hset(jk, mapping={"result_key": "", "result_expires_at": ""})
        pipe.zrem(self._k("exp"), job_id)
        pipe.expire(jk, self.keep_s)
        key = self._do(pipe.execute)[0]
        return key.decode() if key else None

    def expired_results(self, now: float) -> list[tuple[str, str]]:
        ids = [i.decode() for i in self._do(self.redis.zrangebyscore, self._k("exp"), "-inf", now)]
        out = []
        for job_id in ids:
            key = self._do(self.redis.hget, self._k("j", job_id), "result_key")
            if key:
                out.append((job_id, key.decode()))
            else:
                self._do(self.redis.zrem, self._k("exp"), job_id)
        return out

    def set_callback_state(self, job_id: str, state: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self._k("j", job_id), "callback_state", state)
        pipe.hdel(self._k("cbo"), job_id)
        if state == "pending":
            pipe.zadd(self._k("cbl"), {job_id: 0})
        else:
            pipe.zrem(self._k("cbl"), job_id)
        self._do(pipe.execute)

    def pending_callbacks(self) -> list[str]:
        return [i.decode() for i in self._do(self.redis.zrange, self._k("cbl"), 0, -1)]

    def claim_callbacks(
        self, *, node: str, lease_s: float, job_id: str | None = None, limit: int = 100
    ) -> list[str]:
        now_ms = int(time.time() * 1000)
        args: list[Any] = [now_ms, int(lease_s * 1000), node, limit]
        if job_id is not None:
            args.append(job_id)
        ids = self._do(self._claim_callbacks, keys=[self._k("cbl"), self._k("cbo")], args=args)
        return [i.decode() for i in ids]

    def renew_callback(self, job_id: str, *, node: str, lease_s: float) -> bool:
        until = int((time.time() + lease_s) * 1000)
        ok = self._do(self._renew_callback, keys=[self._k("cbl"), self._k("cbo")], args=[job_id, node, until])
        return bool(ok)

    def purge(self, *, older_than_s: float) -> int:
        return 0  # finished records carry an EXPIRE

    def ready(self) -> None:
        self.redis.ping()

    def close(self) -> None:
        self.redis.close()
