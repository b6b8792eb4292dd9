"""The workload's client under faults: a money request that may meet a fault, and what the client does when it
cannot know whether its request took effect (no reply after a kill -9, or `store_unavailable`).

The model accepts either outcome of such a request and then settles it as a real client would: a request
with an Idempotency-Key is sent again with the same key (one to three copies at once, so retries also race
each other), and the answer they agree on is the request's answer; a request without a key is settled by
reading the store (did the balance move, did a packet or a claim appear?).  The ledger's invariants hold
throughout: the auditors run after every step, whatever the outcome was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.tx import SqlTx
from hongbao.sim.base import Mismatch, SimBase
from hongbao.sim.faults import Armed

LOST = "outcome_unknown_and_not_taken"  # the code of a request whose outcome was unknown and which did not happen
UNKNOWN_CODES = ("store_unavailable",)
# The requests whose unknown outcome the client can settle (with their key, or by reading without one).
SETTLED_BY_READING = ("top-up", "withdraw", "send", "open")


class HostileOps(SimBase):
    async def money(self, what: str, user: int, params: dict[str, Any], key: str | None) -> tuple[Any, str | None]:
        """Send one money request, which may meet a fault; the reply and the refusal's code as `attempt` gives
        them, or `LOST` when the outcome was unknown and settling it showed the request did not happen."""
        armed = self.faults.draw()
        if armed is None or (key is None and what not in SETTLED_BY_READING):
            return await self.attempt(self.request(what, user, params, key))
        self.log.append(f"{self.step_no:05d} fault: {armed.kind} at commit {armed.at}")
        self.eventful = True
        reply, code, unknown = await self._faulty(armed, self.request(what, user, params, key))
        if not unknown:
            return reply, code
        self.counts["unknown_outcomes"] += 1
        if what in ("top-up", "withdraw"):
            self.channel_exact = False  # the channel of the process that died may have moved this money
        if key is not None:
            return await self._retry_until_known(what, user, params, key)
        return await self._settle_by_reading(what, user, params)

    async def sweep(self, call: Callable[[], Awaitable[int]], what: str) -> tuple[int, bool]:
        """A scheduler's pass (expire packets, close campaigns), which may meet a fault: the count it reported,
        and whether it met one.  A pass answers for each item on its own and leaves the ones it could not do
        to the next pass (as the scheduler would), so after a fault the caller passes again, and the counts
        add up to at most what was due; the auditor checks that each item was done exactly once."""
        armed = self.faults.draw()
        if armed is None:
            return await call(), False
        self.log.append(f"{self.step_no:05d} fault: {armed.kind} at commit {armed.at}")
        self.eventful = True
        done, code, unknown = await self._faulty(armed, call())
        if unknown:
            self.counts["unknown_outcomes"] += 1
            self.counts["unknown_settled_by_sweeping"] += 1
            return 0, True
        self.expect(code, None, what)
        return int(done), True

    async def _faulty(self, armed: Armed, call: Any) -> tuple[Any, str | None, bool]:
        """Run `call` with the fault armed: (reply, code, whether the outcome is unknown to the client)."""
        await self._writer_caught_up()
        self.faults.arm(armed)
        death = self.faults.death
        assert death is not None
        task: asyncio.Future[Any] = asyncio.ensure_future(self.attempt(call))
        try:
            await asyncio.wait([task, death], return_when=asyncio.FIRST_COMPLETED)
        finally:
            struck = self.faults.disarm()
        if death.done():
            # kill -9 between the COMMIT and the reply: whatever the dead process would still answer, nobody
            # hears it.  The new process starts on the same database.
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await self.restart_process(killed=True)
            return None, None, True
        reply, code = task.result()
        if code in UNKNOWN_CODES:
            return None, None, True
        if struck is not None and struck.struck:
            self.counts[f"survived:{struck.kind}"] += 1
        return reply, code, False

    async def _writer_caught_up(self) -> None:
        """Let writes an earlier step left running in the background (a shake lease's renewal) commit first: the
        armed fault counts the commits made while its request runs, and a background write landing among them or
        not, by timing, gave the same seed a fault that struck in one run and not in the next."""
        await asyncio.sleep(0)  # a background task just scheduled submits its write now, ahead of ours
        await self.app.store.write(lambda _tx: None)  # one queue: answered once everything before it committed

    async def _retry_until_known(
        self, what: str, user: int, params: dict[str, Any], key: str
    ) -> tuple[Any, str | None]:
        """The same request with the same key, sent 1–3 times at once; every copy must get the same answer."""
        copies = self.faults.rng.choice((1, 1, 2, 3))  # the faults' stream: the workload's draws stay its own
        self.log.append(f"{self.step_no:05d} retry x{copies} with key={key}")
        results = await asyncio.gather(*(self.attempt(self.request(what, user, params, key)) for _ in range(copies)))
        first = results[0]
        for other in results[1:]:
            if other != first:
                raise Mismatch(f"{what} retried with one key at once: different answers {first!r} and {other!r}")
        self.counts["unknown_settled_by_retry"] += 1
        return first

    async def _settle_by_reading(self, what: str, user: int, params: dict[str, Any]) -> tuple[Any, str | None]:
        """A keyless request's unknown outcome, read from the store: the reply it would have had, or `LOST`."""
        self.counts["unknown_settled_by_reading"] += 1
        self.log.append(f"{self.step_no:05d} read back the {what}")
        if what in ("top-up", "withdraw"):
            balance = await self.app.store.read(lambda tx: _wallet(tx, user))
            amount = params["amount_fen"]
            moved = amount if what == "top-up" else -amount
            if balance == self.m.balance[user] + moved:
                return {"amount_fen": amount, "balance_fen": balance}, None
            self.same(balance, self.m.balance[user], f"balance after a {what} with an unknown outcome")
            return None, LOST
        if what == "send":
            known = max(self.m.packets, default=0)
            rows = await self.app.store.read(lambda tx: _new_packets(tx, user, known))
            if len(rows) > 1:
                raise Mismatch(f"one send with an unknown outcome made {len(rows)} packets: {rows}")
            return (rows[0], None) if rows else (None, LOST)
        amounts = await self.app.store.read(lambda tx: _claims(tx, params["packet_id"], user))
        if len(amounts) > 1:
            raise Mismatch(f"user {user} holds {len(amounts)} claims of packet {params['packet_id']}")
        packet = self.m.packets.get(params["packet_id"])
        if amounts and (packet is None or user not in packet.claims):
            return {"packet_id": params["packet_id"], "amount_fen": amounts[0]}, None
        return None, LOST

    async def restart_process(self, *, killed: bool) -> None:
        """Start a new App on the same database; a killed one is abandoned, not closed: its writer never commits
        again, and its connections go only once the new App holds one (as the OS would close a dead process's)."""
        old = self.app
        self.eventful = True
        self.app = self._build()
        self.faults.wire(self.app)
        self.forget_process_memory()
        if killed:
            self.counts["kills"] += 1
            lease_ends = self.clock.now() + timedelta(seconds=old.shake.tickets.lease_s)
            self.stranded_until = max(self.stranded_until or lease_ends, lease_ends)
            await self.app.store.read(lambda tx: None)
            store: Any = old.store
            try:
                store.close(timeout_s=0)
            except TypeError:  # a store without a close deadline
                store.close()
        else:
            old.close()


def _wallet(tx: SqlTx, user: int) -> int:
    a = s.accounts
    return int(tx.conn.execute(select(a.c.balance_fen).where(a.c.kind == "wallet", a.c.owner_id == user)).scalar_one())


def _new_packets(tx: SqlTx, sender: int, after: int) -> list[dict[str, Any]]:
    p = s.packets
    rows = tx.conn.execute(select(p).where(p.c.sender_id == sender, p.c.id > after).order_by(p.c.id)).all()
    return [
        {"id": int(r.id), "kind": r.kind, "split": r.split, "sender_id": int(r.sender_id),
         "total_fen": int(r.total_fen), "shares_count": int(r.shares_count), "status": r.status,
         "claimed_count": int(r.claimed_count), "expires_at": _aware(r.expires_at).isoformat()}
        for r in rows
    ]  # fmt: skip


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _claims(tx: SqlTx, packet_id: int, user: int) -> list[int]:
    c = s.claims
    return [int(a) for a in tx.conn.execute(
        select(c.c.amount_fen).where(c.c.packet_id == packet_id, c.c.user_id == user)).scalars()]  # fmt: skip
