"""Cold W1 storm (issue 9): a server just started, that never saw a token, the group or the packet, stormed by W1.

Set-up, untimed and in process on the benchmark's own store (a fresh SQLite data folder, or with --database-url a
fresh PostgreSQL database this script creates on that server and drops at the end): N users with session tokens,
one group of them all with a sender, and per run one lucky group packet of S shares (double mean by default).
Each run then starts a FRESH `hongbao serve` on that store (`--workers` processes), opens `--connections` keep-alive
connections with GET /health only (no token, group or packet is touched before the clock), and fires the W1 storm:
every user opens the run's packet once (POST /v1/packets/{id}/open), in a seeded random order, with `--connections`
in flight, through the shared load generator's raw client (../shared/bench/loadgen.py, or LOADGEN_DIR).  Each run
has its own packet and its own server process, stopped after the storm, so every run is cold.

Reported per run and as the median: requests/s, p50/p99 ms, the server's CPU µs per request (its processes' CPU
over the storm / requests answered), the generator's too.  Checked per run, with the server stopped: winners =
shares, Σ won = the packet's total, nobody won twice, no error answer, and the store's claims of the packet are
exactly the won answers (user and amount); after all runs `hongbao reconcile` must be clean.  Exit 1 if any fails.

Tokens are signed with HONGBAO_SECRET_PEPPER=--pepper (a production install has a pepper; PostgreSQL signs tokens
only with one, service/tokens.py); `--pepper ''` runs without (SQLite: a key file in the data folder; PostgreSQL:
first-format tokens, one batched read per cold token).

    # the issue-9 figures (5 cold runs each; JSON into bench/results/):
    .venv/bin/python bench/cold_w1.py
    .venv/bin/python bench/cold_w1.py --database-url postgresql://postgres@127.0.0.1:5432
    # tiny, to see it work:
    .venv/bin/python bench/cold_w1.py --users 300 --shares 20 --total-fen 2000 --repeat 2 --json /tmp/cold.json
    PYTHONPATH=/tmp/other-checkout/src .venv/bin/python bench/cold_w1.py ...   # another checkout's server

Load goes to 127.0.0.1 only; every storm is bounded by --max-seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from served import (
    BENCH_ENV,
    ROOT,
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
    server_pids,
    start_server,
    stop_server,
    storm,
)

CHUNK = 1_000  # users made (and tokens issued) per write


def server_env(a: argparse.Namespace) -> dict[str, str]:
    env = {
        **BENCH_ENV,
        "HONGBAO_GROUP_MEMBERS_MAX": str(max(500, a.users + 1)),
        "HONGBAO_SHARES_COUNT_MAX": str(max(100, a.shares)),
        "HONGBAO_PACKET_FEN_MAX": str(max(20_000, a.total_fen)),
    }
    if a.pepper:
        env["HONGBAO_SECRET_PEPPER"] = a.pepper
    return env


def build_app(a: argparse.Namespace, migrate: bool = True) -> Any:
    return build_app_for(a.data_dir, a.database_url, server_env(a), a.pepper, migrate,
                         topup_fen_max=max(5_000_000, a.budget_fen))


async def _set_up(app: Any, a: argparse.Namespace) -> dict[str, Any]:
    now = app.deps.clock.now()
    pw = app.deps.hasher.hash("bench-password-1")
    sender = app.store.write_sync(lambda tx: tx.create_user("w1_sender", "W1 sender", pw, now))
    users: list[int] = []
    for start in range(0, a.users, CHUNK):
        def job(tx: Any, start: int = start) -> list[int]:
            made = [tx.create_user(f"w1_u{i}", f"u{i}", pw, now) for i in range(start, min(a.users, start + CHUNK))]
            for uid in made:  # friends of the sender, who may then put them in a group
                tx.add_friend_request(uid, sender, now)
                tx.accept_friend_request(uid, sender)
            return made

        users += app.store.write_sync(job)
    group = await app.social.create_group(sender, "W1 cold bench", users)
    await app.wallet.top_up(sender, a.budget_fen)
    tokens: list[tuple[int, str]] = []
    for start in range(0, len(users), CHUNK):
        sessions = await asyncio.gather(*(app.users.issue_token(u) for u in users[start:start + CHUNK]))
        tokens += [(s.user_id, s.token) for s in sessions]
    return {"sender": sender, "group_id": group["id"], "tokens": tokens}


def set_up(a: argparse.Namespace) -> dict[str, Any]:
    app = build_app(a)
    try:
        return asyncio.run(_set_up(app, a))
    finally:
        app.close()


def send_packet(a: argparse.Namespace, setup: dict[str, Any]) -> int:
    """The run's packet, sent in process before its server starts (the server never saw it)."""
    app = build_app(a, migrate=False)
    try:
        packet = asyncio.run(app.packets.send_group(
            setup["sender"], setup["group_id"], how=a.split, shares_count=a.shares, total_fen=a.total_fen,
            greeting="cold W1",
        ))  # fmt: skip
        return int(packet["id"])
    finally:
        app.close()


async def cold_storm(a: argparse.Namespace, port: int, pids: dict[str, int], packet_id: int,
                     order: list[tuple[int, str]]) -> Any:  # fmt: skip
    http = RawEngine(f"http://127.0.0.1:{port}", a.connections)
    path = f"/v1/packets/{packet_id}/open"
    prepared = [http.prepare(Request("POST", path, {"Authorization": f"Bearer {t}"})) for _, t in order]
    probe = http.prepare(Request("GET", "/health"))
    for _ in range(2):  # open the connections with a request that reads no token, group or packet
        await asyncio.gather(*(http.call(probe) for _ in range(a.connections)))
    result = await storm(http, prepared, a.connections, CpuMeter(pids), a.max_seconds)
    await http.close()
    return result


def store_facts(a: argparse.Namespace, packet_id: int) -> dict[str, Any]:
    """The packet's claims and counters as the store holds them (server stopped)."""
    from sqlalchemy import select

    from hongbao.adapters.sql import schema as s

    app = build_app(a, migrate=False)
    try:
        def read(tx: Any) -> dict[str, Any]:
            claims = [(int(u), int(f)) for u, f in tx.conn.execute(
                select(s.claims.c.user_id, s.claims.c.amount_fen).where(s.claims.c.packet_id == packet_id))]
            p = s.packets.c
            row = tx.conn.execute(select(p.total_fen, p.shares_count, p.claimed_count, p.claimed_fen)
                                  .where(p.id == packet_id)).one()  # fmt: skip
            return {"claims": claims, "total_fen": int(row[0]), "shares": int(row[1]), "claimed_count": int(row[2]),
                    "claimed_fen": int(row[3])}  # fmt: skip

        facts: dict[str, Any] = app.store.read_sync(read)
        return facts
    finally:
        app.close()


def one_run(a: argparse.Namespace, setup: dict[str, Any], run: int) -> dict[str, Any]:
    packet_id = send_packet(a, setup)
    order = list(setup["tokens"])
    random.Random(a.seed + run).shuffle(order)
    port = free_port()
    t0 = time.monotonic()
    proc = start_server(a.data_dir, a.database_url, a.workers, port, server_env(a))
    started_s = time.monotonic() - t0
    try:
        pids = server_pids(proc)
        result = run_async(cold_storm(a, port, pids, packet_id, order))
    finally:
        stop_server(proc)
    kinds: Counter[str] = Counter()
    won: list[tuple[int, int]] = []  # (user, amount) per won answer
    for smp in result.samples:
        kind, amount = classify(smp.status, smp.body) if smp.status >= 0 else ("transport_error", 0)
        kinds[kind] += 1
        if kind == "won":
            won.append((order[smp.pos][0], amount))
    lat = sorted((smp.end - smp.start) * 1000 for smp in result.samples)
    answered = len(result.samples)
    facts = store_facts(a, packet_id)
    errors = sum(n for k, n in kinds.items() if k not in ("won", "409:packet_exhausted"))
    per_user = Counter(u for u, _ in won)
    checks = {
        "winners": len(won),
        "shares": facts["shares"],
        "won_fen": sum(f for _, f in won),
        "total_fen": facts["total_fen"],
        "users_winning_twice": sum(1 for n in per_user.values() if n > 1),
        "store_claims": len(facts["claims"]),
        "store_claims_match_answers": sorted(facts["claims"]) == sorted(won),
        "store_claimed": [facts["claimed_count"], facts["claimed_fen"]],
        "errors": errors,
        "unfinished": result.unfinished,
    }
    expected_winners = min(facts["shares"], len(order))
    full = expected_winners == facts["shares"]
    checks["ok"] = bool(
        checks["winners"] == expected_winners and (not full or checks["won_fen"] == facts["total_fen"])
        and checks["users_winning_twice"] == 0 and checks["store_claims_match_answers"]
        and facts["claimed_count"] == len(won) and facts["claimed_fen"] == checks["won_fen"]
        and errors == 0 and result.unfinished == 0
    )  # fmt: skip
    return {
        "run": run + 1,
        "packet": packet_id,
        "server_start_s": round(started_s, 2),
        "answered": answered,
        "wall_s": round(result.wall, 4),
        "req_per_s": round(answered / result.wall, 1) if result.wall else 0.0,
        "p50_ms": round(pct(lat, 0.50), 2),
        "p99_ms": round(pct(lat, 0.99), 2),
        "max_ms": round(lat[-1], 2) if lat else None,
        "server_cpu_us_per_req": round(server_cpu_s(result.cpu) / answered * 1e6, 1) if answered else None,
        "loadgen_cpu_us_per_req": round(result.cpu["loadgen"]["cpu_s"] / answered * 1e6, 1) if answered else None,
        "machine_busy_pct": result.cpu["machine"]["busy_pct"],
        "outcomes": dict(sorted(kinds.items())),
        "checks": checks,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--users", type=int, default=10_000, help="distinct users, each opens each run's packet once")
    p.add_argument("--shares", type=int, default=100)
    p.add_argument("--total-fen", type=int, default=20_000, help="each packet's total (loadgen's W1: 20,000)")
    p.add_argument("--split", choices=("double_mean", "line_cut"), default="double_mean")
    p.add_argument("--connections", type=int, default=64, help="requests in flight (keep-alive connections)")
    p.add_argument("--workers", type=int, default=1, help="`hongbao serve --workers`")
    p.add_argument("--repeat", type=int, default=5, help="cold runs, each its own packet and server process")
    p.add_argument("--seed", type=int, default=1, help="shuffle seed (run r uses seed + r)")
    p.add_argument("--pepper", default="bench-pepper", help="HONGBAO_SECRET_PEPPER ('' for none)")
    p.add_argument("--max-seconds", type=float, default=120.0)
    p.add_argument("--database-url", default=None,
                   help="a PostgreSQL server (postgresql://user@host:port[/admin db]): a fresh database is made "
                        "on it and dropped at the end (default: SQLite in a temp folder)")  # fmt: skip
    p.add_argument("--json", default=None, help="write the results here (default bench/results/cold-w1-STORE.json)")
    p.add_argument("--keep", action="store_true", help="keep the data folder (and print it)")
    a = p.parse_args()
    a.budget_fen = a.total_fen * a.repeat
    store = "postgresql" if a.database_url else "sqlite"
    json_path = Path(a.json) if a.json else ROOT / "bench" / "results" / f"cold-w1-{store}.json"
    a.data_dir = tempfile.mkdtemp(prefix="hongbao-cold-w1-")
    raise_open_files()
    server_url = a.database_url
    with ExitStack() as stack:
        if server_url:
            a.database_url = stack.enter_context(fresh_database(server_url, "hongbao_bench_cold_w1"))
        try:
            t0 = time.monotonic()
            setup = set_up(a)
            print(f"set-up ({store}): {a.users} users with tokens, group {setup['group_id']} "
                  f"({time.monotonic() - t0:.0f} s)", flush=True)  # fmt: skip
            runs = []
            for run in range(a.repeat):
                r = one_run(a, setup, run)
                runs.append(r)
                print(f"run {r['run']}: {r['req_per_s']:,.0f} req/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  "
                      f"server {r['server_cpu_us_per_req']} µs/req  loadgen {r['loadgen_cpu_us_per_req']} µs/req  "
                      f"outcomes {r['outcomes']}  ok={r['checks']['ok']}", flush=True)  # fmt: skip
                if not r["checks"]["ok"]:
                    print("  checks:", json.dumps(r["checks"]), flush=True)
            clean, said = reconcile_cli(a.data_dir, a.database_url)
            med = {k: round(statistics.median(r[k] for r in runs), 2)
                   for k in ("req_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_req", "loadgen_cpu_us_per_req")}
            ok = clean and all(r["checks"]["ok"] for r in runs)
            print("median:", json.dumps(med))
            print(f"hongbao reconcile: {'clean' if clean else 'FAILED'}: {said.splitlines()[-1] if said else ''}")
            print(f"all ok={ok}")
            params = {k: v for k, v in vars(a).items() if k not in ("json", "database_url", "data_dir")}
            facts = {"store": store, "nproc": os.cpu_count(), "python": platform.python_version(),
                     "loadavg": os.getloadavg(), "code": code_version()}  # fmt: skip
            out = {"params": params | {"database_server": server_url}, "machine": facts, "runs": runs,
                   "median": med, "reconcile": {"clean": clean, "output": said}, "ok": ok,
                   "command": " ".join(sys.argv)}  # fmt: skip
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps(out, indent=1, ensure_ascii=False))
            print(f"results: {json_path}")
            return 0 if ok else 1
        finally:
            if a.keep:
                print(f"data folder kept: {a.data_dir}")
            else:
                shutil.rmtree(a.data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
