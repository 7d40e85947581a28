"""``restyle keys`` and ``restyle accounts``: the account store of a data folder; the options and
consoles every command shares."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from restyle.config import Settings, load_settings

keys_app = typer.Typer(no_args_is_help=True, help="Manage SecretId/SecretKey pairs.")
accounts_app = typer.Typer(no_args_is_help=True, help="Account status and quota.")
# wide when piped, so ids and keys are never cropped in scripts
console = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML settings file.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")]


def settings_or_exit(config: Path | None, **overrides: Any) -> Settings:
    """The settings, or one line naming what is wrong and exit code 2."""
    try:
        return load_settings(config, **overrides)
    except Exception as exc:
        err.print(f"[red]invalid settings:[/red] {exc}")
        raise typer.Exit(2) from None


def _store(config: Path | None, data_dir: Path | None, *, create: bool = False) -> Any:
    """The account store of the data folder (said on stderr); a missing one is created only if ``create``."""
    from restyle.accounts.store import Store, load_master_key

    s = settings_or_exit(config, data_dir=data_dir)
    folder = s.data_dir.resolve()
    if not create and not (folder / "restyle.db").is_file():
        err.print(
            f"restyle: no restyle data in {folder} (wrong --data-dir or RESTYLE_DATA_DIR? "
            "`restyle serve` or `restyle keys create` makes one)",
            markup=False,
        )
        raise typer.Exit(2)
    err.print(f"data folder: {folder}", markup=False)
    return Store(s.data_dir / "restyle.db", load_master_key(s.data_dir, s.master_key))


@keys_app.command("create")
def keys_create(
    account: Annotated[str, typer.Option(help="Account the key belongs to.")] = "default",
    actions: Annotated[str, typer.Option(help="Comma-separated actions the key may call (* = all).")] = "*",
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Create a key pair and print it (the SecretKey is shown only here)."""
    sid, skey = _store(config, data_dir, create=True).create_key(account, actions=actions)
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
