"""Shake (摇一摇): Gala events in rounds, sponsor prize pools, and one shake's draw under every cap.

A pool is a campaign of channel "shake" (its own budget account, prize table and figures) whose
window is the event's; the scheduler pass that closes campaigns returns a pool's unspent money.  An event is in its
owner's world (service/worlds.py): users of another world neither see it, nor sponsor it, nor shake (it is not found
for them, as an id nobody made); its world is cached with its row, so a losing shake still reads nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

from hongbao.domain import campaigns as dc
from hongbao.domain.campaigns import CampaignLimits, Candidate, Channel, PrizeKind
from hongbao.domain.errors import NotFound, Rejected
from hongbao.domain.paging import check_limit
from hongbao.domain.tickets import Lease
from hongbao.service.cache import Lru
from hongbao.service.campaign_claims import campaign_row
from hongbao.service.campaigns import Campaigns
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, first_reply, once, remember, stored_reply
from hongbao.service.results.campaigns import OwnedCampaign
from hongbao.service.results.shake import (
    Live,
    ShakeEvent,
    ShakeEventList,
    ShakeEventListed,
    Shaken,
    ShakeWon,
)
from hongbao.service.shake_limits import ShakeLimits
from hongbao.service.tickets import Tickets

if TYPE_CHECKING:
    from hongbao.service.ports.campaigns import CampaignRow
    from hongbao.service.ports.shake import EventRow, PoolPort, ShakeEvents, WinPort

EVENTS_LISTED_DEFAULT = 20
EVENTS_LISTED_MAX = 50
WIN_ATTEMPTS_MAX = 64  # batches and dead tickets one winning shake goes through before it settles for nothing
RECENTLY_ENDED = timedelta(hours=24)  # ended events stay listed this long, so latecomers see what they missed


def event_not_found() -> NotFound:
    return NotFound("No such shake event.", code="shake_event_not_found")


class Shake:
    def __init__(self, deps: Deps, campaigns: Campaigns, *, address_second_max: int = 0) -> None:
        self.d = deps
        self.campaigns = campaigns
        self.rates = ShakeLimits(campaigns.limits, address_second_max)
        self._events: Lru[int, EventRow] = Lru(1_000)
        self._live: Lru[int, tuple[int, int]] = Lru(1_000)  # event → (second, prizes left then)
        self._shaken: Lru[int, list[int]] = Lru(1_000)  # event → [second, shakes in it, shakes the second before]
        self._capped: Lru[tuple[int, int], bool] = Lru(1_000_000)  # users the database found at K wins
        self.cap_hits = 0  # winning draws of users already at K (a figure for the Gala report)
        self.tickets = Tickets(deps, lambda: campaigns.rng)

    @property
    def limits(self) -> CampaignLimits:
        return self.rates.limits

    @limits.setter
    def limits(self, value: CampaignLimits) -> None:
        self.rates.limits = value

    # ------------------------------------------------------------------ events and pools

    async def create_event(
        self,
        owner_id: int,
        *,
        name: object,
        rounds: list[tuple[datetime, datetime]],
        win_permille: object = 500,
        wins_per_user_max: object = None,
        cards: object = None,
    ) -> ShakeEvent:
        """An admin or an enterprise account schedules an event (the Gala) in rounds."""
        clean = dc.clean_text(name, "name", 64)
        now = self.d.clock.now()
        table = dc.check_rounds(rounds, now)
        if isinstance(win_permille, bool) or not isinstance(win_permille, int) or not 0 <= win_permille <= 1000:
            raise Rejected("win_permille is a whole number from 0 to 1000.", code="invalid_probability")
        k = self.limits.shake_wins_per_user_max if wins_per_user_max is None else wins_per_user_max
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
            raise Rejected("wins_per_user_max is a whole number from 1 to 100.", code="invalid_cap")
        texts = [] if cards is None else cards
        if not isinstance(texts, list) or len(texts) > dc.CARDS_MAX:
            raise Rejected(f"cards is a list of at most {dc.CARDS_MAX} texts.", code="invalid_branding")
        clean_cards = [dc.clean_text(t, "card", 64) for t in texts]

        def job(tx: ShakeEvents) -> ShakeEvent:
            if not tx.is_admin(owner_id) and tx.verified_as(owner_id) != "enterprise":
                raise dc.not_verified()
            eid = tx.create_event(owner_id, clean, table, win_permille, k, clean_cards, now)
            event = tx.event(eid)
            assert event is not None, "the event this job made"
            return self._public(tx, event, now)

        return await self.d.store.write(job)

    async def add_pool(
        self,
        event_id: int,
        sponsor_id: int,
        *,
        budget_fen: object,
        prizes: object,
        name: object,
        logo_url: object = None,
        cover_text: object = None,
        idem: IdempotencyKey | None = None,
    ) -> OwnedCampaign:
        """A sponsor (an enterprise account) funds a prize pool of the event from its wallet."""
        branding = dc.check_branding(name, logo_url, cover_text)
        table = dc.check_prizes(prizes, cash_fen_max=self.limits.cash_prize_fen_max)
        budget = self.campaigns.check_budget(budget_fen, table)
        now = self.d.clock.now()

        world = await self.campaigns.worlds.of(sponsor_id)

        def job(tx: PoolPort) -> OwnedCampaign:
            def effect() -> OwnedCampaign:
                event = tx.event(event_id)
                if event is None or event.world != world:
                    raise event_not_found()
                if tx.verified_as(sponsor_id) != "enterprise":
                    raise dc.not_verified()
                if now >= event.ends_at:
                    raise dc.campaign_ended()
                self.campaigns.check_offers(tx, sponsor_id, table)
                cid = tx.create_campaign(
                    owner_id=sponsor_id, channel=Channel.SHAKE.value, event_id=event_id, branding=branding,
                    starts_at=event.starts_at, ends_at=event.ends_at, budget_fen=budget, per_user_max=None,
                    per_day_max=None, link_token_hash=None, prizes=table, now=now,
                )  # fmt: skip
                return self.campaigns.public(tx, campaign_row(tx, cid), owner_view=True)

            return once(tx, idem, effect, now=now)

        reply = await self.d.store.write(job)
        self.tickets.budget_changed()
        return reply

    async def event(self, event_id: int, viewer_id: int) -> ShakeEvent:
        world = await self.campaigns.worlds.of(viewer_id)
        now = self.d.clock.now()

        def job(tx: ShakeEvents) -> ShakeEvent:
            event = tx.event(event_id)
            if event is None or event.world != world:
                raise event_not_found()
            return self._public(tx, event, now)

        return await self.d.store.read(job)

    async def events(self, viewer_id: int, limit: int = EVENTS_LISTED_DEFAULT) -> ShakeEventList:
        """Events the viewer can join (those of their world): live ones first, then by their next round's start,
        then the ones ended in the last 24 hours; each with its sponsors' branding (never their budgets)."""
        check_limit(limit, EVENTS_LISTED_MAX)
        world = await self.campaigns.worlds.of(viewer_id)
        now = self.d.clock.now()

        def job(tx: ShakeEvents) -> ShakeEventList:
            events = tx.events_listed(world, now, now - RECENTLY_ENDED, limit)
            pools = tx.campaigns_of_events([e.id for e in events])
            return {"events": [self._listed(e, pools.get(e.id, []), now) for e in events]}

        return await self.d.store.read(job)

    @staticmethod
    def _listed(event: EventRow, pools: list[CampaignRow], now: datetime) -> ShakeEventListed:
        on = dc.active_round(event.rounds, now)
        upcoming = next((r for r in event.rounds if r.starts_at > now), None)
        return {
            "id": event.id,
            "name": event.name,
            "starts_at": event.starts_at.isoformat(),
            "ends_at": event.ends_at.isoformat(),
            "rounds": [
                {"seq": r.seq, "starts_at": r.starts_at.isoformat(), "ends_at": r.ends_at.isoformat()}
                for r in event.rounds
            ],
            "live": on is not None,
            "active_round": None if on is None else on.seq,
            "next_round_starts_at": None if upcoming is None else upcoming.starts_at.isoformat(),
            "ended": now >= event.ends_at,
            "pools": [
                {"campaign_id": p.id, "sponsor_id": p.owner_id, "name": p.name, "logo_url": p.logo_url,
                 "cover_text": p.cover_text}
                for p in pools
                # A pool its sponsor ended early is no longer a sponsor; one closed at the event's end still is.
                if p.status == "active" or (p.closed_at is not None and p.closed_at >= event.ends_at)
            ],
        }  # fmt: skip

    def _public(self, tx: ShakeEvents, event: EventRow, now: datetime) -> ShakeEvent:
        on = dc.active_round(event.rounds, now)
        return {
            "id": event.id,
            "owner_id": event.owner_id,
            "name": event.name,
            "starts_at": event.starts_at.isoformat(),
            "ends_at": event.ends_at.isoformat(),
            "win_permille": event.win_permille,
            "wins_per_user_max": event.wins_per_user_max,
            "rounds": [
                {"seq": r.seq, "starts_at": r.starts_at.isoformat(), "ends_at": r.ends_at.isoformat()}
                for r in event.rounds
            ],
            "active_round": None if on is None else on.seq,
            "pools": [
                {"campaign_id": p.id, "sponsor_id": p.owner_id, "name": p.name, "logo_url": p.logo_url,
                 "cover_text": p.cover_text, "status": p.status}
                for p in tx.campaigns_of_event(event.id)
            ],
        }  # fmt: skip

    # ------------------------------------------------------------------ shake

    async def _event_row(self, event_id: int, user_id: int) -> EventRow:
        """The event, from memory after the first read (an event's rounds, chance, cap and world never change);
        not found for a user of another world (whose world is also known from memory after its first read)."""
        event = self._events.get(event_id)
        if event is None:
            event = await self.d.store.read(lambda tx: tx.event(event_id))
            if event is None:
                raise event_not_found()
            self._events.put(event_id, event)
        if event.world != await self.campaigns.worlds.of(user_id):
            raise event_not_found()
        return event

    async def shake(
        self, event_id: int, user_id: int, idem: IdempotencyKey | None = None, *, address: str | None = None
    ) -> Shaken:
        """One shake: nothing, a cash prize (credited at once), a coupon, or a greeting card.

        Checks in order: too_many_shakes (per address, then 5 a second per user, counted in this process before any
        read, so a flood never reaches the database) → shake_event_not_found (none, or another world's) →
        round_not_active → too_many_shakes (100 a round) → pool_empty.  A retry with its key gets the first answer
        before all of them.  A shake that loses the draw is answered from memory (stored only when it has a key); a
        winner takes one of this process's win tickets (service/tickets.py) and is answered once its prize and its
        win (at most K per user, counted by the database) are committed.
        """
        now = self.d.clock.now()
        if idem is not None:
            # A retry gets the first answer before the rate limit, which would count it as a new shake.
            first = await stored_reply(self.d.store, idem)
            if first is not None:
                return cast(Shaken, first)  # the stored answer of this shake (the request hash names it)
        self.rates.check_rate(event_id, user_id, address, now)
        event = await self._event_row(event_id, user_id)
        on = dc.active_round(event.rounds, now)
        if on is None:
            raise dc.round_not_active()
        counted = self.rates.count_in_round(event_id, user_id, on.seq)
        self._count_shake(event_id, now)
        try:
            reply = await self._draw(event, on.seq, user_id, idem, now)
        except BaseException:
            self.rates.uncount(event_id, user_id, counted)
            raise
        if idem is not None and reply["result"] in ("nothing", "card"):
            # A keyed shake asks for its answer to outlive this process: a lost draw is stored too (a retry gets it).
            lost = reply
            reply = await self.d.store.write(lambda tx: once(tx, idem, lambda: lost, 200, now=now))
        if reply["result"] in ("cash", "coupon"):
            self.d.hooks.published("shake_won", {"user_id": user_id, **reply})
        return reply

    async def _draw(
        self, event: EventRow, seq: int, user_id: int, idem: IdempotencyKey | None, now: datetime
    ) -> Shaken:
        tickets, rng = self.tickets, self.campaigns.rng
        book = await tickets.book(event.id, seq, now)
        if not book.leases and book.empty_at is None:
            await tickets.refill(event.id, book, wait=True)  # the round's first batch
        if tickets.known_empty(book):
            raise dc.pool_empty()
        out = {"event_id": event.id, "round": seq}
        drew = dc.wins(rng, event.win_permille)
        if drew and self._capped.get((event.id, user_id)) is not None:
            self.cap_hits += 1
        elif drew:
            for _ in range(WIN_ATTEMPTS_MAX):
                lease = tickets.take(book)
                if lease is None:
                    await tickets.refill(event.id, book, wait=True)
                    lease = tickets.take(book)
                    if lease is None:
                        if tickets.known_empty(book):
                            raise dc.pool_empty()
                        if book.last_leased == 0 and not tickets.orphans_waiting():
                            break  # other processes hold what is left: this shake wins nothing
                        # else a lease orphaned here meanwhile goes back with the next batch: lease again
                        continue  # other shakes here took the batch first: lease again
                try:
                    won = await self.d.store.write(self._win_job(event, lease, user_id, idem, now))
                except BaseException:
                    tickets.orphan(book, lease)  # used or not, the store knows: its lease goes back at the next batch
                    raise
                if isinstance(won, _Capped):
                    self.cap_hits += 1
                    tickets.put_back(book, lease)
                    self._capped.put((event.id, user_id), True)
                    break
                if won is None:
                    await tickets.drop(book, lease)
                    continue
                if tickets.low(book):
                    await tickets.refill(event.id, book, wait=False)
                return cast(ShakeWon, {**out, **won})  # won names the round again: as its ticket had it
        if event.cards and rng.random() < 0.5:
            card = event.cards[int(rng.random() * len(event.cards)) % len(event.cards)]
            return {"event_id": event.id, "round": seq, "result": "card", "card": card}
        return {"event_id": event.id, "round": seq, "result": "nothing"}

    def _win_job(
        self, event: EventRow, lease: Lease, user_id: int, idem: IdempotencyKey | None, now: datetime
    ) -> Callable[[WinPort], ShakeWon | dict[str, Any] | _Capped | None]:
        """The winner's write: one win counted under K, one ticket used, its prize paid; all or nothing.
        Answers the prize, `_CAPPED` (the user has K wins: the ticket stays unused) or None (the ticket is dead)."""
        holder, day = self.tickets.holder, self.campaigns.day(now)
        prize = Candidate(lease.prize_id, PrizeKind(lease.kind), 1, lease.amount_fen, lease.offer_id)
        round_seq = lease.round_seq

        def job(tx: WinPort) -> ShakeWon | dict[str, Any] | _Capped | None:
            first = first_reply(tx, idem)
            if first is not None:
                return first
            try:
                with tx.conn.begin_nested():
                    if not tx.count_shake_win(event.id, user_id, event.wins_per_user_max):
                        return _CAPPED
                    if lease.id > 0 and not tx.use_ticket(lease.id, holder):  # (Redis's: the award decides)
                        raise _Dead
                    got = tx.award_prize(lease.campaign_id, prize, user_id, day, "shake", now)
                    if got is None:
                        raise _Dead
                    pool = campaign_row(tx, lease.campaign_id)
                    reply: ShakeWon = {
                        "event_id": event.id, "round": round_seq, "result": cast(Literal["cash", "coupon"], got.kind),
                        "campaign_id": pool.id,
                        "claim_id": got.claim_id, "kind": got.kind, "amount_fen": got.amount_fen,
                        "coupon_id": got.coupon_id, "name": pool.name, "cover_text": pool.cover_text,
                        "logo_url": pool.logo_url, "sponsor_id": pool.owner_id,
                    }  # fmt: skip
                    remember(tx, idem, reply, 200, now=now)
                    return reply
            except _Dead:
                return None

        return job

    async def live(self, event_id: int, viewer_id: int) -> Live:
        """The live counters a shake page shows: prizes left (read at most once a second per process) and the
        shakes this process answered in the last whole second.  Not found, as the event is, outside its world."""
        await self._event_row(event_id, viewer_id)
        now = self.d.clock.now()
        second = int(now.timestamp())
        cached = self._live.get(event_id)
        if cached is None or cached[0] != second:
            left: int = await self.d.store.read(lambda tx: tx.prizes_left(event_id, now))
            cached = (second, left)
            self._live.put(event_id, cached)
        counted = self._shaken.get(event_id)
        rate = counted[1] if counted is not None and counted[0] == second - 1 else 0
        if counted is not None and counted[0] == second:
            rate = counted[2]
        return {"event_id": event_id, "prizes_left": cached[1], "shakes_per_s": rate}

    def _count_shake(self, event_id: int, now: datetime) -> None:
        """[second, shakes in it, shakes in the second before] of the event, in this process."""
        second = int(now.timestamp())
        counted = self._shaken.get(event_id)
        if counted is None:
            self._shaken.put(event_id, [second, 1, 0])
        elif counted[0] == second:
            counted[1] += 1
        else:
            counted[2] = counted[1] if counted[0] == second - 1 else 0
            counted[0], counted[1] = second, 1

    async def release_due(self, now: datetime | None = None) -> int:
        """The scheduler's sweep: win tickets of ended rounds, closed pools and expired leases go back."""
        return await self.tickets.release_due(now or self.d.clock.now())

    def close(self) -> None:
        self.tickets.close()
        self.rates.close()

    def on_published(self, event: str, payload: Mapping[str, Any]) -> None:
        if event == "campaign_closed":
            self.tickets.forget_campaign(int(payload["campaign_id"]))


class _Dead(Exception):
    """A ticket that can no longer pay (given back meanwhile, its pool closed, its coupon stock gone)."""


class _Capped:
    """What the winner's write answers when the user already has K wins (its ticket stays unused)."""


_CAPPED = _Capped()
