"""One hot campaign under two writers: many users claim one enterprise campaign at once through two API processes.

Set-up, untimed and in process on a fresh PostgreSQL database this script creates (and drops at the end): an
enterprise account with a followers campaign of `--prizes` cash prizes of `--prize-fen` each (budget for exactly
that many, per-user cap `--per-user-max`), and `--users` followers with session tokens.  Then two `hongbao serve`
processes (each its own writer on the one database, as `hongbao up` runs them) start on that database with the
machine's Redis under a key prefix of this run's own (HONGBAO_REDIS_PREFIX; nothing else is touched, never
FLUSHed), and every user claims `--claims-per-user` times, POST /v1/campaigns/{id}/claim, with `--connections` in
flight, half on each process's connections; a user's two claims go one to each process, so both writers cross on
the campaign, its prize and the user's claimer row (`--processes 1`: the one-writer baseline).

Reported: claims/s over the storm, p50/p99/max, server CPU µs per claim (both processes), answers by kind, the
writers' deferrals and busy batches (each process's /metrics) and the deadlocks PostgreSQL counted in the database
(pg_stat_database).  Checked with the servers stopped: wins = min(prizes, users × per-user cap), no user over the
cap, Σ won = the campaign's paid_fen = the prize's issued count × prize, the budget account holds the rest, no
error answer, and `hongbao reconcile` clean.  Exit 1 if a check fails.

    PYTHONPATH=src .venv/bin/python bench/hot_campaign.py --users 2000 --prizes 1500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from served import (
    BENCH_ENV,
    CpuMeter,
    RawEngine,
    Request,
    build_app_for,
    classify,
    code_version,
    free_port,
    fresh_database,
    pct,
    raise_open_files,
    reconcile_cli,
    run_async,
    server_cpu_s,
    start_server,
    stop_server,
)

CHUNK = 1_000
JSON = {"Content-Type": "application/json"}


def server_env(a: argparse.Namespace, prefix: str) -> dict[str, str]:
    return {**BENCH_ENV, "HONGBAO_REDIS_URL": a.redis_url, "HONGBAO_REDIS_PREFIX": prefix}


async def _set_up(app: Any, a: argparse.Namespace) -> dict[str, Any]:
    now = app.deps.clock.now()
    pw = app.deps.hasher.hash("bench-password-1")
    budget = a.prizes * a.prize_fen

    def owner(tx: Any) -> int:
        uid = tx.create_user("brand", "品牌 Brand", pw, now)
        tx.set_verified_as(uid, "enterprise")
        return int(uid)

    brand = app.store.write_sync(owner)
    fans: list[int] = []
    for start in range(0, a.users, CHUNK):
        def job(tx: Any, start: int = start) -> list[int]:
            made = [tx.create_user(f"fan{i}", f"fan {i}", pw, now) for i in range(start, min(a.users, start + CHUNK))]
            for fan in made:
                tx.follow(fan, brand, now)
            return made

        fans += app.store.write_sync(job)
    await app.wallet.top_up(brand, budget)
    made = await app.campaigns.create(
        brand, channel="followers", name="hot", starts_at=now, ends_at=now + timedelta(days=30),
        budget_fen=budget, prizes=[{"kind": "cash", "amount_fen": a.prize_fen, "weight": 1, "count": a.prizes}],
        per_user_max=a.per_user_max, per_day_max=None, idem=None,
    )  # fmt: skip
    tokens = []
    for start in range(0, len(fans), CHUNK):
        sessions = await asyncio.gather(*(app.users.issue_token(u) for u in fans[start:start + CHUNK]))
        tokens += [(s.user_id, s.token) for s in sessions]
    return {"campaign": int(made["id"]), "tokens": tokens}


def metric(port: int, name: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    found = re.search(rf"^{name}(?:_total)? ([0-9.e+]+)$", text, re.M)
    return float(found.group(1)) if found else float("nan")


def deadlocks(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            return int(conn.execute(text(
                "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")).scalar_one())
    finally:
        engine.dispose()


async def claim_storm(a: argparse.Namespace, ports: list[int], pids: dict[str, int], campaign: int,
                      queues: list[list[str]]) -> dict[str, Any]:  # fmt: skip
    """Each process's claims (`queues`, session tokens) through its own `--connections` / N keep-alive connections,
    all at once: a connection per worker, so none sits idle past the server's keep-alive timeout."""
    per = max(1, a.connections // len(ports))
    engines = [RawEngine(f"http://127.0.0.1:{port}", per) for port in ports]
    for http in engines:
        probe = http.prepare(Request("GET", "/health"))
        await asyncio.gather(*(http.call(probe) for _ in range(per)))
    path = f"/v1/campaigns/{campaign}/claim"
    prepared = [iter([http.prepare(Request("POST", path, {"Authorization": f"Bearer {token}", **JSON}, b"{}"))
                      for token in queue]) for http, queue in zip(engines, queues, strict=True)]  # fmt: skip
    samples: list[tuple[float, float, int, bytes]] = []
    gate = asyncio.Event()

    async def worker(http: Any, queue: Any) -> None:
        await gate.wait()
        for request in queue:
            t0 = time.perf_counter()
            try:
                status, body = await http.call(request)
            except Exception as exc:  # a transport failure is an error answer
                status, body = -1, f"{type(exc).__name__}: {exc}".encode()
            samples.append((t0, time.perf_counter(), status, bytes(body)))

    meter = CpuMeter(pids)
    tasks = [asyncio.ensure_future(worker(http, queue)) for http, queue in zip(engines, prepared, strict=True)
             for _ in range(per)]  # fmt: skip
    await asyncio.sleep(0)
    before = meter.snapshot()
    gate.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=a.max_seconds)
    after = meter.snapshot()
    wall = max(s[1] for s in samples) - min(s[0] for s in samples)
    for http in engines:
        await http.close()
    return {"samples": samples, "wall": wall, "cpu": CpuMeter.report(before, after, wall)}


def store_facts(a: argparse.Namespace, env: dict[str, str], campaign: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from hongbao.adapters.sql import schema as s
    from hongbao.adapters.sql import schema_campaign as c

    app = build_app_for(a.data_dir, a.db, env, "", False)
    try:
        def read(tx: Any) -> dict[str, Any]:
            k = c.campaigns.c
            row = tx.conn.execute(select(k.paid_fen, k.claims_count, k.budget_account_id).where(k.id == campaign)).one()
            cl = c.campaign_claims.c
            per_user = [int(n) for (n,) in tx.conn.execute(
                select(func.count()).where(cl.campaign_id == campaign).group_by(cl.user_id))]  # fmt: skip
            issued = tx.conn.execute(select(func.sum(c.campaign_prizes.c.issued_count)).where(
                c.campaign_prizes.c.campaign_id == campaign)).scalar_one()  # fmt: skip
            left = tx.conn.execute(select(s.accounts.c.balance_fen).where(s.accounts.c.id == row[2])).scalar_one()
            return {"paid_fen": int(row[0]), "claims_count": int(row[1]), "issued": int(issued or 0),
                    "budget_left_fen": int(left), "claims_per_user_max": max(per_user, default=0),
                    "claims_rows": sum(per_user)}  # fmt: skip

        return dict(app.store.read_sync(read))
    finally:
        app.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--claims-per-user", type=int, default=2)
    parser.add_argument("--per-user-max", type=int, default=1)
    parser.add_argument("--prizes", type=int, default=1500)
    parser.add_argument("--prize-fen", type=int, default=88)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--processes", type=int, default=2, help="API processes (1: the one-writer baseline)")
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", default=None)
    a = parser.parse_args()
    raise_open_files()
    import random

    prefix = f"hongbao:bench:hot:{uuid.uuid4().hex[:8]}:"
    env = server_env(a, prefix)
    with tempfile.TemporaryDirectory(prefix="hot-campaign-") as data_dir, \
            fresh_database(a.database_url, "hongbao_bench_hot_campaign") as db:  # fmt: skip
        a.data_dir, a.db = data_dir, db
        app = build_app_for(data_dir, db, env, "", True)
        try:
            setup = asyncio.run(_set_up(app, a))
        finally:
            app.close()
        # A user's k-th claim goes to process (user + k) mod N: with two, one to each.
        queues: list[list[str]] = [[] for _ in range(a.processes)]
        for n, (_, token) in enumerate(setup["tokens"]):
            for k in range(a.claims_per_user):
                queues[(n + k) % a.processes].append(token)
        for queue in queues:
            random.Random(a.seed).shuffle(queue)
        ports = [free_port() for _ in range(a.processes)]
        procs = []
        try:
            for port in ports:
                procs.append(start_server(data_dir, db, 1, port, env))
            pids = {f"api{i}": p.pid for i, p in enumerate(procs)}
            got = run_async(claim_storm(a, ports, pids, setup["campaign"], queues))
            writers = {name: sum(metric(port, name) for port in ports)
                       for name in ("hongbao_write_deferred", "hongbao_write_busy_failures")}  # fmt: skip
        finally:
            for proc in procs:
                stop_server(proc)
        found_deadlocks = deadlocks(db)
        facts = store_facts(a, env, setup["campaign"])
        clean, said = reconcile_cli(data_dir, db)
        server_log = Path(data_dir, "server.log").read_text(errors="replace")
    kinds = Counter("won" if status == 201 else classify(status, body)[0] for _, _, status, body in got["samples"])
    lat = sorted((end - start) * 1000 for start, end, _, _ in got["samples"])
    won = sum(json.loads(body).get("amount_fen", 0) for _, _, status, body in got["samples"] if status == 201)
    wins = kinds.get("won", 0)
    claims = len(got["samples"])
    cpu_s = server_cpu_s(got["cpu"])
    expected = min(a.prizes, a.users * a.per_user_max)
    checks = {
        "every request answered": claims == a.users * a.claims_per_user,
        "wins = min(prizes, users x cap)": wins == expected,
        "sum won = paid_fen = issued x prize": won == facts["paid_fen"] == facts["issued"] * a.prize_fen,
        "claims in store = wins": facts["claims_rows"] == wins == facts["claims_count"],
        "no user over the cap": facts["claims_per_user_max"] <= a.per_user_max,
        "budget holds the rest": facts["budget_left_fen"] == a.prizes * a.prize_fen - facts["paid_fen"],
        "no error answer": all(k == "won" or k.endswith((":cap_reached", ":campaign_exhausted")) for k in kinds),
        "reconcile clean": clean,
    }
    out = {
        "code": code_version(), "processes": a.processes, "users": a.users, "claims": claims,
        "wall_s": round(got["wall"], 3),
        "claims_per_s": round(claims / got["wall"], 1),
        "latency_ms": {"p50": round(pct(lat, 0.5), 2), "p99": round(pct(lat, 0.99), 2), "max": round(lat[-1], 2),
                       "mean": round(statistics.fmean(lat), 2)},
        "server_cpu_us_per_claim": round(cpu_s / claims * 1e6, 1), "answers": dict(kinds),
        "deferred": writers["hongbao_write_deferred"], "busy_batches": writers["hongbao_write_busy_failures"],
        "deadlocks": found_deadlocks, "store": facts, "checks": checks,
    }  # fmt: skip
    if not clean:
        out["reconcile"] = said[-2000:]
    if not all(checks.values()):
        out["server_log"] = server_log[-3000:]
    print(json.dumps(out, indent=1, ensure_ascii=False))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1, ensure_ascii=False))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
