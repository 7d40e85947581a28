"""Command line: ``restyle serve | stylize | styles | sign | config | doctor | verify``; ``keys`` and
``accounts`` in cli_keys.py, ``cartoon-model`` in cli_models.py, ``models`` in engines/diffusion/cli.py."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from restyle.cli_keys import ConfigOpt, DataDirOpt, accounts_app, console, err, keys_app
from restyle.cli_keys import settings_or_exit as _settings
from restyle.cli_models import cartoon_app
from restyle.config import Settings
from restyle.engines.diffusion.cli import models_app

# plain click help: no type column ("<bool>", "<path>") next to every option
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="restyle: Tencent-compatible image style transfer",
)
app.add_typer(keys_app, name="keys")
app.add_typer(accounts_app, name="accounts")
app.add_typer(cartoon_app, name="cartoon-model")
app.add_typer(models_app, name="models")  # restyle models add | list | check (diffusion model registry)


def _version(value: bool) -> None:
    if value:
        from restyle import __version__

        print(f"restyle {__version__}")
        raise typer.Exit


@app.callback()
def _main(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """restyle: Tencent-compatible image style transfer."""


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the API 3.0 endpoint (POST / and GET /), /healthz, result links and the style catalogue."""
    import signal

    # As PID 1 (a container without an init) a signal with no handler is ignored: until uvicorn installs
    # its graceful handler, a SIGTERM during start-up simply ends the process instead of being lost.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    from restyle.api.app import create_app
    from restyle.service import build_service, ensure_keys
    from restyle.serving import uvicorn as serving

    settings = _settings(config, host=host, port=port, data_dir=data_dir)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    service = build_service(settings)
    created = ensure_keys(service)
    if created:
        console.print("[bold]No API key existed; created one (shown once):[/bold]")
        console.print(f"  SecretId:  {created[0]}\n  SecretKey: {created[1]}")
    if settings.auth_disabled:
        logging.getLogger("restyle").warning("SIGNATURE CHECKS ARE DISABLED (RESTYLE_AUTH_DISABLED)")
    # uvicorn plus request-head limits (time, size, count) it lacks: restyle.serving.uvicorn
    serving.serve(create_app(service), settings)


@app.command()
def styles(config: ConfigOpt = None) -> None:
    """List the style catalogue, with the configured learned-engine styles applied."""
    from restyle.service import configured_catalogue

    table = Table("Id", "中文", "English", "Engine", "Recipe", "Strength", "Prompt", "Latency")
    for s in configured_catalogue(_settings(config)).values():
        table.add_row(
            s.id, s.zh, s.en, s.engine, s.recipe, f"{s.strength:g}", "yes" if s.prompt else "no", s.latency
        )
    console.print(table)


def _style_ids(values: list[str]) -> list[str]:
    return [s.strip() for v in values for s in v.split(",") if s.strip()]


def _readable(inputs: list[Path]) -> dict[Path, bytes]:
    """Every input's bytes, or one clear line and exit code 2 for the first that cannot be read."""
    found = {}
    for path in inputs:
        try:
            found[path] = path.read_bytes()
        except OSError as exc:
            err.print(f"restyle stylize: cannot read {path}: {exc.strerror or exc}", markup=False)
            raise typer.Exit(2) from None
    return found


def _targets(output: Path, inputs: list[Path], styles: list[str]) -> dict[tuple[Path, str], Path]:
    """Where each (input, style) result goes: ``output`` itself, or ``<stem>-<style>.jpg`` in a folder."""
    folder = len(inputs) * len(styles) > 1 or output.is_dir() or str(output).endswith(("/", "\\"))
    if not folder:
        return {(inputs[0], styles[0]): output}
    output.mkdir(parents=True, exist_ok=True)
    return {(p, s): output / f"{p.stem}-{s}.jpg" for p in inputs for s in styles}


@app.command()
def stylize(
    inputs: Annotated[list[Path], typer.Argument(help="Input image file(s).")],
    style: Annotated[
        list[str], typer.Option("--style", "-s", help="Style id(s): -s 201 -s 133 or -s 201,133.")
    ] = ["201"],  # noqa: B006 - typer reads the default, never mutates it
    strength: Annotated[float | None, typer.Option(help="(0, 1]; default: the style's.")] = None,
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="Output file, or a folder (dir/, or several inputs/styles)."),
    ] = Path("out.jpg"),
    resolution: Annotated[str, typer.Option(help="origin | 768:768 | 768:1024 | 1024:768")] = "origin",
    restore_face: Annotated[int, typer.Option(help="RestoreFace 0-6.")] = 0,
    enhance: Annotated[bool, typer.Option(help="EnhanceImage.")] = False,
    logo: Annotated[bool, typer.Option(help="Add the AI-generated label.")] = True,
    config: ConfigOpt = None,
) -> None:
    """Run the same pipeline as the API, offline, on one or more files and styles."""
    import tempfile

    from restyle.service import build_service, configured_catalogue

    styles = _style_ids(style)
    data = _readable(inputs)
    known = configured_catalogue(_settings(config))
    for sid in styles:
        if sid not in known:
            err.print(f"restyle stylize: unknown style {sid!r} (`restyle styles` lists them)", markup=False)
            raise typer.Exit(2)
    targets = _targets(output, inputs, styles)
    options = {"strength": strength, "resolution": resolution, "restore_face": restore_face}
    options |= {"enhance": int(enhance), "logo_add": int(logo)}
    with tempfile.TemporaryDirectory(prefix="restyle-cli-") as scratch:  # nothing left in the working folder
        service = build_service(_settings(config, storage="memory", data_dir=Path(scratch)))
        try:
            failures = _run_all(service, data, targets, options)
        finally:
            service.close()
    if failures:
        raise typer.Exit(1)


def _run_all(
    service: Any, data: dict[Path, bytes], targets: dict[tuple[Path, str], Path], options: dict[str, Any]
) -> int:
    import base64

    from restyle import errors
    from restyle.pipeline.job import ImageRef, Job
    from restyle.pipeline.run import run

    failures = 0
    many = len(targets) > 1
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, disable=not many) as progress:
        task = progress.add_task("stylize", total=len(targets))
        for (path, sid), target in targets.items():
            source = ImageRef(base64=base64.b64encode(data[path]).decode())
            job = Job(request_id=f"cli-{path.name}", source=source, styles=[sid], budget_s=600, **options)
            try:
                result = run(job, service.plugins, service.limits)
            except errors.TencentError as exc:
                err.print(f"{path} (style {sid}): {exc}", markup=False)
                failures += 1
            else:
                target.write_bytes(result.data)
                if not many:
                    ms = sum(result.timings_ms.values())
                    console.print(f"{target}: {result.width}x{result.height}, {ms:.0f} ms", markup=False)
            progress.advance(task)
    return failures


@app.command()
def sign(
    body: Annotated[str, typer.Argument(help="JSON parameters of ImageToImage.")],
    endpoint: Annotated[str, typer.Option(help="host:port the request goes to.")] = "127.0.0.1:8080",
    secret_id: Annotated[str, typer.Option(envvar="TENCENTCLOUD_SECRET_ID")] = "",
    secret_key: Annotated[str, typer.Option(envvar="TENCENTCLOUD_SECRET_KEY")] = "",
    region: str = "ap-singapore",
) -> None:
    """Print a curl command for a signed ImageToImage request (TC3-HMAC-SHA256)."""
    import shlex

    if not secret_id or not secret_key:
        err.print(
            "restyle sign: no credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY "
            "(or pass --secret-id and --secret-key)",
            markup=False,
        )
        raise typer.Exit(2)

    from restyle.api.signing import sign_tc3_headers

    headers = sign_tc3_headers(
        secret_id=secret_id,
        secret_key=secret_key,
        host=endpoint,
        body=body.encode(),
        timestamp=int(time.time()),
        region=region,
    )
    parts = ["curl", "-sS", f"http://{endpoint}/"]
    for k, v in headers.items():
        parts += ["-H", f"{k}: {v}"]
    parts += ["--data-binary", body]
    console.print(" ".join(shlex.quote(p) for p in parts), soft_wrap=True)


@app.command()
def doctor(config: ConfigOpt = None) -> None:
    """Which engines, models and accelerators work on this machine, and why not."""
    from restyle.doctor import gpu_summary, run_checks

    checks = run_checks(_settings(config))
    table = Table("Group", "Component", "Works", "Detail", title="restyle doctor")
    for c in checks:
        # details are literal text: "pip install 'restyle[diffusion]'" is not rich markup
        table.add_row(
            escape(c.group),
            escape(c.name),
            "[green]yes[/green]" if c.ok else "[red]no[/red]",
            escape(c.detail),
        )
    console.print(table)
    console.print(gpu_summary(checks))


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="A result file (JPEG or PNG).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Read a result's C2PA manifest and AIGC (GB 45438-2025) XMP label; exit 1 if either is missing."""
    from restyle.provenance.verify import inspect

    report = inspect(file.read_bytes())
    if as_json:
        console.print_json(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        table = Table("What", "Found", title=f"restyle verify {file.name}")
        c = report.c2pa or {}
        table.add_row("C2PA manifest", c.get("manifest") or "[red]none[/red]")
        if c:
            table.add_row("  action", f"{c.get('action')} ({c.get('digital_source_type')})")
            table.add_row("  generator", f"{c.get('generator')} {c.get('generator_version')}")
            table.add_row("  signed by", f"{c.get('signer')} (issuer {c.get('issuer')})")
            table.add_row(
                "  validation",
                f"{c.get('validation_state')}: {', '.join(c.get('validation_codes') or []) or 'ok'}",
            )
            table.add_row("  parameters", json.dumps(c.get("parameters"), ensure_ascii=False))
        table.add_row(
            "AIGC label (XMP)",
            json.dumps(report.aigc, ensure_ascii=False) if report.aigc else "[red]none[/red]",
        )
        table.add_row("Effective parameters", json.dumps(report.effective, ensure_ascii=False))
        for p in report.problems:
            table.add_row("[red]problem[/red]", p)
        console.print(table)
    raise typer.Exit(0 if report.ok else 1)


@app.command("config")
def show_config() -> None:
    """Print every setting with its environment variable, default and doc."""
    table = Table("Env", "Default", "Doc")
    for name, f in Settings.model_fields.items():
        table.add_row(f"RESTYLE_{name.upper()}", repr(f.default), f.description or "")
    console.print(table)


def main() -> None:
    app()
