"""The `hongbao` command: serve, migrate, worker, reconcile, fairness, demo, simulate."""

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
from hongbao.progress import progress_bar

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
            limit_concurrency=settings.connections_max,
            # SIGTERM: requests still running (a live-events stream never ends by itself) are cut after this.
            timeout_graceful_shutdown=settings.shutdown_grace_s,
        )
        return
    # The app closes the App (the writer commits what is queued, the sweeper's tickets go back) in its lifespan's
    # end: uvicorn re-raises SIGTERM once it has shut down, so nothing after uvicorn.run would run then.
    api = create_app(hb, close_on_shutdown=True)
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


@app.command()
def fairness(
    total_fen: Annotated[int, typer.Option(min=1, help="Packet total in fen (1 yuan = 100 fen).")] = 10_000,
    shares: Annotated[int, typer.Option(min=1, help="Number of shares.")] = 10,
    runs: Annotated[int, typer.Option(min=1, help="Packets to simulate.")] = 100_000,
    algorithm: Annotated[str, typer.Option(help="double-mean, line-cut or equal.")] = "double-mean",
    seed: Annotated[int | None, typer.Option(help="Seed for a reproducible run.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG chart here.")] = None,
) -> None:
    """Mean, standard deviation and best-luck probability of each grab position."""
    from hongbao.domain.errors import HongbaoError
    from hongbao.domain.fairness import position_stats
    from hongbao.domain.split import Split, seeded

    names = {"double-mean": Split.DOUBLE_MEAN, "line-cut": Split.LINE_CUT, "equal": Split.EQUAL}
    if algorithm.replace("_", "-") not in names:
        console.print(f"[red]unknown algorithm {algorithm!r}[/]: choose double-mean, line-cut or equal")
        raise typer.Exit(2)
    how = names[algorithm.replace("_", "-")]
    if plot is not None:
        from hongbao.adapters.plot import plot_available

        if not plot_available():
            _fail("--plot needs matplotlib, an optional extra: pip install 'hongbao[plot]'")
    try:
        with progress_bar(console, "drawing packets", runs) as advance:
            stats = position_stats(total_fen, shares, runs, how, seeded(seed) if seed is not None else None,
                                   progress=advance)
    except HongbaoError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.detail}")
        raise typer.Exit(2) from exc
    table = Table(
        "position",
        "mean (fen)",
        "stdev (fen)",
        "P(best luck)",
        "min",
        "max",
        title=f"{algorithm}: {total_fen} fen in {shares} shares, {runs} runs"
        + (f", seed {seed}" if seed is not None else ""),
    )
    for p in stats:
        table.add_row(
            str(p.position),
            f"{p.mean_fen:.1f}",
            f"{p.stdev_fen:.1f}",
            f"{p.best_luck_probability:.4f}",
            str(p.min_fen),
            str(p.max_fen),
        )
    console.print(table)
    if plot is not None:
        from hongbao.adapters.plot import plot_fairness

        plot_fairness(stats, f"{algorithm}: {total_fen} fen / {shares} shares ({runs} runs)", plot)
        console.print(f"chart written to {plot}")


@app.command()
def demo() -> None:
    """Run a scripted Spring Festival scenario in-process and end with a clean reconcile."""
    from hongbao.demo import run_demo

    ok = run_demo(console)
    raise typer.Exit(0 if ok else 1)


@app.command()
def simulate(
    seed: Annotated[int, typer.Option(help="Seed; a failure prints it so the run replays exactly.")] = 1,
    ops: Annotated[int, typer.Option(help="Operations to run.")] = 2_000,
    database_url: DbUrl = None,
    faults: Annotated[
        bool, typer.Option("--faults/--no-faults", help="Inject lost commits, restarts, outages and kill -9.")
    ] = True,
    gala: Annotated[bool, typer.Option("--gala", help="A Gala night of shakes instead (sim/gala.py).")] = False,
    shakes: Annotated[int, typer.Option(help="--gala: shakes in the night.")] = 400_000,
    users: Annotated[int, typer.Option(help="--gala: viewers shaking.")] = 5_000,
    plot: Annotated[Path, typer.Option(help="--gala: the chart's PNG.")] = Path("gala.png"),
) -> None:
    """Seeded workload of packets, campaigns, shakes, retries, crashes and expiries under injected faults, audited
    as it goes; failures print the seed.  `--gala`: a seeded Gala night of shakes, with its report and chart."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if gala:
        from hongbao.sim.gala import plot_gala, run_gala, show

        with Progress(TextColumn("Gala night"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=console, transient=True) as bar:  # fmt: skip
            shaking = bar.add_task("shakes", total=shakes)
            night = run_gala(seed, users=users, shakes=shakes,
                             progress=lambda done, _: bar.update(shaking, completed=done))  # fmt: skip
        show(night, console)
        plot_gala(night, plot)
        console.print(f"chart: {plot}", markup=False)
        raise typer.Exit(0 if night.ok else 1)
    from hongbao.sim import run_simulation

    started = time.monotonic()
    with Progress(
        TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(), console=console, disable=not console.is_terminal, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("ops", total=ops, rate="")

        def progress(step: int) -> None:
            rate = f"{step / max(time.monotonic() - started, 1e-6):,.0f} ops/s"
            bar.update(task, completed=step, rate=rate)
            if not console.is_terminal and step % 10_000 == 0:  # a log file of a long run shows how far it got
                console.print(f"{step:,} operations, {rate}, {time.monotonic() - started:,.0f} s", markup=False)

        result = run_simulation(
            seed=seed, ops=ops, database_url=database_url, console=console, faults=faults, progress=progress
        )
    raise typer.Exit(0 if result.ok else 1)


admin = typer.Typer(help="Operator commands: admins and verified accounts.", no_args_is_help=True)
app.add_typer(admin, name="admin")


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


# The platform API's commands (hosts, webhooks) live in cli_embed.py, on this module's options.
from hongbao.cli_embed import register as _register_embed  # noqa: E402

_register_embed(app)

# `hongbao up` (the scaled topology on one machine) lives in cli_scaled.py.
from hongbao.cli_scaled import register as _register_scaled  # noqa: E402

_register_scaled(app)


def main() -> None:  # pragma: no cover - console entry
    app(sys.argv[1:])
