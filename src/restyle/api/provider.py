"""ImageToImage: wire params (PascalCase) → Job (snake_case) → pipeline.run in a worker → wire result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread

from restyle import errors
from restyle.api.shapes import ImageToImageRequest
from restyle.limiters import Lease
from restyle.pipeline.job import ImageRef, Job, Logo, Rect, Result
from restyle.pipeline.run import run
from restyle.service import Service


def to_job(p: ImageToImageRequest, *, request_id: str, account_id: str, budget_s: float) -> Job:
    logo_param = p.get("LogoParam")
    logo = None
    if logo_param is not None:
        r = logo_param.get("LogoRect")
        rect = (
            None if r is None else Rect(r.get("X", 0), r.get("Y", 0), r.get("Width", 0), r.get("Height", 0))
        )
        logo = Logo(
            ImageRef(url=logo_param.get("LogoUrl") or None, base64=logo_param.get("LogoImage") or None), rect
        )
    return Job(
        request_id=request_id,
        account_id=account_id,
        source=ImageRef(url=p.get("InputUrl") or None, base64=p.get("InputImage") or None),
        styles=list(p.get("Styles", [])),
        strength=p.get("Strength"),
        prompt=p.get("Prompt", ""),
        negative_prompt=p.get("NegativePrompt", ""),
        resolution=p.get("ResultConfig", {}).get("Resolution", "origin"),
        logo_add=0 if p.get("LogoAdd", 1) == 0 else 1,
        logo=logo,
        rsp_img_type=p.get("RspImgType", "base64"),
        enhance=p.get("EnhanceImage", 0),
        restore_face=p.get("RestoreFace", 0),
        budget_s=budget_s,
    )


async def run_in_worker(
    fn: Callable[[], Result], job: Job, lease: Lease, capacity: anyio.CapacityLimiter
) -> Result:
    """Run ``fn`` on a worker thread; the worker owns the slot from the moment it starts.

    On timeout the caller gets RequestTimeout at once; the job is cancelled cooperatively (the pipeline
    checks between steps) and its slot is released when the worker actually stops.
    """

    def work() -> Result:
        if not lease.hand_off():
            raise errors.RequestTimeout()
        try:
            return fn()
        finally:
            lease.release()

    try:
        with anyio.fail_after(job.budget_s):
            return await anyio.to_thread.run_sync(work, limiter=capacity, abandon_on_cancel=True)
    except TimeoutError:
        job.cancelled.set()
        await anyio.to_thread.run_sync(lease.release_unless_handed_off)  # may talk to Redis: off the loop
        msg = f"The job exceeded its time budget of {job.budget_s:g} s."
        raise errors.RequestTimeout(msg) from None


async def image_to_image(
    params: ImageToImageRequest,
    *,
    service: Service,
    request_id: str,
    account_id: str,
    lease: Lease,
    capacity: anyio.CapacityLimiter,
    base_url: str,
) -> tuple[dict[str, Any], Result]:
    job = to_job(
        params, request_id=request_id, account_id=account_id, budget_s=service.settings.job_timeout_s
    )
    result = await run_in_worker(
        lambda: run(job, service.plugins, service.limits, base_url=base_url), job, lease, capacity
    )
    return {"ResultImage": result.result_image}, result
