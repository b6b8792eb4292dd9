"""Scaled mode's component figures (docs/scaling.md): what one API process gets from the Redis gate, what one Redis
shard serves, and how fast a live event crosses from one API process to a stream on another.

  gate      one Python process (asyncio, redis-py + hiredis) running the gate's admit script (adapters/redis_gate.py)
            on one loaded packet with `--concurrency` calls in flight: refusals (the packet is full), as the 99 % of a
            W1 storm, and admissions with a place then its settle (a winner's two scripts)
  shard     redis-benchmark running the same admit script by EVALSHA (its own C client, 50 connections, pipeline
            16): what one Redis core serves, the per-shard input of the plan
  events    two `hongbao serve` on one PostgreSQL and the Redis given, the database polls set to a minute: a
            personal packet sent through A, timed until its message event reaches the recipient's stream on B

Every figure is printed with the load average before and after (this machine is shared: read ratios, not absolutes).

    python bench/scaled_figures.py --redis-url redis://127.0.0.1:6379/0 --database-url postgresql+psycopg://…/db
    python bench/scaled_figures.py --only gate,shard --redis-url redis+cluster://127.0.0.1:7100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis
from redis.cluster import RedisCluster

from hongbao.adapters.redis_gate import _ADMIT, _LOAD, _SETTLE, connect_async
from hongbao.adapters.redis_shared import connect


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def gate_rate(url: str, calls: int, concurrency: int, prefix: str) -> dict[str, float]:
    client = connect_async(url, timeout_s=5.0)
    admit, settle, load_script = (client.register_script(s) for s in (_ADMIT, _SETTLE, _LOAD))
    full = [f"{prefix}{{p:1}}", f"{prefix}{{p:1}}:c", f"{prefix}{{p:1}}:r"]
    open_ = [f"{prefix}{{p:2}}", f"{prefix}{{p:2}}:c", f"{prefix}{{p:2}}:r"]
    expire_ms = int((time.time() + 3600) * 1000)
    await load_script(keys=full, args=[100, "a", expire_ms, *range(1, 101)])  # 100 shares, all taken
    await load_script(keys=open_, args=[10_000_000, "a", expire_ms])

    async def run(job: Any) -> float:
        left = [calls]

        async def one() -> None:
            while left[0] > 0:
                left[0] -= 1
                await job(left[0])

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(concurrency)))
        return calls / (time.perf_counter() - started)

    async def refuse(i: int) -> None:
        code, _ = await admit(keys=full, args=[1_000_000 + i, 1, 60_000, 2_000])
        assert int(code) == 2

    async def win(i: int) -> None:
        code, _ = await admit(keys=open_, args=[2_000_000 + i, 1, 60_000, 2_000])
        assert int(code) == 0
        await settle(keys=open_, args=[2_000_000 + i, "won"])

    out = {"refusals_per_s": await run(refuse), "wins_per_s": await run(win)}
    cleanup = connect(url, timeout_s=5.0)
    try:
        cleanup.delete(*full)
        cleanup.delete(*open_)
    finally:
        cleanup.close()
        await client.aclose()
    return out


def shard_rate(url: str, requests: int, prefix: str) -> dict[str, float]:
    """redis-benchmark against the shard holding one full packet's keys (a single Redis: that Redis)."""
    if shutil.which("redis-benchmark") is None:
        return {}
    client = connect(url, timeout_s=5.0)
    keys = [f"{prefix}{{p:9}}", f"{prefix}{{p:9}}:c", f"{prefix}{{p:9}}:r"]
    try:
        client.eval(_LOAD, 3, *keys, 100, "a", int((time.time() + 3600) * 1000), *range(1, 101))
        if isinstance(client, RedisCluster):  # the node serving this packet's slot
            node = client.get_node_from_key(keys[0])
            host, port = str(node.host), int(node.port)
        else:
            kw = client.connection_pool.connection_kwargs
            host, port = str(kw.get("host", "127.0.0.1")), int(kw.get("port", 6379))
        direct = redis.Redis(host=host, port=port)
        sha = str(direct.script_load(_ADMIT))
        direct.close()
        done = subprocess.run(
            ["redis-benchmark", "-h", str(host), "-p", str(port), "-n", str(requests), "-c", "50", "-P", "16", "-q",
             "EVALSHA", sha, "3", *keys, "__rand_int__", "1", "60000", "2000"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        found = re.findall(r"([\d.,]+) requests per second", done.stdout)
        rate = float(found[-1].replace(",", "")) if found else float("nan")
        return {"admit_refusals_per_s": rate}
    finally:
        client.delete(*keys)
        client.close()


def event_latency(database_url: str, redis_url: str, samples: int) -> dict[str, float]:
    prefix = f"hongbao:bench:{uuid.uuid4().hex[:8]}:"
    work = Path(tempfile.mkdtemp(prefix="hongbao-events-"))
    hongbao = str(Path(sys.executable).parent / "hongbao")
    env = {**os.environ, "HONGBAO_ARGON2_TIME_COST": "1", "HONGBAO_ARGON2_MEMORY_KIB": "8",
           "HONGBAO_DATABASE_URL": database_url, "HONGBAO_REDIS_URL": redis_url, "HONGBAO_REDIS_PREFIX": prefix,
           "HONGBAO_SECRET_PEPPER": "bench-pepper-0123456789abcdef", "HONGBAO_SCHEDULER": "0",
           "HONGBAO_EVENTS_POLL_S": "60", "HONGBAO_TOKEN_REVOCATION_POLL_S": "60"}  # fmt: skip
    procs, bases = [], []
    try:
        for i, demo in enumerate(("--demo", "--no-demo")):
            with socket.socket() as probe:  # a free port of the machine's choosing
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            log = (work / f"api{i}.log").open("wb")
            procs.append(subprocess.Popen([hongbao, "serve", "--port", str(port), "--data-dir", str(work), demo,
                                           "--no-scheduler"], env=env, stdout=log, stderr=subprocess.STDOUT))
            bases.append(f"http://127.0.0.1:{port}")
            for _ in range(600):
                try:
                    if httpx.get(bases[-1] + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)

        def session(base: str, name: str) -> httpx.Client:
            c = httpx.Client(base_url=base, timeout=15)
            tok = c.post("/v1/sessions", json={"username": name, "password": "hongbao123"}).json()["token"]
            c.headers["Authorization"] = f"Bearer {tok}"
            return c

        alice, bob = session(bases[0], "alice"), session(bases[1], "bob")
        bob_id = bob.get("/v1/me").json()["id"]
        arrived: dict[int, float] = {}
        ready = threading.Event()

        def listen() -> None:
            name = None
            with bob.stream("GET", "/v1/events", timeout=httpx.Timeout(10, read=None)) as reply:
                for line in reply.iter_lines():
                    if line.startswith(": connected"):
                        ready.set()
                    elif line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: ") and name == "message":
                        data = json.loads(line[6:])
                        pid = (data.get("data") or {}).get("packet_id")
                        if isinstance(pid, int) and data.get("sender_id") != bob_id:
                            arrived.setdefault(pid, time.perf_counter())
                    if len(arrived) >= samples:
                        return

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        ready.wait(30)
        sent: dict[int, float] = {}
        for i in range(samples):
            started = time.perf_counter()
            reply = alice.post("/v1/packets", json={"kind": "personal", "recipient_id": bob_id, "amount_fen": 1,
                                                    "greeting": f"latency {i}"})
            sent[reply.json()["id"]] = started
            time.sleep(0.05)
        thread.join(timeout=30)
        ms = sorted(1000 * (arrived[p] - t) for p, t in sent.items() if p in arrived)
        if not ms:
            return {"delivered": 0}
        return {"delivered": len(ms), "sent": samples, "p50_ms": statistics.median(ms),
                "p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))], "max_ms": ms[-1]}
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--database-url", help="an empty PostgreSQL database (events)")
    ap.add_argument("--only", default="gate,shard,events")
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--samples", type=int, default=200)
    args = ap.parse_args()
    prefix = f"hongbao:bench:{uuid.uuid4().hex[:8]}:"
    wanted = set(args.only.split(","))
    print(f"# load before: {load()}  redis: {args.redis_url}")
    if "gate" in wanted:
        print("gate (one process):", json.dumps(asyncio.run(gate_rate(args.redis_url, args.calls, args.concurrency,
                                                                        prefix))))
    if "shard" in wanted:
        print("shard (redis-benchmark):", json.dumps(shard_rate(args.redis_url, args.calls * 10, prefix)))
    if "events" in wanted and args.database_url:
        print("events A -> B:", json.dumps(event_latency(args.database_url, args.redis_url, args.samples)))
    print(f"# load after: {load()}")


if __name__ == "__main__":
    main()
