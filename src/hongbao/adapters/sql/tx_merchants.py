"""Repository methods of merchants, their coupon offers and coupons, and nearby offers (mixed into SqlTx).

Coupon stock is decided by one conditional UPDATE (never a read before it); a coupon is redeemed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from hongbao.adapters.sql import schema_campaign as c
from hongbao.adapters.sql.aware import utc
from hongbao.adapters.sql.locks import RowLocks, rows_nowait
from hongbao.adapters.sql.schema_hosts import world_of
from hongbao.domain import campaigns as dc
from hongbao.service.ports.campaigns import HeldCoupon, MerchantListed, MerchantOffer, OfferRow


class MerchantTx(RowLocks):
    conn: Connection

    # ------------------------------------------------------------------ merchants and coupons

    def create_merchant(self, owner_id: int, name: str, lat: float, lng: float, now: datetime) -> int:
        mid = self.conn.execute(
            insert(c.merchants)
            .values(owner_id=owner_id, name=name, lat=lat, lng=lng, created_at=now)
            .returning(c.merchants.c.id)
        ).scalar_one()
        return int(mid)

    def merchant_owner(self, merchant_id: int) -> int | None:
        found = self.conn.execute(
            select(c.merchants.c.owner_id).where(c.merchants.c.id == merchant_id)
        ).scalar_one_or_none()
        return None if found is None else int(found)

    def owns_merchant(self, owner_id: int) -> bool:
        """Whether the user registered a merchant (the app then offers the merchant's tools)."""
        m = c.merchants
        return self.conn.execute(select(m.c.id).where(m.c.owner_id == owner_id).limit(1)).first() is not None

    def merchants_of(self, owner_id: int, limit: int, offers_max: int) -> list[MerchantListed]:
        """The owner's merchants, newest first, each with its newest `offers_max` offers: stock, issued, redeemed."""
        m, o, k = c.merchants, c.coupon_offers, c.coupons
        shops = list(self.conn.execute(select(m).where(m.c.owner_id == owner_id).order_by(m.c.id.desc()).limit(limit)))
        if not shops:
            return []
        # Counted per offer through ix_coupons_offer: only these offers' coupons are read.
        redeemed = select(func.count()).where(k.c.offer_id == o.c.id, k.c.status == "redeemed").scalar_subquery()
        offers: dict[int, list[MerchantOffer]] = {}
        # The cap is per merchant (a window rank), so one busy shop never crowds the others' offers out.
        rank = func.row_number().over(partition_by=o.c.merchant_id, order_by=o.c.id.desc()).label("rank")
        ranked = (
            select(o, redeemed.label("redeemed"), rank).where(o.c.merchant_id.in_([r.id for r in shops])).subquery()
        )
        rows = self.conn.execute(
            select(ranked).where(ranked.c.rank <= offers_max).order_by(ranked.c.merchant_id, ranked.c.id.desc())
        )
        for r in rows:
            offers.setdefault(r.merchant_id, []).append(
                {"id": r.id, "title": r.title, "face_value_fen": int(r.face_value_fen), "stock": r.stock,
                 "issued": r.issued_count, "redeemed": int(r.redeemed), "expires_at": utc(r.expires_at).isoformat()}
            )  # fmt: skip
        return [
            {"id": r.id, "name": r.name, "lat": float(r.lat), "lng": float(r.lng), "offers": offers.get(r.id, [])}
            for r in shops
        ]

    def create_offer(
        self, merchant_id: int, title: str, face_value_fen: int, stock: int, expires_at: datetime, now: datetime
    ) -> int:
        oid = self.conn.execute(
            insert(c.coupon_offers)
            .values(merchant_id=merchant_id, title=title, face_value_fen=face_value_fen, stock=stock,
                    expires_at=expires_at, created_at=now)
            .returning(c.coupon_offers.c.id)
        ).scalar_one()  # fmt: skip
        return int(oid)

    def offers(self, offer_ids: Sequence[int]) -> dict[int, OfferRow]:
        o, m = c.coupon_offers, c.merchants
        rows = self.conn.execute(
            select(o, m.c.owner_id, m.c.name.label("merchant_name"), world_of(m.c.owner_id).label("world"))
            .join(m, m.c.id == o.c.merchant_id)
            .where(o.c.id.in_(set(offer_ids)))
        )
        return {
            r.id: OfferRow(r.id, r.merchant_id, r.owner_id, r.merchant_name, r.title, int(r.face_value_fen),
                           r.stock, r.issued_count, utc(r.expires_at), int(r.world))
            for r in rows
        }  # fmt: skip

    def nearby(
        self, world: int, box: tuple[float, float, float, float], now: datetime, limit: int
    ) -> list[tuple[int, str, float, float, OfferRow]]:
        """Offers with stock left, of merchants of `world` (service/worlds.py) inside the bounding box: (merchant
        id, name, lat, lng, offer)."""
        o, m = c.coupon_offers, c.merchants
        lat_min, lat_max, lng_min, lng_max = box
        lng_ok: ColumnElement[bool]
        if lng_max - lng_min >= 360:
            lng_ok = m.c.lng.between(-180.0, 180.0)
        elif lng_min < -180:  # the box crosses the antimeridian: two ranges
            lng_ok = or_(m.c.lng >= lng_min + 360, m.c.lng <= lng_max)
        elif lng_max > 180:
            lng_ok = or_(m.c.lng >= lng_min, m.c.lng <= lng_max - 360)
        else:
            lng_ok = m.c.lng.between(lng_min, lng_max)
        q = (
            select(o, m.c.owner_id, m.c.name.label("merchant_name"), m.c.lat, m.c.lng)
            .join(m, m.c.id == o.c.merchant_id)
            .where(m.c.lat.between(lat_min, lat_max), lng_ok)
            .where(o.c.expires_at > now, o.c.issued_count < o.c.stock, world_of(m.c.owner_id) == world)
            .limit(limit)
        )
        return [
            (r.merchant_id, r.merchant_name, float(r.lat), float(r.lng),
             OfferRow(r.id, r.merchant_id, r.owner_id, r.merchant_name, r.title, int(r.face_value_fen), r.stock,
                      r.issued_count, utc(r.expires_at), world))
            for r in self.conn.execute(q)
        ]  # fmt: skip

    def issue_coupon(self, offer_id: int, holder_id: int, now: datetime) -> int | None:
        """Take one from the offer's stock and hand the coupon to the holder; None when none is left."""
        o = c.coupon_offers
        with rows_nowait("coupon_offers", {offer_id}):  # never waited for mid-batch (locks.py)
            taken = self.conn.execute(
                update(o)
                .where(self.nowait_row(o, offer_id), o.c.issued_count < o.c.stock, o.c.expires_at > now)
                .values(issued_count=o.c.issued_count + 1)
            )
        if taken.rowcount != 1:
            return None
        cid = self.conn.execute(
            insert(c.coupons)
            .values(offer_id=offer_id, holder_id=holder_id, status="held", issued_at=now)
            .returning(c.coupons.c.id)
        ).scalar_one()
        return int(cid)

    def coupons_held_of_offer(self, offer_id: int, holder_id: int) -> int:
        """How many coupons of the offer the holder has (taken from its page, or won in campaigns)."""
        k = c.coupons
        q = select(func.count()).select_from(k).where(k.c.offer_id == offer_id, k.c.holder_id == holder_id)
        return int(self.conn.execute(q).scalar_one())

    def coupons_of(self, holder_id: int, limit: int) -> list[HeldCoupon]:
        k, o, m = c.coupons, c.coupon_offers, c.merchants
        rows = self.conn.execute(
            select(k, o.c.title, o.c.face_value_fen, o.c.expires_at, m.c.id.label("merchant_id"),
                   m.c.name.label("merchant_name"))
            .join(o, o.c.id == k.c.offer_id)
            .join(m, m.c.id == o.c.merchant_id)
            .where(k.c.holder_id == holder_id)
            .order_by(k.c.id.desc())
            .limit(limit)
        )  # fmt: skip
        return [
            {
                "id": r.id, "offer_id": r.offer_id, "title": r.title, "face_value_fen": int(r.face_value_fen),
                "merchant_id": r.merchant_id, "merchant_name": r.merchant_name, "status": r.status,
                "issued_at": utc(r.issued_at).isoformat(), "expires_at": utc(r.expires_at).isoformat(),
                "redeemed_at": utc(r.redeemed_at).isoformat() if r.redeemed_at else None,
            }
            for r in rows
        ]  # fmt: skip

    def redeem_coupon(self, coupon_id: int, merchant_owner_id: int, now: datetime) -> int:
        """Mark a held coupon redeemed, once, by the merchant account that issued it; return its holder.

        The caller has already checked the holder's redeem code (`Campaigns.redeem`): an id alone is guessable."""
        k, o, m = c.coupons, c.coupon_offers, c.merchants
        row = self.conn.execute(
            select(k.c.status, k.c.holder_id, o.c.expires_at, m.c.owner_id)
            .join(o, o.c.id == k.c.offer_id)
            .join(m, m.c.id == o.c.merchant_id)
            .where(k.c.id == coupon_id)
        ).first()
        if row is None or int(row.owner_id) != merchant_owner_id:
            raise dc.coupon_not_found()
        if row.status == "redeemed":
            raise dc.coupon_redeemed()
        if utc(row.expires_at) <= now:
            raise dc.coupon_expired()
        done = self.conn.execute(
            update(k).where(k.c.id == coupon_id, k.c.status == "held").values(status="redeemed", redeemed_at=now)
        )
        if done.rowcount != 1:
            raise dc.coupon_redeemed()
        return int(row.holder_id)
