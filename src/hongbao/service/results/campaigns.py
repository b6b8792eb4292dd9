"""Replies of campaigns (企业红包, service/campaign_claims.py): the prize a claim won."""

from __future__ import annotations

from typing import TypedDict


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
