"""XMP inside JPEG (APP1) and PNG (iTXt ``XML:com.adobe.xmp``): the GB 45438-2025 implicit AIGC label.

The label is the JSON object the TC260 practice guide puts in ``TC260:AIGC``
(namespace ``http://www.tc260.org.cn/ns/AIGC/1.0/``)::

    {"Label": "1", "ContentProducer": ..., "ProduceID": ..., "ReservedCode1": ...,
     "ContentPropagator": ..., "PropagateID": ..., "ReservedCode2": ...}

``Label`` 1 = AI-generated; ``ProduceID`` is the content id (the RequestId or JobId that made it);
ReservedCode1 carries a SHA-256 of the label fields (integrity of the label itself). restyle's own
namespace adds the effective parameters (``restyle:EffectiveParameters``, JSON).
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import zlib
from typing import Any
from xml.sax.saxutils import escape

from restyle.provenance import BaseProvenance

TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
RESTYLE_NS = "https://restyle.dev/ns/1.0/"
XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
PNG_SIG = b"\x89PNG\r\n\x1a\n"
_MAX_APP1 = 65533 - len(XMP_APP1)


def aigc_label(
    *, producer: str, content_id: str, propagator: str = "", propagate_id: str = ""
) -> dict[str, str]:
    label = {
        "Label": "1",
        "ContentProducer": producer,
        "ProduceID": content_id,
        "ReservedCode1": "",
        "ContentPropagator": propagator,
        "PropagateID": propagate_id,
        "ReservedCode2": "",
    }
    digest = hashlib.sha256(
        "|".join(label[k] for k in ("Label", "ContentProducer", "ProduceID")).encode("utf-8")
    ).hexdigest()
    label["ReservedCode1"] = f"sha256:{digest}"
    return label


def packet(label: dict[str, str], facts: dict[str, Any]) -> bytes:
    aigc = escape(json.dumps(label, ensure_ascii=False, separators=(",", ":")))
    eff = escape(json.dumps(facts, ensure_ascii=False, separators=(",", ":")))
    xml = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:TC260="{TC260_NS}" xmlns:restyle="{RESTYLE_NS}">'
        f"<TC260:AIGC>{aigc}</TC260:AIGC>"
        f"<restyle:EffectiveParameters>{eff}</restyle:EffectiveParameters>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )
    return xml.encode("utf-8")


def embed_jpeg(data: bytes, xmp: bytes) -> bytes:
    """Insert an XMP APP1 segment after SOI and any APP0 (JFIF) segment."""
    if data[:2] != b"\xff\xd8":
        msg = "not a JPEG"
        raise ValueError(msg)
    if len(xmp) > _MAX_APP1:
        msg = f"XMP packet of {len(xmp)} bytes does not fit one APP1 segment"
        raise ValueError(msg)
    pos = 2
    if data[2:4] == b"\xff\xe0":  # keep JFIF first
        pos = 4 + struct.unpack(">H", data[4:6])[0]
    seg = b"\xff\xe1" + struct.pack(">H", len(XMP_APP1) + len(xmp) + 2) + XMP_APP1 + xmp
    return data[:pos] + seg + data[pos:]


def embed_png(data: bytes, xmp: bytes) -> bytes:
    """Insert an iTXt ``XML:com.adobe.xmp`` chunk right after IHDR."""
    if data[:8] != PNG_SIG:
        msg = "not a PNG"
        raise ValueError(msg)
    ihdr_len = struct.unpack(">I", data[8:12])[0]
    pos = 8 + 12 + ihdr_len
    body = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    return data[:pos] + chunk + data[pos:]


def extract(data: bytes) -> bytes | None:
    """The first XMP packet in a JPEG or PNG file, or None."""
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 4 <= len(data) and data[pos] == 0xFF:
            marker = data[pos + 1]
            if marker in (0xDA, 0xD9):  # start of scan / end: no more metadata segments
                break
            length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
            body = data[pos + 4 : pos + 2 + length]
            if marker == 0xE1 and body.startswith(XMP_APP1):
                return body[len(XMP_APP1) :]
            pos += 2 + length
        return None
    if data[:8] == PNG_SIG:
        pos = 8
        while pos + 8 <= len(data):
            length = struct.unpack(">I", data[pos : pos + 4])[0]
            kind = data[pos + 4 : pos + 8]
            body = data[pos + 8 : pos + 8 + length]
            if kind == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\x00"):
                return body.split(b"\x00", 5)[-1] if body[18] == 0 else None
            pos += 12 + length
    return None


def read_label(xmp: bytes) -> dict[str, Any]:
    """``{"AIGC": {...}, "EffectiveParameters": {...}}`` from a packet written by :func:`packet`."""
    from xml.etree import ElementTree

    text = xmp.decode("utf-8", "replace")
    text = re.sub(r"<\?xpacket[^>]*\?>", "", text)
    root = ElementTree.fromstring(text)
    out: dict[str, Any] = {}
    for tag, key in (
        (f"{{{TC260_NS}}}AIGC", "AIGC"),
        (f"{{{RESTYLE_NS}}}EffectiveParameters", "EffectiveParameters"),
    ):
        node = root.find(f".//{tag}")
        if node is not None and node.text:
            out[key] = json.loads(node.text)
    return out


class Writer(BaseProvenance):
    name = "xmp"

    def __init__(self, *, producer: str, propagator: str = "") -> None:
        self.producer = producer
        self.propagator = propagator

    def embed(self, data: bytes, content_type: str, facts: dict[str, Any], *, content_id: str) -> bytes:
        label = aigc_label(producer=self.producer, content_id=content_id, propagator=self.propagator)
        xmp = packet(label, facts)
        if content_type == "image/png":
            return embed_png(data, xmp)
        return embed_jpeg(data, xmp)
