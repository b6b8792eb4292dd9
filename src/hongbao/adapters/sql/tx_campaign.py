"""Repository methods of enterprise campaigns, coupons, shake events and nearby merchants (mixed into SqlTx)."""

from __future__ import annotations

from sqlalchemy.engine import Connection


class CampaignTx:
    conn: Connection
