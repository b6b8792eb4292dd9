"""Merchants, their coupon offers and the coupons people take: register, add an offer, take one nearby, redeem.

A coupon never touches the cash ledger: it is one from an offer's stock, counted by a conditional UPDATE, and
redeemed once at the issuing merchant with a code derived from the install key (never stored).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from hongbao.domain import campaigns as dc
from hongbao.domain.campaigns import CampaignLimits
from hongbao.domain.errors import Conflict, NotFound, Rejected
from hongbao.domain.geo import haversine_m
from hongbao.domain.money import check_amount_fen
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, once
from hongbao.service.install_key import InstallKey
from hongbao.service.ratelimit import Limiter
from hongbao.service.results.merchants import (
    CouponList,
    CouponRedeemed,
    CouponTaken,
    MerchantCreated,
    MerchantList,
    NearbyList,
    OfferCreated,
)
from hongbao.service.worlds import Worlds

if TYPE_CHECKING:
    from hongbao.service.ports.campaigns import MerchantRecords


class MerchantCoupons:
    """The merchant and coupon half of `Campaigns` (a campaign's coupon prize names one of these offers)."""

    d: Deps
    key: InstallKey
    limits: CampaignLimits
    redeem_failures: Limiter
    worlds: Worlds

    async def register_merchant(
        self, owner_id: int, name: object, lat: object, lng: object, idem: IdempotencyKey | None = None
    ) -> MerchantCreated:
        """A merchant at a location; a retry with its Idempotency-Key gets the first reply (no second shop)."""
        clean = dc.clean_text(name, "name", 64)
        where = dc.check_location(lat, lng)
        now = self.d.clock.now()

        def job(tx: MerchantRecords) -> MerchantCreated:
            def effect() -> MerchantCreated:
                mid = tx.create_merchant(owner_id, clean, where[0], where[1], now)
                return {"id": mid, "owner_id": owner_id, "name": clean, "lat": where[0], "lng": where[1]}

            return once(tx, idem, effect, now=now)

        return await self.d.store.write(job)

    async def merchants(self, owner_id: int, limit: int = 100, offers_max: int = 200) -> MerchantList:
        """The caller's merchants, newest first, each with its newest 200 offers: stock, issued and redeemed."""
        return {"merchants": await self.d.store.read(lambda tx: tx.merchants_of(owner_id, limit, offers_max))}

    async def add_offer(
        self, merchant_id: int, owner_id: int, *, title: object, face_value_fen: object, stock: object,
        expires_at: datetime,
    ) -> OfferCreated:  # fmt: skip
        clean = dc.clean_text(title, "title", 64)
        face = check_amount_fen(face_value_fen, field="face_value_fen")
        if isinstance(stock, bool) or not isinstance(stock, int) or not 1 <= stock <= self.limits.offer_stock_max:
            raise Rejected(f"stock is a whole number from 1 to {self.limits.offer_stock_max}.", code="invalid_stock")
        now = self.d.clock.now()
        if expires_at.tzinfo is None or expires_at <= now:
            raise Rejected("expires_at must be a future time with a timezone.", code="invalid_window")

        def job(tx: MerchantRecords) -> OfferCreated:
            if tx.merchant_owner(merchant_id) != owner_id:
                raise NotFound("No such merchant of yours.", code="merchant_not_found")
            oid = tx.create_offer(merchant_id, clean, face, stock, expires_at, now)
            return {
                "id": oid, "merchant_id": merchant_id, "title": clean, "face_value_fen": face, "stock": stock,
                "issued": 0, "expires_at": expires_at.isoformat(),
            }  # fmt: skip

        return await self.d.store.write(job)

    async def take_coupon(self, offer_id: int, user_id: int) -> CouponTaken:
        """领券: one coupon of a nearby offer for the caller, from its stock, once per person.

        Refusals in order: offer_not_found → offer_exhausted (409: none left, or expired) → coupon_taken (409:
        you hold one of this offer already). The stock's conditional UPDATE comes first and locks the offer's
        row, so two takes by one person (two processes on PostgreSQL) serialise there, and the second then
        sees the first's coupon and rolls back: never check-then-act.  An offer of another world's merchant
        (service/worlds.py) is not found, as one nobody made.
        """
        world = await self.worlds.of(user_id)
        now = self.d.clock.now()

        def job(tx: MerchantRecords) -> CouponTaken:
            offer = tx.offers([offer_id]).get(offer_id)
            if offer is None or offer.world != world:
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

    async def nearby(self, viewer_id: int, lat: object, lng: object, radius_m: object) -> NearbyList:
        """Offers of merchants within `radius_m`, nearest first: a bounding box in SQL, then haversine.  Only the
        viewer's world's merchants (service/worlds.py): another host's shops are not this host's users' to see."""
        here = dc.check_location(lat, lng)
        if isinstance(radius_m, bool) or not isinstance(radius_m, (int, float)) or not 1 <= radius_m <= dc.RADIUS_M_MAX:
            raise Rejected(f"radius_m is 1 to {dc.RADIUS_M_MAX}.", code="invalid_location")
        radius = float(radius_m)
        box = dc.bounding_box(here[0], here[1], radius)
        world = await self.worlds.of(viewer_id)
        now = self.d.clock.now()
        rows = await self.d.store.read(lambda tx: tx.nearby(world, box, now, 10 * self.limits.nearby_results_max))
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

    async def coupons(self, user_id: int, limit: int = 100) -> CouponList:
        """The holder's own coupons, newest first, each with its redeem code (shown to nobody else)."""
        key = await self.key.ensure()
        held = await self.d.store.read(lambda tx: tx.coupons_of(user_id, limit))
        return {"coupons": [{**c, "redeem_code": dc.redeem_code(key, c["id"])} for c in held]}

    async def redeem(self, coupon_id: int, merchant_owner_id: int, code: object) -> CouponRedeemed:
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
