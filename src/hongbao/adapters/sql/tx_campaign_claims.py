"""Repository methods of claiming a campaign's prize: the prizes left to draw, the caps, the award (mixed into SqlTx).

The caps and the award are each one conditional UPDATE inside the write job, never a read before it: two claims
of the last prize, or of a user's last allowed claim, cannot both pass.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, insert, literal, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import schema_campaign as c
from hongbao.adapters.sql.tx_merchants import MerchantTx
from hongbao.domain.campaigns import CampaignStatus, Candidate, PrizeKind
from hongbao.domain.ledger import TransferCode
from hongbao.service.ports.campaigns import AwardRow, CampaignRow


class _Lost(Exception):
    """Another writer took the last of a prize, a budget or a stock between the draw and the award."""


class CampaignClaimTx(MerchantTx):
    conn: Connection

    if TYPE_CHECKING:  # these live in SqlTx (tx.py); declared for the type checker only

        def transfer(
            self, debit_id: int, credit_id: int, amount_fen: int, code: TransferCode, ref: str, now: datetime
        ) -> int: ...

        def wallet_account_id(self, user_id: int) -> int: ...
    def prize_candidates(self, campaign: CampaignRow, now: datetime) -> list[Candidate]:
        """Prizes of the campaign still available: count left, cash within the budget left, coupon stock left."""
        p, o = c.campaign_prizes, c.coupon_offers
        q = (
            select(p.c.id, p.c.kind, p.c.weight, p.c.amount_fen, p.c.offer_id)
            .select_from(p.outerjoin(o, o.c.id == p.c.offer_id))
            .where(p.c.campaign_id == campaign.id)
            .where(or_(p.c.count_max.is_(None), p.c.issued_count < p.c.count_max))
            .where(
                or_(
                    and_(p.c.kind == PrizeKind.CASH.value, p.c.amount_fen <= campaign.left_fen),
                    and_(p.c.kind == PrizeKind.COUPON.value, o.c.issued_count < o.c.stock, o.c.expires_at > now),
                )
            )
            .order_by(p.c.id)
        )
        return [
            Candidate(r.id, PrizeKind(r.kind), r.weight, int(r.amount_fen), r.offer_id) for r in self.conn.execute(q)
        ]

    def count_claim(
        self, campaign_id: int, user_id: int, day: str, per_user_max: int | None, per_day_max: int | None
    ) -> bool:
        """Count one more claim of the user (total and on `day`) if both caps allow it; False when a cap is reached."""
        cl = c.campaign_claimers
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(cl).values(campaign_id=campaign_id, user_id=user_id))
        except IntegrityError:
            pass  # the user claimed before
        same_day = cl.c.day == day
        q = update(cl).where(cl.c.campaign_id == campaign_id, cl.c.user_id == user_id)
        if per_user_max is not None:
            q = q.where(cl.c.claims_count < per_user_max)
        if per_day_max is not None:
            q = q.where(or_(cl.c.day != day, cl.c.day_count < per_day_max))
        done = self.conn.execute(
            q.values(
                claims_count=cl.c.claims_count + 1,
                day_count=case((same_day, cl.c.day_count + 1), else_=literal(1)),
                day=day,
            )
        )
        return done.rowcount == 1

    def claim_allowed(
        self, campaign_id: int, user_id: int, day: str, per_user_max: int | None, per_day_max: int | None
    ) -> bool:
        """Whether the caps would let the user claim once more (a read; `count_claim` decides)."""
        cl = c.campaign_claimers
        row = self.conn.execute(
            select(cl.c.claims_count, cl.c.day, cl.c.day_count).where(
                cl.c.campaign_id == campaign_id, cl.c.user_id == user_id
            )
        ).first()
        if row is None:
            return True
        if per_user_max is not None and row.claims_count >= per_user_max:
            return False
        return per_day_max is None or row.day != day or row.day_count < per_day_max

    def award_prize(
        self, campaign_id: int, prize: Candidate, user_id: int, day: str, channel: str, now: datetime
    ) -> AwardRow | None:
        """Issue one drawn prize, all or nothing; None when another writer took the last of it first."""
        try:
            with self.conn.begin_nested():
                return self._award(campaign_id, prize, user_id, day, channel, now)
        except _Lost:
            return None

    def _award(
        self, campaign_id: int, prize: Candidate, user_id: int, day: str, channel: str, now: datetime
    ) -> AwardRow:
        p, k = c.campaign_prizes, c.campaigns
        taken = self.conn.execute(
            update(p)
            .where(p.c.id == prize.prize_id, or_(p.c.count_max.is_(None), p.c.issued_count < p.c.count_max))
            .values(issued_count=p.c.issued_count + 1)
        )
        if taken.rowcount != 1:
            raise _Lost
        cash = prize.amount_fen if prize.kind is PrizeKind.CASH else 0
        # The budget decides here: one statement, only while active, inside the window and within the budget.
        row = self.conn.execute(
            update(k)
            .where(
                k.c.id == campaign_id,
                k.c.status == CampaignStatus.ACTIVE.value,
                k.c.starts_at <= now,
                k.c.ends_at > now,
                k.c.paid_fen + k.c.returned_fen + cash <= k.c.budget_fen,
            )
            .values(paid_fen=k.c.paid_fen + cash, claims_count=k.c.claims_count + 1)
            .returning(k.c.budget_account_id)
        ).first()
        if row is None:
            raise _Lost
        coupon_id = None
        if prize.kind is PrizeKind.COUPON:
            assert prize.offer_id is not None
            coupon_id = self.issue_coupon(prize.offer_id, user_id, now)
            if coupon_id is None:
                raise _Lost
        claim_id = int(
            self.conn.execute(
                insert(c.campaign_claims)
                .values(campaign_id=campaign_id, user_id=user_id, prize_id=prize.prize_id, kind=prize.kind.value,
                        amount_fen=cash, coupon_id=coupon_id, day=day, channel=channel, created_at=now)
                .returning(c.campaign_claims.c.id)
            ).scalar_one()
        )  # fmt: skip
        if cash:
            self.transfer(
                int(row.budget_account_id), self.wallet_account_id(user_id), cash, TransferCode.CAMPAIGN_PAYOUT,
                f"campaign-claim:{claim_id}", now,
            )  # fmt: skip
        return AwardRow(claim_id, campaign_id, prize.kind.value, cash, coupon_id)

