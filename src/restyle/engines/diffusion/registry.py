"""The model registry: named base checkpoints, LoRA files and ControlNet models in one TOML file.

.. code-block:: toml

    [base.sd-turbo]
    path = "sd_turbo.safetensors"      # a single .safetensors/.ckpt file, or a diffusers folder
    arch = "sd21"                        # single files: which shipped config folder describes it
    sha256 = "1f4d..."                   # of the file; of a folder: see folder_sha256
    licence = "Stability AI Community"

    [lora.watercolor]
    path = "loras/watercolor.safetensors"
    sha256 = "..."
    licence = "CC-BY-4.0"

    [controlnet.canny]
    path = "controlnet-canny"            # a diffusers folder, or a single file with ``config``
    sha256 = "..."

    [ip_adapter.plus]
    path = "ip-adapter/ip-adapter_sd15.safetensors"   # the adapter's weights (diffusers' IP-Adapter format)
    image_encoder = "ip-adapter/image_encoder"         # default: image_encoder/ next to the weights
    sha256 = "..."                                     # of the weights file

Relative paths are read from the registry file's folder. Nothing here imports torch: ``restyle models``
and ``restyle doctor`` work without the diffusion extra. Nothing is ever downloaded: a path is a local file.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

Kind = Literal["base", "lora", "controlnet", "ip_adapter"]
KINDS: tuple[Kind, ...] = ("base", "lora", "controlnet", "ip_adapter")
SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin")
#: architectures of single-file checkpoints whose diffusers config folders ship in ``configs/``
ARCHES = ("sd15", "sd21", "sd21-v", "sd-turbo", "sdxl", "sdxl-turbo")
ARCH_ALIASES = {"sd1": "sd15", "sd2": "sd21", "sd21-768": "sd21-v"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Model:
    """One registry entry."""

    kind: Kind
    name: str
    path: Path  # absolute
    sha256: str = ""
    licence: str = ""
    arch: str = ""  # single-file base: one of ARCHES (a config folder shipped with restyle)
    config: Path | None = None  # single file: a diffusers config folder of the operator's (absolute)
    note: str = ""
    image_encoder: Path | None = None  # ip_adapter: its CLIP vision encoder folder (absolute)

    @property
    def single_file(self) -> bool:
        return self.path.suffix.lower() in SINGLE_FILE_SUFFIXES

    def encoder_folder(self) -> Path:
        """ip_adapter: the CLIP vision encoder folder (``image_encoder``, else ``image_encoder/`` next to the
        weights file, the layout IP-Adapter releases use)."""
        if self.image_encoder is not None:
            return self.image_encoder
        return self.path / "image_encoder" if self.path.is_dir() else self.path.parent / "image_encoder"

    def weights_file(self) -> Path:
        """ip_adapter: the weights file (``path``, or the one ``.safetensors``/``.bin`` in the folder)."""
        if not self.path.is_dir():
            return self.path
        found = sorted(p for p in self.path.iterdir() if p.is_file() and p.suffix in (".safetensors", ".bin"))
        if len(found) != 1:
            msg = f"ip_adapter {self.name}: {self.path} must hold one .safetensors/.bin file (found {len(found)})"
            raise ValueError(msg)
        return found[0]

    def config_folder(self) -> Path | None:
        """The diffusers config folder that ``from_single_file`` reads instead of a hub (single files)."""
        if not self.single_file or self.kind in ("lora", "ip_adapter"):
            return None
        if self.config is not None:
            return self.config
        if self.kind == "base" and self.arch:
            return shipped_config(self.arch)
        return None

    def as_toml_row(self, root: Path) -> dict[str, str]:
        row = {"path": _relative(self.path, root)}
        for key in ("sha256", "licence", "arch", "note"):
            value = getattr(self, key)
            if value:
                row[key] = value
        if self.config is not None:
            row["config"] = _relative(self.config, root)
        if self.image_encoder is not None:
            row["image_encoder"] = _relative(self.image_encoder, root)
        return row


@dataclass
class Registry:
    """Every model of one registry file, by kind and name."""

    file: Path | None = None
    models: dict[Kind, dict[str, Model]] = field(default_factory=lambda: {k: {} for k in KINDS})

    def get(self, kind: Kind, name: str) -> Model:
        try:
            return self.models[kind][name]
        except KeyError:
            known = ", ".join(sorted(self.models[kind])) or "none"
            where = self.file or "no registry file"
            msg = f"no {kind} model named {name!r} in the model registry ({where}; known: {known})"
            raise KeyError(msg) from None

    def __iter__(self) -> Iterator[Model]:
        for kind in KINDS:
            yield from self.models[kind].values()

    def add(self, model: Model) -> None:
        self.models[model.kind][model.name] = model

    def save(self, path: Path | None = None) -> Path:
        target = path or self.file
        if target is None:
            msg = "no registry file to write"
            raise ValueError(msg)
        root = target.resolve().parent
        lines = ["# restyle model registry (restyle models add/list/check); paths relative to this file", ""]
        for kind in KINDS:
            for name, model in sorted(self.models[kind].items()):
                lines.append(f"[{kind}.{_toml_key(name)}]")
                for key, value in model.as_toml_row(root).items():
                    lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
                lines.append("")
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text("\n".join(lines), "utf-8")
        tmp.replace(target)
        self.file = target
        return target


def _toml_key(name: str) -> str:
    ok = name and all(c.isalnum() or c in "-_" for c in name)
    return name if ok else json.dumps(name)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def load(path: Path | None) -> Registry:
    """The registry in ``path`` (an empty one when ``path`` is None or does not exist yet)."""
    if path is None:
        return Registry()
    path = path.expanduser().resolve()
    reg = Registry(file=path)
    if not path.exists():
        return reg
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    unknown = set(data) - set(KINDS)
    if unknown:
        msg = f"{path}: unknown tables {sorted(unknown)} (expected {', '.join(KINDS)})"
        raise ValueError(msg)
    for kind in KINDS:
        for name, row in data.get(kind, {}).items():
            reg.add(parse_row(kind, str(name), row, path.parent))
    return reg


def parse_row(kind: Kind, name: str, row: dict[str, Any], root: Path) -> Model:
    allowed = {"path", "sha256", "licence", "license", "arch", "config", "note"}
    if kind == "ip_adapter":
        allowed.add("image_encoder")
    extra = set(row) - allowed
    if extra:
        msg = f"{kind}.{name}: unknown keys {sorted(extra)} (allowed: {', '.join(sorted(allowed))})"
        raise ValueError(msg)
    if "path" not in row:
        msg = f"{kind}.{name}: path is required"
        raise ValueError(msg)
    arch = str(row.get("arch", ""))
    arch = ARCH_ALIASES.get(arch, arch)
    if arch and arch not in ARCHES:
        msg = f"{kind}.{name}: arch {arch!r} is not one of {', '.join(ARCHES)} (or give config = a folder)"
        raise ValueError(msg)
    config = row.get("config")
    encoder = row.get("image_encoder")
    return Model(
        kind=kind,
        name=name,
        path=_absolute(str(row["path"]), root),
        sha256=str(row.get("sha256", "")).lower(),
        licence=str(row.get("licence", row.get("license", ""))),
        arch=arch,
        config=_absolute(str(config), root) if config else None,
        note=str(row.get("note", "")),
        image_encoder=_absolute(str(encoder), root) if encoder else None,
    )


def _absolute(text: str, root: Path) -> Path:
    p = Path(text).expanduser()
    return (p if p.is_absolute() else root / p).resolve()


# --- hashes -----------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def folder_sha256(folder: Path) -> str:
    """sha256 of a diffusers folder: of the lines ``<file sha256>  <relative path>`` of every file, sorted
    by path (what ``sha256sum $(find . -type f | sort)`` prints, hashed once more)."""
    lines = []
    for p in sorted(x for x in folder.rglob("*") if x.is_file()):
        lines.append(f"{file_sha256(p)}  {p.relative_to(folder).as_posix()}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def sha256(path: Path) -> str:
    return folder_sha256(path) if path.is_dir() else file_sha256(path)


@dataclass(frozen=True)
class Check:
    model: Model
    ok: bool
    detail: str


def check(model: Model, *, hashes: bool = True) -> Check:
    """Does the file exist, does its sha256 match, can it be loaded offline (config folder present)?"""
    if not model.path.exists():
        return Check(model, False, f"{model.path} does not exist")
    if model.kind == "base" and model.path.is_dir() and not (model.path / "model_index.json").is_file():
        return Check(model, False, f"{model.path} has no model_index.json (not a diffusers pipeline folder)")
    if model.kind == "controlnet" and model.path.is_dir() and not (model.path / "config.json").is_file():
        return Check(model, False, f"{model.path} has no config.json (not a diffusers ControlNet folder)")
    if model.kind == "ip_adapter":
        try:
            model.weights_file()
        except ValueError as exc:
            return Check(model, False, str(exc))
        enc = model.encoder_folder()
        if not (enc / "config.json").is_file():
            return Check(
                model, False, f"image encoder {enc} has no config.json (a CLIP vision encoder folder)"
            )
    elif model.single_file and model.kind != "lora":
        cfg = model.config_folder()
        if cfg is None:
            need = f"arch ({', '.join(ARCHES)}) or config" if model.kind == "base" else "config"
            return Check(model, False, f"a single file needs {need}, so nothing is fetched from a hub")
        if not cfg.is_dir():
            return Check(model, False, f"config folder {cfg} does not exist")
    if not hashes:
        return Check(model, True, "exists (hash not checked)")
    if not model.sha256:
        return Check(model, False, f"no sha256 recorded (actual {sha256(model.path)})")
    actual = sha256(model.path)
    if actual != model.sha256:
        return Check(model, False, f"sha256 mismatch: registry {model.sha256}, file {actual}")
    return Check(model, True, f"sha256 ok ({actual[:12]}…)")


def guess_arch(path: Path) -> str:
    """Architecture of a single-file SD checkpoint from its tensor names and shapes (safetensors only;
    reads the header, not the weights). Empty when it cannot tell."""
    if path.suffix.lower() != ".safetensors":
        return ""
    with open(path, "rb") as fh:
        size = int.from_bytes(fh.read(8), "little")
        if size <= 0 or size > 100 * _CHUNK:
            return ""
        header: dict[str, Any] = json.loads(fh.read(size))
    keys = set(header)
    if any(k.startswith("conditioner.embedders.1.") for k in keys):
        return "sdxl"
    if any(k.startswith("cond_stage_model.model.") for k in keys):  # OpenCLIP text encoder: SD 2.x
        return "sd21"
    if any(k.startswith("cond_stage_model.transformer.") for k in keys):
        return "sd15"
    return ""


def shipped_config(arch: str) -> Path:
    """The config folder restyle ships for a single-file architecture, with the CLIP tokenizer files
    (``vocab.json``, ``merges.txt``) written next to it: materialised once into a cache folder
    (``RESTYLE_CACHE_DIR``, else ``~/.cache/restyle``, else the temp folder), since the package may be
    read-only."""
    arch = ARCH_ALIASES.get(arch, arch)
    if arch not in ARCHES:
        msg = f"no shipped config for arch {arch!r} (one of {', '.join(ARCHES)})"
        raise ValueError(msg)
    source = Path(str(resources.files("restyle.engines.diffusion").joinpath("configs")))
    files = sorted(p for p in (source / arch).rglob("*") if p.is_file())
    h = hashlib.sha256((source / "clip-merges.txt.gz").read_bytes())
    for p in files:
        h.update(p.relative_to(source).as_posix().encode() + b"\0" + p.read_bytes())
    for root in _cache_roots():
        target = root / "configs" / f"{arch}-{h.hexdigest()[:12]}"
        if (target / "model_index.json").is_file():
            return target
        try:
            _materialise(source, arch, files, target)
        except OSError:
            continue
        return target
    msg = "no writable cache folder for model configs (set RESTYLE_CACHE_DIR)"
    raise OSError(msg)


def _cache_roots() -> list[Path]:
    import os
    import tempfile

    roots = [Path(os.environ["RESTYLE_CACHE_DIR"])] if os.environ.get("RESTYLE_CACHE_DIR") else []
    roots += [Path.home() / ".cache" / "restyle", Path(tempfile.gettempdir()) / "restyle-cache"]
    return roots


def _materialise(source: Path, arch: str, files: list[Path], target: Path) -> None:
    import gzip
    import shutil
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{arch}-", dir=target.parent))
    try:
        for p in files:
            out = work / p.relative_to(source / arch)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, out)
        merges = gzip.decompress((source / "clip-merges.txt.gz").read_bytes()).decode("utf-8").splitlines()
        vocab = clip_vocab(merges)
        for tok in (work / "tokenizer", work / "tokenizer_2"):
            if tok.is_dir():
                (tok / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), "utf-8")
                (tok / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", "utf-8")
        try:
            work.rename(target)
        except OSError:
            if not (target / "model_index.json").is_file():  # not another process winning the race
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte → printable character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


def clip_vocab(merges: list[str]) -> dict[str, int]:
    """CLIP's vocabulary (49,408 tokens) from its BPE merges, as OpenAI's tokenizer builds it."""
    base = list(_bytes_to_unicode().values())
    tokens = base + [b + "</w>" for b in base] + ["".join(m.split()) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}
