"""Provenance inside every result file, besides the visible label.

* ``xmp``  — the implicit AIGC label of GB 45438-2025 (``TC260:AIGC``: Label, ContentProducer, ProduceID,
  ContentPropagator, PropagateID, reserved codes) plus restyle's effective parameters, as XMP
  (JPEG APP1 / PNG iTXt);
* ``c2pa`` — a C2PA manifest (``c2pa.created``, digital source type ``trainedAlgorithmicMedia``, the
  generator and its version, the style and effective parameters) signed with the deployment's key and
  certificate (created at first start under ``<data_dir>/provenance``, or the operator's own).

``provenance = "c2pa+xmp"`` (default) writes both: XMP first, then the C2PA manifest, whose hash binds
the XMP too. ``restyle verify FILE`` reads both back (``restyle.provenance.verify``).
"""

from __future__ import annotations

from typing import Any


class BaseProvenance:
    """``embed(data, content_type, facts, content_id) -> data`` with provenance inside the file."""

    name = "base"

    def embed(self, data: bytes, content_type: str, facts: dict[str, Any], *, content_id: str) -> bytes:
        raise NotImplementedError


class NoProvenance(BaseProvenance):
    """Leaves the file as it is (``provenance = "none"``)."""

    name = "none"

    def embed(self, data: bytes, content_type: str, facts: dict[str, Any], *, content_id: str) -> bytes:
        return data


class Chain(BaseProvenance):
    """Several writers in order (XMP before C2PA, so the manifest's hash covers the XMP)."""

    def __init__(self, *parts: BaseProvenance) -> None:
        self.parts = parts
        self.name = "+".join(p.name for p in parts)

    def embed(self, data: bytes, content_type: str, facts: dict[str, Any], *, content_id: str) -> bytes:
        for part in self.parts:
            data = part.embed(data, content_type, facts, content_id=content_id)
        return data


def build(settings: Any) -> BaseProvenance:
    """The writer ``settings.provenance`` names: none | xmp | c2pa | c2pa+xmp."""
    from restyle.provenance import xmp

    kind = settings.provenance
    if kind == "none":
        return NoProvenance()
    label = xmp.Writer(producer=settings.provenance_producer, propagator=settings.provenance_propagator)
    if kind == "xmp":
        return label
    from restyle.provenance import c2pa_manifest

    signer = c2pa_manifest.Writer.from_settings(settings)
    return signer if kind == "c2pa" else Chain(label, signer)
