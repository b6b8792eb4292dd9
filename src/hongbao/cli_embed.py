"""The `hongbao hosts …` and `hongbao webhooks …` commands: register host apps, manage their keys and webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from hongbao.cli import DataDir, DbUrl, _settings, console

T = TypeVar("T")
hosts = typer.Typer(help="Host apps of the platform API: register them, their keys, limits and webhook.",
                    no_args_is_help=True)
keys = typer.Typer(help="A host's API keys (hk_…): shown once, stored hashed.", no_args_is_help=True)
hosts.add_typer(keys, name="keys")
webhooks = typer.Typer(help="The webhook outbox: what was sent to host apps, and sending again.", no_args_is_help=True)
HostRef = Annotated[str, typer.Argument(help="The host's id or name.")]
Scopes = Annotated[str | None, typer.Option("--scopes", help="Comma-separated: read, write, dashboard (default all).")]


def _run(data_dir: Path | None, database_url: str | None, work: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
    """Build the app, run one use case, close; a refusal prints its code and exits 1."""
    from hongbao.bootstrap import build
    from hongbao.domain.errors import HongbaoError

    hb = build(_settings(data_dir, database_url))
    try:
        return asyncio.run(work(hb))
    except HongbaoError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.detail}")
        raise typer.Exit(1) from exc
    finally:
        hb.close()


def _show_key(key: dict[str, Any]) -> None:
    console.print(f"API key (shown once, keep it secret): [bold]{key['key']}[/]  scopes: {','.join(key['scopes'])}")


@hosts.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The host app's name (unique).")],
    rate_per_min: Annotated[int | None, typer.Option(help="Requests a minute [HONGBAO_HOST_RATE_PER_MIN].")] = None,
    daily_volume_fen: Annotated[int | None, typer.Option(
        help="Fen its users may send a UTC day [HONGBAO_HOST_DAILY_VOLUME_FEN_MAX].")] = None,
    scopes: Scopes = None,
    webhook_url: Annotated[str | None, typer.Option(help="Where its webhooks go (a signing secret is made).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reply as JSON (for scripts).")] = False,
    data_dir: DataDir = None,
    database_url: DbUrl = None,
) -> None:
    """Register a host app and make its first API key."""

    async def work(hb: Any) -> dict[str, Any]:
        made: dict[str, Any] = await hb.hosts.create(name, rate_per_min, daily_volume_fen, scopes)
        if webhook_url is not None:
            made["webhook_secret"] = await hb.webhooks.set_endpoint(made["id"], webhook_url)
            made["webhook_url"] = webhook_url
        return made

    made = _run(data_dir, database_url, work)
    if as_json:
        print(json.dumps(made))
        return
    console.print(f"host {made['id']} [bold]{made['name']}[/]: {made['rate_per_min']} requests/min, "
                  f"{made['daily_volume_fen_max']} fen/day")
    _show_key(made["key"])
    if made.get("webhook_secret"):
        console.print(f"webhook secret (shown once): [bold]{made['webhook_secret']}[/]")


@hosts.command("list")
def list_hosts(data_dir: DataDir = None, database_url: DbUrl = None) -> None:
    """Every host app, its limits, webhook and live keys."""
    found = _run(data_dir, database_url, lambda hb: hb.hosts.list())
    table = Table("id", "name", "rate/min", "fen/day", "webhook", "live keys")
    for h in found:
        live = [k["key_id"] for k in h["keys"] if k["revoked_at"] is None]
        table.add_row(str(h["id"]), h["name"], str(h["rate_per_min"]), str(h["daily_volume_fen_max"]),
                      h["webhook_url"] or "-", ", ".join(live) or "-")
    console.print(table)


@hosts.command("limits")
def limits(
    host: HostRef,
    rate_per_min: Annotated[int | None, typer.Option(help="Requests a minute.")] = None,
    daily_volume_fen: Annotated[int | None, typer.Option(help="Fen its users may send a UTC day.")] = None,
    data_dir: DataDir = None,
    database_url: DbUrl = None,
) -> None:
    """Change a host's rate or daily volume (other processes see it within 5 s)."""
    _run(data_dir, database_url, lambda hb: hb.hosts.set_limits(host, rate_per_min, daily_volume_fen))
    console.print("limits changed")


@hosts.command("webhook")
def webhook(
    host: HostRef,
    url: Annotated[str | None, typer.Option(help="Where its webhooks go; a new signing secret is made.")] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop sending webhooks (messages wait in the outbox).")] = False,
    data_dir: DataDir = None,
    database_url: DbUrl = None,
) -> None:
    """Point a host's webhooks at a URL with a new signing secret (shown once), or turn them off."""
    if (url is None) == (not off):
        console.print("[red]invalid_request[/]: give --url URL or --off")
        raise typer.Exit(2)
    secret = _run(data_dir, database_url, lambda hb: hb.webhooks.set_endpoint(host, None if off else url))
    console.print("webhooks off" if secret is None else f"webhook secret (shown once): [bold]{secret}[/]")


@keys.command("create")
def keys_create(host: HostRef, scopes: Scopes = None, data_dir: DataDir = None, database_url: DbUrl = None) -> None:
    """Another API key for the host."""
    _show_key(_run(data_dir, database_url, lambda hb: hb.hosts.new_key(host, scopes)))


@keys.command("list")
def keys_list(host: HostRef, data_dir: DataDir = None, database_url: DbUrl = None) -> None:
    """The host's keys (ids and scopes: the secrets are not kept)."""
    found = _run(data_dir, database_url, lambda hb: hb.hosts.describe(host))
    table = Table("key id", "scopes", "created", "revoked")
    for k in found["keys"]:
        table.add_row(k["key_id"], ",".join(k["scopes"]), k["created_at"], k["revoked_at"] or "-")
    console.print(table)


@keys.command("revoke")
def keys_revoke(key_id: str, data_dir: DataDir = None, database_url: DbUrl = None) -> None:
    """Refuse a key from now on (other processes within 5 s)."""
    _run(data_dir, database_url, lambda hb: hb.hosts.revoke_key(key_id))
    console.print(f"key {key_id} revoked")


@keys.command("rotate")
def keys_rotate(key_id: str, data_dir: DataDir = None, database_url: DbUrl = None) -> None:
    """A new key with the same scopes; the old one revoked."""
    _show_key(_run(data_dir, database_url, lambda hb: hb.hosts.rotate_key(key_id)))


@webhooks.command("list")
def webhooks_list(
    host: Annotated[str | None, typer.Option(help="Only this host's (id or name).")] = None,
    status: Annotated[str | None, typer.Option(help="pending, delivered or failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    data_dir: DataDir = None,
    database_url: DbUrl = None,
) -> None:
    """Messages newest first: their event, stream, status, attempts and last error."""
    if status not in (None, "pending", "delivered", "failed"):
        console.print("[red]invalid_request[/]: --status is pending, delivered or failed")
        raise typer.Exit(2)
    found = _run(data_dir, database_url, lambda hb: hb.webhooks.list(host, status, limit))
    table = Table("msg id", "host", "type", "stream", "status", "attempts", "created", "last error")
    for m in found:
        table.add_row(m["msg_id"], str(m["host_id"]), m["type"], m["stream"], m["status"], str(m["attempts"]),
                      m["created_at"], m["last_error"] or "")
    console.print(table)


@webhooks.command("replay")
def webhooks_replay(
    msg_ids: Annotated[list[str], typer.Argument(help="Message ids (msg_…) to send again.")],
    data_dir: DataDir = None,
    database_url: DbUrl = None,
) -> None:
    """Send messages again (delivered or given up): they are pending and due now, with the same id."""

    async def work(hb: Any) -> list[str]:
        return [m for m in msg_ids if not await hb.webhooks.replay(m)]

    unknown = _run(data_dir, database_url, work)
    for m in unknown:
        console.print(f"[red]not_found[/]: no message {m}")
    console.print(f"{len(msg_ids) - len(unknown)} message(s) will be sent again")
    if unknown:
        raise typer.Exit(1)


@webhooks.command("deliver")
def webhooks_deliver(data_dir: DataDir = None, database_url: DbUrl = None) -> None:
    """One delivery pass now (the scheduler and `hongbao worker` run them continuously)."""
    sent = _run(data_dir, database_url, lambda hb: hb.webhooks.deliver_due())
    console.print(f"delivered {sent} message(s)")


def matrix_bridge(
    homeserver: Annotated[str, typer.Option(envvar="HONGBAO_MATRIX_HOMESERVER", help="The homeserver's URL.")],
    user: Annotated[str, typer.Option(envvar="HONGBAO_MATRIX_USER", help="The bot's Matrix id (@hongbao:server).")],
    password: Annotated[str, typer.Option(envvar="HONGBAO_MATRIX_PASSWORD", help="The bot's password.")],
    host_key: Annotated[str, typer.Option(envvar="HONGBAO_HOST_KEY", help="The bridge's host key (hk_…).")],
    api_url: Annotated[str, typer.Option(envvar="HONGBAO_API_URL", help="The hongbao server.")] = (
        "http://127.0.0.1:8000"),
    web_url: Annotated[str | None, typer.Option(envvar="HONGBAO_PUBLIC_URL", help="Links to the web app.")] = None,
    poll_s: Annotated[float, typer.Option(help="How often live packets are looked at (expiry notices).")] = 2.0,
) -> None:
    """A Matrix bot: rooms invite it; `/hongbao 8.88 5 恭喜发财` sends a packet, a reaction grabs it (needs the
    matrix extra: pip install 'hongbao\\[matrix]')."""
    try:
        from hongbao.matrix.bridge import Bridge, BridgeConfig
    except ImportError as exc:
        console.print("[red]missing_extra[/]: the Matrix bridge needs matrix-nio: pip install 'hongbao\\[matrix]'")
        raise typer.Exit(1) from exc
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    bridge = Bridge(BridgeConfig(homeserver, user, password, api_url, host_key, web_url, poll_s))
    console.print(f"bridging {homeserver} as {user} to {api_url}")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(bridge.run())


def register(app: typer.Typer) -> None:
    app.add_typer(hosts, name="hosts")
    app.add_typer(webhooks, name="webhooks")
    app.command("matrix-bridge")(matrix_bridge)
