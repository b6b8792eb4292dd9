"""This process's shake win tickets: prizes leased from the pools for the current round, handed out to winners.

A shake that loses the draw is answered from memory; one that wins takes a ticket and only then reaches the
writer (adapters/sql/tx_tickets.py decides every lease, use and return by conditional UPDATEs, so no pool is
overspent across processes).  Tickets are leased in batches sized to the shake rate, refilled in the background
when few are left, and given back when the round ends (the next shake or the scheduler's sweep), when the process
stops (`close`), or, the process gone, when their lease expires (renewed while the process shakes).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hongbao.domain.campaigns import Rng
from hongbao.domain.tickets import Lease, draw_tickets
from hongbao.service.deps import Deps

if TYPE_CHECKING:
    from hongbao.adapters.redis_tickets import RedisTickets
    from hongbao.service.ports.shake import TicketLeases

log = logging.getLogger(__name__)
_LIVE: weakref.WeakSet[Tickets] = weakref.WeakSet()


def _after_fork() -> None:
    for tickets in list(_LIVE):
        tickets.renew_holder()


os.register_at_fork(after_in_child=_after_fork)
EMPTY_KNOWN_S = 1.0  # a round found with nothing left anywhere is answered pool_empty this long without asking


@dataclass
class _Book:
    """The tickets of one event's current round held here, and the round's shake rate (to size the next batch)."""

    round_seq: int
    left: dict[int, int] = field(default_factory=dict)  # lease id → tickets left here
    leases: dict[int, Lease] = field(default_factory=dict)
    stock: list[int] = field(default_factory=list)  # lease ids with tickets left, to draw from
    used: int = 0  # tickets handed out here this round
    refilling: asyncio.Task[None] | None = None
    empty_at: datetime | None = None  # when the store last said: nothing left, nothing held elsewhere
    last_leased: int = -1  # tickets the last batch brought

    def count(self) -> int:
        return sum(self.left.values())


class Tickets:
    """Per process: a book of tickets per event, for its current round."""

    def __init__(
        self, deps: Deps, rng: Callable[[], Rng], *, lease_s: float = 30.0, batch_min: int = 16, batch_max: int = 512
    ) -> None:
        self.d = deps
        self._rng = rng  # the campaigns' generator, read when drawn (a simulation seeds it after wiring)
        self.lease_s = lease_s
        self.batch_min = batch_min
        self.batch_max = batch_max
        self._books: dict[int, _Book] = {}
        self._booked = False  # whether this process ever took a book: one that never shook holds no ticket
        self._renew_after = deps.clock.now() + timedelta(seconds=self.lease_s / 3)
        self._renewing: asyncio.Future[None] | None = None
        self._orphans: set[int] = set()  # leases whose tickets are no longer handed out here, to give back
        self.redis: RedisTickets | None = None  # scaled mode: batches granted by Redis (adapters/redis_tickets.py)
        self._redis_ids = itertools.count(-1, -1)  # Redis's leases have negative ids: the database knows none
        self.renew_holder()
        _LIVE.add(self)  # a forked worker holds its own tickets (_after_fork)

    @property
    def rng(self) -> Rng:
        return self._rng()

    def renew_holder(self) -> None:
        self.holder = secrets.token_hex(8)
        self._books = {}
        self._orphans = set()

    # ------------------------------------------------------------------ the book of a round

    async def book(self, event_id: int, round_seq: int, now: datetime | None = None) -> _Book:
        """The event's book for this round; the tickets of an earlier round go back first.  `now`: the caller's
        clock reading, if it has one (a shake), saves reading it again."""
        book = self._books.get(event_id)
        if book is not None and book.round_seq == round_seq:
            self._maybe_renew(now)
            return book
        new = self._books[event_id] = _Book(round_seq)  # before the await: a shake meanwhile finds this one
        self._booked = True
        if book is not None:
            await self._give_back([(lease, book.left.get(i, 0)) for i, lease in book.leases.items()])
        return new

    def take(self, book: _Book) -> Lease | None:
        """One ticket of the book, from a lease drawn at random (None: none here)."""
        while book.stock:
            i = int(self.rng.random() * len(book.stock)) % len(book.stock)
            lease_id = book.stock[i]
            left = book.left.get(lease_id, 0)
            if left <= 0:
                book.stock[i] = book.stock[-1]
                book.stock.pop()
                continue
            book.left[lease_id] = left - 1
            book.used += 1
            if left == 1:
                book.stock[i] = book.stock[-1]
                book.stock.pop()
            return book.leases[lease_id]
        return None

    def put_back(self, book: _Book, lease: Lease) -> None:
        """A ticket taken but not used (the winner was at the cap): it stays here for the next winner."""
        if lease.id not in book.leases:
            return
        if book.left.get(lease.id, 0) == 0:
            book.stock.append(lease.id)
        book.used -= 1
        book.left[lease.id] = book.left.get(lease.id, 0) + 1

    async def drop(self, book: _Book, lease: Lease) -> None:
        """A lease found dead (given back by a sweep, its pool closed, its coupon stock gone): forget it, and give
        back whatever the store still holds of it."""
        left = book.left.pop(lease.id, 0)
        book.leases.pop(lease.id, None)
        await self._give_back([(lease, left)])

    def orphan(self, book: _Book, lease: Lease) -> None:
        """A winner's write failed with its outcome unknown: whether its ticket was used only the store knows, so the
        whole lease is given back (what is left of it) with the next batch leased.  (A ticket from Redis is simply
        spent: the database judged it, whatever the outcome.)"""
        if lease.id < 0:
            return
        book.left.pop(lease.id, None)
        book.leases.pop(lease.id, None)
        self._orphans.add(lease.id)

    def forget_campaign(self, campaign_id: int) -> None:
        """A pool closed: its tickets here can no longer pay (the sweep gives them back in the store)."""
        for book in self._books.values():
            for lease_id in [i for i, lease in book.leases.items() if lease.campaign_id == campaign_id]:
                book.left.pop(lease_id, None)
                book.leases.pop(lease_id, None)
            book.empty_at = None

    def budget_changed(self) -> None:
        """A pool grew (a top-up, a new pool): a round known empty may have prizes again."""
        for book in self._books.values():
            book.empty_at = None

    def orphans_waiting(self) -> bool:
        """Whether leases orphaned here wait to be given back (with the next batch leased)."""
        return bool(self._orphans)

    def known_empty(self, book: _Book) -> bool:
        if book.empty_at is None or book.stock:
            return False
        return (self.d.clock.now() - book.empty_at).total_seconds() < EMPTY_KNOWN_S

    # ------------------------------------------------------------------ leasing

    async def refill(self, event_id: int, book: _Book, *, wait: bool) -> None:
        """Lease the next batch (one at a time per book); `wait` for it, else let it run in the background."""
        if book.refilling is None or book.refilling.done():
            book.refilling = asyncio.ensure_future(self._lease(event_id, book))
            book.refilling.add_done_callback(_seen)  # a background refill nobody awaits: _lease logged its failure
        if wait:
            await asyncio.shield(book.refilling)

    def low(self, book: _Book) -> bool:
        return book.count() * 4 < self._want(book) and book.empty_at is None

    def _want(self, book: _Book) -> int:
        """Each batch twice the tickets used so far this round (within bounds): a busy round soon leases in big
        batches, a quiet one holds little.  Counted, not timed, so a seeded simulation replays the same batches."""
        return max(self.batch_min, min(self.batch_max, 2 * book.used))

    async def _lease(self, event_id: int, book: _Book) -> None:
        now = self.d.clock.now()
        want = self._want(book)
        holder, seq, until = self.holder, book.round_seq, now + timedelta(seconds=self.lease_s)
        # The draw runs on the writer's thread: a seeded generator (simulations) gets its own, seeded here, so the
        # shakes' draws on this thread and the batch's there never interleave.
        draw = self.rng if isinstance(self.rng, random.SystemRandom) else random.Random(self.rng.random())

        if self.redis is not None:
            got, some = await self._lease_from_redis(event_id, seq, want, draw, now)
            await self._keep(event_id, book, got, some, now)
            return
        orphans = sorted(self._orphans)

        def job(tx: TicketLeases) -> tuple[list[Lease], bool]:
            if orphans:
                tx.release_leases(holder=holder, lease_ids=orphans)
            got: list[Lease] = tx.lease_tickets(event_id, seq, holder, want, until, now, draw)
            return got, bool(got) or tx.tickets_held_elsewhere(event_id, holder, now)

        try:
            got, some = await self.d.store.write(job)
        except Exception:
            log.exception("leasing shake tickets failed (event %s round %s)", event_id, seq)
            raise
        self._orphans.difference_update(orphans)
        # A lease orphaned here after this batch was asked for still holds its tickets in the store: the round is
        # not empty, they come back with the next batch.
        await self._keep(event_id, book, got, some or bool(self._orphans), now)

    async def _keep(self, event_id: int, book: _Book, got: list[Lease], some: bool, now: datetime) -> None:
        if self._books.get(event_id) is not book:  # the round ended meanwhile: these go back at once
            book.last_leased = 0
            await self._give_back([(lease, lease.tickets) for lease in got])
            return
        for lease in got:
            book.leases[lease.id] = lease
            book.left[lease.id] = lease.tickets
            book.stock.append(lease.id)
        book.empty_at = None if some else now
        book.last_leased = sum(lease.tickets for lease in got)

    # ------------------------------------------------------------------ giving back and renewing

    async def _lease_from_redis(
        self, event_id: int, seq: int, want: int, draw: Rng, now: datetime
    ) -> tuple[list[Lease], bool]:
        """Scaled mode: the prizes drawn from the database's figures (a read), granted by Redis's script."""
        assert self.redis is not None
        options, budget_left, stock_left = await self.d.store.read(lambda tx: tx.ticket_options(event_id, now))
        in_db = dict(budget_left)
        count_in_db = {o.prize_id: -1 if o.left is None else o.left for o in options}
        by_prize = {(o.campaign_id, o.prize_id): o for o in options}
        drawn = sorted(draw_tickets(options, budget_left, stock_left, want, draw).items())
        wanted = [(cid, in_db[cid], pid, count_in_db[pid], by_prize[(cid, pid)].amount_fen, n)
                  for (cid, pid), n in drawn]  # fmt: skip
        granted = await asyncio.to_thread(self.redis.grant, event_id, seq, wanted) if wanted else []
        got = []
        for ((cid, pid), _), n in zip(drawn, granted, strict=True):
            if n > 0:
                o = by_prize[(cid, pid)]
                got.append(Lease(next(self._redis_ids), event_id, seq, cid, o.sponsor_id, pid, o.kind, o.amount_fen,
                                 o.offer_id, n))  # fmt: skip
        return got, bool(got)

    async def _give_back(self, leases: list[tuple[Lease, int]]) -> None:
        """Tickets not used go back: a database lease by its id (the store knows what is left of it), Redis's by
        the count left here."""
        in_redis = [(lease, n) for lease, n in leases if lease.id < 0 and n > 0]
        if in_redis and self.redis is not None:
            for (event_id, seq) in {(lease.event_id, lease.round_seq) for lease, _ in in_redis}:
                back = [(lease.campaign_id, lease.amount_fen * n, lease.prize_id, n) for lease, n in in_redis
                        if (lease.event_id, lease.round_seq) == (event_id, seq)]  # fmt: skip
                await asyncio.to_thread(self.redis.give_back, event_id, seq, back)
        lease_ids = [lease.id for lease, _ in leases if lease.id > 0]
        if not lease_ids:
            return
        holder = self.holder

        def job(tx: TicketLeases) -> int:
            returned: int = tx.release_leases(holder=holder, lease_ids=lease_ids)
            return returned

        await self.d.store.write(job)

    def _maybe_renew(self, now: datetime | None = None) -> None:
        """While this process shakes, its leases stay alive (renewed every third of a lease)."""
        if now is None:
            now = self.d.clock.now()
        if now < self._renew_after or (self._renewing and not self._renewing.done()):
            return
        self._renew_after = now + timedelta(seconds=self.lease_s / 3)
        holder, until = self.holder, self.d.clock.now() + timedelta(seconds=self.lease_s)

        def job(tx: TicketLeases) -> int:
            renewed: int = tx.renew_leases(holder, until)
            return renewed

        self._renewing = asyncio.ensure_future(self._quietly(job))

    async def _quietly(self, job: Callable[[TicketLeases], int]) -> None:
        try:
            await self.d.store.write(job)
        except Exception:  # a lease not renewed expires: its tickets go back, nothing is paid twice
            log.warning("renewing shake ticket leases failed", exc_info=True)

    async def release_due(self, now: datetime) -> int:
        """The scheduler's sweep: tickets of every process whose lease expired, whose round ended or whose pool
        closed go back to their pools (each lease once, whoever sweeps)."""
        returned: int = await self.d.store.write(lambda tx: tx.release_leases(due_at=now))
        return returned

    def close(self) -> None:
        """The process stops: every ticket it holds goes back now."""
        holder = self.holder
        books, self._books = self._books, {}
        booked, self._booked = self._booked, False
        if self.redis is not None:
            for book in books.values():
                for lease_id, lease in book.leases.items():
                    n = book.left.get(lease_id, 0)
                    if lease_id < 0 and n > 0:
                        self.redis.give_back(lease.event_id, lease.round_seq,
                                             [(lease.campaign_id, lease.amount_fen * n, lease.prize_id, n)])
            self.redis.close()
        if not booked:  # nothing was ever leased here (every CLI command, a server nobody shook): no write at stop
            return
        try:
            self.d.store.write_sync(lambda tx: tx.release_leases(holder=holder))
        except Exception:  # the lease expires and the sweep gives them back
            log.exception("giving back shake tickets at stop failed; they return when their lease expires")


def _seen(task: asyncio.Task[None]) -> None:
    """Mark a refill's failure as retrieved (it was logged where it happened), so asyncio does not report it again
    as "Task exception was never retrieved" when nobody waited for it (a refill in the background)."""
    if not task.cancelled():
        task.exception()
