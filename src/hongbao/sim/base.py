"""What every part of the workload shares: the frozen clock, the seeded streams, the App under test and the
helpers that send a request and compare its answer with the model."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from hongbao.bootstrap import App, build
from hongbao.config import Settings
from hongbao.domain.errors import HongbaoError
from hongbao.service.idempotency import IdempotencyKey
from hongbao.sim.faults import Faults
from hongbao.sim.model import Model, Request

T = TypeVar("T")

PASSWORD = "sim-password"
START = datetime(2026, 2, 16, 20, 0, tzinfo=UTC)  # New Year's Eve, the busiest evening of the year
NO_SUCH_ID = 10**9


class SimClock:
    """A frozen clock: it moves only when the workload advances it."""

    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: int) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class SimResult:
    ok: bool
    seed: int
    ops: int
    failures: list[str]
    stats: dict[str, int]
    log: list[str] = field(default_factory=list)  # one line per operation; the same seed gives the same log
    seconds: float = 0.0  # the operations' wall time (setup and the report left out)
    steps: int = 0  # the operations that ran (a failure stops the run early)
    runs: int = 1  # runs in parallel processes (sim/parallel.py), seeds `seed` to `seed + runs - 1`


class Mismatch(Exception):
    """Raised when the system under test disagrees with the auditor's model."""


class SimBase:
    """The state of one run and the helpers every operation uses; the operations are mixed in by subclasses."""

    def __init__(self, seed: int, settings: Settings, inject_fault_at: int | None, *, faults: bool = True) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        # The packets' split draws come from their own seeded stream, kept across crashes.
        self.split_rng = random.Random(self.rng.getrandbits(64))
        # So do the campaigns' prize draws and the shakes' wins, which the model accepts whichever they are.
        self.draw_rng = random.Random(self.rng.getrandbits(64))
        # And the faults, so that a run with faults draws the same workload as one without.
        self.faults = Faults(self.rng.getrandbits(64), enabled=faults)
        self.clock = SimClock()
        self.settings = settings
        self.inject_fault_at = inject_fault_at
        self.m = Model()
        self.app = self._build()
        self.faults.wire(self.app)
        self.rules = self.app.deps.rules
        self.log: list[str] = []  # "step operation", a burst's warm-up grab shares its step
        self.step_no = 0
        self.op = ""
        self.eventful = False  # the step met a fault, a crash or a kill: the runner audits it at once
        # A killed process's shake tickets stay held (its lease) until the release sweep after the lease ran out:
        # until then a sure win may hear nothing (service/tickets.py).  None: no ticket is stranded.
        self.stranded_until: datetime | None = None
        self.kinds: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.charged_fen = 0  # by the payment channel of the current App (it starts at 0 after a crash)
        self.paid_out_fen = 0
        self.channel_exact = True  # False once a payment's outcome was unknown, until the next process
        self.next_name = 0
        # What the running process remembers and a crash forgets: login and claim-link failures, recent shakes.
        self.login_failures: Counter[str] = Counter()
        self.link_failures: Counter[int] = Counter()
        self.shake_windows: dict[tuple[int, int], list[datetime]] = {}
        # What the operations since the last audit touched (wallets are tracked by `Model.balance` itself).
        self.touched_packets: set[int] = set()
        self.touched_campaigns: set[int] = set()
        self.touched_players: set[tuple[int, int]] = set()

    def clear_touched(self) -> None:
        self.m.balance.touched.clear()
        self.touched_packets.clear()
        self.touched_campaigns.clear()
        self.touched_players.clear()

    def _build(self) -> App:
        # Only the first App migrates: a restarted process finds the schema in place (and Alembic costs 0.1 s).
        app = build(self.settings, clock=self.clock, rng=self.split_rng, migrate_schema=not hasattr(self, "app"))
        app.campaigns.rng = self.draw_rng
        return app

    def forget_process_memory(self) -> None:
        """A new process knows nothing of the old one's limiters and payment-channel totals."""
        self.charged_fen = self.paid_out_fen = 0
        self.channel_exact = True
        self.login_failures.clear()
        self.link_failures.clear()
        self.shake_windows.clear()

    def close(self) -> None:
        self.app.close()

    # ------------------------------------------------------------------ helpers

    def note(self, kind: str, detail: str) -> None:
        self.op = f"{kind} {detail}".strip()
        self.log.append(f"{self.step_no:05d} {self.op}")

    async def attempt(self, call: Awaitable[T]) -> tuple[T | None, str | None]:
        """The reply, or the refusal's code."""
        try:
            return await call, None
        except HongbaoError as exc:
            self.counts[f"refused:{exc.code}"] += 1
            return None, exc.code

    @staticmethod
    def expect(got: str | None, want: str | None, what: str) -> None:
        if got != want:
            raise Mismatch(f"{what}: expected {want or 'success'}, got {got or 'success'}")

    @staticmethod
    def same(got: object, want: object, what: str) -> None:
        if got != want:
            raise Mismatch(f"{what}: expected {want!r}, got {got!r}")

    def user(self) -> int:
        return self.rng.choice(self.m.users)

    def key(self) -> str | None:
        return f"sim-{self.rng.getrandbits(48):012x}" if self.rng.random() < 0.4 else None

    async def request(self, what: str, user: int, params: dict[str, Any], key: str | None) -> dict[str, Any]:
        """One money request, shaped as the HTTP API shapes it (the same body gives the same fingerprint); its
        reply read as the JSON it is (the use cases type it: service/results/)."""
        return cast(dict[str, Any], await self._reply(what, user, params, key))

    async def _reply(self, what: str, user: int, params: dict[str, Any], key: str | None) -> Mapping[str, Any]:
        a = self.app
        if what == "open":
            idem = IdempotencyKey.of(user, key, "open", params["packet_id"])
            return await a.packets.open(params["packet_id"], user, idem)
        idem = IdempotencyKey.of(user, key, what, params)
        if what == "top-up":
            return await a.wallet.top_up(user, params["amount_fen"], idem)
        if what == "withdraw":
            return await a.wallet.withdraw(user, params["amount_fen"], idem)
        if params["kind"] == "personal":
            return await a.packets.send_personal(
                user, params["recipient_id"], params["amount_fen"], params["greeting"], idem
            )
        return await a.packets.send_group(
            user, params["group_id"], how=params["split"], shares_count=params["shares_count"],
            total_fen=params["total_fen"], amount_each_fen=params["amount_each_fen"],
            greeting=params["greeting"], idem=idem,
        )

    def other_body(self, req: Request) -> dict[str, Any]:
        """The body of `req` changed a little: the same key with it must be refused."""
        other = dict(req.params)
        if req.what == "open":
            other["packet_id"] = req.params["packet_id"] + self.rng.randint(1, 3)
        elif req.what == "send":
            other["greeting"] = f"{req.params['greeting'] or ''}再来一个"[: self.rules.greeting_chars_max]
        else:
            other["amount_fen"] = req.params["amount_fen"] + 1
        return other

    def shown(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` as the log shows them: the same seed must give the same log."""
        return params

    def retry_refusal(self, req: Request) -> str | None:
        """A refusal that a retry of `req` meets before its key is looked up (a limiter of this process)."""
        return None

    def remember(self, what: str, user: int, key: str | None, params: dict[str, Any], reply: Any) -> None:
        if key is not None and reply is not None:
            self.m.requests.append(Request(what, user, key, params, reply))

