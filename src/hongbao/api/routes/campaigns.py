"""Enterprise campaigns, coupons, merchants and nearby offers, and shake (摇一摇) events over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, status
from pydantic import BaseModel, Field, StrictStr

from hongbao.api.deps import AppDep, CurrentUser, IdempotencyKeyHeader, PathId
from hongbao.api.openapi import operation_id
from hongbao.api.schemas import Strict
from hongbao.api.schemas_campaigns import (
    CampaignFigures,
    CampaignList,
    CampaignOwned,
    CampaignPublic,
    CouponList,
    CouponRedeemed,
    CouponTaken,
    FollowedCampaignList,
    MerchantCreated,
    MerchantList,
    NearbyList,
    OfferCreated,
    PrizeWon,
    ShakeEventList,
    ShakeEventPublic,
    ShakePublic,
)
from hongbao.api.types import DIGITS, Fen, Id, Int, Number
from hongbao.service.campaigns import FOLLOWING_DEFAULT, FOLLOWING_MAX
from hongbao.service.idempotency import IdempotencyKey
from hongbao.service.results import campaigns as campaign_results
from hongbao.service.results import merchants as merchant_results
from hongbao.service.results import shake as shake_results
from hongbao.service.shake import EVENTS_LISTED_DEFAULT, EVENTS_LISTED_MAX

router = APIRouter(prefix="/v1", generate_unique_id_function=operation_id)

Text64 = Annotated[str, Field(max_length=256)]


class PrizeIn(BaseModel):
    kind: str = Field(max_length=16, description='"cash" or "coupon"')
    amount_fen: Fen | None = Field(None, description="cash prizes: the amount paid")
    offer_id: Id | None = Field(None, description="coupon prizes: an offer of one of your merchants")
    weight: Int = Field(1, description="relative chance of this prize")
    count: Int | None = Field(None, description="at most this many (default: until budget or stock runs out)")


class Branding(BaseModel):
    name: Text64
    logo_url: str | None = Field(None, max_length=1024)
    cover_text: str | None = Field(None, max_length=512)


class CampaignCreate(Branding):
    channel: str = Field(max_length=16, description='"link" (claim link token) or "followers"')
    starts_at: datetime | None = Field(None, description="default: now")
    ends_at: datetime
    budget_fen: Fen = Field(description="moved from your wallet into the campaign budget at once")
    prizes: list[PrizeIn] = Field(max_length=64)
    per_user_max: Int | None = None
    per_day_max: Int | None = None


class ClaimBody(BaseModel):
    token: str | None = Field(None, max_length=128, description="the claim link's token (link campaigns)")


class BudgetTopUp(Strict):
    amount_fen: Fen  # moved from your wallet into the campaign budget at once


class PoolCreate(Branding):
    budget_fen: Fen
    prizes: list[PrizeIn] = Field(max_length=64)


class RoundIn(BaseModel):
    starts_at: datetime
    ends_at: datetime


class EventCreate(BaseModel):
    name: Text64
    rounds: list[RoundIn] = Field(max_length=64)
    win_permille: Int = Field(500, description="chance a shake wins, in ‰")
    wins_per_user_max: Int | None = Field(None, description="K: wins per user per event (default 3)")
    cards: list[str] | None = Field(None, max_length=64, description="greeting-card texts a shake may show")


class MerchantCreate(BaseModel):
    name: Text64
    lat: Number
    lng: Number


class RedeemBody(Strict):
    code: StrictStr = Field(
        max_length=32, description="the coupon's 8-digit redeem code (spaces, dashes allowed)", examples=["1234 5678"]
    )


class OfferCreate(BaseModel):
    title: Text64
    face_value_fen: Fen
    stock: Int
    expires_at: datetime


def _prizes(prizes: list[PrizeIn]) -> list[dict[str, Any]]:
    return [p.model_dump(exclude_none=True) for p in prizes]


# ---------------------------------------------------------------------- campaigns


@router.post("/campaigns", status_code=status.HTTP_201_CREATED, tags=["campaigns"], response_model=CampaignOwned,
             response_model_exclude_unset=True)
async def create_campaign(
    body: CampaignCreate, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> campaign_results.OwnedCampaign:
    """企业红包: a verified enterprise funds a campaign budget from its wallet (a link campaign's token: once)."""
    idem = IdempotencyKey.of(user_id, key, "campaign", body.model_dump(mode="json"))
    return await app.campaigns.create(
        user_id, channel=body.channel, name=body.name, logo_url=body.logo_url, cover_text=body.cover_text,
        starts_at=body.starts_at or app.deps.clock.now(), ends_at=body.ends_at, budget_fen=body.budget_fen,
        prizes=_prizes(body.prizes), per_user_max=body.per_user_max, per_day_max=body.per_day_max, idem=idem,
    )  # fmt: skip


@router.get("/campaigns", tags=["campaigns"], response_model=CampaignList, response_model_exclude_unset=True)
async def my_campaigns(app: AppDep, user_id: CurrentUser) -> campaign_results.CampaignList:
    """Your campaigns and shake pools, newest first, with budget, paid, returned and remaining."""
    return await app.campaigns.mine(user_id)


@router.get("/campaigns/following", tags=["campaigns"], response_model=FollowedCampaignList)
async def following_campaigns(
    app: AppDep,
    user_id: CurrentUser,
    limit: Annotated[int, Field(ge=1, le=FOLLOWING_MAX), DIGITS, Query()] = FOLLOWING_DEFAULT,
) -> campaign_results.FollowedCampaignList:
    """Followers campaigns open now, with a prize left, of accounts you follow: branding and window, newest first."""
    return await app.campaigns.following(user_id, limit)


@router.get("/campaigns/{campaign_id}", tags=["campaigns"], response_model=CampaignOwned | CampaignPublic,
            response_model_exclude_unset=True)
async def campaign(
    campaign_id: PathId, app: AppDep, user_id: CurrentUser, token: str | None = Query(None, max_length=128)
) -> campaign_results.Campaign | campaign_results.OwnedCampaign:
    """Branding and window (the owner also sees budget and prizes); a link campaign needs its token."""
    return await app.campaigns.detail(campaign_id, user_id, token)


@router.post("/campaigns/{campaign_id}/claim", status_code=status.HTTP_201_CREATED, tags=["campaigns"],
             response_model=PrizeWon)
async def claim(
    campaign_id: PathId,
    request: Request,
    app: AppDep,
    user_id: CurrentUser,
    body: Annotated[ClaimBody | None, Body()] = None,
    key: IdempotencyKeyHeader = None,
) -> campaign_results.Award:
    """Draw a prize: cash is credited to your wallet at once, a coupon goes to your coupon list.

    Refusals in order: campaign_not_found → campaign_not_started / campaign_ended → not_follower →
    cap_reached → campaign_exhausted.
    """
    token = body.token if body is not None else None
    idem = IdempotencyKey.of(user_id, key, "campaign-claim", [campaign_id, token])
    address = request.client.host if request.client else "unknown"
    return await app.campaigns.claim(campaign_id, user_id, token=token, idem=idem, address=address)


@router.post("/campaigns/{campaign_id}/top-up", status_code=status.HTTP_201_CREATED, tags=["campaigns"],
             response_model=CampaignOwned, response_model_exclude_unset=True)
async def top_up(
    campaign_id: PathId, body: BudgetTopUp, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> campaign_results.OwnedCampaign:
    """Owner only: add money from your wallet to an active campaign's (or shake pool's) budget.

    Refusals in order: invalid_request (not a JSON integer) → invalid_amount (not positive) → campaign_not_found →
    not_campaign_owner → campaign_ended → invalid_amount (no cash prizes) → amount_too_large → insufficient_funds.
    """
    idem = IdempotencyKey.of(user_id, key, "campaign-top-up", [campaign_id, body.amount_fen])
    return await app.campaigns.top_up(campaign_id, user_id, body.amount_fen, idem)


@router.post("/campaigns/{campaign_id}/cancel", tags=["campaigns"], response_model=CampaignOwned,
             response_model_exclude_unset=True)
async def cancel(
    campaign_id: PathId, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> campaign_results.OwnedCampaign:
    """Owner only: end the campaign (or shake pool) now; its unspent budget goes back to your wallet, once.

    Refusals in order: campaign_not_found → not_campaign_owner → campaign_ended (already closed).
    """
    idem = IdempotencyKey.of(user_id, key, "campaign-cancel", campaign_id)
    return await app.campaigns.cancel(campaign_id, user_id, idem)


@router.get("/campaigns/{campaign_id}/figures", tags=["campaigns"], response_model=CampaignFigures)
async def figures(campaign_id: PathId, app: AppDep, user_id: CurrentUser) -> campaign_results.CampaignFigures:
    """Owner only: issued, claimed, remaining budget, unique claimers, by day."""
    return await app.campaigns.figures(campaign_id, user_id)


# ---------------------------------------------------------------------- coupons and merchants


@router.get("/coupons", tags=["coupons"], response_model=CouponList)
async def coupons(app: AppDep, user_id: CurrentUser) -> merchant_results.CouponList:
    """Your coupons, newest first, each with its `redeem_code`: show it at the till (only you see it)."""
    return await app.campaigns.coupons(user_id)


@router.post("/coupons/{coupon_id}/redeem", tags=["coupons"], response_model=CouponRedeemed)
async def redeem(
    coupon_id: PathId, body: RedeemBody, app: AppDep, user_id: CurrentUser
) -> merchant_results.CouponRedeemed:
    """The merchant account that issued the coupon redeems it, once, with the redeem code the customer shows.

    Refusals in order: invalid_code (422, not 8 digits once spaces and dashes are dropped) → too_many_attempts
    (429, 10 wrong codes in 15 min per caller) → wrong_code (403, counted; decided before the coupon is looked up)
    → coupon_not_found (404, not issued by one of your merchants) → coupon_redeemed (409) → coupon_expired (422).
    """
    return await app.campaigns.redeem(coupon_id, user_id, body.code)


@router.post("/merchants", status_code=status.HTTP_201_CREATED, tags=["merchants"], response_model=MerchantCreated)
async def register_merchant(
    body: MerchantCreate, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> merchant_results.MerchantCreated:
    """Register a merchant at a location; your account is the merchant account (a keyed retry: the first reply)."""
    idem = IdempotencyKey.of(user_id, key, "merchant", body.model_dump(mode="json"))
    return await app.campaigns.register_merchant(user_id, body.name, body.lat, body.lng, idem)


@router.get("/merchants", tags=["merchants"], response_model=MerchantList)
async def my_merchants(app: AppDep, user_id: CurrentUser) -> merchant_results.MerchantList:
    """Your merchants, newest first, each with its offers: stock, coupons issued and redeemed."""
    return await app.campaigns.merchants(user_id)


@router.post("/merchants/{merchant_id}/offers", status_code=status.HTTP_201_CREATED, tags=["merchants"],
             response_model=OfferCreated)
async def add_offer(
    merchant_id: PathId, body: OfferCreate, app: AppDep, user_id: CurrentUser
) -> merchant_results.OfferCreated:
    """A coupon offer of your merchant: face value, stock, expiry."""
    return await app.campaigns.add_offer(
        merchant_id, user_id, title=body.title, face_value_fen=body.face_value_fen, stock=body.stock,
        expires_at=body.expires_at,
    )  # fmt: skip


@router.post("/offers/{offer_id}/coupons", status_code=status.HTTP_201_CREATED, tags=["coupons"],
             response_model=CouponTaken)
async def take_coupon(offer_id: PathId, app: AppDep, user_id: CurrentUser) -> merchant_results.CouponTaken:
    """领券: one coupon of an offer (found nearby) for you, from its stock, once per person.

    Refusals in order: offer_not_found (404) → offer_exhausted (409: none left, or expired) → coupon_taken (409).
    """
    return await app.campaigns.take_coupon(offer_id, user_id)


# ---------------------------------------------------------------------- shake


@router.get("/shake/nearby", tags=["shake"], response_model=NearbyList)
async def nearby(
    app: AppDep,
    user_id: CurrentUser,
    lat: float = Query(ge=-90, le=90),
    lng: float = Query(ge=-180, le=180),
    radius_m: float = Query(1000, ge=1, le=50_000),
) -> merchant_results.NearbyList:
    """Offers of merchants within radius_m, nearest first."""
    return await app.campaigns.nearby(user_id, lat, lng, radius_m)


@router.post("/shake/events", status_code=status.HTTP_201_CREATED, tags=["shake"], response_model=ShakeEventPublic)
async def create_event(body: EventCreate, app: AppDep, user_id: CurrentUser) -> shake_results.ShakeEvent:
    """An admin or enterprise account schedules a shake event (the Gala) in rounds."""
    return await app.shake.create_event(
        user_id, name=body.name, rounds=[(r.starts_at, r.ends_at) for r in body.rounds],
        win_permille=body.win_permille, wins_per_user_max=body.wins_per_user_max, cards=body.cards,
    )  # fmt: skip


@router.get("/shake/events", tags=["shake"], response_model=ShakeEventList)
async def events(
    app: AppDep,
    user_id: CurrentUser,
    limit: Annotated[int, Field(ge=1, le=EVENTS_LISTED_MAX), DIGITS, Query()] = EVENTS_LISTED_DEFAULT,
) -> shake_results.ShakeEventList:
    """Events live now first, then upcoming by their next round's start, then those ended in the last 24 h;
    each with its rounds and its sponsors' branding."""
    return await app.shake.events(user_id, limit)


@router.get("/shake/events/{event_id}", tags=["shake"], response_model=ShakeEventPublic)
async def event(event_id: PathId, app: AppDep, user_id: CurrentUser) -> shake_results.ShakeEvent:
    return await app.shake.event(event_id, user_id)


@router.post("/shake/events/{event_id}/pools", status_code=status.HTTP_201_CREATED, tags=["shake"],
             response_model=CampaignOwned, response_model_exclude_unset=True)
async def add_pool(
    event_id: PathId, body: PoolCreate, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> campaign_results.OwnedCampaign:
    """A sponsor (verified enterprise) funds a prize pool of the event from its wallet."""
    idem = IdempotencyKey.of(user_id, key, "shake-pool", [event_id, body.model_dump(mode="json")])
    return await app.shake.add_pool(
        event_id, user_id, budget_fen=body.budget_fen, prizes=_prizes(body.prizes), name=body.name,
        logo_url=body.logo_url, cover_text=body.cover_text, idem=idem,
    )  # fmt: skip


@router.post("/shake/events/{event_id}/shake", tags=["shake"], response_model=None,
             responses={200: {"model": ShakePublic, "description": "What this shake won"}})
async def shake(
    event_id: PathId, app: AppDep, user_id: CurrentUser, key: IdempotencyKeyHeader = None
) -> shake_results.Shaken:
    """摇一摇: nothing, cash (credited at once), a coupon or a greeting card.

    Refusals: too_many_shakes (429, 5 a second, before any read) → shake_event_not_found → round_not_active →
    too_many_shakes (429, 100 a round) → pool_empty.
    """
    idem = IdempotencyKey.of(user_id, key, "shake", event_id)
    return await app.shake.shake(event_id, user_id, idem)
