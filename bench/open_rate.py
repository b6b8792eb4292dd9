"""The raw open rate of hongbao's store and gate without HTTP: N concurrent `app.packets.open` calls.

Builds an App (SQLite in a temp folder, or --database-url for PostgreSQL) with cheap argon2 and raised
packet limits, puts N users and a sender in one group, then times `asyncio.gather` of N opens of one
packet: group commit settles them a batch per transaction.  Two mixes, each the median of --runs:

  all-win  --all-win users (2,000) open a packet of as many shares: every open wins, the money path
           (gate → writer thread → one commit per batch)
  w1       N users open a packet of --w1-shares shares (100): most opens are refused by the gate (exhausted)
  w1b      --w1b packets (200) of --w1b-shares shares (10), each opened by --w1b-openers users (20), all opens
           shuffled together with at most --in-flight (64) at once: the shape of loadgen's W1b without HTTP

Every run checks winners = shares, Σ = total, nobody twice; reconcile must be clean at the end.

    python bench/open_rate.py --users 10000 --runs 5
    python bench/open_rate.py --database-url postgresql://postgres@127.0.0.1:5432/hongbao_bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hongbao.bootstrap import App, build
from hongbao.config import Settings
from hongbao.domain.errors import HongbaoError
from hongbao.service.reconcile import reconcile

PASSWORD = "bench-password-1"
FEN_PER_SHARE = 100


@dataclass
class Run:
    """One timed gather of opens."""

    mix: str
    opens: int
    shares: int
    wall_s: float
    cpu_s: float
    won: int
    won_fen: int
    refusals: dict[str, int]
    errors: dict[str, int]
    batches: int
    jobs: int
    writer_cpu_s: float
    server_cpu_s: float  # the PostgreSQL backends' CPU on the bench's database (0 on SQLite)
    ok: bool
    problems: list[str] = field(default_factory=list)

    @property
    def opens_per_s(self) -> float:
        return self.opens / self.wall_s

    @property
    def wins_per_s(self) -> float:
        return self.won / self.wall_s

    @property
    def writer_us_per_open(self) -> float:
        """The writer thread's CPU per open (time.thread_time): what a batch costs, whatever else runs."""
        return self.writer_cpu_s / self.opens * 1e6

    @property
    def server_us_per_open(self) -> float:
        """The database server's CPU per open (its backends on this machine, from /proc): what the SQL costs there."""
        return self.server_cpu_s / self.opens * 1e6

    @property
    def jobs_per_commit(self) -> float:
        return self.jobs / self.batches if self.batches else 0.0

    def line(self) -> str:
        return (f"{self.mix:8} {self.opens:6} opens  {self.opens_per_s:9.0f} opens/s  {self.wins_per_s:8.0f} wins/s  "
                f"wall {self.wall_s * 1000:7.1f} ms  cpu {self.cpu_s / self.wall_s:4.2f} cores  "
                f"won {self.won}/{self.shares} = {self.won_fen} fen  refused {self.refusals or 0}  "
                f"commits {self.batches} ({self.jobs_per_commit:.1f} jobs each)  "
                f"writer {self.writer_us_per_open:.0f} us/open  server {self.server_us_per_open:.0f} us/open  "
                f"ok={self.ok}"
                + (f"  PROBLEMS {self.problems}" if self.problems else ""))


async def set_up(app: App, users: int, prefix: str) -> tuple[int, int, list[int]]:
    """Register a sender and `users` users, befriend them, put them all in one group; return ids."""
    sender = await app.users.register(f"{prefix}s", PASSWORD)
    ids = list(await asyncio.gather(*(app.users.register(f"{prefix}{i}", PASSWORD) for i in range(users))))
    await asyncio.gather(*(app.social.request_friend(u, sender) for u in ids))
    await asyncio.gather(*(app.social.accept_friend(sender, u) for u in ids))
    group = await app.social.create_group(sender, f"bench {prefix}", ids)
    return sender, int(group["id"]), ids


def tally(replies: list[Any]) -> tuple[Counter[str], Counter[str], list[str]]:
    """Refusals by code, other errors, and the problems they already are (only packet_exhausted is expected)."""
    refusals = Counter(r.code for r in replies if isinstance(r, HongbaoError))
    errors = Counter(f"{type(r).__name__}: {r}" for r in replies
                     if isinstance(r, BaseException) and not isinstance(r, HongbaoError))
    problems = []
    if set(refusals) - {"packet_exhausted"}:
        problems.append(f"unexpected refusals {dict(refusals)}")
    if errors:
        problems.append(f"errors {dict(errors)}")
    return refusals, errors, problems


async def one_run(app: App, mix: str, sender: int, group_id: int, users: list[int], shares: int) -> Run:
    total = shares * FEN_PER_SHARE
    await app.wallet.top_up(sender, total)
    packet = await app.packets.send_group(sender, group_id, how="double_mean", shares_count=shares,
                                          total_fen=total)
    batches0, jobs0, writer0, server0 = app.store.batches, app.store.jobs_done, writer_cpu_s(app), server_cpu(app)
    cpu0, t0 = time.process_time(), time.perf_counter()
    replies = await asyncio.gather(*(app.packets.open(packet["id"], u) for u in users), return_exceptions=True)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    batches, jobs = app.store.batches - batches0, app.store.jobs_done - jobs0
    won = [(u, r["amount_fen"]) for u, r in zip(users, replies, strict=True) if isinstance(r, dict)]
    refusals, errors, problems = tally(replies)
    if len(won) != shares:
        problems.append(f"{len(won)} winners for {shares} shares")
    if sum(a for _, a in won) != total:
        problems.append(f"claimed {sum(a for _, a in won)} of {total} fen")
    twice = [u for u, n in Counter(u for u, _ in won).items() if n > 1]
    if twice:
        problems.append(f"users winning twice: {twice[:10]}")
    return Run(mix, len(users), shares, wall, cpu, len(won), sum(a for _, a in won), dict(refusals),
               dict(errors), batches, jobs, writer_cpu_s(app) - writer0, server_cpu_since(app, server0),
               not problems, problems)


async def w1b_run(app: App, sender: int, group_id: int, users: list[int], a: argparse.Namespace) -> Run:
    """W1b's shape: many packets at once, each opened by more users than it has shares, at most
    `a.in_flight` opens in flight (loadgen's 64 connections), all shuffled together."""
    shares, packets = a.w1b_shares, a.w1b
    total = shares * FEN_PER_SHARE
    await app.wallet.top_up(sender, total * packets)
    ids = [(await app.packets.send_group(sender, group_id, how="double_mean", shares_count=shares,
                                         total_fen=total))["id"] for _ in range(packets)]
    rng = random.Random(packets)
    opens = [(pid, u) for pid in ids for u in rng.sample(users, a.w1b_openers)]
    rng.shuffle(opens)
    gate = asyncio.Semaphore(a.in_flight)

    async def one(pid: int, user: int) -> dict[str, Any]:
        async with gate:
            return await app.packets.open(pid, user)

    batches0, jobs0, writer0, server0 = app.store.batches, app.store.jobs_done, writer_cpu_s(app), server_cpu(app)
    cpu0, t0 = time.process_time(), time.perf_counter()
    replies = await asyncio.gather(*(one(pid, u) for pid, u in opens), return_exceptions=True)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    batches, jobs = app.store.batches - batches0, app.store.jobs_done - jobs0
    won = [(pid, u, r["amount_fen"]) for (pid, u), r in zip(opens, replies, strict=True) if isinstance(r, dict)]
    refusals, errors, problems = tally(replies)
    per_packet = Counter(pid for pid, _, _ in won)
    if any(per_packet[pid] != shares for pid in ids):
        problems.append(f"{sum(per_packet[pid] != shares for pid in ids)} packets without exactly {shares} winners")
    if sum(a for _, _, a in won) != total * packets:
        problems.append(f"claimed {sum(a for _, _, a in won)} of {total * packets} fen")
    twice = [k for k, n in Counter((pid, u) for pid, u, _ in won).items() if n > 1]
    if twice:
        problems.append(f"users winning a packet twice: {twice[:10]}")
    return Run("w1b", len(opens), shares * packets, wall, cpu, len(won), sum(a for _, _, a in won), dict(refusals),
               dict(errors), batches, jobs, writer_cpu_s(app) - writer0, server_cpu_since(app, server0),
               not problems, problems)


def writer_cpu_s(app: App) -> float:
    """The writer thread's CPU so far (0 on a store from before it was counted: a "before" tree)."""
    return float(getattr(app.store, "writer_cpu_s", 0.0))


def server_cpu(app: App) -> dict[int, float]:
    """CPU seconds so far of each client backend (not autovacuum) on the bench's database, read from /proc (a server
    on this machine; {} on SQLite, or where /proc does not show them)."""
    if not app.store.url.startswith("postgresql"):
        return {}
    with app.store.engine.connect() as conn:
        pids = [int(pid) for (pid,) in conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'")]
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return out


def server_cpu_since(app: App, before: dict[int, float]) -> float:
    """The backends' CPU since `before` (a backend started since counts from zero)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in server_cpu(app).items())


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "min": round(min(values), 1),
            "max": round(max(values), 1)}


async def bench(app: App, a: argparse.Namespace) -> dict[str, Any]:
    prefix = f"b{secrets.token_hex(3)}_"  # fresh names: a PostgreSQL database may already hold users
    t0 = time.perf_counter()
    sender, group_id, users = await set_up(app, a.users, prefix)
    print(f"set-up: {a.users} users in group {group_id} in {time.perf_counter() - t0:.1f} s (untimed)", flush=True)
    mixes = {"all-win": (min(a.all_win, a.users), users[: a.all_win]), "w1": (min(a.w1_shares, a.users), users)}
    if a.w1b:
        mixes["w1b"] = (a.w1b * a.w1b_shares, [0] * (a.w1b * a.w1b_openers))
    out: dict[str, Any] = {}
    for mix, (shares, openers) in mixes.items():
        if mix not in a.mixes.split(","):
            continue
        runs = []
        for _ in range(a.runs):
            run = (await w1b_run(app, sender, group_id, users, a) if mix == "w1b"
                   else await one_run(app, mix, sender, group_id, openers, shares))
            print("  " + run.line(), flush=True)
            runs.append(run)
        out[mix] = {
            "opens": len(openers), "shares": shares,
            "opens_per_s": spread([r.opens_per_s for r in runs]),
            "wins_per_s": spread([r.wins_per_s for r in runs]),
            "wall_ms": spread([r.wall_s * 1000 for r in runs]),
            "cpu_cores": spread([r.cpu_s / r.wall_s for r in runs]),
            "commits": spread([r.batches for r in runs]),
            "jobs_per_commit": spread([r.jobs_per_commit for r in runs]),
            "writer_us_per_open": spread([r.writer_us_per_open for r in runs]),
            "server_us_per_open": spread([r.server_us_per_open for r in runs]),
            "all_ok": all(r.ok for r in runs),
            "runs": [{**vars(r), "opens_per_s": round(r.opens_per_s, 1)} for r in runs],
        }
        print(f"{mix}: opens/s {out[mix]['opens_per_s']}  wins/s {out[mix]['wins_per_s']}  "
              f"jobs/commit {out[mix]['jobs_per_commit']}  "
              f"writer us/open {out[mix]['writer_us_per_open']}  server us/open {out[mix]['server_us_per_open']}  "
              f"all ok={out[mix]['all_ok']}", flush=True)
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=10_000, help="concurrent opens per run (default 10000)")
    p.add_argument("--all-win", type=int, default=2_000, help="opens of the all-win mix (default 2000)")
    p.add_argument("--w1-shares", type=int, default=100, help="shares of the W1-like packet (default 100)")
    p.add_argument("--w1b", type=int, default=200, help="packets of the w1b mix (default 200)")
    p.add_argument("--w1b-shares", type=int, default=10, help="shares of each w1b packet (default 10)")
    p.add_argument("--w1b-openers", type=int, default=20, help="distinct openers of each w1b packet (default 20)")
    p.add_argument("--in-flight", type=int, default=64, help="w1b opens in flight at once (default 64)")
    p.add_argument("--mixes", default="all-win,w1,w1b", help="which mixes to run (default all-win,w1,w1b)")
    p.add_argument("--runs", type=int, default=5, help="runs per mix (default 5)")
    p.add_argument("--database-url", default=None, help="postgresql://... (default: SQLite in a temp folder)")
    p.add_argument("--batch-max", type=int, default=None, help="writer jobs per commit (default: the setting)")
    p.add_argument("--switch-interval", type=float, default=None,
                   help="sys.setswitchinterval (s): how long the event loop may hold the GIL before the writer")
    p.add_argument("--json", default=None, help="write the results here")
    a = p.parse_args(argv)
    if a.switch_interval is not None:
        sys.setswitchinterval(a.switch_interval)
    with tempfile.TemporaryDirectory(prefix="hongbao-open-rate-") as tmp:
        overrides: dict[str, Any] = {
            "data_dir": Path(tmp), "database_url": a.database_url, "demo": False, "scheduler": False,
            "argon2_time_cost": 1, "argon2_memory_kib": 8,
            "group_members_max": a.users + 1, "shares_count_max": max(a.users, a.w1_shares),
            "packet_fen_max": max(a.users, a.w1_shares) * FEN_PER_SHARE,
            "topup_fen_max": max(a.users, a.w1_shares, a.w1b * a.w1b_shares) * FEN_PER_SHARE,
        }
        if a.batch_max is not None:
            overrides["write_batch_max"] = a.batch_max
        settings = Settings(**overrides)
        app = build(settings)
        store = "postgresql" if app.store.url.startswith("postgresql") else "sqlite"
        facts = {"store": store, "nproc": os.cpu_count(), "python": platform.python_version(),
                 "loadavg": os.getloadavg(), "write_batch_max": settings.write_batch_max,
                 "switch_interval_s": sys.getswitchinterval()}
        print(f"open_rate: {facts}", flush=True)
        try:
            results = asyncio.run(bench(app, a))
            report = reconcile(app.store)
        finally:
            app.close()
    clean = not report.violations
    print(f"reconcile: {report.packets} packets, {report.claims} claims, {report.transfers} transfers: "
          + ("clean" if clean else f"{len(report.violations)} VIOLATIONS {report.violations[:5]}"), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"facts": facts, "params": vars(a), "results": results, "reconcile_clean": clean,
                       "violations": [str(v) for v in report.violations[:50]], "command": " ".join(sys.argv)},
                      f, indent=1, default=str)
    return 0 if clean and all(r["all_ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
