"""Answers of campaigns (企业红包), coupons, merchants and Gala shake (摇一摇)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hongbao.api.schemas import Reply


class PrizePublic(Reply):
    kind: str = Field(description="cash or coupon")
    amount_fen: int | None = Field(description="Cash prizes only.")
    offer_id: int | None
    weight: int
    count: int | None = Field(description="How many of this prize at most (null: no count).")
    issued: int


class CampaignPublic(Reply):
    """What anyone who may see the campaign sees: branding and window."""

    id: int
    owner_id: int
    channel: str = Field(description="link, followers or shake")
    event_id: int | None
    name: str
    logo_url: str | None
    cover_text: str
    starts_at: str
    ends_at: str
    status: str
    closed_at: str | None
    per_user_max: int | None
    per_day_max: int | None


class CampaignOwned(CampaignPublic):
    """The owner's view: the budget and the prizes too."""

    budget_fen: int
    paid_fen: int
    returned_fen: int
    remaining_fen: int
    prizes: list[PrizePublic]
    link_token: str | None = Field(
        default=None, description="A new link campaign only: the token its claimers need (shown to its owner)."
    )
    added_fen: int | None = Field(default=None, description="A top-up only: the amount added.")


class FollowedCampaign(CampaignPublic):
    owner_name: str


class FollowedCampaignList(Reply):
    campaigns: list[FollowedCampaign]


class CampaignList(Reply):
    campaigns: list[CampaignOwned]


class DayFigures(Reply):
    day: str
    issued: int
    unique_claimers: int
    claimed_fen: int
    coupons_issued: int


class CampaignFigures(Reply):
    campaign_id: int
    status: str
    budget_fen: int
    paid_fen: int
    returned_fen: int
    remaining_fen: int
    issued: int
    unique_claimers: int
    claimed_fen: int
    coupons_issued: int
    coupons_redeemed: int
    by_day: list[DayFigures]


class PrizeWon(Reply):
    campaign_id: int
    claim_id: int
    kind: str = Field(description="cash (credited to your wallet) or coupon (in your coupon list)")
    amount_fen: int
    coupon_id: int | None
    name: str
    cover_text: str
    logo_url: str | None


class CouponPublic(Reply):
    id: int
    offer_id: int
    title: str
    face_value_fen: int
    merchant_id: int
    merchant_name: str
    status: str
    issued_at: str
    expires_at: str
    redeemed_at: str | None
    redeem_code: str = Field(description="Show it at the till; only you see it.")


class CouponList(Reply):
    coupons: list[CouponPublic]


class CouponRedeemed(Reply):
    id: int
    status: Literal["redeemed"]
    holder_id: int
    redeemed_at: str


class MerchantCreated(Reply):
    id: int
    owner_id: int
    name: str
    lat: float
    lng: float


class OfferPublic(Reply):
    id: int
    title: str
    face_value_fen: int
    stock: int
    issued: int
    expires_at: str


class OfferCreated(OfferPublic):
    merchant_id: int


class MerchantOffer(OfferPublic):
    redeemed: int


class MerchantPublic(Reply):
    id: int
    name: str
    lat: float
    lng: float
    offers: list[MerchantOffer]


class MerchantList(Reply):
    merchants: list[MerchantPublic]


class CouponTaken(Reply):
    coupon_id: int
    offer_id: int
    title: str
    face_value_fen: int
    merchant_name: str
    expires_at: str


class NearbyOffer(Reply):
    offer_id: int
    merchant_id: int
    merchant_name: str
    title: str
    face_value_fen: int
    left: int
    expires_at: str
    distance_m: float


class NearbyList(Reply):
    offers: list[NearbyOffer]


class RoundWindow(Reply):
    seq: int
    starts_at: str
    ends_at: str


class PoolListed(Reply):
    campaign_id: int
    sponsor_id: int
    name: str
    logo_url: str | None
    cover_text: str


class PoolPublic(PoolListed):
    status: str


class ShakeEventPublic(Reply):
    id: int
    owner_id: int
    name: str
    starts_at: str
    ends_at: str
    win_permille: int
    wins_per_user_max: int
    rounds: list[RoundWindow]
    active_round: int | None
    pools: list[PoolPublic]


class ShakeEventListed(Reply):
    id: int
    name: str
    starts_at: str
    ends_at: str
    rounds: list[RoundWindow]
    live: bool
    active_round: int | None
    next_round_starts_at: str | None
    ended: bool
    pools: list[PoolListed]


class ShakeEventList(Reply):
    events: list[ShakeEventListed]


class ShakeNothing(Reply):
    event_id: int
    round: int
    result: Literal["nothing"]


class ShakeCard(Reply):
    event_id: int
    round: int
    result: Literal["card"]
    card: str = Field(description="A greeting card of the event: a text, no money.")


class ShakeWon(Reply):
    event_id: int
    round: int
    result: Literal["cash", "coupon"] = Field(description="cash (credited to your wallet) or coupon")
    campaign_id: int
    claim_id: int
    kind: str
    amount_fen: int
    coupon_id: int | None
    name: str
    cover_text: str
    logo_url: str | None
    sponsor_id: int


ShakePublic = Annotated[ShakeNothing | ShakeCard | ShakeWon, Field(discriminator="result")]
