"""The playground page and its static files, served from the package (no build step, no CDN)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

Endpoint = Callable[[Request], Awaitable[Response]]

PAGE = "index.html"
#: every file the page may load, with its media type; anything else is a 404
FILES = {
    PAGE: "text/html; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
    "playground.js": "text/javascript; charset=utf-8",
    "astronaut.jpg": "image/jpeg",
    "favicon.svg": "image/svg+xml",
    # style names and page text in Chinese on machines without CJK fonts (scripts/make_label_font.py --ui)
    "NotoSansSC-ui-subset.woff2": "font/woff2",
}
#: The page holds a SecretKey, so it runs only its own script and talks only to this origin.
#: Images may come from anywhere: an InputUrl preview, or result links under RESTYLE_PUBLIC_URL.
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "font-src 'self'",
        "img-src 'self' data: blob: http: https:",
        "connect-src 'self'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


@cache
def asset(name: str) -> tuple[bytes, str]:
    """Bytes and ETag of one file under ``restyle/assets/playground``."""
    data = resources.files("restyle").joinpath("assets", "playground", name).read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:16] + '"'


def _file_response(request: Request, name: str) -> Response:
    data, etag = asset(name)
    headers = {"ETag": etag, "Cache-Control": "no-cache", **SECURITY_HEADERS}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=FILES[name], headers=headers)


async def page(request: Request) -> Response:
    return _file_response(request, PAGE)


async def static_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in FILES or name == PAGE:
        return PlainTextResponse("not found\n", status_code=404)
    return _file_response(request, name)


def is_browser_visit(request: Request) -> bool:
    """A bare ``GET /``: no query (the API's GET form), no X-TC-Action and no Authorization."""
    return (
        request.method in ("GET", "HEAD")
        and not request.scope.get("query_string")
        and "x-tc-action" not in request.headers
        and "authorization" not in request.headers
    )


def front_door(api: Endpoint) -> Endpoint:
    """Wrap the API endpoint at ``/``: a browser visit goes to the playground, everything else to ``api``."""

    async def endpoint(request: Request) -> Response:
        if is_browser_visit(request):
            return RedirectResponse("/playground", status_code=302)
        return await api(request)

    return endpoint
