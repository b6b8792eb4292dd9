"""Serve hongbao with one suggested speed-up applied from outside src/, to measure it before anyone builds it.

Like `hongbao serve --no-demo` (one process, uvicorn, uvloop + httptools, HONGBAO_* settings), plus variants
(comma-separated, used by `bench/run.sh --variant ...`):

  baseline       nothing changed
  async-deps     the `get_app` dependency as `async def`: FastAPI runs a plain `def` dependency in a worker
                 thread, so every request pays a thread hop and a GIL hand-off
  no-telemetry   FastAPI's per-request telemetry check turned off (tracing and metrics: False)
  token-cache    bearer tokens cached 600 s instead of 30 s (a W1 run takes ~10 s; later runs missed the cache)
  fast-switch    sys.setswitchinterval(0.0005): the writer thread waits less for the GIL held by the event loop
  no-hotpath     without the lean ASGI path for POST /v1/packets/{id}/open (commit 6b33fdc): FastAPI routes it
  member-flight  the gate loads a group's member list once for all concurrent first grabs (single flight),
                 as it already does for a packet; without it every grab that arrives before the first load
                 ends reads the whole member list again (10,000 rows each in W1)

    python bench/variant_server.py --port 8001 --data-dir /tmp/hb --variant async-deps,no-telemetry
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import uvicorn
from fastapi import Request

from hongbao.adapters.gate import LocalGate
from hongbao.api import deps
from hongbao.api.app import create_app
from hongbao.api.hotpath import HotPath
from hongbao.bootstrap import App, build
from hongbao.config import Settings
from hongbao.service import users

VARIANTS = ("baseline", "async-deps", "no-telemetry", "token-cache", "fast-switch", "member-flight", "no-hotpath")


async def get_app_async(request: Request) -> App:
    app: App = request.app.state.hongbao
    return app


def single_flight_members() -> None:
    """Patch LocalGate.is_member: concurrent cache misses of one group share one member-list read."""
    original = LocalGate.is_member
    flights: dict[tuple[int, int], asyncio.Future[list[int]]] = {}

    async def is_member(self: LocalGate, group_id: int, user_id: int) -> bool:
        if self._members.get(group_id) is None:
            key = (id(self), group_id)
            flight = flights.get(key)
            if flight is None:
                flight = asyncio.ensure_future(self._store.read(lambda tx: tx.member_ids(group_id)))
                flights[key] = flight
                try:
                    self._members.put(group_id, set(await flight))
                finally:
                    del flights[key]
            else:
                await asyncio.shield(flight)
        return await original(self, group_id, user_id)

    LocalGate.is_member = is_member  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--database-url", default=None)
    p.add_argument("--variant", default="baseline", help=f"comma-separated: {', '.join(VARIANTS)}")
    a = p.parse_args(argv)
    chosen = {v for v in a.variant.split(",") if v}
    if chosen - set(VARIANTS):
        p.error(f"unknown variant(s) {sorted(chosen - set(VARIANTS))}")
    if "token-cache" in chosen:
        users.TOKEN_CACHE_S = 600.0
    if "fast-switch" in chosen:
        sys.setswitchinterval(0.0005)
    if "member-flight" in chosen:
        single_flight_members()
    updates: dict[str, object] = {"data_dir": a.data_dir, "demo": False}
    if a.database_url:
        updates["database_url"] = a.database_url
    hb = build(Settings().model_copy(update=updates))
    api = create_app(hb)
    if "async-deps" in chosen:
        api.dependency_overrides[deps.get_app] = get_app_async
    if "no-hotpath" in chosen:
        api.user_middleware = [m for m in api.user_middleware if m.cls is not HotPath]
    if "no-telemetry" in chosen:
        api._native_telemetry.config.update(tracing=False, metrics=False)  # type: ignore[attr-defined]
    print(f"variant server: {sorted(chosen)} on 127.0.0.1:{a.port}", flush=True)
    try:
        uvicorn.run(api, host="127.0.0.1", port=a.port, log_level="warning", access_log=False)
    finally:
        hb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
