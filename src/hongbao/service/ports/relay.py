"""What relay chains (接龙), asks (讨红包) and transfers (转账) need from the store, and the rows it answers.

The SQL transaction (adapters/sql/tx_relay.py, tx_asks.py, tx_transfers.py) implements these structurally.  The
jobs that step a chain or answer an ask also post a notice in the conversation (ports/conversations.py), and those
that send a round's or an ask's packet run the `sent` hooks (ports/packets.py `PacketSending`); a transfer's ports
are in ledger.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from hongbao.domain.relay import AskStatus, ChainEnd, ChainStatus, TransferStatus
from hongbao.service.ports.conversations import NamedNotices
from hongbao.service.ports.packets import PacketById, PacketSending
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


class AskFulfilling(AskWrites, PacketSending, Protocol):
    """Fulfilling an ask: its answer and notice, and the packet it sends."""


class ChainSteps(NamedNotices, Protocol):
    """A chain's step told in its group's conversation, in the transaction that makes it: best luck owes the next
    round, the round expired, the deadline passed (the relay's packet hooks and its deadline sweep)."""

    def relay_chain(self, chain_id: int) -> ChainRow | None: ...

    def claims_of(self, packet_id: int) -> list[ClaimRow]: ...

    def set_owed(self, chain_id: int, packet_id: int, user_id: int, due_at: datetime) -> bool: ...

    def end_chain(self, chain_id: int, reason: ChainEnd, now: datetime, *, packet_id: int | None = ...) -> bool: ...

    def add_relay_event(
        self, chain_id: int, kind: str, now: datetime, *, round_no: int | None = ..., user_id: int | None = ...,
        detail: str = ...,
    ) -> None: ...  # fmt: skip


class RoundSending(ChainSteps, PacketSending, Protocol):
    """A round: its packet sent, the chain moved on to it (refused if the chain moved first), the group told."""

    def start_round(
        self, chain_id: int, round_no: int, packet_id: int, sender_id: int, total_fen: int, shares_count: int,
        now: datetime, *, owed_by: int | None,
    ) -> bool: ...  # fmt: skip


class RelayPort(RoundSending, ChainReads, IdempotentReplies, Protocol):
    """What starting a chain in one's group, and sending its next round, read and write."""

    def create_chain(self, group_id: int, starter_id: int, min_fen: int, deadline_s: int, now: datetime) -> int: ...
