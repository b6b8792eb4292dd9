"""The workload: which operation comes next (drawn by weight from the seeded stream), and the operations on
time itself: the clock moving, packets expiring and the process crashing."""

from __future__ import annotations

from datetime import timedelta

from hongbao.sim.base import Mismatch
from hongbao.sim.packets import PacketOps
from hongbao.sim.shake import ShakeOps

EXPIRE_ROUNDS_MAX = 1_000

# How often each kind of operation is drawn.
WEIGHTS = {
    "register": 5, "session": 3, "top_up": 9, "withdraw": 4, "friend": 6, "group": 7,
    "send_personal": 8, "send_group": 12, "grab": 5, "open": 14, "burst": 6, "retry": 7,
    "clock": 5, "expire": 3, "crash": 1,
    "enterprise": 3, "follow": 5, "campaign": 4, "claim": 10, "claim_burst": 3, "budget": 3, "close": 2,
    "event": 2, "shake": 9, "wait": 3,
}


class Workload(PacketOps, ShakeOps):
    """Every operation of the workload, and the seeded choice among them."""

    def choose(self) -> str:
        if len(self.m.users) < 3:
            return "register"
        kinds = list(WEIGHTS)
        # Past a dozen users, new users come rarely and friendships come often until each user has
        # about four friends, so that groups grow large enough for real races.
        boost = {"register": 1 if len(self.m.users) >= 12 else WEIGHTS["register"],
                 "friend": 25 if len(self.m.friends) < 2 * len(self.m.users) else WEIGHTS["friend"]}
        weights = [boost.get(k, WEIGHTS[k]) for k in kinds]
        return self.rng.choices(kinds, weights=weights)[0]

    async def step(self, kind: str) -> None:
        self.kinds[kind] += 1
        await getattr(self, f"op_{kind}")()

    # ------------------------------------------------------------------ time, expiry, crashes

    async def op_clock(self) -> None:
        now, r = self.clock.now(), self.rng.random()
        ahead = sorted({p.expires_at for p in self.m.active.values() if p.expires_at > now})
        if ahead and r < 0.08:
            # Land exactly on (or one second before) an expiry: the boundary where open and expire race.
            at = self.rng.choice(ahead) - timedelta(seconds=self.rng.choice([0, 1]))
            seconds = max(0, int((at - now).total_seconds()))
        elif r < 0.15:
            seconds = self.rng.randint(self.rules.ttl_s // 2, 3 * self.rules.ttl_s)
        else:
            seconds = self.rng.randint(1, 300)
        self.note("clock", f"+{seconds}s")
        self.clock.advance(seconds)

    async def op_expire(self) -> None:
        now = self.clock.now()
        due = [p for p in self.m.active.values() if p.expires_at <= now]
        self.note("expire_due", f"at={now.isoformat()}")
        expired, unknown = await self.sweep(self.app.packets.expire_due, "expire due packets")
        for _ in range(EXPIRE_ROUNDS_MAX if expired or unknown else 0):
            n = await self.app.packets.expire_due()
            expired += n
            if n == 0:
                break
        if unknown:  # a pass that met a fault refunded some or none; the passes after it the rest, once
            if expired > len(due):
                raise Mismatch(f"packets expired: {expired} of {len(due)} due, after a pass that met a fault")
        else:
            self.same(expired, len(due), "packets expired")
        for p in due:
            p.refunded_fen = p.total_fen - p.claimed_fen
            self.m.settle(p)
            self.touched_packets.add(p.id)
            self.m.balance[p.sender] += p.refunded_fen
            self.counts["refunds"] += 1
            self.counts["refunded_fen"] += p.refunded_fen

    async def op_crash(self) -> None:
        """Stop the process and start another on the same database: the gate and token caches are lost."""
        self.note("crash", "")
        await self.restart_process(killed=False)
        self.counts["crashes"] += 1

    def stats(self) -> dict[str, int]:
        out = {f"op:{k}": n for k, n in sorted(self.kinds.items())}
        out.update(self.counts)
        out.update({f"fault:{k}": n for k, n in sorted(self.faults.counts.items())})
        out["users"] = len(self.m.users)
        out["inside_fen"] = self.m.inside_fen
        return out
