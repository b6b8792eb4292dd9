"""How fast followers open one celebrity packet (明星红包), and how long very large packets take to send.

Builds an App on SQLite in a temp folder (or --database-url), inserts N followers of a verified
celebrity directly through the repository (set-up is not timed), sends one celebrity packet of N
shares (timed), then times `asyncio.gather` of N `app.packets.open` calls: gate → audience
(cached follower check) → writer thread, where group commit settles up to `write_batch_max` opens
per transaction.  Every open of one packet updates the same two rows (the packet's counter and its
escrow balance) — the hot rows — but only inside the writer's one transaction per batch.

With --big it also times sending a 100,000-share password packet and a 1,000,000-share celebrity packet.
Checks: winners = shares, Σ = total, reconcile clean.

    python bench/celebrity_open_rate.py --followers 10000
    python bench/celebrity_open_rate.py --followers 10000 --big
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from hongbao.bootstrap import App, build
from hongbao.config import Settings
from hongbao.domain.errors import HongbaoError
from hongbao.service.reconcile import reconcile


def settings(folder: Path, url: str | None) -> Settings:
    return Settings(
        data_dir=folder, database_url=url or f"sqlite:///{folder / 'bench.db'}", argon2_time_cost=1,
        argon2_memory_kib=8, scheduler=False, demo=False, topup_fen_max=10**11, password_shares_count_max=1_000_000,
    )


def set_up(app: App, followers: int) -> tuple[int, list[int]]:
    now = app.deps.clock.now()
    pw = app.deps.hasher.hash("bench-password-1")

    def job(tx: Any) -> tuple[int, list[int]]:
        star = tx.create_user("star", "明星 Star", pw, now)
        tx.set_verified_as(star, "celebrity")
        fans = [tx.create_user(f"fan{i}", f"fan {i}", pw, now) for i in range(followers)]
        for fan in fans:
            tx.follow(fan, star, now)
        return star, fans

    star, fans = app.store.write_sync(job)
    asyncio.run(app.wallet.top_up(star, 10**10))
    return star, fans


async def opens(app: App, packet_id: int, fans: list[int]) -> tuple[float, Counter[str], int, int]:
    batches, jobs = app.store.batches, app.store.jobs_done
    t0 = time.perf_counter()
    results = await asyncio.gather(*(app.packets.open(packet_id, f) for f in fans), return_exceptions=True)
    wall = time.perf_counter() - t0
    outcome: Counter[str] = Counter()
    won_fen = 0
    for r in results:
        if isinstance(r, HongbaoError):
            outcome[r.code] += 1
        elif isinstance(r, BaseException):
            outcome[type(r).__name__] += 1
        else:
            outcome["won"] += 1
            won_fen += r["amount_fen"]
    outcome["won_fen"] = won_fen
    return wall, outcome, app.store.batches - batches, app.store.jobs_done - jobs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--followers", type=int, default=10_000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--big", action="store_true", help="also time 100,000- and 1,000,000-share sends")
    args = ap.parse_args()
    out: dict[str, Any] = {"followers": args.followers}
    with tempfile.TemporaryDirectory(prefix="hongbao-celebrity-") as tmp:
        app = build(settings(Path(tmp), args.database_url))
        try:
            t0 = time.perf_counter()
            star, fans = set_up(app, args.followers)
            out["setup_s"] = round(time.perf_counter() - t0, 2)

            t0 = time.perf_counter()
            packet = asyncio.run(app.open_kinds.send_celebrity(
                star, how="double_mean", shares_count=args.followers, total_fen=args.followers * 100,
            ))
            out["send_s"] = round(time.perf_counter() - t0, 3)

            wall, outcome, batches, jobs = asyncio.run(opens(app, packet["id"], fans))
            out.update(
                open_wall_s=round(wall, 3), opens_per_s=round(len(fans) / wall), write_batches=batches,
                opens_per_batch=round(jobs / max(batches, 1), 1), outcome=dict(outcome),
                ok=outcome["won"] == args.followers and outcome["won_fen"] == args.followers * 100,
            )
            if args.big:
                for name, count, send in (
                    ("password_100k_send_s", 100_000, lambda n: app.open_kinds.send_password(
                        star, phrase="百万红包", how="double_mean", shares_count=n, total_fen=n * 10)),
                    ("celebrity_1m_send_s", 1_000_000, lambda n: app.open_kinds.send_celebrity(
                        star, how="double_mean", shares_count=n, total_fen=n * 2)),
                ):
                    t0 = time.perf_counter()
                    asyncio.run(send(count))
                    out[name] = round(time.perf_counter() - t0, 2)
            report = reconcile(app.store)
            out["reconcile_violations"] = len(report.violations)
            out["ok"] = out["ok"] and not report.violations
        finally:
            app.close()
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
