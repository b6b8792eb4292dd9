"""Enterprise campaigns (企业红包), merchant coupons and nearby merchants: create, top up, claim, figures, close
(at the window's end or early, by the owner), redeem.

A cash prize is a direct transfer budget → claimer's wallet (not a packet): one campaign budget
account, one conditional UPDATE on the campaign row per claim; a coupon prize takes one from a
merchant offer's stock and never touches the cash ledger.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hongbao.domain import campaigns as dc
from hongbao.domain.campaigns import CampaignLimits, CampaignStatus, Channel, PrizeKind, Rng
from hongbao.domain.errors import Conflict, HongbaoError, NotFound, Rejected
from hongbao.domain.geo import haversine_m
from hongbao.domain.money import check_amount_fen, format_fen
from hongbao.domain.open_kinds import seal, secret_unreadable, unseal_with
from hongbao.domain.paging import check_limit
from hongbao.service.cache import Lru
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, once, stored_reply
from hongbao.service.install_key import InstallKey
from hongbao.service.sweep import sweep
from hongbao.service.users import token_digest

CLOSE_BATCH_MAX = 200
AWARD_ATTEMPTS_MAX = 5
FOLLOWING_DEFAULT = 20
FOLLOWING_MAX = 50
log = logging.getLogger(__name__)


class Campaigns:
    def __init__(
        self, deps: Deps, key: InstallKey, limits: CampaignLimits | None = None, rng: Rng | None = None
    ) -> None:
        self.d = deps
        self.key = key  # seals a link campaign's token for a keyed retry; derives coupons' redeem codes
        self.limits = limits or CampaignLimits()
        self.rng: Rng = rng or secrets.SystemRandom()
        # Wrong claim-link tokens, per user and per client address (tokens are 128-bit: this stops scanning).
        self.link_failures = deps.limiters("link:user", 10, 900.0)
        self.link_failures_by_address = deps.limiters("link:address", 50, 900.0)
        # Wrong coupon redeem codes, per merchant owner (codes are 8 digits: this stops a shop walking 10^8 of them).
        self.redeem_failures = deps.limiters("redeem", 10, 900.0)
        # Campaigns with nothing left, with the budget they had then: permanent until the owner tops the budget up
        # (a read compares the budget, so a top-up through another process is seen too).
        self._exhausted: Lru[int, int] = Lru(100_000)
        # Called with a campaign's id once its budget grew (shake: a round known empty may have prizes again).
        self.on_budget_changed: list[Callable[[int], None]] = []

    def day(self, at: datetime) -> str:
        return dc.day_of(at, self.limits.day_utc_offset_h)

    # ------------------------------------------------------------------ create

    def check_budget(self, budget_fen: object, prizes: list[dc.Prize]) -> int:
        if isinstance(budget_fen, bool) or not isinstance(budget_fen, int) or budget_fen < 0:
            raise Rejected("budget_fen must be a whole number of fen, 0 or more.", code="invalid_amount")
        if budget_fen > self.limits.budget_fen_max:
            raise Rejected(f"A budget is at most {format_fen(self.limits.budget_fen_max)}.", code="amount_too_large",
                           max_fen=self.limits.budget_fen_max, subject="budget")
        cash = [p.amount_fen for p in prizes if p.kind is PrizeKind.CASH]
        if cash and budget_fen < min(cash):
            raise Rejected("The budget does not cover the smallest cash prize.", code="invalid_amount")
        if not cash and budget_fen:
            raise Rejected("A budget without cash prizes would never be paid out.", code="invalid_amount")
        return budget_fen

    def check_offers(self, tx: Any, owner_id: int, prizes: list[dc.Prize]) -> None:
        """Coupon prizes must name offers of the owner's own merchants (nobody gives away another's stock)."""
        wanted = {p.offer_id for p in prizes if p.offer_id is not None}
        if not wanted:
            return
        found = tx.offers(list(wanted))
        for oid in wanted:
            if oid not in found or found[oid].merchant_owner_id != owner_id:
                raise NotFound(f"No offer {oid} of your merchants.", code="offer_not_found")

    async def create(
        self,
        owner_id: int,
        *,
        channel: object,
        name: object,
        logo_url: object = None,
        cover_text: object = None,
        starts_at: datetime,
        ends_at: datetime,
        budget_fen: object,
        prizes: object,
        per_user_max: object = None,
        per_day_max: object = None,
        idem: IdempotencyKey | None = None,
    ) -> dict[str, Any]:
        """An enterprise account creates a campaign and funds its budget from its wallet at once."""
        # A retry gets the first answer before the checks: check_window reads the clock, and a retry that comes
        # after the window's end must not be told its window is invalid.
        first = await stored_reply(self.d.store, idem)
        if first is not None:
            return await self._with_link_token(first)
        if channel not in (Channel.LINK.value, Channel.FOLLOWERS.value):
            raise Rejected("channel is link or followers (shake pools are added to an event).", code="invalid_channel")
        branding = dc.check_branding(name, logo_url, cover_text)
        table = dc.check_prizes(prizes, cash_fen_max=self.limits.cash_prize_fen_max)
        budget = self.check_budget(budget_fen, table)
        user_cap = dc.check_cap(per_user_max, "per_user_max")
        day_cap = dc.check_cap(per_day_max, "per_day_max")
        now = self.d.clock.now()
        dc.check_window(starts_at, ends_at, now, days_max=self.limits.days_max)
        token = secrets.token_urlsafe(16) if channel == Channel.LINK.value else None
        key = await self.key.ensure()

        def job(tx: Any) -> dict[str, Any]:
            def effect() -> dict[str, Any]:
                if tx.verified_as(owner_id) != "enterprise":
                    raise dc.not_verified()
                self.check_offers(tx, owner_id, table)
                cid = tx.create_campaign(
                    owner_id=owner_id, channel=str(channel), event_id=None, branding=branding,
                    starts_at=starts_at, ends_at=ends_at, budget_fen=budget, per_user_max=user_cap,
                    per_day_max=day_cap, link_token_hash=token_digest(token) if token else None,
                    prizes=table, now=now,
                )  # fmt: skip
                out = self.public(tx, tx.campaign(cid), owner_view=True)
                if token is not None:
                    # Shown to the owner once; only its digest is stored, and the reply stored for a keyed retry
                    # holds it sealed (opened by `_with_link_token` after the commit).
                    out["sealed_link_token"] = seal(key, token)
                return out

            return once(tx, idem, effect, now=now)

        return await self._with_link_token(await self.d.store.write(job))

    async def _with_link_token(self, reply: dict[str, Any]) -> dict[str, Any]:
        """A creation's reply with its link token opened for the owner (a stored reply may predate a pepper
        rotation; one stored before tokens were sealed holds it in clear and is given as it is)."""
        if "sealed_link_token" not in reply:
            return reply
        out = {k: v for k, v in reply.items() if k != "sealed_link_token"}
        token = unseal_with(await self.key.ensure_all(), str(reply["sealed_link_token"]))
        if token is None:
            raise secret_unreadable("link token")
        out["link_token"] = token
        return out

    async def top_up(
        self, campaign_id: int, owner_id: int, amount_fen: object, idem: IdempotencyKey | None = None
    ) -> dict[str, Any]:
        """The owner moves more money from its wallet into an active campaign's (or pool's) budget.

        Checks in order: invalid_amount (not a positive whole number of fen, before any read) →
        campaign_not_found → not_campaign_owner → campaign_ended → invalid_amount (a budget without cash prizes)
        → amount_too_large → insufficient_funds.
        """
        amount = check_amount_fen(amount_fen)
        now = self.d.clock.now()

        def job(tx: Any) -> dict[str, Any]:
            def effect() -> dict[str, Any]:
                row = self._owned(tx, campaign_id, owner_id, "Only the campaign's owner adds to its budget.")
                if row.status != CampaignStatus.ACTIVE.value or now >= row.ends_at:
                    raise dc.campaign_ended("This campaign has ended: its budget can no longer grow.")
                if not any(p["kind"] == PrizeKind.CASH.value for p in tx.prizes_of(campaign_id)):
                    raise Rejected("A campaign without cash prizes never pays out a budget.", code="invalid_amount")
                dc.check_top_up(amount, row.budget_fen, budget_fen_max=self.limits.budget_fen_max)
                if tx.top_up_campaign(campaign_id, amount, self.limits.budget_fen_max, now) is None:
                    # Refused by the conditional update: another process closed it, or its top-up took the room.
                    fresh = tx.campaign(campaign_id)
                    if fresh.status != CampaignStatus.ACTIVE.value or now >= fresh.ends_at:
                        raise dc.campaign_ended("This campaign has ended: its budget can no longer grow.")
                    dc.check_top_up(amount, fresh.budget_fen, budget_fen_max=self.limits.budget_fen_max)
                    raise AssertionError("top_up_campaign refused an active campaign with room in its budget")
                return {**self.public(tx, tx.campaign(campaign_id), owner_view=True), "added_fen": amount}

            return once(tx, idem, effect, now=now)

        reply = await self.d.store.write(job)
        self._exhausted.pop(campaign_id)
        for hook in self.on_budget_changed:
            hook(campaign_id)
        return reply

    def _owned(self, tx: Any, campaign_id: int, user_id: int, refusal: str) -> Any:
        """The campaign, if `user_id` owns it: 404 for a campaign the user may not know of, 403 for another's."""
        row = tx.campaign(campaign_id)
        if not self.visible(row, user_id, None):
            raise dc.campaign_not_found()
        if row.owner_id != user_id:
            raise dc.not_campaign_owner(refusal)
        return row

    # ------------------------------------------------------------------ read

    def public(self, tx: Any, row: Any, *, owner_view: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": row.id,
            "owner_id": row.owner_id,
            "channel": row.channel,
            "event_id": row.event_id,
            "name": row.name,
            "logo_url": row.logo_url,
            "cover_text": row.cover_text,
            "starts_at": row.starts_at.isoformat(),
            "ends_at": row.ends_at.isoformat(),
            "status": row.status,
            "closed_at": row.closed_at.isoformat() if row.closed_at else None,
            "per_user_max": row.per_user_max,
            "per_day_max": row.per_day_max,
        }
        if owner_view:
            out.update(
                budget_fen=row.budget_fen, paid_fen=row.paid_fen, returned_fen=row.returned_fen,
                remaining_fen=row.left_fen, prizes=tx.prizes_of(row.id),
            )  # fmt: skip
        return out

    def visible(self, row: Any, viewer_id: int, token: str | None) -> bool:
        """The owner sees every campaign; followers campaigns are public; a link campaign needs its token."""
        if row is None:
            return False
        if row.owner_id == viewer_id or row.channel in (Channel.FOLLOWERS.value, Channel.SHAKE.value):
            return True
        return (
            token is not None
            and row.link_token_hash is not None
            and hmac.compare_digest(row.link_token_hash, token_digest(token))
        )

    async def detail(self, campaign_id: int, viewer_id: int, token: str | None = None) -> dict[str, Any]:
        def job(tx: Any) -> dict[str, Any]:
            row = tx.campaign(campaign_id)
            if not self.visible(row, viewer_id, token):
                raise dc.campaign_not_found()
            return self.public(tx, row, owner_view=row.owner_id == viewer_id)

        return await self.d.store.read(job)

    async def mine(self, owner_id: int, limit: int = 100) -> dict[str, Any]:
        """The owner's campaigns and shake pools, newest first, with their budget figures."""

        def job(tx: Any) -> dict[str, Any]:
            rows = tx.campaigns_of_owner(owner_id, limit)
            return {"campaigns": [self.public(tx, r, owner_view=True) for r in rows]}

        return await self.d.store.read(job)

    async def following(self, viewer_id: int, limit: int = FOLLOWING_DEFAULT) -> dict[str, Any]:
        """Followers campaigns open now with a prize left, of accounts the viewer follows, newest first.

        Branding and window only, as `detail` shows a non-owner; link campaigns never appear (they need a token).
        """
        check_limit(limit, FOLLOWING_MAX)
        now = self.d.clock.now()

        def job(tx: Any) -> dict[str, Any]:
            rows = tx.followed_campaigns(viewer_id, now, limit)
            return {"campaigns": [{**self.public(tx, r, owner_view=False), "owner_name": name} for r, name in rows]}

        return await self.d.store.read(job)

    async def figures(self, campaign_id: int, viewer_id: int) -> dict[str, Any]:
        """Owner only: issued, claimed, remaining budget, unique claimers, by day."""

        def job(tx: Any) -> dict[str, Any]:
            row = self._owned(tx, campaign_id, viewer_id, "Only the campaign's owner sees its figures.")
            figures: dict[str, Any] = tx.campaign_figures(campaign_id)
            return {
                "campaign_id": campaign_id, "status": row.status, "budget_fen": row.budget_fen,
                "paid_fen": row.paid_fen, "returned_fen": row.returned_fen, "remaining_fen": row.left_fen,
                **figures,
            }  # fmt: skip

        return await self.d.store.read(job)

    # ------------------------------------------------------------------ claim

    async def claim(
        self,
        campaign_id: int,
        user_id: int,
        *,
        token: str | None = None,
        idem: IdempotencyKey | None = None,
        channel: str = "app",
        address: str | None = None,
    ) -> dict[str, Any]:
        """Draw a prize: cash paid budget → wallet at once, or a coupon into the user's coupon list.

        Checks in order: campaign_not_found → campaign_not_started / campaign_ended → not_follower →
        cap_reached → campaign_exhausted; every one decided again inside the write job.
        """
        # A retry gets its first answer before the limiter: it is no new guess, and the user may be locked out by
        # wrong tokens since.  A key without a stored reply has not succeeded yet, so it meets the limiter as a guess.
        first = await stored_reply(self.d.store, idem)
        if first is not None:
            return first
        limiter_key = f"campaign-link:{user_id}"
        self.link_failures.check(limiter_key)
        if address is not None:
            self.link_failures_by_address.check(address)
        now = self.d.clock.now()
        day = self.day(now)
        gone: list[int] = []  # the budget of a campaign found with nothing left

        def job(tx: Any) -> dict[str, Any]:
            def effect() -> dict[str, Any]:
                row = self._admit(tx, campaign_id, user_id, token, day, now, count=True)
                award = self.award(tx, row, user_id, day, channel, now)
                if award is None:
                    after = tx.campaign(campaign_id)
                    if after.status != CampaignStatus.ACTIVE.value:
                        raise dc.campaign_ended()  # closed by another process between the checks and the award
                    if not tx.prize_candidates(after, now):
                        gone.append(after.budget_fen)
                    raise dc.campaign_exhausted()
                return award

            return once(tx, idem, effect, now=now)

        try:
            spent_budget = self._exhausted.get(campaign_id)
            if spent_budget is not None:
                # Nothing is left, for good unless topped up (prize counts and stock only shrink, and a budget
                # grows only by a top-up): answer from a read, in the same order, and keep the single writer for
                # claims that can still win.
                row = await self.d.store.read(
                    lambda tx: self._admit(tx, campaign_id, user_id, token, day, now, count=False)
                )
                if row.budget_fen == spent_budget:
                    raise dc.campaign_exhausted()
                self._exhausted.pop(campaign_id)
            reply = await self.d.store.write(job)
        except HongbaoError as exc:
            if gone:
                self._exhausted.put(campaign_id, gone[0])
            if isinstance(exc, NotFound) and token is not None:
                self.link_failures.failed(limiter_key)
                if address is not None:
                    self.link_failures_by_address.failed(address)
            raise
        self.d.hooks.published("campaign_claimed", {"user_id": user_id, **reply})
        return reply

    def _admit(
        self, tx: Any, campaign_id: int, user_id: int, token: str | None, day: str, now: datetime, *, count: bool
    ) -> Any:
        """The claim checks in order; with `count` (inside the write job) the user's claim is counted against
        the caps by one conditional UPDATE, without it (a read) the caps are only compared."""
        row = tx.campaign(campaign_id)
        if row is None or row.channel == Channel.SHAKE.value or not self.visible(row, user_id, token):
            raise dc.campaign_not_found()
        if row.status != "active" or now >= row.ends_at:
            raise dc.campaign_ended()
        if now < row.starts_at:
            raise dc.campaign_not_started()
        if row.channel == Channel.FOLLOWERS.value and not tx.is_follower(user_id, row.owner_id):
            raise dc.not_follower()
        if count:
            allowed = tx.count_claim(campaign_id, user_id, day, row.per_user_max, row.per_day_max)
        else:
            allowed = tx.claim_allowed(campaign_id, user_id, day, row.per_user_max, row.per_day_max)
        if not allowed:
            raise dc.cap_reached("You have claimed as often as this campaign allows (per user or per day).")
        return row

    def award(self, tx: Any, row: Any, user_id: int, day: str, channel: str, now: datetime) -> dict[str, Any] | None:
        """Inside a write job: draw among the prizes left and issue one; None when nothing is left."""
        lost: set[int] = set()
        for _ in range(AWARD_ATTEMPTS_MAX):
            candidates = [c for c in tx.prize_candidates(tx.campaign(row.id), now) if c.prize_id not in lost]
            if not candidates:
                return None
            prize = dc.draw(candidates, self.rng)
            got = tx.award_prize(row.id, prize, user_id, day, channel, now)
            if got is not None:
                return {
                    "campaign_id": row.id, "claim_id": got.claim_id, "kind": got.kind,
                    "amount_fen": got.amount_fen, "coupon_id": got.coupon_id, "name": row.name,
                    "cover_text": row.cover_text, "logo_url": row.logo_url,
                }  # fmt: skip
            lost.add(prize.prize_id)
        return None

    # ------------------------------------------------------------------ close

    async def close_ended_campaigns(self, now: datetime | None = None) -> int:
        """Close every campaign (and shake pool) past its end and return the unspent budget, exactly once."""
        at = now or self.d.clock.now()

        def closed(cid: int, returned: int | None) -> bool:
            if returned is None:
                return False
            self.d.hooks.published("campaign_closed", {"campaign_id": cid, "returned_fen": returned})
            return True

        return await sweep(self.d.store, lambda tx: tx.due_campaign_ids(at, CLOSE_BATCH_MAX),
                           lambda cid: self._close_job(cid, at), batch_max=CLOSE_BATCH_MAX, done=closed,
                           log=log, failed="closing campaign %s failed: %r")

    async def cancel(self, campaign_id: int, owner_id: int, idem: IdempotencyKey | None = None) -> dict[str, Any]:
        """The owner ends a campaign (or a shake pool) now: it closes and the unspent budget goes back to the
        owner's wallet by the scheduler's own close, exactly once.

        Claims are serialised with the close on the campaign row: one before it was paid from the budget, one
        after it hears campaign_ended; the return is what was not paid. Checks in order: campaign_not_found →
        not_campaign_owner → campaign_ended (already closed: nothing is returned twice).
        """
        now = self.d.clock.now()
        closed_now: list[bool] = []  # set by the attempt that closed it (a replay answers the stored reply)

        def job(tx: Any) -> dict[str, Any]:
            closed_now.clear()  # the store may run this job again after a rolled-back batch

            def effect() -> dict[str, Any]:
                row = self._owned(tx, campaign_id, owner_id, "Only the campaign's owner ends it.")
                closed = "This campaign is already closed: its unspent budget went back to its owner."
                if row.status != CampaignStatus.ACTIVE.value:
                    raise dc.campaign_ended(closed)
                back = tx.close_campaign(campaign_id, now, early=True)
                if back is None:
                    raise dc.campaign_ended(closed)
                closed_now.append(True)
                return self.public(tx, tx.campaign(campaign_id), owner_view=True)

            return once(tx, idem, effect, 200, now=now)

        reply = await self.d.store.write(job)
        if closed_now:  # announced once, by the attempt that closed it
            closed = {"campaign_id": campaign_id, "returned_fen": reply["returned_fen"]}
            self.d.hooks.published("campaign_closed", closed)
        return reply

    def _close_job(self, campaign_id: int, at: datetime) -> Callable[[Any], int | None]:
        def job(tx: Any) -> int | None:
            back: int | None = tx.close_campaign(campaign_id, at)
            return back

        return job

    # ------------------------------------------------------------------ merchants and coupons

    async def register_merchant(
        self, owner_id: int, name: object, lat: object, lng: object, idem: IdempotencyKey | None = None
    ) -> dict[str, Any]:
        """A merchant at a location; a retry with its Idempotency-Key gets the first reply (no second shop)."""
        clean = dc.clean_text(name, "name", 64)
        where = dc.check_location(lat, lng)
        now = self.d.clock.now()

        def job(tx: Any) -> dict[str, Any]:
            def effect() -> dict[str, Any]:
                mid = tx.create_merchant(owner_id, clean, where[0], where[1], now)
                return {"id": mid, "owner_id": owner_id, "name": clean, "lat": where[0], "lng": where[1]}

            return once(tx, idem, effect, now=now)

        return await self.d.store.write(job)

    async def merchants(self, owner_id: int, limit: int = 100, offers_max: int = 200) -> dict[str, Any]:
        """The caller's merchants, newest first, each with its newest 200 offers: stock, issued and redeemed."""
        return {"merchants": await self.d.store.read(lambda tx: tx.merchants_of(owner_id, limit, offers_max))}

    async def add_offer(
        self, merchant_id: int, owner_id: int, *, title: object, face_value_fen: object, stock: object,
        expires_at: datetime,
    ) -> dict[str, Any]:  # fmt: skip
        clean = dc.clean_text(title, "title", 64)
        face = check_amount_fen(face_value_fen, field="face_value_fen")
        if isinstance(stock, bool) or not isinstance(stock, int) or not 1 <= stock <= self.limits.offer_stock_max:
            raise Rejected(f"stock is a whole number from 1 to {self.limits.offer_stock_max}.", code="invalid_stock")
        now = self.d.clock.now()
        if expires_at.tzinfo is None or expires_at <= now:
            raise Rejected("expires_at must be a future time with a timezone.", code="invalid_window")

        def job(tx: Any) -> dict[str, Any]:
            if tx.merchant_owner(merchant_id) != owner_id:
                raise NotFound("No such merchant of yours.", code="merchant_not_found")
            oid = tx.create_offer(merchant_id, clean, face, stock, expires_at, now)
            return {
                "id": oid, "merchant_id": merchant_id, "title": clean, "face_value_fen": face, "stock": stock,
                "issued": 0, "expires_at": expires_at.isoformat(),
            }  # fmt: skip

        return await self.d.store.write(job)

    async def take_coupon(self, offer_id: int, user_id: int) -> dict[str, Any]:
        """领券: one coupon of a nearby offer for the caller, from its stock, once per person.

        Refusals in order: offer_not_found → offer_exhausted (409: none left, or expired) → coupon_taken (409:
        you hold one of this offer already). The stock's conditional UPDATE comes first and locks the offer's
        row, so two takes by one person (two processes on PostgreSQL) serialise there, and the second then
        sees the first's coupon and rolls back: never check-then-act.
        """
        now = self.d.clock.now()

        def job(tx: Any) -> dict[str, Any]:
            offer = tx.offers([offer_id]).get(offer_id)
            if offer is None:
                raise NotFound("No such offer.", code="offer_not_found")
            coupon_id = tx.issue_coupon(offer_id, user_id, now)
            if coupon_id is None:
                raise Conflict("This offer has none left, or has expired.", code="offer_exhausted")
            if tx.coupons_held_of_offer(offer_id, user_id) > 1:
                raise Conflict("You already hold a coupon of this offer.", code="coupon_taken")
            return {"coupon_id": coupon_id, "offer_id": offer_id, "title": offer.title,
                    "face_value_fen": offer.face_value_fen, "merchant_name": offer.merchant_name,
                    "expires_at": offer.expires_at.isoformat()}

        return await self.d.store.write(job)

    async def nearby(self, lat: object, lng: object, radius_m: object) -> dict[str, Any]:
        """Offers of merchants within `radius_m`, nearest first: a bounding box in SQL, then haversine."""
        here = dc.check_location(lat, lng)
        if isinstance(radius_m, bool) or not isinstance(radius_m, (int, float)) or not 1 <= radius_m <= dc.RADIUS_M_MAX:
            raise Rejected(f"radius_m is 1 to {dc.RADIUS_M_MAX}.", code="invalid_location")
        radius = float(radius_m)
        box = dc.bounding_box(here[0], here[1], radius)
        now = self.d.clock.now()
        rows = await self.d.store.read(lambda tx: tx.nearby(box, now, 10 * self.limits.nearby_results_max))
        found = []
        for mid, name, mlat, mlng, offer in rows:
            distance = haversine_m(here[0], here[1], mlat, mlng)
            if distance <= radius:
                found.append((distance, offer.id, mid, name, offer))
        found.sort(key=lambda f: (f[0], f[1]))
        return {
            "offers": [
                {"offer_id": o.id, "merchant_id": mid, "merchant_name": name, "title": o.title,
                 "face_value_fen": o.face_value_fen, "left": o.stock - o.issued_count,
                 "expires_at": o.expires_at.isoformat(), "distance_m": round(d, 1)}
                for d, _, mid, name, o in found[: self.limits.nearby_results_max]
            ]
        }  # fmt: skip

    async def coupons(self, user_id: int, limit: int = 100) -> dict[str, Any]:
        """The holder's own coupons, newest first, each with its redeem code (shown to nobody else)."""
        key = await self.key.ensure()
        held = await self.d.store.read(lambda tx: tx.coupons_of(user_id, limit))
        return {"coupons": [{**c, "redeem_code": dc.redeem_code(key, c["id"])} for c in held]}

    async def redeem(self, coupon_id: int, merchant_owner_id: int, code: object) -> dict[str, Any]:
        """The merchant account that issued the coupon marks it used, once, with the redeem code its holder shows.

        Checks in order: invalid_code (not 8 digits once spaces and dashes are dropped; before anything) →
        too_many_attempts (10 wrong codes in 15 min per caller) → wrong_code (counted; decided before the store is
        read, so a guess learns nothing of the coupon) → coupon_not_found (not issued by the caller's merchant) →
        coupon_redeemed → coupon_expired.  A right code does not clear the count: a code the caller knows could
        otherwise be replayed between guesses.
        """
        typed = dc.clean_redeem_code(code)
        limiter_key = f"coupon-redeem:{merchant_owner_id}"
        self.redeem_failures.check(limiter_key)
        if not dc.redeem_code_matches(await self.key.ensure_all(), coupon_id, typed):
            self.redeem_failures.failed(limiter_key)
            raise dc.wrong_redeem_code()
        now = self.d.clock.now()
        holder = await self.d.store.write(lambda tx: tx.redeem_coupon(coupon_id, merchant_owner_id, now))
        return {"id": coupon_id, "status": "redeemed", "holder_id": holder, "redeemed_at": now.isoformat()}
