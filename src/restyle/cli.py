"""Command line: ``restyle serve | keys ... | stylize | styles | sign | config | doctor``."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from restyle.config import Settings, load_settings
from restyle.engines.diffusion.cli import models_app

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="restyle: Tencent-compatible image style transfer"
)
keys_app = typer.Typer(no_args_is_help=True, help="Manage SecretId/SecretKey pairs.")
app.add_typer(keys_app, name="keys")
accounts_app = typer.Typer(no_args_is_help=True, help="Account status and quota.")
app.add_typer(accounts_app, name="accounts")
app.add_typer(models_app, name="models")  # restyle models add | list | check (diffusion model registry)
# wide when piped, so ids and keys are never cropped in scripts
console = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML settings file.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config, **overrides)
    except Exception as exc:
        err.print(f"[red]invalid settings:[/red] {exc}")
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the API 3.0 endpoint (POST / and GET /), /healthz, result links and the style catalogue."""
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


def _store(config: Path | None, data_dir: Path | None) -> Any:
    from restyle.accounts.store import Store, load_master_key

    s = _settings(config, data_dir=data_dir)
    return Store(s.data_dir / "restyle.db", load_master_key(s.data_dir, s.master_key))


@keys_app.command("create")
def keys_create(
    account: Annotated[str, typer.Option(help="Account the key belongs to.")] = "default",
    actions: Annotated[str, typer.Option(help="Comma-separated actions the key may call (* = all).")] = "*",
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Create a key pair and print it (the SecretKey is shown only here)."""
    sid, skey = _store(config, data_dir).create_key(account, actions=actions)
    console.print_json(json.dumps({"SecretId": sid, "SecretKey": skey, "Account": account}))


@keys_app.command("list")
def keys_list(data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """List keys (never their secrets)."""
    table = Table("SecretId", "Account", "Status", "Actions", "Created")
    for k in _store(config, data_dir).list_keys():
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(k["created_at"])))  # type: ignore[arg-type]
        table.add_row(str(k["secret_id"]), str(k["account_id"]), str(k["status"]), str(k["actions"]), created)
    console.print(table)


def _change(ok: bool, what: str) -> None:
    if not ok:
        err.print(f"[red]not found:[/red] {what}")
        raise typer.Exit(1)
    console.print(f"{what}: done")


@keys_app.command("disable")
def keys_disable(secret_id: str, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Disable a key: calls with it answer AuthFailure.SecretIdNotFound."""
    _change(_store(config, data_dir).set_key_status(secret_id, "disabled"), secret_id)


@keys_app.command("enable")
def keys_enable(secret_id: str, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Enable a disabled key."""
    _change(_store(config, data_dir).set_key_status(secret_id, "active"), secret_id)


@keys_app.command("delete")
def keys_delete(secret_id: str, data_dir: DataDirOpt = None, config: ConfigOpt = None) -> None:
    """Delete a key for good."""
    _change(_store(config, data_dir).delete_key(secret_id), secret_id)


@accounts_app.command("set")
def accounts_set(
    account: str,
    status: Annotated[
        str | None, typer.Option(help="active | stopped (stopped → ResourceUnavailable.StopUsing)")
    ] = None,
    quota: Annotated[int | None, typer.Option(help="Jobs left (0 → ResourceUnavailable.LowBalance).")] = None,
    unlimited: Annotated[bool, typer.Option(help="Remove the quota.")] = False,
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Stop or resume an account, or give it a job quota."""
    if status not in (None, "active", "stopped"):
        err.print(f"[red]status must be active or stopped, got {status!r}[/red]")
        raise typer.Exit(2)
    new_quota: int | None | str = None if unlimited else (quota if quota is not None else "keep")
    _change(_store(config, data_dir).set_account(account, status=status, quota=new_quota), account)


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


@app.command()
def stylize(
    inputs: Annotated[list[Path], typer.Argument(help="Input image file(s).")],
    style: Annotated[str, typer.Option("--style", "-s", help="Style id, e.g. 201.")] = "201",
    strength: Annotated[float | None, typer.Option(help="(0, 1]; default: the style's.")] = None,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Output file, or a folder for several inputs.")
    ] = Path("out.jpg"),
    resolution: Annotated[str, typer.Option(help="origin | 768:768 | 768:1024 | 1024:768")] = "origin",
    restore_face: Annotated[int, typer.Option(help="RestoreFace 0-6.")] = 0,
    enhance: Annotated[bool, typer.Option(help="EnhanceImage.")] = False,
    logo: Annotated[bool, typer.Option(help="Add the AI-generated label.")] = True,
    config: ConfigOpt = None,
) -> None:
    """Run the same pipeline as the API, offline, on one or more files."""
    import base64

    from restyle import errors
    from restyle.pipeline.job import ImageRef, Job
    from restyle.pipeline.run import run
    from restyle.service import build_service

    settings = _settings(config, storage="memory", data_dir=Path(".restyle-cli"))
    service = build_service(settings)
    many = len(inputs) > 1 or output.is_dir()
    if many:
        output.mkdir(parents=True, exist_ok=True)
    failures = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, disable=not many) as progress:
        task = progress.add_task(f"style {style}", total=len(inputs))
        for path in inputs:
            job = Job(
                request_id=f"cli-{path.name}",
                source=ImageRef(base64=base64.b64encode(path.read_bytes()).decode()),
                styles=[style],
                strength=strength,
                resolution=resolution,
                restore_face=restore_face,
                enhance=int(enhance),
                logo_add=int(logo),
                budget_s=600,
            )
            try:
                result = run(job, service.plugins, service.limits)
            except errors.TencentError as exc:
                err.print(f"[red]{path}:[/red] {exc}")
                failures += 1
            else:
                target = output / f"{path.stem}-{style}.jpg" if many else output
                target.write_bytes(result.data)
                if not many:
                    console.print(
                        f"{target}: {result.width}x{result.height}, {sum(result.timings_ms.values()):.0f} ms"
                    )
            progress.advance(task)
    service.close()
    if failures:
        raise typer.Exit(1)


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
        table.add_row(c.group, c.name, "[green]yes[/green]" if c.ok else "[red]no[/red]", c.detail)
    console.print(table)
    console.print(gpu_summary(checks))


@app.command("config")
def show_config() -> None:
    """Print every setting with its environment variable, default and doc."""
    table = Table("Env", "Default", "Doc")
    for name, f in Settings.model_fields.items():
        table.add_row(f"RESTYLE_{name.upper()}", repr(f.default), f.description or "")
    console.print(table)


def main() -> None:
    app()
