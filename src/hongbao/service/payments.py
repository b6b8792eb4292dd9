"""The payment outbox: every top-up and withdrawal is recorded (pending) before the channel is asked, settled once when
the channel's answer is known, and finished by the sweep when the process that asked died before it heard back.

The channel deduplicates by the reference recorded with the payment, so asking again (a keyed retry, the sweep, two
sweeps at once) never moves money twice; the ledger books the answer once (a conditional UPDATE of the payment's
status, and the unique transfer reference "topup:<id>").  A top-up is credited only once the channel took the money; a
withdrawal is debited when it is recorded, so money that left a wallet always has a payout on its way.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hongbao.domain.errors import Conflict, HongbaoError, Unavailable
from hongbao.domain.ledger import WORLD_ACCOUNT_ID, PaymentStatus, TransferCode
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey

if TYPE_CHECKING:
    from hongbao.service.hooks import PacketHooks
    from hongbao.service.ports.ledger import PaymentRecords, PaymentRow, PaymentSettling

log = logging.getLogger(__name__)

# A pending payment younger than this may still be in its request's hands; the sweep leaves it alone.  It must exceed
# the longest a request can take to hear the channel back (a top-up the sweep finds unknown is marked failed).
GRACE_S = 30
DUE_BATCH_MAX = 100
PENDING = PaymentStatus.PENDING
BOOKED, FAILED, SENT = PaymentStatus.BOOKED, PaymentStatus.FAILED, PaymentStatus.SENT


def channel_reference(direction: str, user_id: int, idem: IdempotencyKey | None) -> str:
    """The reference the channel deduplicates by.  Keyed: derived from the user and key, the same in every process,
    so a retry finds its first attempt's payment; without a key, a fresh one that this payment alone holds."""
    if idem is None:
        return f"hb-{direction}-{secrets.token_hex(20)}"
    digest = hashlib.sha256(f"{direction}:{user_id}:{idem.key}".encode()).hexdigest()
    return f"hb-{direction}-{digest[:40]}"


def book_top_up(tx: PaymentSettling, payment: PaymentRow, channel_ref: str, now: datetime, hooks: PacketHooks) -> bool:
    """Credit a top-up the channel confirmed, once: False if another process or the sweep booked it first.  A top-up
    the sweep marked failed is booked too when the channel did take the money after all (a late answer wins)."""
    if not settle(tx, hooks, payment, BOOKED, (PENDING, FAILED), channel_ref, now):
        return False
    wallet = tx.wallet_account_id(payment.user_id)
    tx.transfer(WORLD_ACCOUNT_ID, wallet, payment.amount_fen, TransferCode.TOPUP, f"topup:{payment.id}", now)
    return True


def settle(
    tx: PaymentSettling, hooks: PacketHooks, payment: PaymentRow, status: PaymentStatus,
    from_statuses: tuple[PaymentStatus, ...], channel_ref: str | None, now: datetime,
) -> bool:
    """Move the payment to `status` once (tx.settle_payment); the one caller that moved it tells the money hooks."""
    if not tx.settle_payment(payment.id, status, from_statuses, channel_ref, now):
        return False
    hooks.emit(tx, "payment.settled", (payment.user_id,), {
        "payment_id": payment.id, "user_id": payment.user_id, "direction": payment.direction,
        "amount_fen": payment.amount_fen, "status": status.value,
    })
    return True


class Payments:
    """Records payments, asks the channel, settles the answers; `settle_due` is the sweep."""

    def __init__(self, deps: Deps, grace_s: float = GRACE_S) -> None:
        self.d = deps
        self.grace_s = grace_s

    async def record_top_up(self, user_id: int, amount_fen: int, reference: str) -> PaymentRow:
        """The top-up recorded with `reference`, recording it (pending) if this is its first attempt."""
        channel = self.d.channel.name

        def job(tx: PaymentRecords) -> PaymentRow:
            found = tx.payment_by_reference(channel, reference)
            if found is not None:
                return found
            pid = tx.add_payment(user_id, "in", amount_fen, channel, reference, self.d.clock.now())
            added = tx.payment(pid)
            assert added is not None, "a payment just recorded is there"
            return added

        try:
            payment = await self.d.store.write(job)
        except Conflict:  # another process recorded it a moment ago (a retry racing its first attempt)
            raced = await self.d.store.read(lambda tx: tx.payment_by_reference(channel, reference))
            if raced is None:
                raise
            payment = raced
        if (payment.user_id, payment.direction, payment.amount_fen) != (user_id, "in", amount_fen):
            raise Conflict("This Idempotency-Key was used for a different request.", code="idempotency_key_reused")
        return payment

    async def charge(self, payment: PaymentRow) -> str:
        """Take the top-up's money through the channel; return the channel's reference.  A decline is final (the
        payment is marked failed); no answer leaves it pending for the sweep, which asks the channel what happened."""
        try:
            return self.d.channel.charge(payment.user_id, payment.amount_fen, payment.reference)
        except HongbaoError:
            now = self.d.clock.now()
            await self.d.store.write(lambda tx: settle(tx, self.d.hooks, payment, FAILED, (PENDING,), None, now))
            raise
        except Exception as exc:
            log.warning("charging payment %s got no answer; the sweep settles it", payment.id, exc_info=True)
            raise Unavailable(
                "The payment channel did not answer. If it took the money, your wallet is credited within a minute; "
                "retrying with the same Idempotency-Key is safe.",
                code="channel_unavailable",
            ) from exc

    async def pay_out(self, payment: PaymentRow) -> PaymentStatus:
        """Send a recorded withdrawal to the channel and mark it sent; without an answer it stays pending, and the
        sweep sends it again with the same reference (the channel pays it once)."""
        try:
            channel_ref = self.d.channel.payout(payment.user_id, payment.amount_fen, payment.reference)
        except Exception:
            log.warning("paying out payment %s got no answer; the sweep sends it again", payment.id, exc_info=True)
            return PENDING
        now = self.d.clock.now()
        await self.d.store.write(lambda tx: settle(tx, self.d.hooks, payment, SENT, (PENDING,), channel_ref, now))
        return SENT

    # ------------------------------------------------------------------ the sweep (scheduler / worker)

    async def settle_due(self, now: datetime | None = None) -> int:
        """Finish every payment left pending longer than the grace period, exactly once: a withdrawal is sent again
        with its reference; for a top-up the channel is asked what became of its reference, and the top-up is booked
        or marked failed.  Returns how many this sweep settled (another sweep may settle the rest)."""
        at = now or self.d.clock.now()
        recorded_before = at - timedelta(seconds=self.grace_s)
        count = 0
        while True:
            due = await self.d.store.read(lambda tx: tx.due_payments(recorded_before, DUE_BATCH_MAX))
            jobs: list[Callable[[PaymentSettling], bool]] = []
            for payment in due:
                try:  # the channel is asked outside any transaction
                    jobs.append(self._finish_job(payment, at))
                except Exception as exc:
                    log.error("settling payment %s failed: %r", payment.id, exc)
            # Submitted together, the settlements share one group commit; each is its own savepoint.
            results = await asyncio.gather(*(self.d.store.write(job) for job in jobs), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    log.error("settling a payment failed: %r", result)
                elif result:
                    count += 1
            if len(due) < DUE_BATCH_MAX or all(isinstance(r, BaseException) for r in results):
                return count

    def _finish_job(self, payment: PaymentRow, at: datetime) -> Callable[[PaymentSettling], bool]:
        if payment.direction == "out":
            sent_ref = self.d.channel.payout(payment.user_id, payment.amount_fen, payment.reference)
            return lambda tx: settle(tx, self.d.hooks, payment, SENT, (PENDING,), sent_ref, at)
        charged_ref = self.d.channel.lookup(payment.reference)
        if charged_ref is None:  # the channel never took this money: nothing to credit
            return lambda tx: settle(tx, self.d.hooks, payment, FAILED, (PENDING,), None, at)
        return lambda tx: book_top_up(tx, payment, charged_ref, at, self.d.hooks)
