"""C2PA manifests on results, signed with the deployment's own key (``c2pa-python``).

At first start restyle creates ``<data_dir>/provenance/``: an ECDSA P-256 CA certificate and a signing
certificate it issued (digitalSignature, emailProtection EKU, as C2PA's certificate profile asks),
with their private keys (mode 0600). ``provenance_cert`` / ``provenance_key`` point at an operator's
own chain (PEM, leaf first) and key instead. Readers report a self-made chain as
``signingCredential.untrusted`` until its CA is added to their trust list; the signature and the hash
binding still validate.

The manifest: ``c2pa.actions`` with one ``c2pa.created`` action, digital source type
``trainedAlgorithmicMedia``, the software agent (restyle and its version) and the effective
parameters (style, engine, model, strength, seed, resolution) as action parameters. No thumbnail:
it would add a second JPEG encode to every call. No verification of each file right after signing it
(c2pa's ``verify_after_sign`` re-reads and re-hashes the output: half the cost of signing, measured by
``bench/bench_jobs.py``); the tests read results back with c2pa's Reader and check they validate.

Needs ``pip install c2pa-python``.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import restyle
from restyle.provenance import BaseProvenance

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
EXTRA = "pip install c2pa-python"


def _c2pa() -> Any:
    try:
        import c2pa
    except ImportError as exc:  # pragma: no cover - depends on the environment
        msg = f"provenance c2pa needs `{EXTRA}`"
        raise ImportError(msg) from exc
    return c2pa


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def create_credentials(folder: Path, *, organisation: str = "restyle") -> tuple[Path, Path]:
    """Make a CA and a signing certificate under ``folder``; return (chain.pem, signer.key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{organisation} provenance CA", organisation)
    ca = _issue(
        ca_name,
        ca_key.public_key(),
        issuer=(ca_name, ca_key),
        now=now,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (_key_usage("key_cert_sign", "crl_sign"), True),
            (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
        ],
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _issue(
        _name(f"{organisation} result signer", organisation),
        key.public_key(),
        issuer=(ca_name, ca_key),
        now=now,
        extensions=[
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (_key_usage("digital_signature"), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
        ],
    )
    return _write_credentials(folder, ca_key=ca_key, ca=ca, key=key, leaf=leaf)


def _name(common_name: str, organisation: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )


def _key_usage(*allowed: str) -> x509.KeyUsage:
    """A KeyUsage extension with only the ``allowed`` uses set."""
    from cryptography import x509

    usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    return x509.KeyUsage(**{**usage, **dict.fromkeys(allowed, True)})


def _issue(
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    *,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey],
    now: datetime.datetime,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    """A certificate valid from a day before ``now`` for ten years, with ``(extension, critical)`` pairs."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    issuer_name, issuer_key = issuer
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_credentials(
    folder: Path,
    *,
    ca_key: ec.EllipticCurvePrivateKey,
    ca: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
    leaf: x509.Certificate,
) -> tuple[Path, Path]:
    """Keys (mode 0600), the CA certificate, and the chain last; return (chain.pem, signer.key)."""
    from cryptography.hazmat.primitives import serialization

    pem = serialization.Encoding.PEM
    pkcs8 = serialization.PrivateFormat.PKCS8
    plain = serialization.NoEncryption()
    chain = folder / "chain.pem"
    signer_key = folder / "signer.key"
    _write_private(folder / "ca.key", ca_key.private_bytes(pem, pkcs8, plain))
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    _write_private(signer_key, key.private_bytes(pem, pkcs8, plain))
    tmp = folder / ".chain.pem.tmp"
    tmp.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    os.replace(tmp, chain)  # written last: its presence means the set is complete
    return chain, signer_key


class Writer(BaseProvenance):
    """Signs a C2PA manifest into each JPEG/PNG result."""

    name = "c2pa"

    def __init__(
        self, chain_pem: bytes, key_pem: bytes, *, generator: str = "restyle", verify_after_sign: bool = False
    ) -> None:
        c2pa = _c2pa()
        self._c2pa = c2pa
        self.generator = generator
        self._info = c2pa.C2paSignerInfo(b"es256", chain_pem, key_pem, None)
        settings = {
            "builder": {"thumbnail": {"enabled": False}},
            "verify": {"verify_after_sign": verify_after_sign},
        }
        self._context = c2pa.Context(settings=c2pa.Settings.from_dict(settings))
        self._local = threading.local()  # one Signer per worker thread
        self._signer()  # fail at startup on a bad key or chain

    @classmethod
    def from_settings(cls, settings: Any) -> Writer:
        if settings.provenance_cert and settings.provenance_key:
            chain, key = Path(settings.provenance_cert), Path(settings.provenance_key)
        else:
            folder = Path(settings.data_dir) / "provenance"
            chain, key = folder / "chain.pem", folder / "signer.key"
            if not chain.exists() or not key.exists():
                chain, key = create_credentials(folder, organisation=settings.provenance_producer)
        return cls(chain.read_bytes(), key.read_bytes(), generator=settings.provenance_producer)

    def _signer(self) -> Any:
        signer = getattr(self._local, "signer", None)
        if signer is None:
            signer = self._c2pa.Signer.from_info(self._info)
            self._local.signer = signer
        return signer

    def manifest(self, facts: dict[str, Any], content_id: str) -> dict[str, Any]:
        agent = {"name": self.generator, "version": restyle.__version__}
        return {
            "claim_generator_info": [agent],
            "title": f"{content_id}",
            "assertions": [
                {
                    "label": "c2pa.actions",
                    "data": {
                        "actions": [
                            {
                                "action": "c2pa.created",
                                "digitalSourceType": DIGITAL_SOURCE_TYPE,
                                "softwareAgent": agent,
                                "parameters": {"content_id": content_id, **facts},
                            }
                        ]
                    },
                }
            ],
        }

    def embed(self, data: bytes, content_type: str, facts: dict[str, Any], *, content_id: str) -> bytes:
        builder = self._c2pa.Builder(json.dumps(self.manifest(facts, content_id)), context=self._context)
        out = io.BytesIO()
        try:
            builder.sign(self._signer(), content_type, io.BytesIO(data), out)
        finally:
            builder.close()
        return out.getvalue()


def read(data: bytes, content_type: str) -> dict[str, Any] | None:
    """The manifest store as c2pa's Reader reports it (with ``validation_state``), or None."""
    c2pa = _c2pa()
    try:
        reader = c2pa.Reader(content_type, io.BytesIO(data))
    except c2pa.C2paError:
        return None
    try:
        store: dict[str, Any] = json.loads(reader.json())
        store["validation_state"] = reader.get_validation_state()
    finally:
        reader.close()
    return store
