"""Wallet use cases: top up and withdraw through the payment channel (via the payment outbox), balance, statement."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from hongbao.domain.errors import HongbaoError, Rejected
from hongbao.domain.ledger import WORLD_ACCOUNT_ID, PaymentStatus, TransferCode
from hongbao.domain.money import check_amount_fen, format_fen
from hongbao.domain.paging import check_limit
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, InFlight, once, stored_reply
from hongbao.service.payments import Payments, book_top_up, channel_reference
from hongbao.service.results.wallet import Payment, Statement
from hongbao.service.statement import Described, describe

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx_ledger import StatementRow
    from hongbao.service.ports.ledger import Ledger, StatementFacts, TopUpPort, WalletPort

STATEMENT_PAGE_MAX = 100


class Wallet:
    def __init__(self, deps: Deps) -> None:
        self.d = deps
        self.payments = Payments(deps)
        # A replay in this process waits for its first attempt instead of asking the channel again.
        self._topups = InFlight()

    async def top_up(
        self, user_id: int, amount_fen: object, idem: IdempotencyKey | None = None
    ) -> Payment:
        amount = check_amount_fen(amount_fen)
        if amount > self.d.limits.topup_fen_max:
            raise Rejected(
                f"One top-up is at most {format_fen(self.d.limits.topup_fen_max)}.", code="amount_too_large",
                max_fen=self.d.limits.topup_fen_max, subject="top_up",
            )
        return await self._topups.run(idem, lambda: self._top_up(user_id, amount, idem))

    async def _top_up(self, user_id: int, amount: int, idem: IdempotencyKey | None) -> Payment:
        first = await stored_reply(self.d.store, idem, Payment)
        if first is not None:  # a replay must not ask the channel again
            return first
        # Recorded before the channel is asked: if this process dies after the charge, the sweep finds the payment,
        # asks the channel about its reference and credits it.  A keyed retry finds the same payment (the reference
        # comes from the key) and the channel answers it the first charge, so the money is taken and booked once.
        payment = await self.payments.record_top_up(user_id, amount, channel_reference("in", user_id, idem))
        if payment.status is PaymentStatus.BOOKED and payment.channel_ref is not None:
            channel_ref = payment.channel_ref  # the sweep booked it: the channel is not asked again
        else:
            channel_ref = await self.payments.charge(payment)
        now = self.d.clock.now()

        def job(tx: TopUpPort) -> Payment:
            def effect() -> Payment:
                # False: the sweep or another process booked it first
                book_top_up(tx, payment, channel_ref, now, self.d.hooks)
                return self._reply(tx, user_id, payment.id, amount, PaymentStatus.BOOKED)

            return once(tx, idem, effect, now=now)

        try:
            return await self.d.store.write(job)
        except HongbaoError as refusal:
            return await self._answer_of_first(idem, refusal)

    async def withdraw(
        self, user_id: int, amount_fen: object, idem: IdempotencyKey | None = None
    ) -> Payment:
        """Debit the wallet and record the payout in one transaction, then send it; the answer says whether the
        channel has it ("sent") or the sweep will send it ("pending")."""
        amount = check_amount_fen(amount_fen)
        now = self.d.clock.now()
        # Keyed: the same reference in every process, so two processes replaying one key record one withdrawal (the
        # reference is unique) and the channel pays it out once.
        reference = channel_reference("out", user_id, idem)

        def job(tx: WalletPort) -> Payment:
            def effect() -> Payment:
                pid = tx.add_payment(user_id, "out", amount, self.d.channel.name, reference, now)
                tx.transfer(
                    tx.wallet_account_id(user_id),
                    WORLD_ACCOUNT_ID,
                    amount,
                    TransferCode.WITHDRAW,
                    f"withdraw:{pid}",
                    now,
                )
                return self._reply(tx, user_id, pid, amount, PaymentStatus.PENDING)

            return once(tx, idem, effect, now=now)

        try:
            reply = await self.d.store.write(job)
        except HongbaoError as refusal:
            reply = await self._answer_of_first(idem, refusal)
        return await self._send(reply)

    async def _send(self, reply: Payment) -> Payment:
        """Pay out the withdrawal `reply` answers, if the channel has not been told yet (this request, or a retry of
        one whose payout got no answer); the reply with where it stands."""
        pid = reply["payment_id"]
        payment = await self.d.store.read(lambda tx: tx.payment(pid))
        if payment is None:
            return reply
        status = await self.payments.pay_out(payment) if payment.status is PaymentStatus.PENDING else payment.status
        return {**reply, "status": status.value}

    async def settle_due_payments(self, now: datetime | None = None) -> int:
        """The sweep: finish the top-ups and withdrawals whose requests died before the channel answered them."""
        return await self.payments.settle_due(now)

    def _reply(self, tx: Ledger, user_id: int, payment_id: int, amount: int, status: PaymentStatus) -> Payment:
        return {
            "payment_id": payment_id,
            "amount_fen": amount,
            "channel": self.d.channel.name,
            "balance_fen": tx.balance_fen(user_id),
            "status": status.value,
        }

    async def _answer_of_first(self, idem: IdempotencyKey | None, refusal: HongbaoError) -> Payment:
        """A keyed request refused because its first attempt, in another process, committed meanwhile (the same
        channel_ref or key was booked first) gets that attempt's reply; otherwise the refusal stands."""
        first = await stored_reply(self.d.store, idem, Payment)
        if first is None:
            raise refusal
        return first

    async def balance(self, user_id: int) -> int:
        return await self.d.store.look(lambda q: q.balance_fen(user_id))

    async def statement(self, user_id: int, cursor: int | None, limit: int) -> Statement:
        """Sent, received and refunded money, newest first; `next_cursor` fetches the older page."""
        check_limit(limit, STATEMENT_PAGE_MAX)

        def read(tx: StatementFacts) -> tuple[list[StatementRow], list[Described]]:
            rows = tx.statement(user_id, cursor, limit + 1)
            return rows, describe(tx, user_id, rows[:limit])

        rows, described = await self.d.store.read(read)
        page, more = rows[:limit], len(rows) > limit
        return {
            "entries": [
                {
                    "id": r.id,
                    "kind": _KIND.get(r.code, r.code),  # a code added later never breaks the statement
                    "amount_fen": r.amount_fen,
                    "ref": r.ref,
                    "created_at": r.created_at.isoformat(),
                    **d.fields(),
                }
                for r, d in zip(page, described, strict=True)
            ],
            "next_cursor": str(page[-1].id) if more else None,
        }


_KIND = {
    TransferCode.TOPUP.value: "top_up",
    TransferCode.WITHDRAW.value: "withdrawal",
    TransferCode.PACKET_FUND.value: "sent",
    TransferCode.PACKET_CLAIM.value: "received",
    TransferCode.PACKET_REFUND.value: "refunded",
    # Transfers (转账) use the same words; the ref ("transfer:12") tells them from packets.
    TransferCode.TRANSFER_SEND.value: "sent",
    TransferCode.TRANSFER_ACCEPT.value: "received",
    TransferCode.TRANSFER_RETURN.value: "refunded",
    TransferCode.TRANSFER_REFUND.value: "refunded",
    # Campaigns: funding a budget is money sent, a prize received, the unspent rest refunded.
    TransferCode.CAMPAIGN_FUND.value: "sent",
    TransferCode.CAMPAIGN_TOPUP.value: "sent",
    TransferCode.CAMPAIGN_PAYOUT.value: "received",
    TransferCode.CAMPAIGN_RETURN.value: "refunded",
}
