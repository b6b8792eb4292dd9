"""`hongbao simulate --gala`: a seeded Gala night (春晚摇一摇) in process, audited at the end.

Sponsors fund prize pools of one event in rounds; a crowd of users shakes through the real `Shake` service (win
tickets, K wins per user, the rate limits) on a throw-away SQLite store, with a clock that moves through each round
as the shakes go (scaled time: a night in seconds).  After each round the sweeper gives the unused tickets back;
after the last the pools close and return what was not paid.  The report: wins per round and per sponsor, the
distribution of wins per user, cap hits, fen paid against budgets, and the audit (reconcile, K, budgets).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hongbao.domain.errors import HongbaoError

START = datetime(2026, 2, 16, 12, 0, tzinfo=UTC)  # 除夕 20:00 Beijing time
ROUND_S = 600
GAP_S = 1_200
CHUNK = 256  # shakes in flight at once (the winners among them share the writer's batches)
SPONSORS = (  # name, budget in fen, prize table
    ("JD 京东", 200_000, [{"kind": "cash", "amount_fen": 100, "weight": 8}, {"kind": "cash", "amount_fen": 888,
                                                                           "weight": 1, "count": 40}]),
    ("Alipay 支付宝", 120_000, [{"kind": "cash", "amount_fen": 200, "weight": 1}]),
    ("CCTV 央视", 60_000, [{"kind": "cash", "amount_fen": 50, "weight": 3}, {"kind": "cash", "amount_fen": 520,
                                                                         "weight": 1, "count": 20}]),
)  # fmt: skip


class _Clock:
    def __init__(self) -> None:
        self.at = START

    def now(self) -> datetime:
        return self.at


@dataclass
class GalaReport:
    seed: int
    users: int
    shakes: int
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    wins_by_round: list[Counter[str]] = field(default_factory=list)  # per round: sponsor → wins
    fen_by_round: list[int] = field(default_factory=list)
    pools: list[dict[str, Any]] = field(default_factory=list)  # name, budget, paid, returned, wins
    wins_per_user: Counter[int] = field(default_factory=Counter)  # wins → users
    cap_hits: int = 0  # shakes that drew a win for a user already at K
    k: int = 3
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def run_gala(
    seed: int = 1,
    *,
    users: int = 5_000,
    rounds: int = 4,
    shakes: int = 400_000,
    win_permille: int = 20,
    progress: Callable[[int, int], None] | None = None,
) -> GalaReport:
    """Run the night; `progress(shakes done, shakes)` as it goes."""
    from hongbao.bootstrap import build
    from hongbao.config import Settings

    where = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="hongbao-gala-", dir=where) as folder:
        settings = Settings(
            data_dir=Path(folder), scheduler=False, demo=False, argon2_time_cost=1, argon2_memory_kib=8,
            shakes_per_round_max=1_000_000,
        )  # fmt: skip
        clock = _Clock()
        app = build(settings, clock=clock, rng=random.Random(seed))
        app.campaigns.rng = random.Random(seed * 7919 + 1)
        try:
            return asyncio.run(_night(app, clock, seed, users, rounds, shakes, win_permille, progress))
        finally:
            app.close()


async def _night(
    app: Any, clock: _Clock, seed: int, users: int, rounds: int, shakes: int, win_permille: int,
    progress: Callable[[int, int], None] | None,
) -> GalaReport:  # fmt: skip
    started = time.monotonic()
    crowd = random.Random(seed)
    report = GalaReport(seed, users, shakes)
    host = await app.users.register("cctv_gala", "gala-password-1")
    app.store.write_sync(lambda tx: tx.set_verified_as(host, "enterprise"))
    table = [(START + timedelta(seconds=60 + i * (ROUND_S + GAP_S)),
              START + timedelta(seconds=60 + i * (ROUND_S + GAP_S) + ROUND_S)) for i in range(rounds)]  # fmt: skip
    event = await app.shake.create_event(host, name="春晚摇一摇", rounds=table, win_permille=win_permille,
                                         cards=["马年大吉", "万事如意", "恭喜发财"])  # fmt: skip
    report.k = event["wins_per_user_max"]
    pools: dict[int, str] = {}
    for i, (name, budget, prizes) in enumerate(SPONSORS):
        sponsor = await app.users.register(f"sponsor{i}", "gala-password-1")
        app.store.write_sync(lambda tx, s=sponsor: tx.set_verified_as(s, "enterprise"))
        await app.wallet.top_up(sponsor, budget)
        pool = await app.shake.add_pool(event["id"], sponsor, budget_fen=budget, prizes=prizes, name=name)
        pools[pool["id"]] = name
    ids: list[int] = []
    for start in range(0, users, 500):
        ids += await asyncio.gather(
            *(app.users.register(f"viewer{i}", "gala-password-1") for i in range(start, min(users, start + 500)))
        )
    # Some viewers shake much more than others (a few thousand fans with their phones out the whole night).
    weights = [1.0 / (1 + (i % 97)) ** 0.8 for i in range(users)]
    done = 0
    per_round = shakes // rounds
    for seq, (begins, ends) in enumerate(table):
        clock.at = begins
        report.wins_by_round.append(Counter())
        report.fen_by_round.append(0)
        step = timedelta(seconds=ROUND_S / max(1, per_round / CHUNK))
        for chunk_start in range(0, per_round, CHUNK):
            who = crowd.choices(ids, weights, k=min(CHUNK, per_round - chunk_start))
            answers = await asyncio.gather(*(app.shake.shake(event["id"], u) for u in who), return_exceptions=True)
            for answer in answers:
                if isinstance(answer, HongbaoError):
                    report.outcomes[answer.code] += 1
                elif isinstance(answer, BaseException):
                    raise answer
                else:
                    report.outcomes[answer["result"]] += 1
                    if answer["result"] in ("cash", "coupon"):
                        report.wins_by_round[seq][pools[answer["campaign_id"]]] += 1
                        report.fen_by_round[seq] += int(answer["amount_fen"])
            done += len(who)
            clock.at = min(ends - timedelta(seconds=1), clock.at + step)
            if progress is not None:
                progress(done, shakes)
        clock.at = ends
        await app.shake.release_due(ends)  # the sweeper: this round's unused tickets go back to the pools
    clock.at = table[-1][1] + timedelta(seconds=1)
    await app.campaigns.close_ended_campaigns(clock.at)
    report.cap_hits = app.shake.cap_hits
    _audit(app, report, pools)
    report.seconds = time.monotonic() - started
    return report


def _audit(app: Any, report: GalaReport, pools: dict[int, str]) -> None:
    from sqlalchemy import func, select

    from hongbao.adapters.sql import schema_campaign as sc
    from hongbao.service.reconcile import reconcile

    k, cc = sc.campaigns, sc.campaign_claims

    def facts(tx: Any) -> tuple[list[Any], list[Any]]:
        rows = list(tx.conn.execute(
            select(k.c.id, k.c.budget_fen, k.c.paid_fen, k.c.returned_fen, k.c.held_fen, k.c.claims_count,
                   k.c.status).where(k.c.id.in_(list(pools)))))  # fmt: skip
        per_user = list(tx.conn.execute(
            select(cc.c.user_id, func.count()).where(cc.c.campaign_id.in_(list(pools))).group_by(cc.c.user_id)))
        return rows, per_user

    rows, per_user = app.store.read_sync(facts)
    for r in rows:
        report.pools.append({"name": pools[r.id], "budget_fen": int(r.budget_fen), "paid_fen": int(r.paid_fen),
                             "returned_fen": int(r.returned_fen), "wins": int(r.claims_count)})  # fmt: skip
        if r.status != "closed" or r.paid_fen + r.returned_fen != r.budget_fen or r.held_fen != 0:
            report.violations.append(f"pool {pools[r.id]}: {r.status}, paid {r.paid_fen} + returned {r.returned_fen}"
                                     f" of {r.budget_fen}, {r.held_fen} still held")  # fmt: skip
    for _, n in per_user:
        report.wins_per_user[int(n)] += 1
        if n > report.k:
            report.violations.append(f"a user won {n} times, K is {report.k}")
    report.wins_per_user[0] = report.users - sum(report.wins_per_user.values())
    answered = sum(sum(c.values()) for c in report.wins_by_round)
    if answered != sum(p["wins"] for p in report.pools):
        report.violations.append(f"{answered} wins answered, {sum(p['wins'] for p in report.pools)} in the ledger")
    report.violations += [str(v) for v in reconcile(app.store).violations]


def plot_gala(report: GalaReport, path: Path) -> None:
    """Two panels: wins per round stacked by sponsor, and how many users won 0, 1, … K times."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (by_round, per_user) = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    try:
        names = [p["name"].split(" ")[0] for p in report.pools]  # the Latin half: the default font has no CJK
        full = [p["name"] for p in report.pools]
        bottoms = [0] * len(report.wins_by_round)
        colors = ["#c62828", "#f9a825", "#6d4c41", "#2e7d32"]
        for i, name in enumerate(full):
            values = [c[name] for c in report.wins_by_round]
            by_round.bar(range(1, len(values) + 1), values, bottom=bottoms, label=names[i], color=colors[i % 4])
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        by_round.set_xticks(range(1, len(report.wins_by_round) + 1))
        by_round.set_xlabel("round")
        by_round.set_ylabel("wins")
        by_round.set_title("wins per round, by sponsor")
        by_round.legend(loc="upper right")
        counts = [report.wins_per_user[n] for n in range(report.k + 1)]
        per_user.bar(range(report.k + 1), counts, color="#c62828")
        per_user.set_yscale("log")
        per_user.set_xticks(range(report.k + 1))
        per_user.set_xlabel("wins")
        per_user.set_ylabel("users (log)")
        per_user.set_title(f"wins per user (K = {report.k})")
        fig.suptitle(f"Gala night, seed {report.seed}: {report.shakes:,} shakes, {report.users:,} users")
        fig.savefig(path, format="png", dpi=100)
    finally:
        plt.close(fig)


def show(report: GalaReport, console: Any) -> None:
    """The report as Rich tables."""
    from rich.table import Table

    rounds = Table(title=f"Gala night, seed {report.seed}: {report.shakes:,} shakes by {report.users:,} users "
                         f"in {report.seconds:,.1f} s")  # fmt: skip
    rounds.add_column("round", justify="right")
    for p in report.pools:
        rounds.add_column(p["name"], justify="right")
    rounds.add_column("wins", justify="right")
    rounds.add_column("paid", justify="right")
    for seq, wins in enumerate(report.wins_by_round, 1):
        rounds.add_row(str(seq), *(f"{wins[p['name']]:,}" for p in report.pools), f"{sum(wins.values()):,}",
                       f"¥{report.fen_by_round[seq - 1] / 100:,.2f}")  # fmt: skip
    console.print(rounds)
    pools = Table(title="sponsors' pools")
    for name in ("pool", "budget", "paid", "returned", "wins"):
        pools.add_column(name, justify="left" if name == "pool" else "right")
    for p in report.pools:
        pools.add_row(p["name"], f"¥{p['budget_fen'] / 100:,.2f}", f"¥{p['paid_fen'] / 100:,.2f}",
                      f"¥{p['returned_fen'] / 100:,.2f}", f"{p['wins']:,}")  # fmt: skip
    console.print(pools)
    users = Table(title=f"wins per user (K = {report.k})", caption=f"{report.cap_hits:,} winning draws met the cap")
    users.add_column("wins", justify="right")
    users.add_column("users", justify="right")
    for n in range(report.k + 1):
        users.add_row(str(n), f"{report.wins_per_user[n]:,}")
    console.print(users)
    console.print("answers: " + ", ".join(f"{k} {v:,}" for k, v in report.outcomes.most_common()), markup=False)
    if report.ok:
        console.print("[green]audit clean[/]: reconcile, K per user, every pool paid + returned = budget")
    for v in report.violations:
        console.print(f"[red]violation[/]: {v}", markup=True)
