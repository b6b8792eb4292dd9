"""What a drill asserts afterwards, read from the database directly (not through the proxy or the server).

Each check returns the problems it found as sentences, so that one failing drill names every broken rule.
"""

from __future__ import annotations

from sqlalchemy import create_engine, text

from tests.drills.client import Record
from tests.drills.server import cli


def ledger_problems(direct_url: str, record: Record, tag: str) -> list[str]:
    """No request took effect twice; every answer the client saw as a success is in the database."""
    problems: list[str] = []
    engine = create_engine(direct_url)
    try:
        with engine.connect() as conn:
            pattern = {"tag": tag.replace("_", r"\_") + "-%"}
            for table, column in (("packets", "greeting"), ("direct_transfers", "note")):
                twice = conn.execute(
                    text(f"SELECT {column}, count(*) FROM {table} WHERE {column} LIKE :tag GROUP BY {column} "
                         f"HAVING count(*) > 1 ORDER BY {column}"),
                    pattern,
                ).all()  # fmt: skip
                problems += [f"{table}: {n} rows for one request, {subject!r} (double effect)" for subject, n in twice]
            packets: dict[int, str] = dict(conn.execute(text("SELECT id, greeting FROM packets")).all())
            transfers: dict[int, str] = dict(conn.execute(text("SELECT id, note FROM direct_transfers")).all())
            claims = {
                f"{pid}:{uid}": amount
                for pid, uid, amount in conn.execute(text("SELECT packet_id, user_id, amount_fen FROM claims"))
            }
    finally:
        engine.dispose()
    for c in record.ok("send"):
        if packets.get(c.body["id"]) != c.subject:
            problems.append(f"answered 201 but not in the ledger: {c} → packet {c.body['id']}")
    for c in record.ok("transfer"):
        if transfers.get(c.body["id"]) != c.subject:
            problems.append(f"answered 201 but not in the ledger: {c} → transfer {c.body['id']}")
    for c in record.ok("open"):
        if claims.get(c.subject) != c.body["amount_fen"]:
            problems.append(f"answered {c.body['amount_fen']} fen but the claim says {claims.get(c.subject)}: {c}")
    for c in record.calls:
        if c.op == "open" and c.code == "already_claimed" and c.attempt == 1:
            problems.append(f"a first open was told already_claimed (its own retried effect?): {c}")
    return problems


def answer_problems(record: Record) -> list[str]:
    """Every failure was a 503 store_unavailable with Retry-After: never a 500, never a hang."""
    return [f"not a 503 store_unavailable with Retry-After: {c}" for c in record.broken()]


def reconcile_problems(direct_url: str) -> list[str]:
    done = cli(direct_url, "reconcile")
    if done.returncode == 0:
        return []
    return [f"hongbao reconcile exited {done.returncode}: {done.stdout[-2000:]}{done.stderr[-2000:]}"]
