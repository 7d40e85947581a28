"""``restyle verify FILE``: read back the C2PA manifest and the AIGC XMP label of a result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from restyle.provenance import c2pa_manifest, xmp
from restyle.provenance.c2pa_manifest import DIGITAL_SOURCE_TYPE


@dataclass
class Report:
    format: str
    c2pa: dict[str, Any] | None = None  # summary of the active manifest
    aigc: dict[str, Any] | None = None  # the TC260:AIGC label
    effective: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.c2pa is not None and self.aigc is not None and not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "ok": self.ok,
            "c2pa": self.c2pa,
            "aigc": self.aigc,
            "effective": self.effective,
            "problems": self.problems,
        }


def sniff(data: bytes) -> str:
    if data[:2] == b"\xff\xd8":
        return "image/jpeg"
    if data[:8] == xmp.PNG_SIG:
        return "image/png"
    return "unknown"


def _summary(store: dict[str, Any], problems: list[str]) -> dict[str, Any] | None:
    label = store.get("active_manifest")
    manifest = store.get("manifests", {}).get(label) if label else None
    if manifest is None:
        problems.append("C2PA: no active manifest")
        return None
    created = None
    for assertion in manifest.get("assertions", []):
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for action in assertion.get("data", {}).get("actions", []):
                if action.get("action") == "c2pa.created":
                    created = action
    if created is None:
        problems.append("C2PA: no c2pa.created action")
    elif created.get("digitalSourceType") != DIGITAL_SOURCE_TYPE:
        problems.append(f"C2PA: digital source type is {created.get('digitalSourceType')!r}")
    # a self-made deployment chain is untrusted until its CA is on the reader's trust list: not a failure
    failures = [
        s.get("code")
        for s in store.get("validation_status", [])
        if s.get("code") and s.get("code") != "signingCredential.untrusted"
    ]
    if failures:
        problems.append(f"C2PA validation: {', '.join(failures)}")
    generator = (manifest.get("claim_generator_info") or [{}])[0]
    return {
        "manifest": label,
        "generator": generator.get("name"),
        "generator_version": generator.get("version"),
        "action": created.get("action") if created else None,
        "digital_source_type": created.get("digitalSourceType") if created else None,
        "parameters": created.get("parameters") if created else None,
        "signer": manifest.get("signature_info", {}).get("common_name"),
        "issuer": manifest.get("signature_info", {}).get("issuer"),
        "validation_state": store.get("validation_state"),
        "validation_codes": [s.get("code") for s in store.get("validation_status", [])],
    }


def inspect(data: bytes) -> Report:
    report = Report(sniff(data))
    if report.format == "unknown":
        report.problems.append("not a JPEG or PNG file")
        return report
    store = c2pa_manifest.read(data, report.format)
    if store is None:
        report.problems.append("C2PA: no manifest")
    else:
        report.c2pa = _summary(store, report.problems)
    packet = xmp.extract(data)
    if packet is None:
        report.problems.append("XMP: no packet")
    else:
        found = xmp.read_label(packet)
        report.aigc = found.get("AIGC")
        report.effective = found.get("EffectiveParameters")
        if report.aigc is None:
            report.problems.append("XMP: no TC260:AIGC label")
        elif report.aigc.get("Label") != "1":
            report.problems.append(f"XMP: AIGC Label is {report.aigc.get('Label')!r}, not '1'")
    return report
