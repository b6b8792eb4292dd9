"""Wallet use cases: top up and withdraw through the payment channel, balance, statement."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from hongbao.domain.errors import Rejected
from hongbao.domain.ledger import WORLD_ACCOUNT_ID, TransferCode
from hongbao.domain.money import check_amount_fen
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, once, stored_reply

STATEMENT_PAGE_MAX = 100


class Wallet:
    def __init__(self, deps: Deps) -> None:
        self.d = deps
        # Idempotent top-ups running in this process, by (user, key): a concurrent replay waits for
        # the first instead of charging the channel again (only the first charge would be booked).
        self._topups_running: dict[tuple[int, str], asyncio.Event] = {}

    async def top_up(
        self, user_id: int, amount_fen: object, idem: IdempotencyKey | None = None
    ) -> dict[str, Any]:
        amount = check_amount_fen(amount_fen)
        if amount > self.d.limits.topup_fen_max:
            raise Rejected(
                f"One top-up is at most {self.d.limits.topup_fen_max} fen.", code="amount_too_large"
            )
        if idem is None:
            return await self._top_up(user_id, amount, None)
        slot = (idem.user_id, idem.key)
        while (running := self._topups_running.get(slot)) is not None:
            await running.wait()
        self._topups_running[slot] = done = asyncio.Event()
        try:
            return await self._top_up(user_id, amount, idem)
        finally:
            del self._topups_running[slot]
            done.set()

    async def _top_up(self, user_id: int, amount: int, idem: IdempotencyKey | None) -> dict[str, Any]:
        first = await stored_reply(self.d.store, idem)
        if first is not None:  # a replay must not charge the channel again
            return first
        channel_ref = self.d.channel.charge(user_id, amount)
        now = self.d.clock.now()

        def job(tx: Any) -> dict[str, Any]:
            def effect() -> dict[str, Any]:
                pid = tx.record_channel_payment(user_id, "in", amount, self.d.channel.name, channel_ref, now)
                tx.transfer(
                    WORLD_ACCOUNT_ID,
                    tx.wallet_account_id(user_id),
                    amount,
                    TransferCode.TOPUP,
                    f"topup:{pid}",
                    now,
                )
                return {
                    "payment_id": pid,
                    "amount_fen": amount,
                    "channel": self.d.channel.name,
                    "balance_fen": tx.balance_fen(user_id),
                }

            return once(tx, idem, effect, now=now)

        return await self.d.store.write(job)

    async def withdraw(
        self, user_id: int, amount_fen: object, idem: IdempotencyKey | None = None
    ) -> dict[str, Any]:
        amount = check_amount_fen(amount_fen)
        now = self.d.clock.now()
        channel_ref = f"out-{secrets.token_hex(12)}"
        ran: list[bool] = []

        def job(tx: Any) -> dict[str, Any]:
            def effect() -> dict[str, Any]:
                ran.append(True)
                pid = tx.record_channel_payment(user_id, "out", amount, self.d.channel.name, channel_ref, now)
                tx.transfer(
                    tx.wallet_account_id(user_id),
                    WORLD_ACCOUNT_ID,
                    amount,
                    TransferCode.WITHDRAW,
                    f"withdraw:{pid}",
                    now,
                )
                return {
                    "payment_id": pid,
                    "amount_fen": amount,
                    "channel": self.d.channel.name,
                    "balance_fen": tx.balance_fen(user_id),
                }

            return once(tx, idem, effect, now=now)

        reply = await self.d.store.write(job)
        # The money left the wallet in the committed transaction; the payout follows the commit.
        # The sandbox never fails; a real channel adapter retries payouts by payment id.
        if ran:
            self.d.channel.payout(user_id, amount)
        return reply

    async def balance(self, user_id: int) -> int:
        return await self.d.store.read(lambda tx: tx.balance_fen(user_id))

    async def statement(self, user_id: int, cursor: int | None, limit: int) -> dict[str, Any]:
        """Sent, received and refunded money, newest first; `next_cursor` fetches the older page."""
        if not 1 <= limit <= STATEMENT_PAGE_MAX:
            raise Rejected(f"limit must be 1–{STATEMENT_PAGE_MAX}.", code="invalid_limit")
        rows = await self.d.store.read(lambda tx: tx.statement(user_id, cursor, limit + 1))
        page, more = rows[:limit], len(rows) > limit
        return {
            "entries": [
                {
                    "id": r.id,
                    "kind": _KIND.get(r.code, r.code),  # a code added later never breaks the statement
                    "amount_fen": r.amount_fen,
                    "ref": r.ref,
                    "created_at": r.created_at.isoformat(),
                }
                for r in page
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
    TransferCode.CAMPAIGN_PAYOUT.value: "received",
    TransferCode.CAMPAIGN_RETURN.value: "refunded",
}
