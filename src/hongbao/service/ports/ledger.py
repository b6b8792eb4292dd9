"""What the wallet and transfer use cases need from the store: wallets and transfers on the ledger, payments, the
facts a statement entry is described with, transfer orders.

The SQL transaction (adapters/sql/tx_ledger.py, tx_payments.py, tx_transfers.py …) implements these structurally.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from hongbao.domain.ledger import PaymentStatus, TransferCode
from hongbao.domain.relay import TransferStatus
from hongbao.service.ports.conversations import Notices
from hongbao.service.ports.hosts import HostVolume, OutboxWrites
from hongbao.service.ports.people import Friends, Groups, People
from hongbao.service.ports.replies import IdempotentReplies

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import PacketRow
    from hongbao.adapters.sql.tx_ledger import StatementRow
    from hongbao.service.ports.campaigns import CampaignRow
    from hongbao.service.ports.relay import TransferOrderRow


@dataclass(frozen=True)
class PaymentRow:
    id: int
    user_id: int
    direction: str  # "in" (top-up) or "out" (withdrawal)
    amount_fen: int
    channel: str
    reference: str  # given to the channel as its idempotency key
    status: PaymentStatus
    channel_ref: str | None  # the channel's own reference, once it has answered
    created_at: datetime


class Ledger(Protocol):
    """Wallets and the transfers between accounts: the double-entry truth."""

    def wallet_account_id(self, user_id: int) -> int: ...

    def transfer(
        self, debit_id: int, credit_id: int, amount_fen: int, code: TransferCode, ref: str, now: datetime
    ) -> int: ...

    def balance_fen(self, user_id: int) -> int: ...

    def statement(self, user_id: int, before_id: int | None, limit: int) -> list[StatementRow]: ...


class PaymentRecords(Protocol):
    """Top-ups and withdrawals as recorded before and after the payment channel answers."""

    def add_payment(
        self, user_id: int, direction: str, amount_fen: int, channel: str, reference: str, now: datetime
    ) -> int: ...

    def payment(self, payment_id: int) -> PaymentRow | None: ...

    def payment_by_reference(self, channel: str, reference: str) -> PaymentRow | None: ...


class MoneyEvents(OutboxWrites, HostVolume, Protocol):
    """What the money hooks (service/hooks.py) get inside the money's transaction: today a host's daily volume and
    the webhook outbox.  A new listener that needs more of the store widens this port."""


class PaymentSettling(Ledger, PaymentRecords, MoneyEvents, Protocol):
    """Settling a payment once (the one caller that moved it tells the money hooks) and booking a top-up."""

    def settle_payment(
        self,
        payment_id: int,
        status: PaymentStatus,
        from_statuses: Iterable[PaymentStatus],
        channel_ref: str | None,
        now: datetime,
    ) -> bool: ...


class WalletPort(Ledger, PaymentRecords, IdempotentReplies, Protocol):
    """What a withdrawal's job reads and writes (service/wallet.py)."""


class TopUpPort(WalletPort, PaymentSettling, Protocol):
    """What a top-up's job reads and writes: the withdrawal's, and booking the payment the channel confirmed."""


class TransferOrders(Protocol):
    """Transfers (转账) held in escrow until accepted, returned or refunded."""

    def create_transfer_order(
        self, sender_id: int, recipient_id: int, amount_fen: int, note: str, now: datetime, expires_at: datetime
    ) -> int: ...

    def transfer_order(self, transfer_id: int) -> TransferOrderRow | None: ...

    def settle_transfer_order(self, transfer_id: int, to: TransferStatus, now: datetime) -> bool: ...


class TransferSteps(TransferOrders, MoneyEvents, Notices, Protocol):
    """A transfer's step (sent, accepted, returned, refunded) with its notice in the pair's conversation and the money
    hooks told, all in the money's transaction (service/transfers.py `_told`)."""


class TransferPort(TransferSteps, People, Friends, IdempotentReplies, Protocol):
    """What sending a transfer to a friend in one's world, and settling it, read and write (service/transfers.py)."""


class StatementFacts(People, Groups, Protocol):
    """What a statement page reads to say what each entry was (service/statement.py): its packet, transfer or
    campaign, and the other party's name."""

    def statement(self, user_id: int, before_id: int | None, limit: int) -> list[StatementRow]: ...

    def campaigns_of_claims(self, claim_ids: Sequence[int]) -> dict[int, int]: ...

    def packet(self, packet_id: int) -> PacketRow | None: ...

    def transfer_order(self, transfer_id: int) -> TransferOrderRow | None: ...

    def campaign(self, campaign_id: int) -> CampaignRow | None: ...
