"""The in-process grab gate of embedded mode: packet state and group membership cached in memory.

Safe with several processes too: everything it remembers is either permanent (a claim, an
exhausted or expired packet) or re-checked against the store before a refusal (membership),
and the store decides every claim again inside its atomic step.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from hongbao.cache import Lru
from hongbao.domain.errors import HongbaoError
from hongbao.domain.packets import PacketStatus, PacketView, check_grab
from hongbao.service.ports import Store

T = TypeVar("T")


@dataclass
class _PacketState:
    view: PacketView
    claimers: set[int]
    pending: set[int] = field(default_factory=set)
    exhausted: bool = False


class LocalGate:
    """Gate held in this process's memory (DESIGN.md §4, embedded mode)."""

    def __init__(self, store: Store, *, packets_max: int = 10_000, groups_max: int = 10_000) -> None:
        self._store = store
        self._packets: Lru[int, _PacketState] = Lru(packets_max)
        self._members: Lru[int, set[int]] = Lru(groups_max)
        self._loading: dict[int, asyncio.Future[_PacketState | None]] = {}
        self._loading_members: dict[int, asyncio.Future[set[int]]] = {}
        # For /metrics (adapters/metrics.py): plain counters, the cheapest thing to bump on the hot path.
        self.refusals: Counter[tuple[str, str]] = Counter()  # ("grab" | "open", code): answered from memory
        self.open_outcomes: Counter[str] = Counter()  # how opens ended: settle's outcome, or the gate's refusal

    async def admit(
        self,
        packet_id: int,
        user_id: int,
        now: datetime,
        *,
        reserve: bool,
        audience: Callable[[PacketView], Awaitable[bool]],
        secret_ok: Callable[[PacketView], bool] = lambda _: True,
    ) -> PacketView:
        st = self._packets.get(packet_id) or await self._load(packet_id)
        view = st.view if st else None
        eligible = await audience(view) if view is not None else True
        taken = len(st.claimers) + len(st.pending) if st else 0
        self.check(
            reserve,
            view,
            user_id=user_id,
            now=now,
            eligible=eligible,
            secret_ok=secret_ok(view) if view is not None else True,
            already_claimed=bool(st and (user_id in st.claimers or user_id in st.pending)),
            claimed_count=st.view.shares_count if st and st.exhausted else taken,
        )
        assert st is not None and view is not None
        if reserve:
            st.pending.add(user_id)
        return view

    def check(self, reserve: bool, view: PacketView | None, **facts: Any) -> None:
        """`check_grab`, counting a refusal (a gate hit) for /metrics: by call, and as an open's outcome."""
        try:
            check_grab(view, **facts)
        except HongbaoError as refusal:
            self.refusals["open" if reserve else "grab", refusal.code] += 1
            if reserve:
                self.open_outcomes[refusal.code] += 1
            raise

    def settle(self, packet_id: int, user_id: int, outcome: str) -> None:
        self.open_outcomes[outcome] += 1
        st = self._packets.get(packet_id)
        if st is None:
            return
        st.pending.discard(user_id)
        if outcome in ("won", "already_claimed"):
            st.claimers.add(user_id)
            if len(st.claimers) >= st.view.shares_count:
                st.exhausted = True
        elif outcome == "exhausted":
            st.exhausted = True
        elif outcome == "expired":
            st.view = replace(st.view, status=PacketStatus.EXPIRED)

    def forget_group(self, group_id: int) -> None:
        self._members.pop(group_id)

    def forget_packet(self, packet_id: int) -> None:
        self._packets.pop(packet_id)

    async def _load(self, packet_id: int) -> _PacketState | None:
        return await _single_flight(self._loading, packet_id, lambda: self._read_packet(packet_id))

    async def _read_packet(self, packet_id: int) -> _PacketState | None:
        row, claimers = await self._store.read(lambda tx: (tx.packet(packet_id), tx.claimer_ids(packet_id)))
        if row is None:
            return None
        st = _PacketState(row.view, set(claimers), exhausted=row.view.status is PacketStatus.FINISHED)
        self._packets.put(packet_id, st)
        return st

    async def is_member(self, group_id: int, user_id: int) -> bool:
        """Membership from memory; a refusal is re-checked against the store."""
        members = self._members.get(group_id) or await self._load_members(group_id)
        if user_id in members:
            return True
        # A refusal is re-checked against the store: another process may have added the member.
        if await self._store.read(lambda tx: tx.is_member(group_id, user_id)):
            members.add(user_id)
            return True
        return False

    async def _load_members(self, group_id: int) -> set[int]:
        """Read a group's member list once for every grab that arrives before the first read ends.

        Without this single flight, the first second of a storm on a 10,000-member group read the
        whole list once per request (measured with bench/variant_server.py --variant member-flight).
        """
        return await _single_flight(self._loading_members, group_id, lambda: self._read_members(group_id))

    async def _read_members(self, group_id: int) -> set[int]:
        members = set(await self._store.read(lambda tx: tx.member_ids(group_id)))
        self._members.put(group_id, members)
        return members


async def _single_flight(flights: dict[int, asyncio.Future[T]], key: int, read: Callable[[], Awaitable[T]]) -> T:
    """Every caller that arrives while `read()` for `key` is running shares its one result (or error)."""
    flight = flights.get(key)
    if flight is None:
        flight = asyncio.ensure_future(read())
        flights[key] = flight
        flight.add_done_callback(lambda _: flights.pop(key, None))
    return await asyncio.shield(flight)
