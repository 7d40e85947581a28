"""GET /v1/styles: the style catalogue, with a preview link for each style."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from restyle import web
from restyle.api.hosts import base_url
from restyle.service import Service


async def styles(request: Request) -> Response:
    service: Service = request.app.state.service
    base = base_url(request, service)
    entries = [
        {**s.as_json(), "PreviewUrl": base + web.preview_path(s.id)}
        for s in service.plugins.catalogue.values()
    ]
    return JSONResponse({"Styles": entries})
