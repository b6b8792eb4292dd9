"""Ports: what the use cases need from the outside world, as small Protocols.

What a use case's job asks of the store is typed per area in this package's modules (people.py, replies.py,
ledger.py, conversations.py, packets.py, open_kinds.py, relay.py, campaigns.py, shake.py …), beside the rows the store
answers; the SQL transaction implements them structurally, and mypy checks that whenever a job typed with one is
handed to `Store.write`, `Store.read` or `Store.settle`.  What the packet and money hooks get is a port too
(packets.py `SentEvents`, packet_hooks.py, ledger.py `MoneyEvents`): a job that runs them takes its area's port
combined with the event's.  `Tx` remains the store's own type, in `Store` and `Bulk`, for the jobs handed to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from hongbao.domain.packets import PacketView

if TYPE_CHECKING:
    # The whole transaction API is the SQL adapter's repository; there is one store implementation
    # (SQLite and PostgreSQL share it), so its class doubles as the widest port's description.
    from hongbao.adapters.sql.lookup import SqlLookup as Lookup
    from hongbao.adapters.sql.tx import SqlTx as Tx

__all__ = [
    "Bulk", "Clock", "Gate", "Lookup", "PasswordHasher", "PaymentChannel", "ShareWanted", "Store", "SystemClock", "Tx"
]

T = TypeVar("T")
ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Bulk(Generic[ItemT]):
    """A write settled together with the other writes of the same `key` waiting in the writer's batch.

    `settle(tx, [(write_id, item), ...])` answers one `(ok, value or refusal)` per item, in order, and books each
    item's transfers under its write id.  The writer runs a key's items in one SAVEPOINT; if `settle` fails as a
    whole, each item runs alone, so a failing item still fails alone.  This is how one batch's opens of many
    packets cost a handful of set-based statements instead of a dozen each (adapters/sql/tx_settle.py)."""

    key: Hashable
    item: ItemT
    settle: Callable[[Tx, list[tuple[str, ItemT]]], list[tuple[bool, Any]]]


@dataclass(frozen=True)
class ShareWanted:
    """One open for the store to settle: who opens which packet, when, under which write (one request)."""

    packet_id: int
    user_id: int
    now: datetime
    write_id: str | None


class Store(Protocol):
    """Runs jobs against the store: writes are serialised and group-committed, reads run in parallel, and lookups
    (a row or two by key) run wherever they cost least without blocking the event loop."""

    async def write(self, job: Callable[[Tx], T]) -> T: ...

    async def settle(self, bulk: Bulk[Any]) -> Any: ...

    async def read(self, job: Callable[[Tx], T]) -> T: ...

    async def look(self, job: Callable[[Lookup], T]) -> T: ...

    def write_sync(self, job: Callable[[Tx], T]) -> T: ...

    def read_sync(self, job: Callable[[Tx], T], *, snapshot: bool = False) -> T: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time, aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


class PaymentChannel(Protocol):
    """Moves real money in and out of the platform (a bank, Alipay, WeChat Pay…)."""

    name: str

    def charge(self, user_id: int, amount_fen: int, reference: str | None = None) -> str:
        """Take money from the user's outside account; return the channel's reference or raise Rejected.

        `reference` is the channel's idempotency key: the same reference again takes no money again and
        answers the first channel reference (the same reference with another amount is refused).
        """
        ...

    def payout(self, user_id: int, amount_fen: int, reference: str | None = None) -> str:
        """Send money to the user's outside account; return the channel's reference or raise Rejected.

        `reference` deduplicates as for `charge`.
        """
        ...

    def lookup(self, reference: str) -> str | None:
        """What became of the charge or payout made with `reference`: its channel reference, or None if the channel
        never moved money for it (the sweep asks this of a top-up whose request died before it heard back)."""
        ...


class Gate(Protocol):
    """Answers the cheap question before any money moves: is a share left for this user?

    The in-process gate serves embedded mode; the Redis Lua gate serves scaled mode.  A gate is
    an accelerator: the store decides every claim again inside its atomic step.
    """

    async def admit(
        self,
        packet_id: int,
        user_id: int,
        now: datetime,
        *,
        reserve: bool,
        audience: Callable[[PacketView], Awaitable[bool]],
        secret_ok: Callable[[PacketView], bool] = ...,
    ) -> PacketView:
        """Raise the first refusal in the documented order; with `reserve`, hold a place until `settle`.

        `audience` answers "is this user in the packet's audience?" cheaply; `secret_ok` whether the
        code or phrase the user gave matches.
        """
        ...

    async def is_member(self, group_id: int, user_id: int) -> bool:
        """Cheap membership check (cached); refusals re-checked against the store."""
        ...

    def settle(self, packet_id: int, user_id: int, outcome: str) -> None:
        """Record how an open ended: "won", "already_claimed", "exhausted", "expired" or "failed"."""
        ...

    def forget_group(self, group_id: int) -> None:
        """Membership of this group changed: drop what the gate remembers of it."""
        ...

    def forget_packet(self, packet_id: int) -> None: ...
