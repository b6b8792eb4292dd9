"""Replies of campaigns (企业红包, service/campaigns.py, campaign_claims.py): a campaign as anyone or its owner sees
it, lists of them, the owner's figures, and the prize a claim won."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from hongbao.service.ports.campaigns import ClaimFigures, PrizeLine


class Award(TypedDict):
    """A prize drawn for a claimer: cash already credited to their wallet, or a coupon in their list."""

    campaign_id: int
    claim_id: int
    kind: str  # cash or coupon
    amount_fen: int
    coupon_id: int | None  # coupon prizes only
    name: str  # the campaign's branding, for the claimer's card
    cover_text: str
    logo_url: str | None


class Campaign(TypedDict):
    """What anyone who may see a campaign sees: branding and window."""

    id: int
    owner_id: int
    channel: str  # link, followers or shake
    event_id: int | None  # a shake pool's event
    name: str
    logo_url: str | None
    cover_text: str
    starts_at: str
    ends_at: str
    status: str
    closed_at: str | None
    per_user_max: int | None
    per_day_max: int | None


class OwnedCampaign(Campaign):
    """The owner's view: the budget and the prizes too."""

    budget_fen: int
    paid_fen: int
    returned_fen: int
    remaining_fen: int
    prizes: list[PrizeLine]
    link_token: NotRequired[str]  # a new link campaign only, to its owner
    added_fen: NotRequired[int]  # a top-up only


class StoredCampaign(OwnedCampaign):
    """What a creation stores for its retries: a link campaign's token only sealed, never in clear."""

    sealed_link_token: NotRequired[str]


class FollowedCampaign(Campaign):
    owner_name: str


class FollowedCampaignList(TypedDict):
    campaigns: list[FollowedCampaign]


class CampaignList(TypedDict):
    """The owner's campaigns and shake pools, newest first."""

    campaigns: list[OwnedCampaign]


class CampaignFigures(ClaimFigures):
    """The owner's figures: the budget, and the claims counted."""

    campaign_id: int
    status: str
    budget_fen: int
    paid_fen: int
    returned_fen: int
    remaining_fen: int
