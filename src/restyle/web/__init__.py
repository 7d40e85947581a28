"""The browser playground: one static page, its assets, the ``GET /`` redirect and style previews.

Nothing here speaks Tencent's wire format. The page builds, signs (TC3-HMAC-SHA256, WebCrypto) and posts
its ImageToImage call to ``/`` like any other client, so it only ever sees what the SDK would see.

    GET /playground                       the page (src/restyle/assets/playground/index.html)
    GET /playground/{file}                its script, stylesheet and sample photo (a fixed list)
    GET /v1/styles/{id}/preview.jpg       the bundled photo in that style, rendered once by the pipeline
    GET /  (no query, no X-TC-Action, no Authorization)  302 → /playground
"""

from __future__ import annotations

from restyle.web.pages import front_door
from restyle.web.previews import Previews, preview_path
from restyle.web.routes import routes

__all__ = ["Previews", "front_door", "preview_path", "routes"]
