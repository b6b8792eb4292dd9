"""What relay chains (接龙), asks (讨红包) and transfers (转账) need from the store, and the rows it answers.

The SQL transaction (adapters/sql/tx_relay.py, tx_asks.py, tx_transfers.py) implements these structurally.  The
jobs that step a chain, answer an ask or settle a transfer also post a notice in the conversation (and tell the
money hooks), which take the whole `Tx`; the reads and checks around them take these ports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from hongbao.domain.relay import AskStatus, ChainStatus, TransferStatus
from hongbao.service.ports.conversations import NamedNotices
from hongbao.service.ports.packets import PacketById
from hongbao.service.ports.people import Friends, Groups, People
from hongbao.service.ports.replies import IdempotentReplies

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import ClaimRow


@dataclass(frozen=True)
class ChainRow:
    id: int
    group_id: int
    starter_id: int
    min_fen: int
    deadline_s: int
    status: ChainStatus
    rounds_count: int
    current_packet_id: int | None
    owed_by: int | None
    due_at: datetime | None
    ended_reason: str | None
    created_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class RoundRow:
    chain_id: int
    round: int
    packet_id: int
    sender_id: int
    total_fen: int
    shares_count: int
    created_at: datetime


@dataclass(frozen=True)
class RelayEventRow:
    id: int
    kind: str
    round: int | None
    user_id: int | None
    detail: str
    created_at: datetime


@dataclass(frozen=True)
class AskRow:
    id: int
    asker_id: int
    to_user_id: int | None
    group_id: int | None
    amount_fen: int | None
    message: str
    status: AskStatus
    packet_id: int | None
    answered_by: int | None
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class TransferOrderRow:
    id: int
    sender_id: int
    recipient_id: int
    amount_fen: int
    note: str
    status: TransferStatus
    escrow_account_id: int
    created_at: datetime
    expires_at: datetime
    settled_at: datetime | None


class ChainReads(People, Groups, PacketById, Protocol):
    """A chain with its rounds and events, for the members of its group."""

    def relay_chain(self, chain_id: int) -> ChainRow | None: ...

    def relay_rounds(self, chain_id: int) -> list[RoundRow]: ...

    def relay_events(self, chain_id: int) -> list[RelayEventRow]: ...

    def chains_of_group(self, group_id: int, limit: int) -> list[ChainRow]: ...

    def claims_of(self, packet_id: int) -> list[ClaimRow]: ...


class AskReads(Groups, Protocol):
    """Asks, visible to the asker, the friend asked and the asked group's members; who allows being asked."""

    def ask(self, ask_id: int) -> AskRow | None: ...

    def allows_asks(self, user_id: int) -> bool: ...

    def set_allows_asks(self, user_id: int, allow: bool) -> None: ...


class AskWrites(AskReads, Friends, NamedNotices, IdempotentReplies, Protocol):
    """What asking and answering write: the ask under the asker's daily cap, its answer (the ask row decides a race),
    and each step's notice in the pair's or the group's conversation."""

    def create_ask(
        self, *, asker_id: int, to_user_id: int | None, group_id: int | None, amount_fen: int | None,
        message: str, day: date, cap: int, now: datetime, expires_at: datetime,
    ) -> int | None: ...  # fmt: skip

    def answer_ask(
        self, ask_id: int, status: AskStatus, by: int, now: datetime, *, packet_id: int | None = ...
    ) -> bool: ...
