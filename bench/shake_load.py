"""Gala shake load (issue 11): N logged-in users shaking one event's round over HTTP keep-alive (or a WebSocket).

Set-up, untimed and in process on the benchmark's own store: a verified sponsor, an event with one round on now,
a pool of 1-yuan cash prizes, N registered users and their session tokens.  Then `hongbao serve` starts on that
store (`--workers` processes), and each storm sends `--shakes` shakes with `--connections` in flight, the users in
turn (each user's shakes spaced N apart, under the 5-a-second limit), with the shared load generator's raw
keep-alive client (../shared/bench/loadgen.py, ~10 µs of client CPU a request).  It reports answered shakes/s,
wins, p50/p99/p999 and the server's CPU per shake (its processes' CPU time over the storm / shakes answered).

Afterwards, with the server stopped (its unused win tickets go back then): no user won more than K, every "won"
answer is a claim in the ledger, the pool paid exactly the claims (and holds nothing), and reconcile is clean.

    .venv/bin/python bench/shake_load.py --users 20000 --shakes 200000 --workers 2 --repeat 3
    PYTHONPATH=/tmp/shake-before/src .venv/bin/python bench/shake_load.py ...   # another checkout's server

Load goes to 127.0.0.1 only; every storm is bounded by --max-seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from served import (
    BENCH_ENV,
    CpuMeter,
    RawEngine,
    Request,
    free_port,
    pct,
    raise_open_files,
    server_cpu_s,
    server_pids,
    start_server,
    stop_server,
    storm,
)

PRIZE_FEN = 100
SERVER_ENV = {
    **BENCH_ENV,
    "HONGBAO_SHAKES_PER_ROUND_MAX": "1000000",
    "HONGBAO_SHAKES_PER_ADDRESS_SECOND_MAX": "0",  # every user of the bench comes from 127.0.0.1
}


def settings_for(a: argparse.Namespace) -> Any:
    from served import settings_for as shared

    return shared(a.data_dir, a.database_url, SERVER_ENV)


async def _set_up(app: Any, a: argparse.Namespace) -> dict[str, Any]:
    now = app.deps.clock.now()
    host = await app.users.register("gala_host", "bench-password-1")
    app.store.write_sync(lambda tx: tx.set_verified_as(host, "enterprise"))
    await app.wallet.top_up(host, a.budget_fen)
    event = await app.shake.create_event(
        host, name="春晚 bench", rounds=[(now + timedelta(seconds=1), now + timedelta(hours=2))],
        win_permille=a.win_permille,
    )  # fmt: skip
    pool = await app.shake.add_pool(
        event["id"], host, budget_fen=a.budget_fen, prizes=[{"kind": "cash", "amount_fen": PRIZE_FEN}], name="bench"
    )
    tokens: list[tuple[int, str]] = []
    for start in range(0, a.users, 500):
        names = [f"viewer{i}" for i in range(start, min(a.users, start + 500))]
        ids = await asyncio.gather(*(app.users.register(n, "bench-password-1") for n in names))
        sessions = await asyncio.gather(*(app.users.login(n, "bench-password-1") for n in names))
        tokens += [(uid, s.token) for uid, s in zip(ids, sessions, strict=True)]
    return {"event_id": event["id"], "pool_id": pool["id"], "k": event["wins_per_user_max"], "tokens": tokens}


def set_up(a: argparse.Namespace) -> dict[str, Any]:
    from hongbao.bootstrap import build

    app = build(settings_for(a))
    try:
        return asyncio.run(_set_up(app, a))
    finally:
        app.close()


async def one_storm(a: argparse.Namespace, port: int, setup: dict[str, Any], pids: dict[str, int], run: int
                    ) -> dict[str, Any]:  # fmt: skip
    http = RawEngine(f"http://127.0.0.1:{port}", a.connections)
    tokens = setup["tokens"]
    path = f"/v1/shake/events/{setup['event_id']}/shake"
    heads = [http.prepare(Request("POST", path, {"Authorization": f"Bearer {t}"})) for _, t in tokens]
    offset = run * (a.shakes % len(heads))
    prepared = [heads[(offset + i) % len(heads)] for i in range(a.shakes)]
    # Open the connections (and let every process lease its first tickets) before the clock.
    await asyncio.gather(*(http.call(heads[i % len(heads)]) for i in range(a.connections * 2)))
    result = await storm(http, prepared, a.connections, CpuMeter(pids), a.max_seconds)
    await http.close()
    return summarize(result, a)


class _Socket(asyncio.Protocol):
    """One phone's WebSocket: a raw client (the upgrade, then frames with a zero mask built ahead), one shake in
    flight at a time."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.waiter: asyncio.Future[bytes] | None = None
        self.upgraded = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while self.waiter is not None and not self.waiter.done():
            try:
                got = self._frame()
            except ConnectionError as exc:
                self.waiter.set_exception(exc)
                return
            if got is None:
                return
            self.waiter.set_result(got)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"socket closed ({exc})"))

    def _frame(self) -> bytes | None:
        buf = self.buf
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return None
            head = bytes(buf[:end])
            del buf[:end + 4]
            self.upgraded = True
            return head
        while True:
            if len(buf) < 2:
                return None
            opcode, n, start = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    return None
                n, start = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    return None
                n, start = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < start + n:
                return None
            body = bytes(buf[start:start + n])
            del buf[:start + n]
            # Control frames are not answers.  The server pings every 20 s and closes a socket that never answers:
            # a storm longer than that lost its sockets (and hung on their answers) before this was handled.
            if opcode == 0x9 and self.transport is not None:  # ping: a masked pong with the same payload
                self.transport.write(bytes([0x8A, 0x80 | len(body)]) + b"\0\0\0\0" + body)
            elif opcode == 0x8:
                raise ConnectionError(f"the server closed the socket ({body[:2].hex()})")
            elif opcode != 0xA:
                return body

    async def ask(self, data: bytes) -> bytes:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


def _text_frame(payload: bytes) -> bytes:
    """A masked client text frame (mask key 0: the payload goes as it is)."""
    n = len(payload)
    head = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    return head + b"\0\0\0\0" + payload


async def socket_storm(a: argparse.Namespace, port: int, setup: dict[str, Any], pids: dict[str, int]) -> Any:
    """Every user on its own socket, shaking `--pace` times a second until `--shakes` in all are answered."""
    from loadgen import Sample, Storm

    loop = asyncio.get_running_loop()
    sockets: list[_Socket] = []
    for start in range(0, len(setup["tokens"]), 500):
        async def connect(token: str) -> _Socket:
            _, sock = await loop.create_connection(_Socket, "127.0.0.1", port)
            head = await sock.ask(
                (f"GET /v1/shake/socket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
            )
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                raise SystemExit(f"no WebSocket upgrade: {head[:200]!r}")
            return sock

        sockets += await asyncio.gather(*(connect(t) for _, t in setup["tokens"][start:start + 500]))
    frame = _text_frame(json.dumps({"event_id": setup["event_id"]}).encode())
    per_socket = max(1, a.shakes // len(sockets))
    gap = 1.0 / a.pace
    samples: list[Any] = []
    clock = time.perf_counter

    async def phone(i: int, sock: _Socket) -> None:
        await asyncio.sleep(gap * i / len(sockets))  # spread the phones over the first gap
        due = clock()
        for _ in range(per_socket):
            t0 = clock()
            try:
                body = await sock.ask(frame)
                status = 200 if b'"status":200' in body else int(json.loads(body).get("status", -1))
            except Exception as exc:  # a transport failure is an error sample
                body, status = repr(exc).encode(), -1
            samples.append(Sample(len(samples), t0, clock(), status, body))
            due = max(due + gap, clock())  # a late answer delays this phone: no catching up in a burst
            await asyncio.sleep(due - clock())

    meter = CpuMeter(pids)
    before = meter.snapshot()
    start = clock()
    _, pending = await asyncio.wait([asyncio.ensure_future(phone(i, s)) for i, s in enumerate(sockets)],
                                       timeout=a.max_seconds)  # fmt: skip
    for task in pending:
        task.cancel()
    after = meter.snapshot()
    wall = clock() - start
    for sock in sockets:
        if sock.transport is not None:
            sock.transport.close()
    return Storm(samples, wall, CpuMeter.report(before, after, wall), len(pending))


def summarize(result: Any, a: argparse.Namespace) -> dict[str, Any]:
    kinds: dict[str, int] = {}
    failures: dict[str, int] = {}  # what the transport errors were, by their first 80 characters
    for s in result.samples:
        if s.status < 0:
            seen = bytes(s.body[:80]).decode(errors="replace")
            failures[seen] = failures.get(seen, 0) + 1
        if s.status == 200:
            kind = json.loads(s.body)["result"]
        elif a.transport == "ws" and s.status > 0:
            kind = f"{s.status}:{json.loads(s.body)['problem']['code']}"
        elif s.status < 0:
            kind = "transport_error"
        else:
            try:
                kind = f"{s.status}:{json.loads(s.body).get('code')}"
            except ValueError:
                kind = f"{s.status}"
        kinds[kind] = kinds.get(kind, 0) + 1
    lat = sorted((s.end - s.start) * 1000 for s in result.samples)
    answered = len(result.samples)
    server_cpu = server_cpu_s(result.cpu)
    return {
        "answered": answered,
        "unfinished": result.unfinished,
        "wall_s": round(result.wall, 3),
        "shakes_per_s": round(answered / result.wall, 1) if result.wall else 0.0,
        "p50_ms": round(pct(lat, 0.50), 2),
        "p99_ms": round(pct(lat, 0.99), 2),
        "p999_ms": round(pct(lat, 0.999), 2),
        "server_cpu_us_per_shake": round(server_cpu / answered * 1e6, 1) if answered else None,
        "loadgen_cpu_us_per_shake": round(result.cpu["loadgen"]["cpu_s"] / answered * 1e6, 1) if answered else None,
        "machine_busy_pct": result.cpu["machine"]["busy_pct"],
        "outcomes": dict(sorted(kinds.items())),
        "transport_errors": dict(sorted(failures.items(), key=lambda kv: -kv[1])[:5]),
    }


def audit(a: argparse.Namespace, setup: dict[str, Any], won_answers: int, warm_shakes: int, errors: int
          ) -> dict[str, Any]:  # fmt: skip
    """With the server stopped: caps, durability of every won answer (the untimed warm-up shakes may have won
    too), the pool's money, reconcile."""
    from sqlalchemy import func, inspect, select

    from hongbao.adapters.sql import schema_campaign as sc
    from hongbao.bootstrap import build
    from hongbao.service.reconcile import reconcile

    app = build(settings_for(a), migrate_schema=False)
    try:
        cc, k = sc.campaigns, sc.campaign_claims
        pool_id = setup["pool_id"]
        held_column = "held_fen" in {c["name"] for c in inspect(app.store.engine).get_columns("campaigns")}

        def facts(tx: Any) -> tuple[Any, ...]:
            counts = tx.conn.execute(select(func.count()).where(k.c.campaign_id == pool_id).group_by(k.c.user_id))
            per_user = max((int(n) for (n,) in counts), default=0)
            claims, fen = tx.conn.execute(
                select(func.count(), func.coalesce(func.sum(k.c.amount_fen), 0)).where(k.c.campaign_id == pool_id)
            ).one()
            cols = [cc.c.paid_fen, cc.c.budget_fen] + ([cc.c.held_fen] if held_column else [])
            pool = tx.conn.execute(select(*cols).where(cc.c.id == pool_id)).one()
            return per_user, int(claims), int(fen), tuple(int(x) for x in pool)

        most, claims, fen, pool = app.store.read_sync(facts)
        report = reconcile(app.store)
    finally:
        app.close()
    held = pool[2] if len(pool) > 2 else 0
    checks = {
        "most_wins_per_user": most,
        "k": setup["k"],
        "claims": claims,
        "won_answers": won_answers,
        "pool_paid_fen": pool[0],
        "claims_fen": fen,
        "pool_held_fen_after_stop": held,
        "reconcile_violations": [str(v) for v in report.violations][:5],
        "error_answers": errors,
    }  # fmt: skip
    checks["ok"] = (errors == 0 and most <= setup["k"] and won_answers <= claims <= won_answers + warm_shakes
                    and pool[0] == fen and pool[0] <= pool[1] and held == 0 and not report.violations)  # fmt: skip
    return checks


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--users", type=int, default=20_000)
    p.add_argument("--shakes", type=int, default=100_000, help="shakes per storm")
    p.add_argument("--connections", type=int, default=128, help="HTTP keep-alive connections")
    p.add_argument("--transport", choices=("http", "ws"), default="http",
                   help="ws: every user on its own WebSocket, shaking --pace times a second")
    p.add_argument("--pace", type=float, default=4.0, help="shakes a second per user on ws (the limit is 5)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--win-permille", type=int, default=5)
    p.add_argument("--budget-fen", type=int, default=5_000_000)
    p.add_argument("--max-seconds", type=float, default=60.0)
    p.add_argument("--database-url", default=None, help="a fresh PostgreSQL database (default: SQLite in a temp dir)")
    p.add_argument("--json", default=None, help="write the results here")
    a = p.parse_args()
    a.data_dir = tempfile.mkdtemp(prefix="hongbao-shake-")
    raise_open_files()  # one socket a user on ws (the server inherits the limit)
    try:
        t0 = time.monotonic()
        setup = set_up(a)
        print(f"set-up: {a.users} users, event {setup['event_id']}, pool {setup['pool_id']} "
              f"({time.monotonic() - t0:.0f} s)", flush=True)  # fmt: skip
        port = free_port()
        proc = start_server(a.data_dir, a.database_url, a.workers, port, SERVER_ENV)
        pids = server_pids(proc)
        runs = []
        try:
            for run in range(a.repeat):
                if a.transport == "ws":
                    r = summarize(asyncio.run(socket_storm(a, port, setup, pids)), a)
                else:
                    r = asyncio.run(one_storm(a, port, setup, pids, run))
                runs.append(r)
                print(json.dumps(r), flush=True)
        finally:
            stop_server(proc)
        won = sum(r["outcomes"].get("cash", 0) for r in runs)
        answered_ok = ("cash", "coupon", "nothing", "card", "429:too_many_shakes", "409:pool_empty")
        errors = sum(n for r in runs for kind, n in r["outcomes"].items() if kind not in answered_ok)
        checks = audit(a, setup, won, a.connections * 2 * a.repeat, errors)
        med = {key: statistics.median(r[key] for r in runs)
               for key in ("shakes_per_s", "p50_ms", "p99_ms", "p999_ms", "server_cpu_us_per_shake",
                           "loadgen_cpu_us_per_shake")}  # fmt: skip
        out = {"params": {k: v for k, v in vars(a).items() if k != "json"}, "runs": runs, "median": med,
               "checks": checks}  # fmt: skip
        print("median:", json.dumps(med))
        print("checks:", json.dumps(checks))
        if a.json:
            Path(a.json).write_text(json.dumps(out, indent=2))
        return 0 if checks["ok"] else 1
    finally:
        shutil.rmtree(a.data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
