"""The workload's shake (摇一摇): events in rounds, sponsors' prize pools, shakes alone and in bursts under the
rate limits and the K wins per user, and the clock jumping to the edges of rounds and campaign windows."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hongbao.sim.base import NO_SUCH_ID, Mismatch
from hongbao.sim.campaigns import CampaignOps
from hongbao.sim.model import Campaign, Offer, PrizeLine, ShakeEvent

CARDS = ["福", "禄", "寿"]


class ShakeOps(CampaignOps):
    # ------------------------------------------------------------------ events and pools

    async def op_event(self) -> None:
        if not self.m.events or self.rng.random() < 0.35:
            await self._create_event()
        else:
            await self._add_pool(self.rng.choice(self.m.event_list).id)

    async def _create_event(self) -> None:
        enterprises, r, now = self.m.enterprises(), self.rng.random(), self.clock.now()
        owner = self.rng.choice(enterprises) if enterprises and self.rng.random() < 0.9 else self.user()
        start = now + timedelta(seconds=self.rng.choice([0, self.rng.randint(60, 900)]))
        rounds: list[tuple[datetime, datetime]] = []
        for _ in range(self.rng.randint(1, 3)):
            end = start + timedelta(seconds=self.rng.randint(600, 3_600))
            rounds.append((start, end))
            start = end + timedelta(seconds=self.rng.randint(0, 1_200))
        win = self.rng.choice([0, 250, 500, 800, 1000]) if r > 0.03 else 1001
        wins_max = self.rng.choice([None, 1, 2, 3])
        cards = self.rng.choice([[], CARDS])
        want = "invalid_probability" if win > 1000 else None
        if 0.03 <= r < 0.06:
            # Overlapping rounds, or a round that ends as it starts.
            first = rounds[0]
            rounds = [first, (first[1] - timedelta(seconds=60), first[1] + timedelta(seconds=300))] if r < 0.045 \
                else [(first[0], first[0])]
            want = "invalid_window"
        if want is None and self.m.verified.get(owner) != "enterprise":
            want = "not_verified"
        self.note("create_event", f"u={owner} rounds={[(a.isoformat(), b.isoformat()) for a, b in rounds]} "
                                  f"win_permille={win} wins_max={wins_max} cards={cards}")
        reply, code = await self.attempt(
            self.app.shake.create_event(owner, name=f"晚会{len(self.m.events)}", rounds=rounds, win_permille=win,
                                        wins_per_user_max=wins_max, cards=cards)
        )  # fmt: skip
        self.expect(code, want, "create event")
        if reply is None:
            return
        k = self.app.campaigns.limits.shake_wins_per_user_max if wins_max is None else wins_max
        ev = ShakeEvent(reply["id"], owner, rounds, win, k, list(cards))
        if ev.id in self.m.events:
            raise Mismatch(f"create event gave the existing event id {ev.id}")
        got = [(datetime.fromisoformat(x["starts_at"]), datetime.fromisoformat(x["ends_at"])) for x in reply["rounds"]]
        self.same((got, reply["win_permille"], reply["wins_per_user_max"], reply["pools"]), (rounds, win, k, []),
                  "the new event")  # fmt: skip
        self.m.add_event(ev)
        self.counts["events"] += 1
        for _ in range(self.rng.choice([0, 1, 1, 2])):
            await self._add_pool(ev.id)

    async def _add_pool(self, eid: int) -> None:
        ev = self.m.events[eid] if self.rng.random() > 0.03 else None
        eid = ev.id if ev is not None else NO_SUCH_ID
        enterprises = self.m.enterprises()
        sponsor = self.rng.choice(enterprises) if enterprises and self.rng.random() < 0.9 else self.user()
        lines = self.prize_table(sponsor)
        budget = self.budget_for(lines)
        params: dict[str, Any] = {"event_id": eid, "name": f"池{len(self.m.campaigns)}", "budget_fen": budget,
                                  "prizes": [p.body() for p in lines]}  # fmt: skip
        await self.maybe_fund(sponsor, budget)
        key = self.key()
        self.note("add_pool", f"u={sponsor} {params} key={key}")
        reply, code = await self.money("shake-pool", sponsor, params, key)
        want = self.table_code(lines, budget)
        if want is None:
            if ev is None:
                want = "shake_event_not_found"
            elif self.m.verified.get(sponsor) != "enterprise":
                want = "not_verified"
            elif self.clock.now() >= ev.ends_at:
                want = "campaign_ended"
            else:
                want = self.offers_code(sponsor, lines)
                if want is None and budget > self.m.balance[sponsor]:
                    want = "insufficient_funds"
        self.expect(code, want, "add a pool")
        if reply is None or ev is None:
            return
        c = Campaign(reply["id"], sponsor, "shake", ev.id, ev.rounds[0][0], ev.ends_at, budget, lines)
        self.check_created(reply, c)
        self.m.add_campaign(c)
        self.touched_campaigns.add(c.id)
        ev.pools.append(c.id)
        self.m.balance[sponsor] -= budget
        self.remember("shake-pool", sponsor, key, params, reply)
        self.counts["pools"] += 1

    # ------------------------------------------------------------------ shakes

    def predict_shake(self, ev: ShakeEvent | None, eid: int, user: int) -> str | None:
        """The refusal a shake must get now (None: it is answered); it records the shake in the rate window,
        which the service does before it looks the event up."""
        now, limits = self.clock.now(), self.app.campaigns.limits
        window = [t for t in self.shake_windows.get((eid, user), []) if (now - t).total_seconds() < 1.0]
        self.shake_windows[(eid, user)] = window
        if len(window) >= limits.shakes_per_second_max:
            return "too_many_shakes"
        window.append(now)
        if ev is None:
            return "shake_event_not_found"
        seq = ev.round_at(now)
        if seq is None:
            return "round_not_active"
        done = ev.round_shakes.get(user)
        if done is not None and done[0] == seq and done[1] >= limits.shakes_per_round_max:
            return "too_many_shakes"
        return None if self._open_pools(ev) else "pool_empty"

    @staticmethod
    def emptied(want: str | None, reply: dict[str, Any] | None) -> str | None:
        """A shake that lost the draw is answered from the process's memory: one that came as the last prize went
        may hear nothing (or a card) rather than pool_empty, which a process answers once it knows."""
        if want == "pool_empty" and reply is not None and reply.get("result") in ("nothing", "card"):
            return None
        return want

    def _open_pools(self, ev: ShakeEvent) -> list[Campaign]:
        now = self.clock.now()
        pools = [self.m.campaigns[p] for p in ev.pools]
        return [p for p in pools if p.status() == "active" and self.m.candidates(p, now)]

    def shaken(self, ev: ShakeEvent, user: int, reply: dict[str, Any], *, sure: bool = True) -> None:
        """Check an answered shake against what was possible, and book it (`sure`: a sure win answered nothing
        while prizes are left is a finding; a burst checks that itself, once its wins are booked)."""
        seq = ev.round_at(self.clock.now())
        assert seq is not None
        self.same((reply["event_id"], reply["round"]), (ev.id, seq), "the shaken event and round")
        result = reply["result"]
        may_win = ev.win_permille > 0 and ev.wins[user] < ev.wins_max
        if result in ("cash", "coupon"):
            pool = self.m.campaigns.get(reply["campaign_id"])
            if not may_win or pool is None or pool.id not in {p.id for p in self._open_pools(ev)}:
                raise Mismatch(f"event {ev.id}: user {user} won in pool {reply['campaign_id']} with "
                               f"{ev.wins[user]} of {ev.wins_max} wins and win_permille {ev.win_permille}")
            self.same(reply["sponsor_id"], pool.owner, "the pool's sponsor")
            self.won(pool, user, reply)
            ev.wins[user] += 1
            self.counts["shake_wins"] += 1
        elif result in ("nothing", "card"):
            if sure and may_win and ev.win_permille == 1000 and self._open_pools(ev) and self.stranded_until is None:
                raise Mismatch(f"event {ev.id}: a sure win (win_permille 1000) answered {result!r}")
            if result == "card" and reply.get("card") not in ev.cards:
                raise Mismatch(f"event {ev.id}: card {reply.get('card')!r} is not one of {ev.cards}")
        else:
            raise Mismatch(f"event {ev.id}: a shake answered {result!r}")
        done = ev.round_shakes.get(user)
        ev.round_shakes[user] = (seq, done[1] + 1 if done is not None and done[0] == seq else 1)
        ev.shakes[user] += 1
        self.touched_players.add((ev.id, user))
        self.counts["shakes"] += 1

    async def op_shake(self) -> None:
        if not self.m.events:
            await self.op_event()
            return
        await self._release_stranded()
        live = self._live_events()
        if not live and self.rng.random() < 0.6:
            # Most shakes come while a round is on: wait for the next one to start, or schedule one now.
            now = self.clock.now()
            ahead = sorted(start for e in self.m.live_events(now) for start, _ in e.rounds if start > now)
            if not ahead or self.rng.random() < 0.3:
                await self._create_event()
                return
            seconds = int((ahead[0] - self.clock.now()).total_seconds())
            self.note("clock", f"+{seconds}s (to the next round)")
            self.clock.advance(seconds)
            live = self._live_events()
        r = self.rng.random()
        if live and r < 0.8:
            ev: ShakeEvent | None = self.rng.choice(live)
        else:
            ev = self.rng.choice(self.m.event_list) if r < 0.97 else None
        eid = ev.id if ev is not None else NO_SUCH_ID
        if self.rng.random() < 0.3:
            await self._shake_burst(ev, eid)
            return
        user, key = self.user(), self.key()
        self.note("shake", f"e={eid} u={user} key={key}")
        want = self.predict_shake(ev, eid, user)
        reply, code = await self.attempt(self.request("shake", user, {"event_id": eid}, key))
        self.expect(code, self.emptied(want, reply), "shake")
        if reply is None or ev is None:
            return
        self.shaken(ev, user, reply)
        self.remember("shake", user, key, {"event_id": eid}, reply)
        if key is not None and self.rng.random() < 0.3:
            self.note("shake", f"e={eid} u={user} key={key} again")
            again, code = await self.attempt(self.request("shake", user, {"event_id": eid}, key))
            self.expect(code, None, "shake replayed")
            self.same(again, reply, "a replayed shake: the first answer")
            self.counts["replays"] += 1

    async def _release_stranded(self) -> None:
        """The scheduler's ticket sweep, once the leases of a killed process have run out: their tickets go back."""
        if self.stranded_until is None or self.clock.now() < self.stranded_until:
            return
        self.note("release_due", "the tickets of a killed process")
        _, unknown = await self.sweep(self.app.shake.release_due, "release shake tickets")
        if not unknown:
            self.stranded_until = None

    def _live_events(self) -> list[ShakeEvent]:
        now = self.clock.now()
        return [e for e in self.m.live_events(now) if e.round_at(now) is not None]

    async def _shake_burst(self, ev: ShakeEvent | None, eid: int) -> None:
        """One user shaking many times at once (past the rate limit), with a few others.

        The first shake goes alone, as a page's first shake does: it loads the event and the round's first tickets
        into the process, so that the others pass the rate limits without waiting, in the order they were issued,
        and the run replays.  Which of them reaches a ticket first is still the process's business (a batch of
        tickets leased meanwhile wakes its waiters in its own order), so the answers are checked in any order:
        every win against the prizes left and the caps, every refusal against the state once the wins are booked.
        A shake may hear pool_empty (or, sure to win, nothing) while the last tickets are held by the burst's
        other shakes, in flight to a winner that turns out capped: so when no more prizes are left than shakes
        in the burst, pool_empty is accepted; when more are left, it is a finding."""
        user = self.user()
        users = [user] * self.rng.randint(3, 8) + [self.user() for _ in range(self.rng.randint(0, 3))]
        self.rng.shuffle(users)
        self.note("shake_burst", f"e={eid} users={users}")
        first, rest = users[0], users[1:]
        want = self.predict_shake(ev, eid, first)
        reply, code = await self.attempt(self.request("shake", first, {"event_id": eid}, None))
        self.expect(code, self.emptied(want, reply), f"the first shake by user {first} of a burst")
        if reply is not None and ev is not None:
            self.shaken(ev, first, reply)
        # The rate limits are passed in the order the shakes are issued (before any read or write).
        results = await asyncio.gather(*(self.attempt(self.request("shake", u, {"event_id": eid}, None))
                                         for u in rest))  # fmt: skip
        empty: list[int] = []
        lost: list[tuple[int, dict[str, Any]]] = []
        for u, (reply, code) in zip(rest, results, strict=True):
            want = self.predict_shake(ev, eid, u)
            if want not in (None, "pool_empty") or ev is None:
                self.expect(code, want, f"shake by user {u} in a burst")
            elif reply is not None and reply.get("result") in ("cash", "coupon"):
                self.shaken(ev, u, reply)
            elif reply is not None:
                self.shaken(ev, u, reply, sure=False)
                lost.append((u, reply))
            elif code == "pool_empty":
                empty.append(u)
            else:
                self.expect(code, want, f"shake by user {u} in a burst")
        if ev is None:
            return
        left = self.prizes_left(ev)
        for u in empty:
            if left > len(rest):
                raise Mismatch(f"shake by user {u} in a burst of {len(rest)}: pool_empty with {left} prizes left "
                               f"in event {ev.id}")
        sure = ev.win_permille == 1000 and self.stranded_until is None  # no ticket held by a dead process
        for u, reply in lost:
            if sure and ev.wins[u] < ev.wins_max and left > len(rest):
                raise Mismatch(f"event {ev.id}: a sure win by user {u} in a burst answered {reply['result']!r} "
                               f"with {left} prizes left")
        self.counts["shake_bursts"] += 1

    def prizes_left(self, ev: ShakeEvent) -> int:
        """At least how many more prizes the event's open pools give before they are empty (`least_prizes`)."""
        now = self.clock.now()
        return least_prizes([(c, self.m.candidates(c, now)) for c in self._open_pools(ev)], self.m.offers)

    # ------------------------------------------------------------------ time

    async def op_wait(self) -> None:
        """Move the clock to (or one second before) the next edge of a round, a window or a Beijing day."""
        now = self.clock.now()
        offset = timedelta(hours=self.app.campaigns.limits.day_utc_offset_h)
        local = now + offset
        midnight = datetime(local.year, local.month, local.day, tzinfo=UTC) + timedelta(days=1) - offset
        rounds = {t for e in self.m.live_events(now) for pair in e.rounds for t in pair if t > now}
        marks = sorted(rounds | set(self.next_marks(now)) | {midnight})
        at = self.rng.choice(marks[:6]) - timedelta(seconds=self.rng.choice([0, 0, 1]))
        seconds = max(0, int((at - now).total_seconds()))
        self.note("clock", f"+{seconds}s (to a round, window or day edge)")
        self.clock.advance(seconds)


def least_prizes(pools: list[tuple[Campaign, list[PrizeLine]]], offers: Mapping[int, Offer]) -> int:
    """At least how many more prizes these pools (each with the prizes it may still draw) give before they are
    empty, however the draws fall.

    Prizes of one pool share its budget, so a sum of what each could give alone overstates it (300 fen left and
    prizes of 100 and 200 fen: three at most, and only two if the 200 comes first).  Draws stop when no prize
    fits, so until then each took at most the dearest: a pool gives at least ⌊left / dearest⌋ cash prizes, or
    every prize count left if that is fewer.  Coupons spend no budget: at least the offer's stock left or the
    prizes' counts left, whichever is less, counted once per offer however many pools give it."""
    n = 0
    coupons: dict[int, float] = {}
    for pool, lines in pools:
        cash = [p for p in lines if p.kind == "cash" and p.amount_fen > 0]
        if cash:
            counts = [p.count_max - p.issued for p in cash if p.count_max is not None]
            fits = pool.left_fen // max(p.amount_fen for p in cash)
            n += fits if len(counts) < len(cash) else min(fits, sum(counts))
        for p in lines:
            if p.kind == "coupon" and p.offer_id is not None:
                coupons[p.offer_id] = coupons.get(p.offer_id, 0) + (
                    float("inf") if p.count_max is None else p.count_max - p.issued
                )
    return n + sum(int(min(offers[o].stock - offers[o].issued, count)) for o, count in coupons.items())
