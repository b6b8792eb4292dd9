"""What the campaign use cases need from the store: campaigns and their prizes, claims against the caps, merchants,
offers and coupons.

The SQL transaction (adapters/sql/tx_campaign.py, tx_campaign_claims.py, tx_merchants.py) implements these
structurally; the rows it answers are defined here, beside the questions, so the use cases never import the adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypedDict

from hongbao.domain.campaigns import Branding, Candidate, Prize
from hongbao.service.ports.replies import IdempotentReplies


class PrizeLine(TypedDict):
    """One line of a campaign's prize table, as its owner sees it."""

    kind: str  # cash or coupon
    amount_fen: int | None  # cash prizes only
    offer_id: int | None  # coupon prizes only
    weight: int
    count: int | None  # how many at most; None: no count
    issued: int


class DayFigures(TypedDict):
    day: str
    issued: int
    unique_claimers: int
    claimed_fen: int
    coupons_issued: int


class ClaimFigures(TypedDict):
    """A campaign's claims counted: in all, and by day."""

    issued: int
    unique_claimers: int
    claimed_fen: int
    coupons_issued: int
    coupons_redeemed: int
    by_day: list[DayFigures]


class MerchantOffer(TypedDict):
    """One offer of a merchant, as its owner sees it."""

    id: int
    title: str
    face_value_fen: int
    stock: int
    issued: int
    redeemed: int
    expires_at: str


class MerchantListed(TypedDict):
    """A merchant of the owner's, with its newest offers."""

    id: int
    name: str
    lat: float
    lng: float
    offers: list[MerchantOffer]


class HeldCoupon(TypedDict):
    """A coupon as its holder's list shows it (its redeem code is added by the use case, never stored)."""

    id: int
    offer_id: int
    title: str
    face_value_fen: int
    merchant_id: int
    merchant_name: str
    status: str  # held or redeemed
    issued_at: str
    expires_at: str
    redeemed_at: str | None


@dataclass(frozen=True)
class CampaignRow:
    id: int
    owner_id: int
    channel: str
    event_id: int | None
    name: str
    logo_url: str | None
    cover_text: str
    starts_at: datetime
    ends_at: datetime
    budget_fen: int
    paid_fen: int
    returned_fen: int
    budget_account_id: int
    per_user_max: int | None
    per_day_max: int | None
    link_token_hash: bytes | None
    status: str
    claims_count: int
    created_at: datetime
    world: int  # its owner's (service/worlds.py): only users of this world see or claim it
    closed_at: datetime | None = None

    @property
    def left_fen(self) -> int:
        return self.budget_fen - self.paid_fen - self.returned_fen


@dataclass(frozen=True)
class AwardRow:
    claim_id: int
    campaign_id: int
    kind: str
    amount_fen: int
    coupon_id: int | None


@dataclass(frozen=True)
class OfferRow:
    id: int
    merchant_id: int
    merchant_owner_id: int
    merchant_name: str
    title: str
    face_value_fen: int
    stock: int
    issued_count: int
    expires_at: datetime
    world: int  # its merchant's owner's (service/worlds.py): only users of this world see or take it


class CampaignById(Protocol):
    def campaign(self, campaign_id: int) -> CampaignRow | None: ...


class Offers(Protocol):
    """Coupon offers by id (a campaign's coupon prize names one)."""

    def offers(self, offer_ids: Sequence[int]) -> dict[int, OfferRow]: ...


class CampaignRecords(CampaignById, Offers, IdempotentReplies, Protocol):
    """Campaigns and their budgets: create, read, figures, top up, close; every limit one conditional UPDATE."""

    def verified_as(self, user_id: int) -> str | None: ...

    def create_campaign(
        self,
        *,
        owner_id: int,
        channel: str,
        event_id: int | None,
        branding: Branding,
        starts_at: datetime,
        ends_at: datetime,
        budget_fen: int,
        per_user_max: int | None,
        per_day_max: int | None,
        link_token_hash: bytes | None,
        prizes: Sequence[Prize],
        now: datetime,
    ) -> int: ...

    def campaigns_of_owner(self, owner_id: int, limit: int) -> list[CampaignRow]: ...

    def followed_campaigns(
        self, follower_id: int, world: int, now: datetime, limit: int
    ) -> list[tuple[CampaignRow, str]]: ...

    def prizes_of(self, campaign_id: int) -> list[PrizeLine]: ...

    def campaign_figures(self, campaign_id: int) -> ClaimFigures: ...

    def top_up_campaign(self, campaign_id: int, amount_fen: int, budget_fen_max: int, now: datetime) -> int | None: ...

    def close_campaign(self, campaign_id: int, now: datetime, *, early: bool = False) -> int | None: ...


class ClaimRecords(CampaignById, IdempotentReplies, Protocol):
    """A claim: who may claim (followers), counted against the caps, one prize drawn among those left and issued."""

    def campaign(self, campaign_id: int) -> CampaignRow | None: ...

    def is_follower(self, follower_id: int, followee_id: int) -> bool: ...

    def count_claim(
        self, campaign_id: int, user_id: int, day: str, per_user_max: int | None, per_day_max: int | None
    ) -> bool: ...

    def claim_allowed(
        self, campaign_id: int, user_id: int, day: str, per_user_max: int | None, per_day_max: int | None
    ) -> bool: ...

    def prize_candidates(self, campaign: CampaignRow, now: datetime) -> list[Candidate]: ...

    def award_prize(
        self, campaign_id: int, prize: Candidate, user_id: int, day: str, channel: str, now: datetime
    ) -> AwardRow | None: ...


class MerchantRecords(Offers, IdempotentReplies, Protocol):
    """Merchants, their offers' stock and the coupons taken from it, redeemed once."""

    def create_merchant(self, owner_id: int, name: str, lat: float, lng: float, now: datetime) -> int: ...

    def merchant_owner(self, merchant_id: int) -> int | None: ...

    def create_offer(
        self, merchant_id: int, title: str, face_value_fen: int, stock: int, expires_at: datetime, now: datetime
    ) -> int: ...

    def issue_coupon(self, offer_id: int, holder_id: int, now: datetime) -> int | None: ...

    def coupons_held_of_offer(self, offer_id: int, holder_id: int) -> int: ...
