"""SQL statements the writer runs per winning open (拆) of a group packet: a deterministic cost figure.

Timings on this shared 2-core machine swing by 2x between runs; the number of statements per winner does not.
Sends one lucky packet of N shares to a group of N, has every member open it, and counts the statements
(by their first word: SELECT, UPDATE, INSERT, SAVEPOINT...) the store's engine executed during the opens.

    python bench/statements_per_open.py --shares 200
    python bench/statements_per_open.py --database-url postgresql://postgres@127.0.0.1:5432/hongbao_bench
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

from hongbao.bootstrap import build
from hongbao.config import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from open_rate import FEN_PER_SHARE, set_up


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shares", type=int, default=200, help="shares = openers (default 200)")
    p.add_argument("--database-url", default=None, help="postgresql://... (default: SQLite in a temp folder)")
    a = p.parse_args(argv)
    n = a.shares
    with tempfile.TemporaryDirectory(prefix="hongbao-statements-") as tmp:
        app = build(Settings(data_dir=Path(tmp), database_url=a.database_url, demo=False, scheduler=False,
                             argon2_time_cost=1, argon2_memory_kib=8, group_members_max=n + 1, shares_count_max=n,
                             packet_fen_max=n * FEN_PER_SHARE, topup_fen_max=n * FEN_PER_SHARE))  # fmt: skip
        counts: Counter[str] = Counter()

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            counts[statement.split(None, 1)[0].upper()] += 1

        async def scenario() -> int:
            sender, group_id, users = await set_up(app, n, "st_")
            await app.wallet.top_up(sender, n * FEN_PER_SHARE)
            packet = await app.packets.send_group(sender, group_id, how="double_mean", shares_count=n,
                                                  total_fen=n * FEN_PER_SHARE)  # fmt: skip
            event.listen(app.store.engine, "before_cursor_execute", count)
            replies = await asyncio.gather(*(app.packets.open(packet["id"], u) for u in users))
            event.remove(app.store.engine, "before_cursor_execute", count)
            return sum(r["amount_fen"] for r in replies)

        try:
            paid = asyncio.run(scenario())
        finally:
            app.close()
    assert paid == n * FEN_PER_SHARE, f"paid {paid} of {n * FEN_PER_SHARE}"
    total = sum(counts.values())
    detail = ", ".join(f"{kind} {c / n:.2f}" for kind, c in counts.most_common())
    print(f"{n} winning opens: {total / n:.2f} statements per winner ({detail})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
