"""Build Jobs and Plugins for pipeline tests the way ``restyle.service`` does, without a server."""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any

import numpy as np
from PIL import Image

from restyle.engines import BaseEngine
from restyle.engines import identity as identity_engine
from restyle.loaders import http as http_loader
from restyle.loaders import inline as inline_loader
from restyle.moderators import none as none_moderator
from restyle.moderators import wordlist as wordlist_moderator
from restyle.pipeline.job import ImageRef, Job, Logo, Rect, Result
from restyle.pipeline.run import Plugins, RunLimits, run
from restyle.restorers import BaseRestorer
from restyle.restorers import none as none_restorer
from restyle.storages import LinkSigner
from restyle.storages import memory as memory_storage
from restyle.styles import Style, catalogue
from restyle.upscalers import BaseUpscaler
from restyle.upscalers import none as none_upscaler

IDENTITY_STYLE = Style(
    id="201",
    zh="原样",
    en="Identity",
    engine="identity",
    recipe="",
    strength=0.8,
    prompt=False,
    latency="fast",
)


def plugins(
    *,
    engine: str = "identity",
    moderator: str = "none",
    restorer: BaseRestorer | None = None,
    upscaler: BaseUpscaler | None = None,
) -> Plugins:
    """``identity`` maps style 201 to the identity engine; ``classic`` uses the real catalogue."""
    engines: dict[str, BaseEngine]
    if engine == "identity":
        engines = {"identity": identity_engine.Engine()}
        cat = {"201": IDENTITY_STYLE}
    else:
        from restyle.engines import classic

        engines = {"classic": classic.Engine()}
        cat = {sid: s for sid, s in catalogue().items() if s.engine == "classic"}
    return Plugins(
        engines=engines,
        inline_loader=inline_loader.Loader(),
        url_loader=http_loader.Loader(allowlist=[]),
        moderator=wordlist_moderator.Moderator() if moderator == "wordlist" else none_moderator.Moderator(),
        restorer=restorer or none_restorer.Restorer(),
        upscaler=upscaler or none_upscaler.Upscaler(),
        storage=memory_storage.Storage(LinkSigner(b"k" * 32)),
        catalogue=cat,
    )


def job(data: bytes, **kw: Any) -> Job:
    return Job(request_id=str(uuid.uuid4()), source=ImageRef(base64=base64.b64encode(data).decode()), **kw)


def logo(data: bytes, x: int, y: int, width: int, height: int) -> Logo:
    return Logo(ImageRef(base64=base64.b64encode(data).decode()), Rect(x, y, width, height))


def execute(data: bytes, plugs: Plugins | None = None, **kw: Any) -> Result:
    return run(job(data, **kw), plugs or plugins(), RunLimits(), base_url="http://127.0.0.1")


def result_image(result: Result) -> np.ndarray:
    """The delivered JPEG, checked and decoded to RGB uint8."""
    assert base64.b64decode(result.result_image) == result.data
    im = Image.open(io.BytesIO(result.data))
    assert im.format == "JPEG"
    assert im.mode == "RGB"
    assert im.size == (result.width, result.height)
    return np.asarray(im)
