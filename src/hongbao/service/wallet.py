"""Wallet use cases: top up and withdraw through the payment channel, balance, statement."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from hongbao.domain.errors import HongbaoError, Rejected
from hongbao.domain.ledger import WORLD_ACCOUNT_ID, TransferCode
from hongbao.domain.money import check_amount_fen
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, InFlight, once, stored_reply

STATEMENT_PAGE_MAX = 100


def channel_reference(direction: str, user_id: int, idem: IdempotencyKey | None) -> str | None:
    """The payment channel's idempotency reference of a keyed top-up or withdrawal: the same user and key give
    the same reference in every process, so the channel moves the money once however often it is asked."""
    if idem is None:
        return None
    digest = hashlib.sha256(f"{direction}:{user_id}:{idem.key}".encode()).hexdigest()
    return f"hb-{direction}-{digest[:40]}"


class Wallet:
    def __init__(self, deps: Deps) -> None:
        self.d = deps
        # A replay in this process waits for its first attempt instead of asking the channel again.
        self._topups = InFlight()

    async def top_up(
        self, user_id: int, amount_fen: object, idem: IdempotencyKey | None = None
    ) -> dict[str, Any]:
        amount = check_amount_fen(amount_fen)
        if amount > self.d.limits.topup_fen_max:
            raise Rejected(
                f"One top-up is at most {self.d.limits.topup_fen_max} fen.", code="amount_too_large"
            )
        return await self._topups.run(idem, lambda: self._top_up(user_id, amount, idem))

    async def _top_up(self, user_id: int, amount: int, idem: IdempotencyKey | None) -> dict[str, Any]:
        first = await stored_reply(self.d.store, idem)
        if first is not None:  # a replay must not ask the channel again
            return first
        # The charge comes before the write (no money is booked that was not taken), so a replay in another
        # process may charge too: the key-derived reference makes the channel take the money once and give
        # both the same channel_ref, and the unique (channel, channel_ref) books it once.
        channel_ref = self.d.channel.charge(user_id, amount, channel_reference("in", user_id, idem))
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

        try:
            return await self.d.store.write(job)
        except HongbaoError as refusal:
            return await self._answer_of_first(idem, refusal)

    async def withdraw(
        self, user_id: int, amount_fen: object, idem: IdempotencyKey | None = None
    ) -> dict[str, Any]:
        amount = check_amount_fen(amount_fen)
        now = self.d.clock.now()
        # Keyed: the same reference in every process, so two processes replaying one key book one
        # withdrawal (unique channel_ref) and the channel pays it out once.
        reference = channel_reference("out", user_id, idem) or f"out-{secrets.token_hex(12)}"

        def job(tx: Any) -> tuple[dict[str, Any], bool]:
            ran = False  # per attempt: the store may run a job again after a rolled-back try

            def effect() -> dict[str, Any]:
                nonlocal ran
                ran = True
                pid = tx.record_channel_payment(user_id, "out", amount, self.d.channel.name, reference, now)
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

            return once(tx, idem, effect, now=now), ran

        try:
            reply, booked = await self.d.store.write(job)
        except HongbaoError as refusal:
            return await self._answer_of_first(idem, refusal)
        # The money left the wallet in the committed transaction; the payout follows the commit, from the
        # request that booked it.  The sandbox never fails; a real channel adapter retries by reference.
        if booked:
            self.d.channel.payout(user_id, amount, reference)
        return reply

    async def _answer_of_first(self, idem: IdempotencyKey | None, refusal: HongbaoError) -> dict[str, Any]:
        """A keyed request refused because its first attempt, in another process, committed meanwhile (the same
        channel_ref or key was booked first) gets that attempt's reply; otherwise the refusal stands."""
        first = await stored_reply(self.d.store, idem)
        if first is None:
            raise refusal
        return first

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
    TransferCode.CAMPAIGN_TOPUP.value: "sent",
    TransferCode.CAMPAIGN_PAYOUT.value: "received",
    TransferCode.CAMPAIGN_RETURN.value: "refunded",
}
