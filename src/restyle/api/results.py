"""GET /results/{key}: a stored result behind a signed, expiring link (RspImgType=url)."""

from __future__ import annotations

import time

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from restyle.service import Service

RESULT_MAX_AGE_S = 3600


async def results(request: Request) -> Response:
    service: Service = request.app.state.service
    key = request.path_params["key"]
    q = request.query_params
    now = time.time()
    expires = service.signer.expires_at(key, q.get("Expires", ""), q.get("Signature", ""), now)
    if expires is None:
        return PlainTextResponse("link expired or invalid\n", status_code=403)
    data = await anyio.to_thread.run_sync(service.plugins.storage.get, key)
    if data is None:
        return PlainTextResponse("not found\n", status_code=404)
    media = "image/png" if key.endswith(".png") else "image/jpeg"
    max_age = max(0, min(RESULT_MAX_AGE_S, int(expires - now)))  # a cache never outlives the link
    return Response(data, media_type=media, headers={"Cache-Control": f"private, max-age={max_age}"})
