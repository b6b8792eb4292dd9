"""What one request costs the server's Python, without the HTTP server or the network: µs of CPU per request.

Calls the ASGI app directly (the same app `hongbao serve` runs, middleware and all) N times for a few
requests, and FastAPI's own validated hello for scale, in one process, then prints the median µs per request
of --runs runs: of wall time (`us_median`), and of the whole process's CPU time, its reader and writer threads
included (`cpu_us_median`), which a busy machine disturbs less; each also as a multiple of the hello's.  The
HTTP server (uvicorn with httptools) adds its own parsing and writing on top of this; the issue's figures over
HTTP are in BENCHMARKS.md.  With --profile NAME it writes a cProfile of that request.

    python bench/request_cost.py --requests 5000 --runs 5
    python bench/request_cost.py --profile wallet   (or packet, group, statement: routes through FastAPI)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from hongbao.api.app import create_app
from hongbao.bootstrap import build
from hongbao.config import Settings

Call = Callable[[], Awaitable[int]]


def asgi_caller(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> Call:
    """One request through the ASGI app; answers the status.  The scope is what uvicorn would build."""
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers], "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000), "state": {},
    }
    request = {"type": "http.request", "body": body, "more_body": False}

    async def call() -> int:
        status = 0

        async def receive() -> dict[str, Any]:
            return request

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(dict(scope), receive, send)
        return status

    return call


class Hello(BaseModel):
    message: str
    n: int


def fastapi_hello() -> FastAPI:
    """FastAPI's own validated hello: one route, a response model, no middleware."""
    hello = FastAPI()

    @hello.get("/hello", response_model=Hello)
    async def route() -> Hello:
        return Hello(message="hello", n=1)

    return hello


async def lifespan_start(app: Any) -> None:
    """Run the app's startup (the token key and revocations are primed there)."""
    events = asyncio.Queue[dict[str, Any]]()
    await events.put({"type": "lifespan.startup"})
    started = asyncio.Event()

    async def receive() -> dict[str, Any]:
        return await events.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()

    asyncio.get_running_loop().create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    await started.wait()


async def time_calls(call: Call, n: int) -> tuple[float, float]:
    """µs of wall time and of CPU time (the whole process's: its reader and writer threads too) per call, calls one
    after another (the loop has nothing else to do).  CPU time is what a busy machine disturbs least."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        await call()
    return (time.perf_counter() - start) / n * 1e6, (time.process_time() - cpu) / n * 1e6


async def main(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="hongbao-reqcost-"))
    database_url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    settings = Settings(data_dir=folder, database_url=database_url, argon2_time_cost=1,
                        argon2_memory_kib=8, scheduler=False, demo=False)
    hongbao = build(settings)
    api = create_app(hongbao, scheduler=False)
    await lifespan_start(api)
    user = await hongbao.users.register("bench", "bench-password-1")
    token = (await hongbao.users.login("bench", "bench-password-1")).token
    auth = [(b"authorization", f"Bearer {token}".encode())]
    # W1's common answer: an open of a packet whose shares are all taken, refused by the gate (409).
    winner = await hongbao.users.register("winner", "bench-password-1")
    await hongbao.social.request_friend(winner, user)
    await hongbao.social.accept_friend(user, winner)
    await hongbao.wallet.top_up(winner, 1_000)
    group = int((await hongbao.social.create_group(winner, "bench", [user]))["id"])
    packet = int((await hongbao.packets.send_group(winner, group, how="double_mean", shares_count=1,
                                                   total_fen=100))["id"])
    await hongbao.packets.open(packet, winner)
    calls: dict[str, Call] = {
        "fastapi_hello": asgi_caller(fastapi_hello(), "GET", "/hello", []),
        "health": asgi_caller(api, "GET", "/health", []),
        "wallet": asgi_caller(api, "GET", "/v1/wallet", auth),
        "me": asgi_caller(api, "GET", "/v1/me", auth),
        "wallet_of": asgi_caller(api, "GET", f"/v1/users/{user}/wallet", auth),
        "open_exhausted": asgi_caller(api, "POST", f"/v1/packets/{packet}/open", auth),
        # Through FastAPI (routing, dependencies, the response model) and SqlStore.read: what most GETs cost.
        "packet": asgi_caller(api, "GET", f"/v1/packets/{packet}", auth),
        "group": asgi_caller(api, "GET", f"/v1/groups/{group}", auth),
        "statement": asgi_caller(api, "GET", "/v1/wallet/statement", auth),
    }
    expected = {"open_exhausted": 409}
    for name, call in calls.items():  # each must answer as expected, else the figure means nothing
        status = await call()
        if status != expected.get(name, 200):
            raise SystemExit(f"{name}: answered {status}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await time_calls(calls[args.profile], args.requests)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats(args.sort).print_stats(35)
        return {}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in calls}
    for _ in range(args.runs):  # interleaved, so a noisy moment hits every request alike
        for name, call in calls.items():
            runs[name].append(await time_calls(call, args.requests))
    hello = statistics.median(wall for wall, _ in runs["fastapi_hello"])
    hello_cpu = statistics.median(cpu for _, cpu in runs["fastapi_hello"])
    out: dict[str, Any] = {}
    for name, v in runs.items():
        wall, cpu = statistics.median(w for w, _ in v), statistics.median(c for _, c in v)
        out[name] = {"us_median": round(wall, 1), "x_hello": round(wall / hello, 2),
                     "cpu_us_median": round(cpu, 1), "cpu_x_hello": round(cpu / hello_cpu, 2),
                     "runs_us": [round(w, 1) for w, _ in v]}
    out["user_id"] = user
    hongbao.close()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", default=None,
                        help="profile one request: health, wallet, me, wallet_of, open_exhausted, packet, group, "
                             "statement, fastapi_hello")
    parser.add_argument("--database-url", default=None,
                        help="an empty database to run on (default: a new SQLite file); e.g. a new PostgreSQL database")
    parser.add_argument("--sort", default="cumulative", help="the profile's order: cumulative or tottime")
    result = asyncio.run(main(parser.parse_args()))
    if result:
        print(json.dumps(result, indent=1))
