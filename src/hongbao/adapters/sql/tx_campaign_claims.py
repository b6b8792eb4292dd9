"""Repository methods of claiming a campaign's prize: the prizes left to draw, the caps, the award (mixed into SqlTx).

The caps and the award are each one conditional UPDATE inside the write job, never a read before it: two claims
of the last prize, or of a user's last allowed claim, cannot both pass.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.engine import Connection

from hongbao.adapters.sql import hot
from hongbao.adapters.sql import schema_campaign as c
from hongbao.adapters.sql.hot import ts
from hongbao.adapters.sql.locks import rows_nowait
from hongbao.adapters.sql.tx_merchants import MerchantTx
from hongbao.domain.campaigns import CampaignStatus, Candidate, PrizeKind
from hongbao.domain.ledger import TransferCode
from hongbao.service.ports.campaigns import AwardRow, CampaignRow


class _Lost(Exception):
    """Another writer took the last of a prize, a budget or a stock between the draw and the award."""


# A claim's statements as driver SQL (hot.py), written once: a claim runs about ten of them.
_CASH, _COUPON, _ACTIVE = PrizeKind.CASH.value, PrizeKind.COUPON.value, CampaignStatus.ACTIVE.value
_COUNT_CLAIM = (
    "UPDATE campaign_claimers SET claims_count = claims_count + 1, "
    "day_count = CASE WHEN day = ? THEN day_count + 1 ELSE 1 END, day = ? WHERE campaign_id = ? AND user_id = ?"
)
_CANDIDATES = (
    "SELECT p.id, p.kind, p.weight, p.amount_fen, p.offer_id FROM campaign_prizes p "
    "LEFT OUTER JOIN coupon_offers o ON o.id = p.offer_id "
    "WHERE p.campaign_id = ? AND (p.count_max IS NULL OR p.issued_count < p.count_max) "
    "AND ((p.kind = ? AND p.amount_fen <= ?) OR (p.kind = ? AND o.issued_count < o.stock AND o.expires_at > ?)) "
    "ORDER BY p.id"
)
_TAKE_PRIZE = (
    "UPDATE campaign_prizes SET issued_count = issued_count + 1 "
    "WHERE id = ? AND (count_max IS NULL OR issued_count < count_max)"
)
_PAY_FROM_BUDGET = (
    "UPDATE campaigns SET paid_fen = paid_fen + ?, claims_count = claims_count + 1 "
    "WHERE id = ? AND status = ? AND starts_at <= ? AND ends_at > ? AND paid_fen + returned_fen + ? <= budget_fen "
    "RETURNING budget_account_id"
)
# The same on PostgreSQL's writer, the row locked without waiting by the statement itself (locks.py).
_COUNT_CLAIM_NOWAIT = _COUNT_CLAIM.replace(
    "user_id = ?", "user_id = (SELECT user_id FROM campaign_claimers WHERE campaign_id = ? AND user_id = ? "
    "FOR NO KEY UPDATE NOWAIT)")
_TAKE_PRIZE_NOWAIT = _TAKE_PRIZE.replace(
    "WHERE id = ?", "WHERE id = (SELECT id FROM campaign_prizes WHERE id = ? FOR NO KEY UPDATE NOWAIT)")
_PAY_FROM_BUDGET_NOWAIT = _PAY_FROM_BUDGET.replace(
    "WHERE id = ?", "WHERE id = (SELECT id FROM campaigns WHERE id = ? FOR NO KEY UPDATE NOWAIT)")
_INSERT_CLAIM = (
    "INSERT INTO campaign_claims (campaign_id, user_id, prize_id, kind, amount_fen, coupon_id, day, channel, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
)


class CampaignClaimTx(MerchantTx):
    conn: Connection

    if TYPE_CHECKING:  # these live in SqlTx (tx.py); declared for the type checker only

        def transfer(
            self, debit_id: int, credit_id: int, amount_fen: int, code: TransferCode, ref: str, now: datetime
        ) -> int: ...

        def wallet_account_id(self, user_id: int) -> int: ...
    def prize_candidates(self, campaign: CampaignRow, now: datetime) -> list[Candidate]:
        """Prizes of the campaign still available: count left, cash within the budget left, coupon stock left."""
        found = hot.rows(self.conn, _CANDIDATES, (campaign.id, _CASH, campaign.left_fen, _COUPON, ts(self.conn)(now)))
        return [Candidate(int(r[0]), PrizeKind(r[1]), int(r[2]), int(r[3]), r[4]) for r in found]
    def count_claim(
        self, campaign_id: int, user_id: int, day: str, per_user_max: int | None, per_day_max: int | None
    ) -> bool:
        """Count one more claim of the user (total and on `day`) if both caps allow it; False when a cap is reached."""
        key = (campaign_id, user_id)
        self.ensure_row(c.campaign_claimers, key)  # the user's row, made on a first claim
        if self.will_lock("campaign_claimers", key):
            sql, params = _COUNT_CLAIM_NOWAIT, [day, day, campaign_id, campaign_id, user_id]
        else:
            sql, params = _COUNT_CLAIM, [day, day, campaign_id, user_id]
        if per_user_max is not None:
            sql, params = sql + " AND claims_count < ?", [*params, per_user_max]
        if per_day_max is not None:
            sql, params = sql + " AND (day <> ? OR day_count < ?)", [*params, day, per_day_max]
        with rows_nowait("campaign_claimers", {key}):
            return hot.run(self.conn, sql, params) == 1

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
        # Prize, then campaign: each locked without waiting on PostgreSQL's writer (locks.py).
        take = _TAKE_PRIZE_NOWAIT if self.will_lock("campaign_prizes", prize.prize_id) else _TAKE_PRIZE
        with rows_nowait("campaign_prizes", {prize.prize_id}):
            if hot.run(self.conn, take, (prize.prize_id,)) != 1:
                raise _Lost
        cash = prize.amount_fen if prize.kind is PrizeKind.CASH else 0
        # The budget decides here: one statement, only while active, inside the window and within the budget.
        stamp = ts(self.conn)(now)
        pay = _PAY_FROM_BUDGET_NOWAIT if self.will_lock("campaigns", campaign_id) else _PAY_FROM_BUDGET
        with rows_nowait("campaigns", {campaign_id}):
            found = hot.rows(self.conn, pay, (cash, campaign_id, _ACTIVE, stamp, stamp, cash))
        if not found:
            raise _Lost
        coupon_id = None
        if prize.kind is PrizeKind.COUPON:
            assert prize.offer_id is not None
            coupon_id = self.issue_coupon(prize.offer_id, user_id, now)
            if coupon_id is None:
                raise _Lost
        claim_id = int(hot.rows(self.conn, _INSERT_CLAIM, (campaign_id, user_id, prize.prize_id, prize.kind.value, cash,
                                                           coupon_id, day, channel, stamp))[0][0])  # fmt: skip
        if cash:
            self.transfer(
                int(found[0][0]), self.wallet_account_id(user_id), cash, TransferCode.CAMPAIGN_PAYOUT,
                f"campaign-claim:{claim_id}", now,
            )  # fmt: skip
        return AwardRow(claim_id, campaign_id, prize.kind.value, cash, coupon_id)
