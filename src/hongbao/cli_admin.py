"""`hongbao admin …`: the operator's commands for admins and verified accounts, run against the store directly."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from hongbao.cli import DataDir, DbUrl, _build, _settings, console

admin = typer.Typer(help="Operator commands: admins and verified accounts.", no_args_is_help=True)


@admin.command("verify")
def admin_verify(
    username: Annotated[str, typer.Argument(help="The account to verify.")],
    verified_as: Annotated[
        str, typer.Option("--as", help='"celebrity" (明星), "enterprise" (企业), or "none" to remove.')
    ],
    data_dir: DataDir = None,
    database_url: DbUrl = None,
) -> None:
    """Verify an account as a celebrity or an enterprise (their packets go to followers / campaigns)."""
    from hongbao.domain.errors import HongbaoError

    hb = _build(_settings(data_dir, database_url))
    try:
        label = None if verified_as.lower() in ("none", "null", "") else verified_as.lower()
        done = asyncio.run(hb.social_graph.verify_username(username, label))
    except HongbaoError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.detail}")
        raise typer.Exit(1) from exc
    finally:
        hb.close()
    console.print(f"{done['username']} is now verified as {done['verified_as'] or 'nothing (unverified)'}")


@admin.command("grant")
def admin_grant(
    username: Annotated[str, typer.Argument(help="The account to make an admin.")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Take the admin right away instead.")] = False,
    data_dir: DataDir = None,
    database_url: DbUrl = None,
) -> None:
    """Make an account an admin (admins verify accounts over the API)."""
    from hongbao.domain.errors import HongbaoError

    hb = _build(_settings(data_dir, database_url))
    try:
        done = asyncio.run(hb.social_graph.grant_admin(username, not revoke))
    except HongbaoError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.detail}")
        raise typer.Exit(1) from exc
    finally:
        hb.close()
    console.print(f"{done['username']} is {'now an admin' if done['is_admin'] else 'no longer an admin'}")


def register(app: typer.Typer) -> None:
    app.add_typer(admin, name="admin")
