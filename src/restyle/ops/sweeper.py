"""Background upkeep of one node: expired results and old job records are removed periodically."""

from __future__ import annotations

import functools
import logging

import anyio

from restyle.service import Service

log = logging.getLogger("restyle.api")


async def sweep_forever(service: Service) -> None:
    ttl = service.settings.result_ttl_s
    while True:
        try:
            removed = await anyio.to_thread.run_sync(lambda: service.plugins.storage.sweep(older_than_s=ttl))
            if removed:
                log.info("swept %d expired results", removed)
            keep = service.settings.job_records_ttl_s
            pruned = await anyio.to_thread.run_sync(
                functools.partial(service.store.prune_jobs, older_than_s=keep)
            )
            if pruned:
                log.info("pruned %d job records older than %d s", pruned, keep)
        except Exception:
            log.exception("result sweep failed")
        await anyio.sleep(min(60.0, max(1.0, ttl / 4)))
