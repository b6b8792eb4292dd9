"""Celebrity packet over HTTP (issue 9): send 1,000,000 shares, then F followers open it, while unrelated sends go on.

Set-up, untimed and in process on the benchmark's own store (a fresh SQLite data folder, or with --database-url a
fresh PostgreSQL database this script creates on that server and drops at the end): a star verified as a celebrity
with the packet's total in their wallet, F followers with session tokens, and two friends (a side sender, topped up,
and a side recipient).  Then `hongbao serve` starts on that store (`--workers` processes) and, over HTTP with the
shared load generator's raw keep-alive client (../shared/bench/loadgen.py, or LOADGEN_DIR):

  1. a side loop starts sending personal packets (`--side-fen` each) from the side sender to the side recipient,
     POST /v1/packets, `--side-rate` a second on a fixed schedule (open loop: a slow answer does not delay the next
     send), each send's latency recorded; it runs through steps 2 and 3 and stops when the opens are done;
  2. after `--side-lead-s`, the star sends the celebrity packet, POST /v1/packets/celebrity, `--shares` shares of
     `--total-fen` (default 2 fen a share) split by `--split`: that one request is timed;
  3. every follower opens it once, POST /v1/packets/{id}/open, in a seeded random order with `--connections` in
     flight.

Reported: the send's seconds; opens/s over the storm and per whole second (min and median: the sustained rate),
open p50/p99/max; the server's CPU µs per open; the side sends' count, p50/p99/max, overall and by phase (before
the send, during it, during the opens, and the few started after the last open).

Checked with the server stopped: every won answer is a claim in the store (same user, same amount) and the store
has no other claim of the packet, nobody won twice, winners = min(F, shares), Σ won = the packet's claimed_fen =
what its escrow paid out in the ledger (and its escrow holds the rest), no error answer, every side send 201; then
`hongbao reconcile` must be clean.  Exit 1 if any check fails.

Tokens are signed with HONGBAO_SECRET_PEPPER=--pepper ('' for none), as in bench/cold_w1.py.

    # the issue-9 figures (JSON into bench/results/):
    .venv/bin/python bench/celebrity_http.py
    .venv/bin/python bench/celebrity_http.py --database-url postgresql://postgres@127.0.0.1:5432
    # tiny, to see it work:
    .venv/bin/python bench/celebrity_http.py --followers 300 --shares 1000 --json /tmp/celebrity.json

Load goes to 127.0.0.1 only; the send and the storm are each bounded by --max-seconds.
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
from contextlib import ExitStack, suppress
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
JSON = {"Content-Type": "application/json"}


def server_env(a: argparse.Namespace) -> dict[str, str]:
    env = {
        **BENCH_ENV,
        "HONGBAO_CELEBRITY_SHARES_COUNT_MAX": str(max(1_000_000, a.shares)),
        "HONGBAO_OPEN_PACKET_FEN_MAX": str(max(100_000_000, a.total_fen)),
    }
    if a.pepper:
        env["HONGBAO_SECRET_PEPPER"] = a.pepper
    return env


def build_app(a: argparse.Namespace, migrate: bool = True) -> Any:
    return build_app_for(a.data_dir, a.database_url, server_env(a), a.pepper, migrate,
                         topup_fen_max=max(5_000_000, a.total_fen, a.side_budget_fen))


async def _set_up(app: Any, a: argparse.Namespace) -> dict[str, Any]:
    now = app.deps.clock.now()
    pw = app.deps.hasher.hash("bench-password-1")

    def people(tx: Any) -> tuple[int, int, int]:
        star = tx.create_user("star", "明星 Star", pw, now)
        tx.set_verified_as(star, "celebrity")
        side_from = tx.create_user("side_sender", "side sender", pw, now)
        side_to = tx.create_user("side_recipient", "side recipient", pw, now)
        tx.add_friend_request(side_from, side_to, now)
        tx.accept_friend_request(side_from, side_to)
        return star, side_from, side_to

    star, side_from, side_to = app.store.write_sync(people)
    fans: list[int] = []
    for start in range(0, a.followers, CHUNK):
        def job(tx: Any, start: int = start) -> list[int]:
            ids = range(start, min(a.followers, start + CHUNK))
            made = [tx.create_user(f"fan{i}", f"fan {i}", pw, now) for i in ids]
            for fan in made:
                tx.follow(fan, star, now)
            return made

        fans += app.store.write_sync(job)
    await app.wallet.top_up(star, a.total_fen)
    await app.wallet.top_up(side_from, a.side_budget_fen)
    tokens: list[tuple[int, str]] = []
    for start in range(0, len(fans), CHUNK):
        sessions = await asyncio.gather(*(app.users.issue_token(u) for u in fans[start:start + CHUNK]))
        tokens += [(s.user_id, s.token) for s in sessions]
    star_token, side_token = [(await app.users.issue_token(u)).token for u in (star, side_from)]
    return {"star": star, "star_token": star_token, "side_from": side_from, "side_to": side_to,
            "side_token": side_token, "tokens": tokens}  # fmt: skip


def set_up(a: argparse.Namespace) -> dict[str, Any]:
    app = build_app(a)
    try:
        return asyncio.run(_set_up(app, a))
    finally:
        app.close()


class SideLoop:
    """Personal packets between the two side users at a fixed rate, each send timed, until stopped."""

    def __init__(self, a: argparse.Namespace, port: int, setup: dict[str, Any]) -> None:
        self.http = RawEngine(f"http://127.0.0.1:{port}", 32)
        body = json.dumps({"kind": "personal", "recipient_id": setup["side_to"], "amount_fen": a.side_fen,
                           "greeting": "unrelated"}).encode()  # fmt: skip
        headers = {"Authorization": f"Bearer {setup['side_token']}", **JSON}
        self.request = self.http.prepare(Request("POST", "/v1/packets", headers, body))
        self.gap = 1.0 / a.side_rate
        self.sends: list[tuple[float, float, int]] = []  # (start, end, status)
        self.stopped = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def warm(self) -> None:
        status, body = await self.http.call(self.request)
        if status != 201:
            raise SystemExit(f"side send refused: HTTP {status}: {body[:300]!r}")

    def start(self) -> None:
        self.task = asyncio.ensure_future(self._run())

    async def _one(self) -> None:
        t0 = time.perf_counter()
        try:
            status, _ = await self.http.call(self.request)
        except Exception:  # a transport failure is a failed send
            status = -1
        self.sends.append((t0, time.perf_counter(), status))

    async def _run(self) -> None:
        clock, due, flying = time.perf_counter, time.perf_counter(), []
        while not self.stopped.is_set():
            flying.append(asyncio.ensure_future(self._one()))
            due += self.gap
            with suppress(TimeoutError):
                await asyncio.wait_for(self.stopped.wait(), timeout=max(0.0, due - clock()))
        await asyncio.wait_for(asyncio.gather(*flying), timeout=60)

    async def stop(self) -> None:
        self.stopped.set()
        if self.task is not None:
            await self.task
        await self.http.close()


def latency(spans: list[tuple[float, float, int]]) -> dict[str, Any]:
    lat = sorted((end - start) * 1000 for start, end, _ in spans)
    if not lat:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {"count": len(lat), "p50_ms": round(pct(lat, 0.50), 2), "p99_ms": round(pct(lat, 0.99), 2),
            "max_ms": round(lat[-1], 2)}  # fmt: skip


async def over_http(a: argparse.Namespace, port: int, pids: dict[str, int], setup: dict[str, Any],
                    order: list[tuple[int, str]]) -> dict[str, Any]:  # fmt: skip
    http = RawEngine(f"http://127.0.0.1:{port}", a.connections)
    probe = http.prepare(Request("GET", "/health"))
    for _ in range(2):
        await asyncio.gather(*(http.call(probe) for _ in range(a.connections)))
    side = SideLoop(a, port, setup)
    await side.warm()  # untimed: the route and the side sender's token, once
    send_body = json.dumps({"split": a.split, "shares_count": a.shares, "total_fen": a.total_fen,
                            "greeting": "谢谢粉丝"}).encode()  # fmt: skip
    send = http.prepare(Request("POST", "/v1/packets/celebrity",
                                {"Authorization": f"Bearer {setup['star_token']}", **JSON}, send_body))  # fmt: skip
    side.start()
    await asyncio.sleep(a.side_lead_s)
    t_send = time.perf_counter()
    status, body = await asyncio.wait_for(http.call(send), timeout=a.max_seconds)
    t_sent = time.perf_counter()
    if status != 201:
        await side.stop()
        await http.close()
        raise SystemExit(f"celebrity send refused: HTTP {status}: {body[:300]!r}")
    packet_id = int(json.loads(body)["id"])
    path = f"/v1/packets/{packet_id}/open"
    prepared = [http.prepare(Request("POST", path, {"Authorization": f"Bearer {t}"})) for _, t in order]
    result = await storm(http, prepared, a.connections, CpuMeter(pids), a.max_seconds)
    await side.stop()
    await http.close()
    return {"packet_id": packet_id, "send": (t_send, t_sent), "storm": result, "side": side.sends}


def store_facts(a: argparse.Namespace, packet_id: int) -> dict[str, Any]:
    """The packet's claims, counters and escrow as the store holds them (server stopped)."""
    from sqlalchemy import func, select

    from hongbao.adapters.sql import schema as s

    app = build_app(a, migrate=False)
    try:
        def read(tx: Any) -> dict[str, Any]:
            k, p, t = s.claims.c, s.packets.c, s.transfers.c
            claims = [(int(u), int(f)) for u, f in tx.conn.execute(
                select(k.user_id, k.amount_fen).where(k.packet_id == packet_id))]  # fmt: skip
            row = tx.conn.execute(select(p.total_fen, p.shares_count, p.claimed_count, p.claimed_fen, p.refunded_fen,
                                         p.escrow_account_id).where(p.id == packet_id)).one()  # fmt: skip
            escrow = tx.conn.execute(select(s.accounts.c.balance_fen).where(s.accounts.c.id == row[5])).scalar_one()
            paid = tx.conn.execute(select(func.coalesce(func.sum(t.amount_fen), 0)).where(
                t.debit_account_id == row[5], t.code == "packet_claim")).scalar_one()  # fmt: skip
            return {"claims": claims, "total_fen": int(row[0]), "shares": int(row[1]), "claimed_count": int(row[2]),
                    "claimed_fen": int(row[3]), "refunded_fen": int(row[4]), "escrow_fen": int(escrow),
                    "escrow_paid_fen": int(paid)}  # fmt: skip

        facts: dict[str, Any] = app.store.read_sync(read)
        return facts
    finally:
        app.close()


def report(a: argparse.Namespace, got: dict[str, Any], order: list[tuple[int, str]]) -> dict[str, Any]:
    result = got["storm"]
    t_send, t_sent = got["send"]
    kinds: Counter[str] = Counter()
    won: list[tuple[int, int]] = []
    for smp in result.samples:
        kind, amount = classify(smp.status, smp.body) if smp.status >= 0 else ("transport_error", 0)
        kinds[kind] += 1
        if kind == "won":
            won.append((order[smp.pos][0], amount))
    answered = len(result.samples)
    lat = sorted((smp.end - smp.start) * 1000 for smp in result.samples)
    first = min((smp.start for smp in result.samples), default=t_sent)
    last = max((smp.end for smp in result.samples), default=t_sent)
    per_second = Counter(int(smp.end - first) for smp in result.samples)
    whole = [per_second[i] for i in range(int(last - first))]  # the seconds the storm filled to their end
    side = got["side"]
    phases = {
        "before_send": [x for x in side if x[0] < t_send],
        "during_send": [x for x in side if t_send <= x[0] < t_sent],
        "during_opens": [x for x in side if t_sent <= x[0] < last],
        "after_opens": [x for x in side if x[0] >= last],  # the few started before the loop heard the storm end
    }
    facts = store_facts(a, got["packet_id"])
    errors = sum(n for k, n in kinds.items() if k not in ("won", "409:packet_exhausted"))
    per_user = Counter(u for u, _ in won)
    won_fen = sum(f for _, f in won)
    expected = min(len(order), facts["shares"])
    checks = {
        "winners": len(won),
        "expected_winners": expected,
        "users_winning_twice": sum(1 for n in per_user.values() if n > 1),
        "store_claims": len(facts["claims"]),
        "store_claims_match_answers": sorted(facts["claims"]) == sorted(won),
        "won_fen": won_fen,
        "packet_claimed": [facts["claimed_count"], facts["claimed_fen"]],
        "escrow_paid_fen": facts["escrow_paid_fen"],
        "escrow_fen": facts["escrow_fen"],
        "packet_total_fen": facts["total_fen"],
        "open_errors": errors,
        "unfinished": result.unfinished,
        "side_sends_not_201": sum(1 for *_, st in side if st != 201),
    }
    checks["ok"] = bool(
        len(won) == expected and checks["users_winning_twice"] == 0 and checks["store_claims_match_answers"]
        and facts["claimed_count"] == len(won) and facts["claimed_fen"] == won_fen == facts["escrow_paid_fen"]
        and facts["escrow_fen"] == facts["total_fen"] - won_fen - facts["refunded_fen"]
        and (expected < facts["shares"] or won_fen == facts["total_fen"])
        and errors == 0 and result.unfinished == 0 and checks["side_sends_not_201"] == 0
    )  # fmt: skip
    return {
        "packet": got["packet_id"],
        "send_s": round(t_sent - t_send, 3),
        "opens": {
            "answered": answered,
            "wall_s": round(result.wall, 3),
            "per_s": round(answered / result.wall, 1) if result.wall else 0.0,
            "per_whole_second": whole,
            "sustained_min_per_s": min(whole) if whole else None,
            "sustained_median_per_s": statistics.median(whole) if whole else None,
            "p50_ms": round(pct(lat, 0.50), 2),
            "p99_ms": round(pct(lat, 0.99), 2),
            "max_ms": round(lat[-1], 2) if lat else None,
            "server_cpu_us_per_open": round(server_cpu_s(result.cpu) / answered * 1e6, 1) if answered else None,
            "loadgen_cpu_us_per_open": round(result.cpu["loadgen"]["cpu_s"] / answered * 1e6, 1) if answered else None,
            "machine_busy_pct": result.cpu["machine"]["busy_pct"],
            "outcomes": dict(sorted(kinds.items())),
        },
        "side_sends": latency(side) | {phase: latency(spans) for phase, spans in phases.items()},
        "checks": checks,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--followers", type=int, default=20_000, help="each opens the packet once")
    p.add_argument("--shares", type=int, default=1_000_000)
    p.add_argument("--total-fen", type=int, default=None, help="the packet's total (default 2 fen a share)")
    p.add_argument("--split", choices=("double_mean", "line_cut"), default="double_mean")
    p.add_argument("--connections", type=int, default=64, help="opens in flight (keep-alive connections)")
    p.add_argument("--side-rate", type=float, default=20.0, help="unrelated personal sends a second")
    p.add_argument("--side-fen", type=int, default=100, help="each unrelated send's amount")
    p.add_argument("--side-lead-s", type=float, default=1.0, help="side sends before the celebrity send")
    p.add_argument("--workers", type=int, default=1, help="`hongbao serve --workers`")
    p.add_argument("--seed", type=int, default=1, help="the followers' shuffle")
    p.add_argument("--pepper", default="bench-pepper", help="HONGBAO_SECRET_PEPPER ('' for none)")
    p.add_argument("--max-seconds", type=float, default=300.0, help="bound on the send, and on the storm")
    p.add_argument("--database-url", default=None,
                   help="a PostgreSQL server (postgresql://user@host:port[/admin db]): a fresh database is made "
                        "on it and dropped at the end (default: SQLite in a temp folder)")  # fmt: skip
    p.add_argument("--json", default=None,
                   help="write the results here (default bench/results/celebrity-http-STORE.json)")  # fmt: skip
    p.add_argument("--keep", action="store_true", help="keep the data folder (and print it)")
    a = p.parse_args()
    if a.total_fen is None:
        a.total_fen = 2 * a.shares
    # The side loop runs through the send and the storm: enough for the longest both may take.
    a.side_budget_fen = int(a.side_rate * (a.side_lead_s + 2 * a.max_seconds + 60) + 10) * a.side_fen
    store = "postgresql" if a.database_url else "sqlite"
    json_path = Path(a.json) if a.json else ROOT / "bench" / "results" / f"celebrity-http-{store}.json"
    a.data_dir = tempfile.mkdtemp(prefix="hongbao-celebrity-http-")
    raise_open_files()
    server_url = a.database_url
    with ExitStack() as stack:
        if server_url:
            a.database_url = stack.enter_context(fresh_database(server_url, "hongbao_bench_celebrity_http"))
        try:
            t0 = time.monotonic()
            setup = set_up(a)
            print(f"set-up ({store}): a celebrity, {a.followers} followers with tokens, two side users "
                  f"({time.monotonic() - t0:.0f} s)", flush=True)  # fmt: skip
            order = list(setup["tokens"])
            random.Random(a.seed).shuffle(order)
            port = free_port()
            proc = start_server(a.data_dir, a.database_url, a.workers, port, server_env(a))
            try:
                got = run_async(over_http(a, port, server_pids(proc), setup, order))
            finally:
                stop_server(proc)
            r = report(a, got, order)
            clean, said = reconcile_cli(a.data_dir, a.database_url)
            ok = clean and r["checks"]["ok"]
            o, s = r["opens"], r["side_sends"]
            print(f"send of {a.shares:,} shares: {r['send_s']} s")
            print(f"opens: {o['per_s']:,.0f}/s over {o['wall_s']} s (whole seconds: {o['per_whole_second']}), "
                  f"p50 {o['p50_ms']} ms, p99 {o['p99_ms']} ms, max {o['max_ms']} ms, server "
                  f"{o['server_cpu_us_per_open']} µs/open, outcomes {o['outcomes']}")  # fmt: skip
            for phase in ("before_send", "during_send", "during_opens", "after_opens"):
                print(f"side sends {phase}: {json.dumps(s[phase])}")
            print(f"side sends, all: {s['count']}, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms")
            print("checks:", json.dumps(r["checks"]))
            print(f"hongbao reconcile: {'clean' if clean else 'FAILED'}: {said.splitlines()[-1] if said else ''}")
            print(f"all ok={ok}")
            params = {k: v for k, v in vars(a).items() if k not in ("json", "database_url", "data_dir")}
            facts = {"store": store, "nproc": os.cpu_count(), "python": platform.python_version(),
                     "loadavg": os.getloadavg(), "code": code_version()}  # fmt: skip
            out = {"params": params | {"database_server": server_url}, "machine": facts, **r,
                   "reconcile": {"clean": clean, "output": said}, "ok": ok, "command": " ".join(sys.argv)}  # fmt: skip
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
