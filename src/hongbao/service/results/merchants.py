"""Replies of merchants and coupons (service/merchants.py): a merchant registered, an offer added, the owner's
merchants, a coupon taken, offers nearby, the holder's coupons and a coupon redeemed."""

from __future__ import annotations

from typing import Literal, TypedDict

from hongbao.service.ports.campaigns import HeldCoupon, MerchantListed


class MerchantCreated(TypedDict):
    id: int
    owner_id: int
    name: str
    lat: float
    lng: float


class OfferCreated(TypedDict):
    id: int
    merchant_id: int
    title: str
    face_value_fen: int
    stock: int
    issued: int
    expires_at: str


class MerchantList(TypedDict):
    merchants: list[MerchantListed]


class CouponTaken(TypedDict):
    coupon_id: int
    offer_id: int
    title: str
    face_value_fen: int
    merchant_name: str
    expires_at: str


class NearbyOffer(TypedDict):
    offer_id: int
    merchant_id: int
    merchant_name: str
    title: str
    face_value_fen: int
    left: int
    expires_at: str
    distance_m: float


class NearbyList(TypedDict):
    """Offers within the radius, nearest first."""

    offers: list[NearbyOffer]


class Coupon(HeldCoupon):
    redeem_code: str  # shown to its holder only


class CouponList(TypedDict):
    coupons: list[Coupon]


class CouponRedeemed(TypedDict):
    id: int
    status: Literal["redeemed"]
    holder_id: int
    redeemed_at: str
