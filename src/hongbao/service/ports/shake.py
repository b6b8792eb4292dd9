"""What shake (摇一摇) needs from the store: events in rounds, sponsor pools, win tickets leased to a process, and a
win counted under the K cap with its prize paid in one savepoint.

The SQL transaction (adapters/sql/tx_shake.py, tx_tickets.py, tx_campaign*.py) implements these structurally.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hongbao.domain.campaigns import Rng, Round
from hongbao.domain.tickets import Lease
from hongbao.service.ports.campaigns import CampaignRecords, CampaignRow, ClaimRecords


@dataclass(frozen=True)
class EventRow:
    id: int
    owner_id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    win_permille: int
    wins_per_user_max: int
    cards: list[str]
    rounds: list[Round]
    world: int  # its owner's (service/worlds.py): only users of this world see it or shake


class ShakeEvents(Protocol):
    """Events and the pools sponsors added to them; admins and enterprise accounts schedule events."""

    def is_admin(self, user_id: int) -> bool: ...

    def verified_as(self, user_id: int) -> str | None: ...

    def create_event(
        self, owner_id: int, name: str, rounds: Sequence[Round], win_permille: int, wins_per_user_max: int,
        cards: Sequence[str], now: datetime,
    ) -> int: ...  # fmt: skip

    def event(self, event_id: int) -> EventRow | None: ...

    def events_listed(self, world: int, now: datetime, ended_since: datetime, limit: int) -> list[EventRow]: ...

    def campaigns_of_event(self, event_id: int) -> list[CampaignRow]: ...

    def campaigns_of_events(self, event_ids: Sequence[int]) -> dict[int, list[CampaignRow]]: ...


class PoolPort(ShakeEvents, CampaignRecords, Protocol):
    """What adding a sponsor's pool to an event uses: the event, and a campaign of channel "shake"."""


class Savepoints(Protocol):
    def begin_nested(self) -> AbstractContextManager[Any]: ...


class WinPort(ClaimRecords, Protocol):
    """A winning shake's write: one win counted under K, one ticket used, its prize paid, all in one savepoint."""

    @property
    def conn(self) -> Savepoints: ...

    def count_shake_win(self, event_id: int, user_id: int, wins_max: int) -> bool: ...

    def use_ticket(self, lease_id: int, holder: str) -> bool: ...


class TicketLeases(Protocol):
    """Win tickets leased to one process (its `holder`), renewed while it shakes and given back when not used."""

    def lease_tickets(
        self, event_id: int, round_seq: int, holder: str, want: int, expires_at: datetime, now: datetime, rng: Rng
    ) -> list[Lease]: ...

    def release_leases(
        self, *, holder: str | None = None, lease_ids: Sequence[int] | None = None, due_at: datetime | None = None
    ) -> int: ...

    def renew_leases(self, holder: str, expires_at: datetime) -> int: ...

    def tickets_held_elsewhere(self, event_id: int, holder: str, now: datetime) -> bool: ...
