"""The `hongbao` command: serve, migrate, worker, reconcile; the others are registered from cli_*.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hongbao.config import Settings

if TYPE_CHECKING:
    from hongbao.bootstrap import App

app = typer.Typer(
    help="hongbao: red packets (红包) on a double-entry ledger.", no_args_is_help=True, add_completion=False
)
console = Console()
errors = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder of the embedded SQLite store, default ./hongbao-data [HONGBAO_DATA_DIR]."),
]
DbUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL (postgresql://…), instead of --data-dir [HONGBAO_DATABASE_URL]."
    ),
]


def _settings(data_dir: Path | None = None, database_url: str | None = None, **extra: object) -> Settings:
    from pydantic import ValidationError

    try:
        s = Settings()
    except ValidationError as exc:  # a HONGBAO_* variable that does not parse: name it, one line
        wrong = exc.errors()[0]
        name = "HONGBAO_" + str(wrong["loc"][0]).upper() if wrong["loc"] else "a HONGBAO_* setting"
        _fail(f"{name}={wrong.get('input')!r}: {wrong['msg']}")
    updates: dict[str, object] = {k: v for k, v in extra.items() if v is not None}
    if data_dir is not None:
        updates["data_dir"] = data_dir
    if database_url is not None:
        updates["database_url"] = database_url
    return s.model_copy(update=updates)


def _where(settings: Settings) -> str:
    """The store named for a person: the SQLite file, or the server URL without its password."""
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        return url.split("///", 1)[-1]
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error[/]: {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _build(settings: Settings, *, check_only: bool = False, migrate: bool = True) -> App:
    """Open the store for a command, or say in one line why not (exit 2): an unreachable database, a bad URL, a data
    folder that cannot be made.  `check_only` commands never create a data folder or a schema where none is."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

    from hongbao.adapters.redis_shared import PrefixTaken
    from hongbao.bootstrap import build

    if check_only and settings.database_url is None and not (settings.data_dir / "hongbao.db").exists():
        _fail(f"no hongbao store at {_where(settings)}: nothing to check, and this command creates none "
              "(`hongbao migrate` or `hongbao serve` makes one; --data-dir or --database-url names another)")
    try:
        hb = build(settings, migrate_schema=migrate and not check_only)
        if check_only and not inspect(hb.store.engine).has_table("alembic_version"):
            hb.close()
            _fail(f"no hongbao schema in {_where(settings)}: nothing to check, and this command creates none "
                  "(`hongbao migrate` makes it)")
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        _fail(f"bad database URL {settings.database_url!r}: {_first_line(exc)} "
              "(e.g. postgresql://user@host:5432/hongbao or sqlite:///path/to/hongbao.db)")
    except OperationalError as exc:
        _fail(f"cannot reach the database at {_where(settings)}: {_first_line(exc.orig or exc)}")
    except SQLAlchemyError as exc:
        _fail(f"the database at {_where(settings)} refused: {_first_line(exc)}")
    except PrefixTaken as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot use the data folder {settings.data_dir}: {exc.strerror or exc}")
    return hb


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@app.command()
def serve(
    data_dir: DataDir = None,
    database_url: DbUrl = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on [HONGBAO_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [HONGBAO_PORT].")] = None,
    demo: Annotated[
        bool | None,
        typer.Option("--demo/--no-demo", help="Create demo users on first start [HONGBAO_DEMO; default: only for "
                     "the embedded SQLite quick start, into an empty store]."),
    ] = None,
    scheduler: Annotated[
        bool | None, typer.Option("--scheduler/--no-scheduler", help="Run expiry in this process.")
    ] = None,
    workers: Annotated[int, typer.Option(
        help="API processes sharing one socket (they share the gate with HONGBAO_REDIS_URL; see `hongbao up`).")] = 1,
) -> None:
    """Run the HTTP API and web page (embedded SQLite by default) on 127.0.0.1:8000."""
    import uvicorn

    from hongbao.api.app import create_app
    from hongbao.api.protocol import PROTOCOL
    from hongbao.cli_scaled import uvicorn_runner
    from hongbao.logs import configure as configure_logging
    from hongbao.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo

    settings = _settings(data_dir, database_url, host=host, port=port, demo=demo, scheduler=scheduler)
    configure_logging(settings.log_format, settings.log_level)
    hb = _build(settings)
    if settings.demo_enabled():
        # Asked for (--demo, HONGBAO_DEMO=true): always; by default (the embedded quick start) only into a new store.
        outcome = asyncio.run(seed_demo(hb, into_empty_only=settings.demo is None))
        names = ", ".join(n for n, _ in DEMO_USERS)
        if outcome == "skipped":
            console.print("No demo data: this store already has users (--demo adds the demo users anyway).")
        else:
            console.print(
                f"[bold red]红包[/] demo users {names} (password [bold]{DEMO_PASSWORD}[/], alice an admin) "
                + ("created now: seeded demo data" if outcome == "created" else "are ready")
                + " (--no-demo or HONGBAO_DEMO=false for none)."
            )
    elif settings.demo is None:
        console.print("No demo data on a database server (--demo or HONGBAO_DEMO=true to create the demo users).")
    where = f"http://{settings.host}:{settings.port}"
    console.print(f"Store: {settings.resolved_database_url().split('@')[-1]}")
    console.print(f"Open {where}/ in a browser, or the API docs at {where}/docs")
    console.print(
        f"  curl -s -X POST {where}/v1/sessions -H 'content-type: application/json' "
        f'-d \'{{"username":"alice","password":"{DEMO_PASSWORD}"}}\'',
        soft_wrap=True, markup=False, highlight=False,  # one line however narrow the terminal: it must paste whole
    )
    if workers > 1:
        hb.close()
        # Worker processes read their settings from the environment: hand the resolved ones over.
        os.environ["HONGBAO_DATABASE_URL"] = settings.resolved_database_url()
        os.environ["HONGBAO_DATA_DIR"] = str(settings.data_dir)  # the token key file lives there (SQLite)
        if settings.scheduler:  # one expiry scheduler is enough: run `hongbao worker` beside them
            console.print("with --workers, every worker may sweep; one at a time holds the sweeper lease")
        os.environ["HONGBAO_SCHEDULER"] = "1" if settings.scheduler else "0"
        uvicorn.run(
            "hongbao.api.asgi:app_from_env",
            factory=True,
            workers=workers,
            host=settings.host,
            port=settings.port,
            log_config=None,  # each worker logs through hongbao.logs (configured in app_from_env)
            access_log=False,  # hongbao's own access log has the route and request id: HONGBAO_ACCESS_LOG
            http=PROTOCOL,
            ws=settings.ws_protocol,
            # No permessage-deflate: the shake socket's messages are a few dozen bytes, and a browser always offers
            # it; accepted, it cost ~5 µs of zlib per shake and ~50 KiB of zlib state per socket (1 GB at 20,000).
            ws_per_message_deflate=False,
            limit_concurrency=settings.connections_max,
            # SIGTERM: requests still running (a live-events stream never ends by itself) are cut after this.
            timeout_graceful_shutdown=settings.shutdown_grace_s,
        )
        return
    # The app closes the App (the writer commits what is queued, the sweeper's tickets go back) in its lifespan's
    # end: uvicorn re-raises SIGTERM once it has shut down, so nothing after uvicorn.run would run then.
    api = create_app(hb, close_on_shutdown=True, tune_gc=True)
    try:
        uvicorn_runner(settings.reuse_port)(  # SO_REUSEPORT under `hongbao up` (cli_scaled.py)
            api,
            host=settings.host,
            port=settings.port,
            log_config=None,  # our handlers (hongbao.logs) for uvicorn's lines too
            access_log=False,  # hongbao's own access log has the route and request id: HONGBAO_ACCESS_LOG
            loop="auto",
            # Each request head must arrive within HONGBAO_HEADER_READ_TIMEOUT_S (slow clients; api/protocol.py).
            http=PROTOCOL,
            ws=settings.ws_protocol,
            # No permessage-deflate: the shake socket's messages are a few dozen bytes, and a browser always offers
            # it; accepted, it cost ~5 µs of zlib per shake and ~50 KiB of zlib state per socket (1 GB at 20,000).
            ws_per_message_deflate=False,
            limit_concurrency=settings.connections_max,
            # SIGTERM: requests still running (a live-events stream never ends by itself) are cut after this.
            timeout_graceful_shutdown=settings.shutdown_grace_s,
        )
    finally:
        if not getattr(api.state, "closed", False):  # uvicorn never started the app (a port in use)
            hb.close()


@app.command()
def migrate(data_dir: DataDir = None, database_url: DbUrl = None) -> None:
    """Create or upgrade the schema (Alembic) to the newest revision."""
    hb = _build(_settings(data_dir, database_url))
    hb.close()
    console.print("Schema is at the newest revision.")


@app.command()
def worker(
    data_dir: DataDir = None,
    database_url: DbUrl = None,
    once: Annotated[bool, typer.Option("--once", help="Run one pass and exit.")] = False,
) -> None:
    """Scaled mode: refund expired packets, finish pending payments (run beside API servers with --no-scheduler)."""
    from hongbao.logs import configure as configure_logging
    from hongbao.scheduler import Sweeper

    settings = _settings(data_dir, database_url)
    configure_logging(settings.log_format, settings.log_level)
    hb = _build(settings)
    sweeper = Sweeper(hb)

    async def loop() -> None:
        # SIGTERM ends the worker after the pass it is in (its writes commit), then the App closes below.
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

        async def pause() -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.scheduler_interval_s)

        while not stop.is_set():
            # One sweeper among every worker and scheduler (adapters/sql/lease.py); --once, by hand, sweeps anyway.
            if not once and not await hb.sweep_lease.hold():
                await pause()
                continue
            for name, pruned in (await sweeper.prune(due_only=not once)).items():
                if pruned:
                    console.print(f"{name}: deleted {pruned} row(s) past their time")
            n = await hb.packets.expire_due()
            closed = await hb.campaigns.close_ended_campaigns(hb.deps.clock.now())
            if closed:
                console.print(f"closed {closed} campaign(s), unspent budgets returned")
            returned = await hb.shake.release_due()  # win tickets of ended rounds and stopped processes
            if returned:
                console.print(f"gave {returned} shake ticket(s) back to their pools")
            if n:
                console.print(f"expired {n} packet(s), remainders refunded")
            ended = await hb.relay.end_overdue_chains()  # relay deadlines
            if ended:
                console.print(f"ended {ended} relay chain(s) whose deadline passed")
            refunded = await hb.transfers.refund_overdue_transfers()
            if refunded:
                console.print(f"refunded {refunded} transfer(s) not accepted in time")
            settled = await hb.wallet.settle_due_payments()  # top-ups and payouts whose request died half-way
            if settled:
                console.print(f"settled {settled} payment(s) left pending with the channel")
            delivered = await hb.webhooks.deliver_due()  # webhooks to host apps
            if delivered:
                console.print(f"delivered {delivered} webhook(s)")
            if once:
                return
            await pause()
        await hb.sweep_lease.release()  # stopped cleanly: the next worker need not wait the lease out

    try:
        asyncio.run(loop())
    except KeyboardInterrupt:
        pass
    finally:
        hb.close()


@app.command()
def reconcile(data_dir: DataDir = None, database_url: DbUrl = None) -> None:
    """Recompute every balance from transfers and check every ledger invariant; exit 1 on any violation."""
    from hongbao.service.reconcile import reconcile as run

    hb = _build(_settings(data_dir, database_url), check_only=True)
    try:
        report = run(hb.store)
    finally:
        hb.close()
    console.print(
        f"accounts {report.accounts}, transfers {report.transfers}, packets {report.packets}, "
        f"claims {report.claims}, payments {report.payments} ({report.payments_pending} pending); "
        f"inside the platform {report.inside_fen} fen"
    )
    if not report.violations:
        console.print("[green]ledger clean[/]: every invariant holds")
        return
    table = Table("invariant", "subject", "detail", title=f"{len(report.violations)} violation(s)")
    for v in report.violations:
        table.add_row(v.invariant, v.subject, v.detail)
    console.print(table)
    raise typer.Exit(1)


# `hongbao fairness`, `demo` and `simulate` live in cli_tools.py; `hongbao admin …` in cli_admin.py.
from hongbao.cli_admin import register as _register_admin  # noqa: E402
from hongbao.cli_tools import register as _register_tools  # noqa: E402

_register_tools(app)
_register_admin(app)

# The platform API's commands (hosts, webhooks) live in cli_embed.py, on this module's options.
from hongbao.cli_embed import register as _register_embed  # noqa: E402

_register_embed(app)

# `hongbao up` (the scaled topology on one machine) lives in cli_scaled.py.
from hongbao.cli_scaled import register as _register_scaled  # noqa: E402

_register_scaled(app)


def main() -> None:  # pragma: no cover - console entry
    app(sys.argv[1:])
