"""The sweeper: every periodic job of the platform, run by the embedded server's scheduler and by `hongbao worker`.

Each pass refunds expired packets, ends overdue relay chains, refunds transfers not accepted in time, closes
ended campaigns and finishes payments left pending; about once a minute it also prunes what has run out: expired
session tokens, revocations of tokens expired anyway, and idempotency keys older than HONGBAO_IDEMPOTENCY_KEY_TTL_S
(24 h, as Stripe keeps them: a retry with an older key runs as a new request).  A failing sweep is logged and
retried on the next pass; it never stops the others.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from hongbao.bootstrap import App

log = logging.getLogger(__name__)
PRUNE_INTERVAL_S = 60.0
PRUNE_ROUNDS_MAX = 20  # chunks of PRUNE_BATCH_MAX rows per table and pass; the rest waits for the next pass

Record = Callable[[str, int | None], None]  # (sweep, items settled or None when it failed)


def _sweeps(app: App) -> list[tuple[str, Callable[[], Awaitable[int]]]]:
    return [
        ("expire_packets", app.packets.expire_due),
        ("end_relay_chains", app.relay.end_overdue_chains),
        ("refund_transfers", app.transfers.refund_overdue_transfers),
        ("close_campaigns", lambda: app.campaigns.close_ended_campaigns(app.deps.clock.now())),
        ("release_shake_tickets", app.shake.release_due),  # of ended rounds, closed pools, stopped processes
        ("settle_payments", app.wallet.settle_due_payments),
        ("deliver_webhooks", app.webhooks.deliver_due),  # webhooks to host apps (service/webhooks.py)
    ]


class Sweeper:
    def __init__(self, app: App, record: Record | None = None, *, leased: bool = True) -> None:
        self.app = app
        self.record = record
        self.leased = leased  # sweep only while holding the install's one sweeper lease (adapters/sql/lease.py)
        self._pruned_at: float | None = None

    async def run_once(self, *, prune: bool | None = None) -> dict[str, int]:
        """One pass of every sweep; returns the items each settled (0 for a failed one, which is logged).
        `prune`: prune now (True), not (False), or when the last pruning is a minute old (None).
        Nothing while another process holds the sweeper lease (an empty dict)."""
        done: dict[str, int] = {}
        if self.leased and not await self.app.sweep_lease.hold():
            return done
        for name, job in _sweeps(self.app):
            done[name] = await self._run(name, job)
        if prune or prune is None:
            done.update(await self.prune(due_only=prune is None))
        return done

    async def prune(self, *, due_only: bool = False) -> dict[str, int]:
        """Delete expired tokens and revocations and old idempotency keys, in chunks that keep writes short;
        with `due_only`, only when the last pruning is PRUNE_INTERVAL_S old (else nothing, an empty dict)."""
        now_s = time.monotonic()
        if due_only and self._pruned_at is not None and now_s - self._pruned_at < PRUNE_INTERVAL_S:
            return {}
        self._pruned_at = now_s

        now = self.app.deps.clock.now()
        cutoff = now - timedelta(seconds=self.app.settings.idempotency_key_ttl_s)
        store = self.app.store
        jobs: dict[str, Callable[[], Awaitable[int]]] = {
            "prune_tokens": lambda: store.write(lambda tx: tx.delete_expired_tokens(now)),
            "prune_revocations": lambda: store.write(lambda tx: tx.delete_expired_revocations(now)),
            "prune_idempotency_keys": lambda: store.write(lambda tx: tx.delete_idempotency_keys_before(cutoff)),
        }
        return {name: await self._run(name, functools.partial(_until_done, job)) for name, job in jobs.items()}

    async def _run(self, name: str, job: Callable[[], Awaitable[int]]) -> int:
        try:
            count = int(await job())
        except Exception:  # keep the sweeper alive; the next pass retries
            log.exception("sweep %s failed", name)
            if self.record is not None:
                self.record(name, None)
            return 0
        if self.record is not None:
            self.record(name, count)
        return count


async def _until_done(chunk: Callable[[], Awaitable[int]]) -> int:
    from hongbao.adapters.sql.tx_people import PRUNE_BATCH_MAX

    total = 0
    for _ in range(PRUNE_ROUNDS_MAX):
        deleted = await chunk()
        total += deleted
        if deleted < PRUNE_BATCH_MAX:
            break
    return total
