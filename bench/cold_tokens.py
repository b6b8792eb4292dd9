"""Cold bearer tokens: N concurrent requests whose tokens this process has never seen (a new API process, or
tokens older than its 30 s cache), three ways:

  signed    `app.users.authenticate(token)` with a signed token (service/tokens.py, the product): no read at all,
            but one look at the revocation list per process per HONGBAO_TOKEN_REVOCATION_POLL_S
  batched   `app.users.authenticate(token)` with a first-format token (`<id>.<secret>`, before signed tokens):
            misses queue while a read is in flight, one IN (...) per read (service/batch.py)
  one-each  one `store.read(tx.tokens([id]))` per first-format token (before service/batch.py)

All run alternately in one process on one store, so their ratios are taken under the same load.  Each run builds
a fresh App (an empty token cache) on the same database.  Every answer is checked.

    python bench/cold_tokens.py --tokens 5000 --runs 5
    python bench/cold_tokens.py --database-url postgresql://postgres@127.0.0.1:5432/hongbao_bench
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from hongbao.bootstrap import App, build
from hongbao.config import Settings
from hongbao.service.users import token_digest


async def issue(app: App, count: int, prefix: str) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(signed tokens, first-format tokens), one of each per user."""
    signed, first = [], []
    for i in range(count):
        uid = await app.users.register(f"{prefix}{i}", "bench-password-1")
        signed.append(((await app.users.issue_token(uid)).token, uid))
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        now = app.deps.clock.now()
        await app.store.write(lambda tx, t=token_id, s=secret, u=uid, n=now: tx.add_token(
            t, token_digest(s), u, n + timedelta(days=1), n))
        first.append((f"{token_id}.{secret}", uid))
    return signed, first


async def one_each(app: App, token: str) -> int:
    token_id, _, secret = token.partition(".")
    found = (await app.store.read(lambda tx: tx.tokens([token_id]))).get(token_id)
    assert found is not None and hmac.compare_digest(found[0], token_digest(secret))
    return found[1]


async def timed(app: App, variant: str, tokens: list[tuple[str, int]]) -> float:
    call = app.users.authenticate if variant in ("signed", "batched") else lambda t: one_each(app, t)
    t0 = time.perf_counter()
    answers = await asyncio.gather(*(call(token) for token, _ in tokens))
    wall = time.perf_counter() - t0
    assert list(answers) == [uid for _, uid in tokens], "a token answered with the wrong user"
    return len(tokens) / wall


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokens", type=int, default=5_000, help="concurrent cold tokens per run (default 5000)")
    p.add_argument("--runs", type=int, default=5, help="runs per variant, alternating (default 5)")
    p.add_argument("--database-url", default=None, help="postgresql://... (default: SQLite in a temp folder)")
    p.add_argument("--json", default=None, help="write the results here")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hongbao-cold-tokens-") as tmp:
        # A pepper, as a production install has: PostgreSQL signs tokens only with one (service/tokens.py).
        settings = Settings(data_dir=Path(tmp), database_url=a.database_url, demo=False, scheduler=False,
                            argon2_time_cost=1, argon2_memory_kib=8, secret_pepper="bench-pepper")  # fmt: skip
        issuer = build(settings)
        try:
            signed, first = asyncio.run(issue(issuer, a.tokens, f"cold{os.getpid()}_"))
        finally:
            issuer.close()
        rates: dict[str, list[float]] = {"signed": [], "batched": [], "one-each": []}
        for _ in range(a.runs):
            for variant in rates:
                fresh = build(settings, migrate_schema=False)  # a new process: nothing cached
                try:
                    tokens = signed if variant == "signed" else first
                    asyncio.run(fresh.users.prime())  # what `hongbao serve` does at start, before any request
                    rates[variant].append(asyncio.run(timed(fresh, variant, tokens)))
                finally:
                    fresh.close()
                print(f"  {variant:9} {rates[variant][-1]:9,.0f} tokens/s", flush=True)
    medians = {v: statistics.median(r) for v, r in rates.items()}
    facts = {"store": "postgresql" if a.database_url else "sqlite", "nproc": os.cpu_count(),
             "python": platform.python_version(), "loadavg": os.getloadavg()}  # fmt: skip
    print(f"cold_tokens {facts}: median signed {medians['signed']:,.0f}/s, batched {medians['batched']:,.0f}/s, "
          f"one-each {medians['one-each']:,.0f}/s; signed/batched {medians['signed'] / medians['batched']:.1f}x")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"facts": facts, "params": vars(a), "rates": rates, "medians": medians,
                       "command": " ".join(sys.argv)}, f, indent=1)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
