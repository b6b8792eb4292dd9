"""Shake (摇一摇): Gala events in rounds, sponsor prize pools, and one shake's draw under every cap.

A pool is a campaign of channel "shake" (its own budget account, prize table and figures) whose
window is the event's; the scheduler pass that closes campaigns returns a pool's unspent money.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

from hongbao.domain import campaigns as dc
from hongbao.domain.campaigns import Channel
from hongbao.domain.errors import NotFound, Rejected
from hongbao.domain.paging import check_limit
from hongbao.service.cache import Lru
from hongbao.service.campaigns import Campaigns
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, once, stored_reply

EVENTS_LISTED_DEFAULT = 20
EVENTS_LISTED_MAX = 50
RECENTLY_ENDED = timedelta(hours=24)  # ended events stay listed this long, so latecomers see what they missed


class Shake:
    def __init__(self, deps: Deps, campaigns: Campaigns) -> None:
        self.d = deps
        self.campaigns = campaigns
        self.limits = campaigns.limits
        self._recent: Lru[tuple[int, int], deque[datetime]] = Lru(100_000)

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
    ) -> dict[str, Any]:
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

        def job(tx: Any) -> dict[str, Any]:
            if not tx.is_admin(owner_id) and tx.verified_as(owner_id) != "enterprise":
                raise dc.not_verified()
            eid = tx.create_event(owner_id, clean, table, win_permille, k, clean_cards, now)
            return self._public(tx, tx.event(eid), now)

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
    ) -> dict[str, Any]:
        """A sponsor (an enterprise account) funds a prize pool of the event from its wallet."""
        branding = dc.check_branding(name, logo_url, cover_text)
        table = dc.check_prizes(prizes, cash_fen_max=self.limits.cash_prize_fen_max)
        budget = self.campaigns.check_budget(budget_fen, table)
        now = self.d.clock.now()

        def job(tx: Any) -> dict[str, Any]:
            def effect() -> dict[str, Any]:
                event = tx.event(event_id)
                if event is None:
                    raise NotFound("No such shake event.", code="shake_event_not_found")
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
                return self.campaigns.public(tx, tx.campaign(cid), owner_view=True)

            return once(tx, idem, effect, now=now)

        return await self.d.store.write(job)

    async def event(self, event_id: int) -> dict[str, Any]:
        now = self.d.clock.now()

        def job(tx: Any) -> dict[str, Any]:
            event = tx.event(event_id)
            if event is None:
                raise NotFound("No such shake event.", code="shake_event_not_found")
            return self._public(tx, event, now)

        return await self.d.store.read(job)

    async def events(self, limit: int = EVENTS_LISTED_DEFAULT) -> dict[str, Any]:
        """Events a person can join: live ones first, then by their next round's start, then the ones ended in
        the last 24 hours; each with its sponsors' branding (never their budgets)."""
        check_limit(limit, EVENTS_LISTED_MAX)
        now = self.d.clock.now()

        def job(tx: Any) -> dict[str, Any]:
            events = tx.events_listed(now, now - RECENTLY_ENDED, limit)
            pools = tx.campaigns_of_events([e.id for e in events])
            return {"events": [self._listed(e, pools.get(e.id, []), now) for e in events]}

        return await self.d.store.read(job)

    @staticmethod
    def _listed(event: Any, pools: list[Any], now: datetime) -> dict[str, Any]:
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

    def _public(self, tx: Any, event: Any, now: datetime) -> dict[str, Any]:
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

    def _check_rate(self, event_id: int, user_id: int, now: datetime) -> None:
        """At most `shakes_per_second_max` shakes per user and event in any second (this process)."""
        window = self._recent.get((event_id, user_id))
        if window is None:
            window = deque()
            self._recent.put((event_id, user_id), window)
        while window and (now - window[0]).total_seconds() >= 1.0:
            window.popleft()
        if len(window) >= self.limits.shakes_per_second_max:
            raise dc.too_many_shakes(f"At most {self.limits.shakes_per_second_max} shakes per second.")
        window.append(now)

    async def shake(self, event_id: int, user_id: int, idem: IdempotencyKey | None = None) -> dict[str, Any]:
        """One shake: nothing, a cash prize (credited at once), a coupon, or a greeting card.

        Checks in order: too_many_shakes (5 a second, counted in this process before any read, so a flood never
        reaches the database) → shake_event_not_found → round_not_active → too_many_shakes (100 a round) →
        pool_empty.  A retry with its key gets the first answer before all of them.
        """
        now = self.d.clock.now()
        # A retry gets the first answer before the rate limit, which would count it as a new shake.
        first = await stored_reply(self.d.store, idem)
        if first is not None:
            return first
        self._check_rate(event_id, user_id, now)
        rng = self.campaigns.rng
        day = self.campaigns.day(now)

        def job(tx: Any) -> dict[str, Any]:
            def effect() -> dict[str, Any]:
                event = tx.event(event_id)
                if event is None:
                    raise NotFound("No such shake event.", code="shake_event_not_found")
                on = dc.active_round(event.rounds, now)
                if on is None:
                    raise dc.round_not_active()
                if not tx.count_shake(event_id, user_id, on.seq, self.limits.shakes_per_round_max):
                    raise dc.too_many_shakes(f"At most {self.limits.shakes_per_round_max} shakes per round.")
                pools = [
                    p for p in tx.campaigns_of_event(event_id)
                    if p.status == "active" and tx.prize_candidates(p, now)
                ]  # fmt: skip
                if not pools:
                    raise dc.pool_empty()
                out: dict[str, Any] = {"event_id": event_id, "round": on.seq}
                if dc.wins(rng, event.win_permille) and tx.take_win(event_id, user_id, event.wins_per_user_max):
                    # Start at a random pool, so no sponsor's pool is always drained first.
                    start = int(rng.random() * len(pools)) % len(pools)
                    for pool in pools[start:] + pools[:start]:
                        won = self.campaigns.award(tx, pool, user_id, day, "shake", now)
                        if won is not None:
                            sponsor = {"campaign_id": pool.id, "sponsor_id": pool.owner_id}
                            return {**out, "result": won["kind"], **won, **sponsor}
                    tx.give_back_win(event_id, user_id)
                if event.cards and rng.random() < 0.5:
                    card = event.cards[int(rng.random() * len(event.cards)) % len(event.cards)]
                    return {**out, "result": "card", "card": card}
                return {**out, "result": "nothing"}

            return once(tx, idem, effect, 200, now=now)

        reply = await self.d.store.write(job)
        if reply["result"] in ("cash", "coupon"):
            self.d.hooks.published("shake_won", {"user_id": user_id, **reply})
        return reply
