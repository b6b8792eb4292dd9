"""The send path's cost without HTTP: personal and group packets sent through `app.packets`, one at a time (each
write its own commit, as the simulator and a quiet server see them) or many in flight (group commit).

Builds an App (SQLite in a temp folder, or --database-url for PostgreSQL) with cheap argon2, a sender, --users
friends in one group (bench/open_rate.py's set-up), tops the sender up, then per run sends --sends packets, half
personal (to a friend each, in turn) and half lucky group packets of 10 shares.  Reports sends/s, the writer
thread's CPU per send (`store.writer_cpu_s`, steady on a busy machine) and the process's; checks afterwards that
the sender paid exactly what the packets hold and that reconcile is clean.

    python bench/send_rate.py --sends 2000 --runs 3
    python bench/send_rate.py --in-flight 64 --database-url postgresql://postgres@127.0.0.1:5432/hongbao_bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from open_rate import set_up, spread, writer_cpu_s  # a sibling script (bench/ is not a package)

from hongbao.bootstrap import App, build
from hongbao.config import Settings
from hongbao.service.reconcile import reconcile

FEN_EACH = 1_000


async def one_run(app: App, sender: int, group_id: int, friends: list[int], a: argparse.Namespace) -> dict[str, Any]:
    await app.wallet.top_up(sender, a.sends * FEN_EACH)
    before = await app.wallet.balance(sender)
    gate = asyncio.Semaphore(a.in_flight)

    async def send(i: int) -> int:
        async with gate:
            if i % 2:
                reply = await app.packets.send_group(sender, group_id, how="double_mean", shares_count=10,
                                                     total_fen=FEN_EACH)
            else:
                reply = await app.packets.send_personal(sender, friends[i // 2 % len(friends)], FEN_EACH)
            return int(reply["id"])

    batches0, writer0, cpu0, t0 = app.store.batches, writer_cpu_s(app), time.process_time(), time.perf_counter()
    ids = await asyncio.gather(*(send(i) for i in range(a.sends)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    writer, batches = writer_cpu_s(app) - writer0, app.store.batches - batches0
    after = await app.wallet.balance(sender)
    paid = before - after
    problems = [] if paid == a.sends * FEN_EACH and len(set(ids)) == a.sends else [f"paid {paid}, {len(set(ids))} ids"]
    run = {"sends": a.sends, "wall_s": round(wall, 3), "sends_per_s": round(a.sends / wall, 1),
           "writer_us_per_send": round(writer / a.sends * 1e6, 1), "cpu_us_per_send": round(cpu / a.sends * 1e6, 1),
           "commits": batches, "ok": not problems, "problems": problems}
    print(f"  {a.sends} sends in {wall:.2f} s = {run['sends_per_s']:.0f}/s  writer {run['writer_us_per_send']:.0f} "
          f"us/send  process {run['cpu_us_per_send']:.0f} us/send  commits {batches}  ok={run['ok']}", flush=True)
    return run


async def bench(app: App, a: argparse.Namespace) -> dict[str, Any]:
    prefix = f"s{secrets.token_hex(3)}_"
    sender, group_id, friends = await set_up(app, a.users, prefix)
    runs = [await one_run(app, sender, group_id, friends, a) for _ in range(a.runs)]
    out = {key: spread([float(r[key]) for r in runs]) for key in ("sends_per_s", "writer_us_per_send",
                                                                 "cpu_us_per_send")}
    print(f"in flight {a.in_flight}: sends/s {out['sends_per_s']}  writer us/send {out['writer_us_per_send']}  "
          f"process us/send {out['cpu_us_per_send']}", flush=True)
    return {"in_flight": a.in_flight, **out, "all_ok": all(r["ok"] for r in runs), "runs": runs}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sends", type=int, default=2_000, help="packets sent per run (default 2000)")
    p.add_argument("--users", type=int, default=50, help="friends of the sender, all in its group (default 50)")
    p.add_argument("--in-flight", type=int, default=1, help="sends at once (default 1: each its own commit)")
    p.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    p.add_argument("--database-url", default=None, help="postgresql://... (default: SQLite in a temp folder)")
    p.add_argument("--json", default=None, help="write the results here")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hongbao-send-rate-") as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=a.database_url, demo=False, scheduler=False,
                            argon2_time_cost=1, argon2_memory_kib=8, topup_fen_max=10**12)
        app = build(settings)
        try:
            out = asyncio.run(bench(app, a))
            report = reconcile(app.store)
            out["reconcile_clean"] = not report.violations
            print(f"reconcile: {'clean' if not report.violations else report.violations[:3]}", flush=True)
        finally:
            app.close()
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))
    return 0 if out["all_ok"] and out["reconcile_clean"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
