"""The workload's enterprise campaigns: creating link and followers campaigns, claiming alone and in bursts (with
and without keys, replayed), topping budgets up, cancelling, and closing them at their end with the rest returned."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from hongbao.domain.campaigns import day_of
from hongbao.sim.base import NO_SUCH_ID, Mismatch
from hongbao.sim.enterprise import LINK_FAILURES_MAX, EnterpriseOps
from hongbao.sim.hostile import LOST
from hongbao.sim.model import Campaign

WINDOW_S_MAX = 2 * 86_400


class CampaignOps(EnterpriseOps):
    def day(self) -> str:
        return day_of(self.clock.now(), self.app.campaigns.limits.day_utc_offset_h)

    # ------------------------------------------------------------------ create

    async def op_campaign(self) -> None:
        enterprises = self.m.enterprises()
        if not enterprises:
            await self.op_enterprise()
            return
        owner = self.rng.choice(enterprises) if self.rng.random() < 0.92 else self.user()
        channel = self.rng.choice(["link", "followers"]) if self.rng.random() < 0.97 else "shake"
        lines = self.prize_table(owner)
        budget = self.budget_for(lines)
        r, now = self.rng.random(), self.clock.now()
        user_max = self.rng.choice([None, 1, 2, 3]) if r > 0.03 else 0
        day_max = self.rng.choice([None, None, 1, 2])
        starts_at = now + timedelta(seconds=self.rng.choice([0, 0, 0, self.rng.randint(60, 900)]))
        long = self.rng.random() < 0.15
        ends_at = starts_at + timedelta(seconds=self.rng.randint(600, WINDOW_S_MAX if long else 7_200))
        if 0.03 <= r < 0.06:
            ends_at = now - timedelta(seconds=self.rng.randint(0, 60))
        params = {"channel": channel, "name": f"活动{len(self.m.campaigns)}", "starts_at": starts_at.isoformat(),
                  "ends_at": ends_at.isoformat(), "budget_fen": budget, "prizes": [p.body() for p in lines],
                  "per_user_max": user_max, "per_day_max": day_max}  # fmt: skip
        await self.maybe_fund(owner, budget)
        key = self.key()
        self.note("create_campaign", f"u={owner} {params} key={key}")
        reply, code = await self.money("campaign", owner, params, key)
        if code == LOST:
            return
        want = "invalid_channel" if channel not in ("link", "followers") else self.table_code(lines, budget)
        if want is None and user_max == 0:
            want = "invalid_cap"
        if want is None and (ends_at <= starts_at or ends_at <= now):
            want = "invalid_window"
        if want is None and self.m.verified.get(owner) != "enterprise":
            want = "not_verified"
        if want is None:
            want = self.offers_code(owner, lines) or ("insufficient_funds" if budget > self.m.balance[owner] else None)
        self.expect(code, want, "create campaign")
        if reply is None:
            return
        c = Campaign(reply["id"], owner, channel, None, starts_at, ends_at, budget, lines, user_max, day_max)
        self.check_created(reply, c)
        c.token = reply.get("link_token")
        self.same(c.token is not None, channel == "link", "a link token for a link campaign only")
        self.m.add_campaign(c)
        self.touched_campaigns.add(c.id)
        self.m.balance[owner] -= budget
        self.remember("campaign", owner, key, params, reply)
        self.counts["campaigns"] += 1

    # ------------------------------------------------------------------ claim

    def visible(self, c: Campaign, user: int, token: str | None) -> bool:
        return user == c.owner or c.channel != "link" or (token is not None and token == c.token)

    def predict_claim(self, c: Campaign | None, user: int, token: str | None) -> str | None:
        """The refusal a claim must get now, in the documented order; None if it must win a prize.

        A claim refused as not found with a token counts against the claim-link limiter: this records it."""
        code = self.claim_gate(c, user, token)
        if code is not None or c is None:
            return code
        return self.cap_code(c, user) or (None if self.m.candidates(c, self.clock.now()) else "campaign_exhausted")

    def cap_code(self, c: Campaign, user: int) -> str | None:
        if c.per_user_max is not None and c.claims[user] >= c.per_user_max:
            return "cap_reached"
        if c.per_day_max is not None and c.day_claims[(user, self.day())] >= c.per_day_max:
            return "cap_reached"
        return None

    def claim_gate(self, c: Campaign | None, user: int, token: str | None) -> str | None:
        """The refusals before the caps: none of them depends on other claims of the same campaign."""
        if self.link_failures[user] >= LINK_FAILURES_MAX:
            return "too_many_attempts"
        now = self.clock.now()
        if c is None or c.channel == "shake" or not self.visible(c, user, token):
            if token is not None:
                self.link_failures[user] += 1
            return "campaign_not_found"
        if c.status() != "active" or now >= c.ends_at:
            return "campaign_ended"
        if now < c.starts_at:
            return "campaign_not_started"
        if c.channel == "followers" and (user, c.owner) not in self.m.follows:
            return "not_follower"
        return None

    def won(self, c: Campaign, user: int, reply: dict[str, Any]) -> None:
        """Check one prize (a claim's or a shake's) against the prizes left, and book it in the model."""
        now, day = self.clock.now(), self.day()
        kind, amount, coupon = reply["kind"], reply["amount_fen"], reply["coupon_id"]
        left = self.m.candidates(c, now)
        if kind == "cash":
            line = next((p for p in left if p.kind == "cash" and p.amount_fen == amount), None)
            fits = coupon is None
        else:
            line = next((p for p in left if p.kind == "coupon"), None) if kind == "coupon" else None
            fits = amount == 0 and isinstance(coupon, int) and coupon not in self.m.coupons
        if line is None or not fits:
            raise Mismatch(f"campaign {c.id}: user {user} won {kind} of {amount} fen (coupon {coupon}); "
                           f"the prizes left were {[p.body() for p in left]} with {c.left_fen} fen")
        if reply["claim_id"] in self.m.claim_ids or reply["campaign_id"] != c.id:
            raise Mismatch(f"campaign {c.id}: claim {reply['claim_id']} of campaign {reply['campaign_id']}")
        if self.cap_code(c, user) is not None:
            raise Mismatch(f"campaign {c.id}: user {user} won one more prize with {c.claims[user]} won already "
                           f"({c.day_claims[(user, day)]} today); caps {c.per_user_max} and {c.per_day_max} a day")
        self.m.claim_ids.add(reply["claim_id"])
        self.touched_campaigns.add(c.id)
        line.issued += 1
        if line.offer_id is not None:
            self.m.offers[line.offer_id].issued += 1
            self.m.add_coupon(coupon, line.offer_id, user)
        c.paid_fen += amount
        c.claims[user] += 1
        c.day_claims[(user, day)] += 1
        self.m.balance[user] += amount
        self.counts["prizes_won"] += 1
        self.counts["prizes_paid_fen"] += amount

    def pick_campaign(self) -> tuple[int, Campaign | None]:
        now, r = self.clock.now(), self.rng.random()
        live = [c for c in self.m.open_campaigns.values() if c.channel != "shake" and c.live(now)]
        if live and r < 0.75:
            c = self.rng.choice(live)
        elif r < 0.97:
            c = self.rng.choice(self.m.campaign_list)
        else:
            return NO_SUCH_ID, None
        return c.id, c

    def pick_claimer(self, c: Campaign | None) -> int:
        if c is not None and c.channel == "followers" and self.rng.random() < 0.7:
            followers = sorted(self.m.followers.get(c.owner, ()))
            if followers:
                return self.rng.choice(followers)
        return self.user()

    def pick_token(self, c: Campaign | None) -> str | None:
        r = self.rng.random()
        if c is not None and c.token is not None and r < 0.8:
            return c.token
        return None if r < 0.9 else f"wrong-{self.rng.getrandbits(64):016x}"

    async def op_claim(self) -> None:
        if not self.m.campaigns:
            await self.op_campaign()
            return
        cid, c = self.pick_campaign()
        user, token, key = self.pick_claimer(c), self.pick_token(c), self.key()
        params = {"campaign_id": cid, "token": token}
        self.note("claim", f"c={cid} u={user} token={'right' if c and token == c.token else token} key={key}")
        want = self.predict_claim(c, user, token)
        reply, code = await self.money("campaign-claim", user, params, key)
        self.expect(code, want, "claim")
        if reply is None or c is None:
            return
        self.won(c, user, reply)
        self.remember("campaign-claim", user, key, params, reply)
        if key is not None and self.rng.random() < 0.3:
            self.note("claim", f"c={cid} u={user} key={key} again")
            again, code = await self.attempt(self.request("campaign-claim", user, params, key))
            self.expect(code, None, "claim replayed")
            self.same(again, reply, "a replayed claim: the first answer")
            self.counts["replays"] += 1

    async def op_claim_burst(self) -> None:
        """Many claims of one campaign at once, users racing themselves and, now and then, the owner cancelling it:
        caps, prize counts and the budget must hold, and the cancel returns exactly what was not paid."""
        now = self.clock.now()
        live = [c for c in self.m.open_campaigns.values() if c.channel != "shake" and c.live(now)]
        if not live:
            await self.op_claim()
            return
        c = self.rng.choice(live)
        people = sorted(self.m.followers.get(c.owner, ())) if c.channel == "followers" else self.m.users
        users = self.rng.sample(people, min(len(people), self.rng.randint(2, 8)))
        users += [self.rng.choice(users or self.m.users) for _ in range(self.rng.randint(1, 3))]
        users += [self.user() for _ in range(self.rng.randint(0, 1))]
        self.rng.shuffle(users)
        cancel_at = self.rng.randint(0, len(users)) if self.rng.random() < 0.2 else None
        params = {"campaign_id": c.id, "token": c.token}
        self.note("claim_burst", f"c={c.id} users={users} cancel_at={cancel_at}")
        calls = [self.attempt(self.request("campaign-claim", u, params, None)) for u in users]
        if cancel_at is not None:
            calls.insert(cancel_at, self.attempt(self.request("campaign-cancel", c.owner, {"campaign_id": c.id}, None)))
        results = await asyncio.gather(*calls)
        cancelled: dict[str, Any] | None = None
        if cancel_at is not None:
            cancelled, code = results.pop(cancel_at)
            self.expect(code, None, "cancel during a burst of claims")
        # Which claim reaches the writer first is not the model's to decide (a claim of a campaign once found empty
        # reads before it writes), so the outcomes are checked in any order: every prize must have been left, and
        # every refusal must be one that the end state explains.
        later: list[tuple[int, str]] = []
        for u, (reply, code) in zip(users, results, strict=True):
            gate = self.claim_gate(c, u, c.token)
            if reply is not None:
                self.expect(gate, None, f"a prize for user {u} in a burst")
                self.won(c, u, reply)
            elif code == "campaign_ended" and gate in (None, "not_follower"):
                # After the cancel (the campaign's end is checked before who follows whom).
                if cancelled is None:
                    raise Mismatch(f"claim by user {u} in a burst: campaign_ended, and nobody ended campaign {c.id}")
            elif gate is not None or code not in ("cap_reached", "campaign_exhausted"):
                self.expect(code, gate, f"claim by user {u} in a burst")
            else:
                later.append((u, str(code)))
        for u, code in later:
            if code == "cap_reached" and self.cap_code(c, u) is None:
                raise Mismatch(f"claim by user {u} in a burst: cap_reached with {c.claims[u]} prizes won")
            if code == "campaign_exhausted" and self.m.candidates(c, now):
                raise Mismatch(f"claim by user {u} in a burst: campaign_exhausted with prizes left")
        if cancelled is not None:
            self._closed(c)
            self.same((cancelled["status"], cancelled["paid_fen"], cancelled["returned_fen"]),
                      ("closed", c.paid_fen, c.returned_fen), "a campaign cancelled during a burst of claims")
        self.counts["claim_bursts"] += 1

    # ------------------------------------------------------------------ the owner: top up, cancel; the close

    async def op_budget(self) -> None:
        if not self.m.campaigns:
            await self.op_campaign()
            return
        active = list(self.m.open_campaigns.values())
        c = self.rng.choice(active if active and self.rng.random() < 0.85 else self.m.campaign_list)
        actor = c.owner if self.rng.random() < 0.85 else self.user()
        if self.rng.random() < 0.65:
            await self._top_up(c, actor)
        else:
            await self._cancel(c, actor)

    def _owner_code(self, c: Campaign, actor: int) -> str | None:
        if not self.visible(c, actor, None):
            return "campaign_not_found"
        return "not_campaign_owner" if actor != c.owner else None

    async def _top_up(self, c: Campaign, actor: int) -> None:
        r, now, limit = self.rng.random(), self.clock.now(), self.app.campaigns.limits.budget_fen_max
        amount = 0 if r < 0.04 else limit - c.budget_fen + 1 if r < 0.08 else self.rng.randint(1, 3_000)
        if actor == c.owner:
            await self.maybe_fund(actor, amount)
        params, key = {"campaign_id": c.id, "amount_fen": amount}, self.key()
        self.note("top_up_budget", f"c={c.id} u={actor} amount={amount} key={key}")
        reply, code = await self.money("campaign-top-up", actor, params, key)
        want = "invalid_amount" if amount <= 0 else self._owner_code(c, actor)
        if want is None and (c.status() != "active" or now >= c.ends_at):
            want = "campaign_ended"
        if want is None and not c.has_cash():
            want = "invalid_amount"
        if want is None and c.budget_fen + amount > limit:
            want = "amount_too_large"
        if want is None and amount > self.m.balance[actor]:
            want = "insufficient_funds"
        self.expect(code, want, "top up a budget")
        if reply is None:
            return
        c.budget_fen += amount
        self.touched_campaigns.add(c.id)
        self.m.balance[actor] -= amount
        self.same((reply["budget_fen"], reply["added_fen"], reply["remaining_fen"]), (c.budget_fen, amount, c.left_fen),
                  "the budget after a top-up")  # fmt: skip
        self.remember("campaign-top-up", actor, key, params, reply)
        self.counts["budget_top_ups"] += 1

    async def _cancel(self, c: Campaign, actor: int) -> None:
        params, key = {"campaign_id": c.id}, self.key()
        self.note("cancel_campaign", f"c={c.id} u={actor} key={key}")
        reply, code = await self.money("campaign-cancel", actor, params, key)
        want = self._owner_code(c, actor) or ("campaign_ended" if c.status() != "active" else None)
        self.expect(code, want, "cancel a campaign")
        if reply is None:
            return
        self._closed(c)
        self.same((reply["status"], reply["returned_fen"], reply["remaining_fen"]), ("closed", c.returned_fen, 0),
                  "a cancelled campaign")  # fmt: skip
        self.remember("campaign-cancel", actor, key, params, reply)
        self.counts["cancelled"] += 1

    def _closed(self, c: Campaign) -> None:
        c.returned_fen = c.budget_fen - c.paid_fen
        self.m.open_campaigns.pop(c.id, None)
        self.touched_campaigns.add(c.id)
        self.m.balance[c.owner] += c.returned_fen
        self.counts["campaigns_closed"] += 1
        self.counts["returned_fen"] += c.returned_fen

    async def op_close(self) -> None:
        """The scheduler's pass: every campaign and pool past its end closes, its rest going back once."""
        now = self.clock.now()
        due = [c for c in self.m.open_campaigns.values() if c.ends_at <= now]
        self.note("close_campaigns", f"at={now.isoformat()} due={[c.id for c in due]}")
        closed, unknown = await self.sweep(self.app.campaigns.close_ended_campaigns, "close ended campaigns")
        if unknown:  # the pass that met a fault closed some or none; the next pass closes the rest, once
            closed += await self.app.campaigns.close_ended_campaigns()
            if closed > len(due):
                raise Mismatch(f"campaigns closed: {closed} of {len(due)} due, after a pass that met a fault")
        else:
            self.same(closed, len(due), "campaigns closed")
        for c in due:
            self._closed(c)
        if self.rng.random() < 0.2:
            self.note("close_campaigns", "again")
            self.same(await self.app.campaigns.close_ended_campaigns(), 0, "campaigns closed by a second pass")

    def next_marks(self, now: datetime) -> list[datetime]:
        """Campaign windows' starts and ends still ahead."""
        return sorted({t for c in self.m.open_campaigns.values()
                       for t in (c.starts_at, c.ends_at) if t > now})  # fmt: skip
