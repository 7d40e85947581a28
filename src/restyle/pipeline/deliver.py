"""Step 13 — RspImgType: base64 text inline, or store and answer an expiring link."""

from __future__ import annotations

import base64
import secrets

from restyle.storages import BaseStorage


def deliver(
    data: bytes, content_type: str, *, rsp_img_type: str, storage: BaseStorage, ttl_s: int, base_url: str
) -> str:
    if rsp_img_type == "base64":
        return base64.b64encode(data).decode("ascii")
    ext = "png" if content_type == "image/png" else "jpg"
    key = f"{secrets.token_urlsafe(24)}.{ext}"
    storage.put(key, data, content_type)
    return storage.url_for(key, ttl_s=ttl_s, base_url=base_url)
