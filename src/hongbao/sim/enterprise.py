"""The workload's enterprises: verifying accounts, merchants and their coupon offers, followers, prize tables and
budgets, and the campaign and shake requests shaped as the HTTP API shapes them (for first tries and retries)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from hongbao.service.idempotency import IdempotencyKey
from hongbao.sim.base import NO_SUCH_ID, Mismatch
from hongbao.sim.hostile import HostileOps
from hongbao.sim.model import Campaign, Offer, PrizeLine, Request

CASH_PRIZE_FEN_MAX = 500  # the workload's prizes are small, so that budgets run out during a run
LINK_FAILURES_MAX = 10  # wrong claim-link tokens a user may try per process (Campaigns.link_failures)
FOLLOWED_LISTED = 20  # Campaigns.following's default limit
CAMPAIGN_WHATS = ("campaign", "campaign-claim", "campaign-top-up", "campaign-cancel", "shake-pool", "shake")


class EnterpriseOps(HostileOps):
    # ------------------------------------------------------------------ requests

    async def _reply(self, what: str, user: int, params: dict[str, Any], key: str | None) -> Mapping[str, Any]:
        a, p = self.app, params
        if what == "campaign":
            idem = IdempotencyKey.of(user, key, what, p)
            return await a.campaigns.create(
                user, channel=p["channel"], name=p["name"], starts_at=datetime.fromisoformat(p["starts_at"]),
                ends_at=datetime.fromisoformat(p["ends_at"]), budget_fen=p["budget_fen"], prizes=p["prizes"],
                per_user_max=p["per_user_max"], per_day_max=p["per_day_max"], idem=idem,
            )  # fmt: skip
        if what == "campaign-claim":
            idem = IdempotencyKey.of(user, key, what, [p["campaign_id"], p["token"]])
            return await a.campaigns.claim(p["campaign_id"], user, token=p["token"], idem=idem)
        if what == "campaign-top-up":
            idem = IdempotencyKey.of(user, key, what, [p["campaign_id"], p["amount_fen"]])
            return await a.campaigns.top_up(p["campaign_id"], user, p["amount_fen"], idem)
        if what == "campaign-cancel":
            idem = IdempotencyKey.of(user, key, what, p["campaign_id"])
            return await a.campaigns.cancel(p["campaign_id"], user, idem)
        if what == "shake-pool":
            body = {k: v for k, v in p.items() if k != "event_id"}
            idem = IdempotencyKey.of(user, key, what, [p["event_id"], body])
            return await a.shake.add_pool(
                p["event_id"], user, budget_fen=p["budget_fen"], prizes=p["prizes"], name=p["name"], idem=idem
            )
        if what == "shake":
            idem = IdempotencyKey.of(user, key, what, p["event_id"])
            return await a.shake.shake(p["event_id"], user, idem)
        return await super()._reply(what, user, params, key)

    def other_body(self, req: Request) -> dict[str, Any]:
        if req.what not in CAMPAIGN_WHATS:
            return super().other_body(req)
        other = dict(req.params)
        if req.what in ("campaign", "shake-pool"):
            other["name"] = f"{req.params['name']}二"
        elif req.what == "campaign-top-up":
            other["amount_fen"] = req.params["amount_fen"] + 1
        elif req.what == "shake":
            other["event_id"] = req.params["event_id"] + self.rng.randint(1, 3)
        else:
            other["campaign_id"] = req.params["campaign_id"] + self.rng.randint(1, 3)
        return other

    def shown(self, params: dict[str, Any]) -> dict[str, Any]:
        # A claim link's token is random (secrets), not drawn from the seed.
        token = params.get("token")
        if isinstance(token, str) and not token.startswith("wrong-"):
            return {**params, "token": "<link token>"}
        return super().shown(params)

    def retry_refusal(self, req: Request) -> str | None:
        # A claim meets the claim-link limiter before its key is looked up.
        if req.what == "campaign-claim" and self.link_failures[req.user] >= LINK_FAILURES_MAX:
            return "too_many_attempts"
        return super().retry_refusal(req)

    async def fund(self, user: int, amount: int) -> None:
        """Top the user's wallet up by `amount`, so that the budget that follows can be paid."""
        self.note("top_up", f"u={user} amount={amount} key=None (for a budget)")
        reply, code = await self.attempt(self.request("top-up", user, {"amount_fen": amount}, None))
        self.expect(code, None, "top-up for a budget")
        self.m.balance[user] += amount
        self.m.inside_fen += amount
        self.charged_fen += amount
        self.same(reply and reply["balance_fen"], self.m.balance[user], "balance after top-up")

    async def maybe_fund(self, user: int, amount: int) -> None:
        """Usually (not always: insufficient_funds is tried too) make sure the user can pay `amount`."""
        short = amount - self.m.balance[user]
        if short > 0 and self.rng.random() < 0.85:
            await self.fund(user, short + self.rng.randint(0, 5_000))

    # ------------------------------------------------------------------ enterprises, merchants, offers

    async def op_enterprise(self) -> None:
        enterprises, r = self.m.enterprises(), self.rng.random()
        if len(enterprises) < 2 or r < 0.15:
            await self._verify()
        elif r < 0.5 or not self.m.merchants:
            await self._register_merchant(self.rng.choice(enterprises))
        else:
            await self._add_offer(self.rng.choice(self.m.merchant_ids))

    async def _verify(self) -> None:
        user, r = self.user(), self.rng.random()
        label = "enterprise" if r < 0.85 else "celebrity" if r < 0.93 else None
        self.note("verify", f"u={user} as={label}")
        reply, code = await self.attempt(
            self.app.social_graph.verify_username(self.m.name_of[user], label)
        )
        self.expect(code, None, "verify")
        self.same(reply and (reply["id"], reply["verified_as"]), (user, label), "verified account")
        if label is None:
            self.m.verified.pop(user, None)
        else:
            self.m.verified[user] = label

    async def _register_merchant(self, owner: int) -> None:
        name = f"店{len(self.m.merchants)}"
        lat, lng = 39.9 + self.rng.randint(-500, 500) / 10_000, 116.4 + self.rng.randint(-500, 500) / 10_000
        self.note("register_merchant", f"u={owner} name={name}")
        reply, code = await self.attempt(self.app.campaigns.register_merchant(owner, name, lat, lng))
        self.expect(code, None, "register merchant")
        assert reply is not None
        if reply["id"] in self.m.merchants:
            raise Mismatch(f"register merchant gave the existing merchant id {reply['id']}")
        self.m.merchants[reply["id"]] = owner
        self.m.merchant_ids.append(reply["id"])
        await self._add_offer(reply["id"])

    async def _add_offer(self, merchant: int) -> None:
        owner, r = self.m.merchants[merchant], self.rng.random()
        actor = owner if r < 0.9 else self.user()
        stock = self.rng.randint(1, 6) if r > 0.03 else 0
        expires_at = self.clock.now() + timedelta(seconds=self.rng.randint(1_800, 86_400))
        self.note("add_offer", f"merchant={merchant} u={actor} stock={stock} expires_at={expires_at.isoformat()}")
        reply, code = await self.attempt(
            self.app.campaigns.add_offer(merchant, actor, title="满100减10", face_value_fen=1_000, stock=stock,
                                         expires_at=expires_at)
        )  # fmt: skip
        want = "invalid_stock" if stock == 0 else "merchant_not_found" if actor != owner else None
        self.expect(code, want, "add offer")
        if reply is not None:
            if reply["id"] in self.m.offers:
                raise Mismatch(f"add offer gave the existing offer id {reply['id']}")
            self.same((reply["stock"], reply["issued"]), (stock, 0), "the new offer")
            self.m.add_offer(Offer(reply["id"], owner, stock, expires_at))

    # ------------------------------------------------------------------ followers and what they see

    async def op_follow(self) -> None:
        r = self.rng.random()
        if r < 0.2:
            await self._browse()
            return
        user, enterprises = self.user(), self.m.enterprises()
        target = self.rng.choice(enterprises) if enterprises and self.rng.random() < 0.85 else self.user()
        if self.rng.random() < 0.03:
            target = NO_SUCH_ID
        if r < 0.32:
            self.note("unfollow", f"u={user} other={target}")
            reply, code = await self.attempt(self.app.social_graph.unfollow(user, target))
            self.expect(code, "user_not_found" if target == NO_SUCH_ID else None, "unfollow")
            self.m.unfollow(user, target)
        else:
            self.note("follow", f"u={user} other={target}")
            reply, code = await self.attempt(self.app.social_graph.follow(user, target))
            want = "cannot_follow_self" if user == target else "user_not_found" if target == NO_SUCH_ID else None
            self.expect(code, want, "follow")
            if code is None:
                self.m.follow(user, target)
        if reply is not None:
            followers = len(self.m.followers.get(target, ()))
            self.same((reply["following"], reply["follower_count"]), ((user, target) in self.m.follows, followers),
                      "following and the follower count")  # fmt: skip

    async def _browse(self) -> None:
        """A follower's list of followers campaigns, and an owner's figures, against the model."""
        now, viewer = self.clock.now(), self.user()
        if self.rng.random() < 0.5 or not self.m.campaigns:
            self.note("following_campaigns", f"u={viewer}")
            reply = await self.app.campaigns.following(viewer)
            want = [
                c.id for c in sorted(self.m.open_campaigns.values(), key=lambda c: -c.id)
                if c.channel == "followers" and c.live(now) and (viewer, c.owner) in self.m.follows
                and self.m.candidates(c, now)
            ][:FOLLOWED_LISTED]  # fmt: skip
            self.same([c["id"] for c in reply["campaigns"]], want, "followers campaigns open to the viewer")
            return
        c = self.rng.choice(self.m.campaign_list)
        self.note("figures", f"c={c.id} u={c.owner}")
        got = await self.app.campaigns.figures(c.id, c.owner)
        self.same(
            (got["status"], got["budget_fen"], got["paid_fen"], got["remaining_fen"], got["issued"],
             got["claimed_fen"], got["unique_claimers"]),
            (c.status(), c.budget_fen, c.paid_fen, c.left_fen, sum(c.claims.values()), c.paid_fen,
             sum(1 for n in c.claims.values() if n)),
            f"figures of campaign {c.id}",
        )  # fmt: skip

    # ------------------------------------------------------------------ prize tables and budgets

    def prize_table(self, owner: int) -> list[PrizeLine]:
        """1–3 cash lines of distinct small amounts and, when the owner has an offer, often a coupon line;
        now and then a cash prize over the maximum or another owner's offer."""
        amounts = sorted(self.rng.sample(range(1, CASH_PRIZE_FEN_MAX + 1), self.rng.randint(1, 3)))
        lines = [PrizeLine("cash", self.rng.randint(1, 5), amount_fen=a, count_max=self._count()) for a in amounts]
        own = self.m.offer_ids_of.get(owner, [])
        others = len(self.m.offer_ids) - len(own)  # the other owners' offers, chosen among without a list
        r = self.rng.random()
        if own and r < 0.45:
            coupon = PrizeLine("coupon", self.rng.randint(1, 5), offer_id=self.rng.choice(own), count_max=self._count())
            lines = [coupon] if r < 0.08 else [*lines, coupon]
        elif others and r < 0.5:
            # choice() of a range draws as choice() of a list as long: the seed's draws are the same as ever
            lines.append(PrizeLine("coupon", 1, offer_id=self.m.other_offer(owner, self.rng.choice(range(others)))))
        elif r < 0.53:
            lines[-1].amount_fen = self.app.campaigns.limits.cash_prize_fen_max + 1
        return lines

    def _count(self) -> int | None:
        return self.rng.randint(1, 6) if self.rng.random() < 0.35 else None

    def budget_for(self, lines: list[PrizeLine]) -> int:
        cash = [p.amount_fen for p in lines if p.kind == "cash"]
        r = self.rng.random()
        if not cash:
            return 100 if r < 0.05 else 0
        if r < 0.04:
            return min(cash) - 1
        if r < 0.06:
            return self.app.campaigns.limits.budget_fen_max + 1
        return min(cash) * self.rng.randint(1, 8) + self.rng.randint(0, max(cash))

    def table_code(self, lines: list[PrizeLine], budget: int) -> str | None:
        """check_prizes' and check_budget's refusal (the checks before the write)."""
        limits = self.app.campaigns.limits
        if any(p.kind == "cash" and p.amount_fen > limits.cash_prize_fen_max for p in lines):
            return "amount_too_large"
        cash = [p.amount_fen for p in lines if p.kind == "cash"]
        if budget > limits.budget_fen_max:
            return "amount_too_large"
        if (cash and budget < min(cash)) or (not cash and budget):
            return "invalid_amount"
        return None

    def offers_code(self, owner: int, lines: list[PrizeLine]) -> str | None:
        foreign = any(p.offer_id is not None and self.m.offers[p.offer_id].owner != owner for p in lines)
        return "offer_not_found" if foreign else None

    def check_created(self, reply: dict[str, Any], c: Campaign) -> None:
        """The owner's view of a new campaign or pool against what was asked."""
        if c.id in self.m.campaigns:
            raise Mismatch(f"create gave the existing campaign id {c.id}")
        got = (reply["owner_id"], reply["channel"], reply["event_id"], reply["status"], reply["budget_fen"],
               reply["paid_fen"], reply["returned_fen"], reply["remaining_fen"], reply["per_user_max"],
               reply["per_day_max"], datetime.fromisoformat(reply["starts_at"]),
               datetime.fromisoformat(reply["ends_at"]))  # fmt: skip
        want = (c.owner, c.channel, c.event, "active", c.budget_fen, 0, 0, c.budget_fen, c.per_user_max,
                c.per_day_max, c.starts_at, c.ends_at)  # fmt: skip
        self.same(got, want, "the new campaign")
        prizes = [{"kind": p.kind, "amount_fen": p.amount_fen if p.kind == "cash" else None, "offer_id": p.offer_id,
                   "weight": p.weight, "count": p.count_max, "issued": 0} for p in c.prizes]  # fmt: skip
        self.same(reply["prizes"], prizes, "the new campaign's prizes")
