"""`hongbao fairness`, `demo` and `simulate`: the commands that try hongbao out, with no server or store of yours."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hongbao.cli import DbUrl, _fail, console
from hongbao.progress import progress_bar


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


def demo() -> None:
    """Run a scripted Spring Festival scenario in-process and end with a clean reconcile."""
    from hongbao.demo import run_demo

    ok = run_demo(console)
    raise typer.Exit(0 if ok else 1)


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
    jobs: Annotated[
        int, typer.Option(min=1, help="Runs at once, one process each: seeds SEED, SEED+1, …, the ops shared (SQLite).")
    ] = 1,
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
        logged = [0]  # the last 10,000 a log line was printed for (runs in parallel report sums, not multiples)

        def progress(step: int) -> None:
            rate = f"{step / max(time.monotonic() - started, 1e-6):,.0f} ops/s"
            bar.update(task, completed=step, rate=rate)
            if not console.is_terminal and step // 10_000 > logged[0]:  # a log file of a long run shows how far
                logged[0] = step // 10_000
                console.print(f"{step:,} operations, {rate}, {time.monotonic() - started:,.0f} s", markup=False)

        result = run_simulation(
            seed=seed, ops=ops, database_url=database_url, console=console, faults=faults, progress=progress,
            jobs=jobs,
        )
    raise typer.Exit(0 if result.ok else 1)


def register(app: typer.Typer) -> None:
    app.command()(fairness)
    app.command()(demo)
    app.command()(simulate)
