"""The playground's routes, added to the app by ``restyle.api.app.create_app``."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from restyle.service import Service
from restyle.web import pages
from restyle.web.previews import Previews


def routes(service: Service, previews: Previews | None = None) -> list[BaseRoute]:
    previews = previews or Previews(service)
    return [
        Route("/playground", pages.page, methods=["GET"]),
        Route("/playground/{name}", pages.static_file, methods=["GET"]),
        Route("/v1/styles/{style_id}/preview.jpg", previews.endpoint, methods=["GET"]),
    ]
