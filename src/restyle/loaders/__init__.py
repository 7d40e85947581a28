"""Loaders: an image reference (base64 text or URL) → raw bytes, with size and time caps.

``inline`` decodes base64; ``http`` downloads an InputUrl/LogoUrl with SSRF checks. A loader raises
the contract's error classes (ImageDecodeFailed, ImageSizeExceed, UrlIllegal, ImageDownloadError).
"""

from __future__ import annotations

from restyle.pipeline.job import ImageRef
from restyle.plugins import Plugin


class BaseLoader(Plugin):
    """Base class: ``load(ref, max_bytes, deadline_s)`` returns the image bytes."""

    def load(self, ref: ImageRef, *, max_bytes: int, deadline_s: float) -> bytes:
        raise NotImplementedError
