"""``restyle models add | list | check``: the model registry from the command line (no torch needed)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from restyle.engines.diffusion import registry as reg

models_app = typer.Typer(
    no_args_is_help=True,
    help="Model registry: base checkpoints, LoRAs, ControlNets, IP-Adapters (sha256 checked).",
)
console = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML settings file.")]
RegistryOpt = Annotated[
    Path | None,
    typer.Option("--registry", help="Registry file (default: diffusion_models, else ./models.toml)."),
]


def _registry_path(config: Path | None, registry: Path | None) -> Path:
    if registry is not None:
        return registry
    from restyle.config import load_settings

    try:
        settings = load_settings(config)
    except Exception as exc:
        err.print(f"[red]invalid settings:[/red] {exc}")
        raise typer.Exit(2) from None
    return settings.diffusion_models or Path("models.toml")


def _load(path: Path) -> reg.Registry:
    try:
        return reg.load(path)
    except (ValueError, OSError) as exc:
        err.print(f"[red]bad registry {path}:[/red] {exc}")
        raise typer.Exit(2) from None


@models_app.command("add")
def add(
    kind: Annotated[str, typer.Argument(help="base | lora | controlnet | ip_adapter")],
    name: Annotated[str, typer.Argument(help="Name that presets use.")],
    path: Annotated[Path, typer.Argument(help="A local file (.safetensors, .ckpt) or diffusers folder.")],
    arch: Annotated[str, typer.Option(help="Single-file base: sd15 | sd21 | sd21-v | sdxl (guessed).")] = "",
    model_config: Annotated[
        Path | None, typer.Option("--model-config", help="A diffusers config folder for a single file.")
    ] = None,
    image_encoder: Annotated[
        Path | None,
        typer.Option(
            help="ip_adapter: CLIP vision encoder folder (default: image_encoder/ next to the weights)."
        ),
    ] = None,
    licence: Annotated[str, typer.Option(help="Licence note, e.g. 'CreativeML OpenRAIL-M'.")] = "",
    note: Annotated[str, typer.Option(help="Free text.")] = "",
    registry: RegistryOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Register a local model file: records its absolute-or-relative path, sha256 and licence."""
    if kind not in reg.KINDS:
        err.print(f"[red]kind must be one of {', '.join(reg.KINDS)}[/red]")
        raise typer.Exit(2)
    if not path.exists():
        err.print(f"[red]{path} does not exist[/red] (restyle never downloads models: give a local file)")
        raise typer.Exit(1)
    target = _registry_path(config, registry)
    models = _load(target)
    path = path.expanduser().resolve()
    row = {
        "path": str(path),
        "arch": _arch(kind, path, arch, model_config),
        "licence": licence,
        "note": note,
        **({"config": str(model_config.resolve())} if model_config else {}),
        **({"image_encoder": str(image_encoder.resolve())} if image_encoder else {}),
    }
    model = _checked_model(kind, name, row, target)
    models.add(model)
    models.save(target)
    console.print(f"{kind}.{name}: {model.path} sha256 {model.sha256} → {target}")


def _arch(kind: str, path: Path, arch: str, model_config: Path | None) -> str:
    """The architecture to record: as given, or guessed for a single-file base with no config folder."""
    single_file = kind == "base" and path.suffix.lower() in reg.SINGLE_FILE_SUFFIXES
    if not single_file or arch or model_config is not None:
        return arch
    guessed = reg.guess_arch(path)
    if not guessed:
        err.print("[red]cannot tell the architecture of this file: give --arch or --model-config[/red]")
        raise typer.Exit(2)
    return guessed


def _checked_model(kind: str, name: str, row: dict[str, str], target: Path) -> reg.Model:
    """Parse a registry row, hash its file and check it offline; exits with a message when it fails."""
    try:
        model = reg.parse_row(kind, name, row, target.resolve().parent)  # type: ignore[arg-type]
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    model = reg.Model(**{**model.__dict__, "sha256": reg.sha256(model.path)})
    check = reg.check(model, hashes=False)
    if not check.ok:
        err.print(f"[red]{kind}.{name}:[/red] {check.detail}")
        raise typer.Exit(1)
    return model


@models_app.command("list")
def list_models(registry: RegistryOpt = None, config: ConfigOpt = None) -> None:
    """List registered models, and what each diffusion style loads."""
    target = _registry_path(config, registry)
    models = _load(target)
    table = Table("Kind", "Name", "Path", "Arch/config", "sha256", "Licence", title=str(target))
    for m in models:
        cfg = m.arch or (str(m.config) if m.config else "")
        if m.kind == "ip_adapter":
            cfg = f"encoder {m.encoder_folder()}"
        table.add_row(m.kind, m.name, str(m.path), cfg, m.sha256[:12], m.licence)
    console.print(table)
    _print_styles(config)


@models_app.command("check")
def check_models(
    no_hash: Annotated[bool, typer.Option("--no-hash", help="Only check that files exist.")] = False,
    registry: RegistryOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Verify every registered file (exists, sha256, offline config) and the styles' references."""
    target = _registry_path(config, registry)
    models = _load(target)
    table = Table("Kind", "Name", "OK", "Detail", title=str(target))
    bad = 0
    for m in models:
        c = reg.check(m, hashes=not no_hash)
        bad += not c.ok
        table.add_row(m.kind, m.name, "[green]yes[/green]" if c.ok else "[red]no[/red]", c.detail)
    console.print(table)
    bad += _print_styles(config, models)
    if bad:
        raise typer.Exit(1)


def _print_styles(config: Path | None, models: reg.Registry | None = None) -> int:
    """A table of the diffusion styles and their presets; returns how many name a missing model."""
    from restyle.config import load_settings
    from restyle.engines.diffusion.presets import Preset
    from restyle.service import configured_catalogue

    try:
        settings = load_settings(config)
        catalogue = configured_catalogue(settings)
    except Exception as exc:
        err.print(f"[red]invalid settings:[/red] {exc}")
        return 1
    models = models if models is not None else reg.load(settings.diffusion_models)
    default = str(settings.diffusion_checkpoint) if settings.diffusion_checkpoint else ""
    table = Table("Style", "Name", "Loads", "Problem", title="diffusion styles")
    bad = 0
    for style in catalogue.values():
        if style.engine != "diffusion":
            continue
        problem = ""
        try:
            preset = Preset.from_style(style, default_steps=settings.diffusion_steps, default_base=default)
            if not preset.base.startswith("path:"):
                models.get("base", preset.base)
            for name, _ in preset.loras:
                models.get("lora", name)
            if preset.controlnet:
                models.get("controlnet", preset.controlnet)
            if preset.ip_adapter:
                models.get("ip_adapter", preset.ip_adapter)
                if not Path(preset.reference).is_file():
                    msg = f"reference image {preset.reference} does not exist"
                    raise ValueError(msg)
            loads = preset.describe()
        except (KeyError, ValueError) as exc:
            loads, problem = "", str(exc.args[0])
            bad += 1
        table.add_row(style.id, style.en, loads, problem)
    if table.row_count:
        console.print(table)
    return bad
