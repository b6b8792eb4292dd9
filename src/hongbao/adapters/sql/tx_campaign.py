"""Repository methods of enterprise campaigns and shake pools: budgets, prizes, figures, close (mixed into SqlTx).

Claiming a prize (the draw's candidates, the caps, the award) lives in tx_campaign_claims.py, merchants and
coupons in tx_merchants.py (both mixed in here: a prize may be a coupon), shake events in tx_shake.py.

Every limit is decided by one conditional UPDATE inside the write job (budget, prize counts, coupon
stock, per-user and per-day caps, K wins per event, shakes per round), never by a read before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, distinct, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from hongbao.adapters.sql import hot
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql import schema_campaign as c
from hongbao.adapters.sql.hot import stamp
from hongbao.adapters.sql.locks import rows_nowait
from hongbao.adapters.sql.schema_hosts import world_of
from hongbao.adapters.sql.tx_campaign_claims import CampaignClaimTx
from hongbao.domain import campaigns as dc
from hongbao.domain.campaigns import CampaignStatus, Prize, PrizeKind
from hongbao.domain.ledger import AccountKind, CampaignFacts, CapFacts, TransferCode
from hongbao.service.ports.campaigns import CampaignRow, ClaimFigures, PrizeLine


def _campaign_row(r: Any) -> CampaignRow:
    """A campaign row read through Core or as driver SQL (`stamp` reads either's timestamps)."""
    return CampaignRow(
        id=r.id, owner_id=r.owner_id, channel=r.channel, event_id=r.event_id, name=r.name, logo_url=r.logo_url,
        cover_text=r.cover_text, starts_at=stamp(r.starts_at), ends_at=stamp(r.ends_at),
        budget_fen=int(r.budget_fen), paid_fen=int(r.paid_fen), returned_fen=int(r.returned_fen),
        budget_account_id=int(r.budget_account_id), per_user_max=r.per_user_max, per_day_max=r.per_day_max,
        link_token_hash=bytes(r.link_token_hash) if r.link_token_hash is not None else None,
        status=r.status, claims_count=r.claims_count, created_at=stamp(r.created_at), world=int(r.world),
        closed_at=stamp(r.closed_at) if r.closed_at is not None else None,
    )  # fmt: skip


# One campaign by id, as driver SQL (hot.py): every claim reads it twice (the checks, then the draw's budget).
_CAMPAIGN = (
    f"SELECT {', '.join('k.' + col.name for col in c.campaigns.columns)}, "
    "COALESCE((SELECT hu.host_id FROM host_users hu WHERE hu.user_id = k.owner_id), 0) AS world "
    "FROM campaigns k WHERE k.id = ?"
)


def _campaigns() -> Select[Any]:
    """Campaign rows with their owner's world (service/worlds.py), as `_campaign_row` reads them."""
    return select(c.campaigns, world_of(c.campaigns.c.owner_id).label("world"))


class CampaignTx(CampaignClaimTx):
    """Campaigns and shake pools: create, read, figures, top up, close; SqlTx's `transfer` and
    `wallet_account_id` are declared for the type checker in CampaignClaimTx."""

    conn: Connection

    # ------------------------------------------------------------------ campaigns

    def create_campaign(
        self,
        *,
        owner_id: int,
        channel: str,
        event_id: int | None,
        branding: dc.Branding,
        starts_at: datetime,
        ends_at: datetime,
        budget_fen: int,
        per_user_max: int | None,
        per_day_max: int | None,
        link_token_hash: bytes | None,
        prizes: Sequence[Prize],
        now: datetime,
    ) -> int:
        """Insert the campaign, its prize table and its budget account, and fund the budget from the owner."""
        cid = int(
            self.conn.execute(
                insert(c.campaigns)
                .values(owner_id=owner_id, channel=channel, event_id=event_id, name=branding.name,
                        logo_url=branding.logo_url, cover_text=branding.cover_text, starts_at=starts_at,
                        ends_at=ends_at, budget_fen=budget_fen, per_user_max=per_user_max, per_day_max=per_day_max,
                        link_token_hash=link_token_hash, status=CampaignStatus.ACTIVE.value, created_at=now)
                .returning(c.campaigns.c.id)
            ).scalar_one()
        )  # fmt: skip
        budget = int(
            self.conn.execute(
                insert(s.accounts)
                .values(kind=AccountKind.BUDGET.value, owner_id=cid, balance_fen=0)
                .returning(s.accounts.c.id)
            ).scalar_one()
        )
        self.conn.execute(update(c.campaigns).where(c.campaigns.c.id == cid).values(budget_account_id=budget))
        self.conn.execute(
            insert(c.campaign_prizes),
            [
                {"campaign_id": cid, "kind": p.kind.value, "amount_fen": p.amount_fen, "offer_id": p.offer_id,
                 "weight": p.weight, "count_max": p.count_max}
                for p in prizes
            ],
        )  # fmt: skip
        if budget_fen > 0:  # a coupon-only campaign holds no money
            self.transfer(
                self.wallet_account_id(owner_id), budget, budget_fen, TransferCode.CAMPAIGN_FUND, f"campaign:{cid}", now
            )
        return cid

    def campaign(self, campaign_id: int) -> CampaignRow | None:
        found = hot.rows(self.conn, _CAMPAIGN, (campaign_id,))
        return _campaign_row(found[0]) if found else None

    def campaigns_of_claims(self, claim_ids: Sequence[int]) -> dict[int, int]:
        """claim id → its campaign's id (a statement names the campaign a prize came from)."""
        k = c.campaign_claims
        rows = self.conn.execute(select(k.c.id, k.c.campaign_id).where(k.c.id.in_(list(claim_ids))))
        return {int(r.id): int(r.campaign_id) for r in rows}

    def campaigns_of_owner(self, owner_id: int, limit: int) -> list[CampaignRow]:
        k = c.campaigns
        q = _campaigns().where(k.c.owner_id == owner_id).order_by(k.c.id.desc()).limit(limit)
        return [_campaign_row(r) for r in self.conn.execute(q)]

    def campaigns_of_event(self, event_id: int) -> list[CampaignRow]:
        q = _campaigns().where(c.campaigns.c.event_id == event_id).order_by(c.campaigns.c.id)
        return [_campaign_row(r) for r in self.conn.execute(q)]

    def campaigns_of_events(self, event_ids: Sequence[int]) -> dict[int, list[CampaignRow]]:
        """The pools of each event, oldest first, in one query."""
        k = c.campaigns
        pools: dict[int, list[CampaignRow]] = {}
        if not event_ids:
            return pools
        for r in self.conn.execute(_campaigns().where(k.c.event_id.in_(set(event_ids))).order_by(k.c.id)):
            pools.setdefault(int(r.event_id), []).append(_campaign_row(r))
        return pools

    def followed_campaigns(
        self, follower_id: int, world: int, now: datetime, limit: int
    ) -> list[tuple[CampaignRow, str]]:
        """Followers campaigns open now, with a prize left, of accounts the follower follows, in the follower's
        `world` (a follow across worlds cannot be made today; one made before worlds shows nothing): (row, owner's
        name).

        Newest first. Link campaigns never appear here: they are seen with their token only.
        """
        k, f, u, p, o = c.campaigns, s.follows, s.users, c.campaign_prizes, c.coupon_offers
        prize_left = (
            select(p.c.id)
            .select_from(p.outerjoin(o, o.c.id == p.c.offer_id))
            .where(p.c.campaign_id == k.c.id)
            .where(or_(p.c.count_max.is_(None), p.c.issued_count < p.c.count_max))
            .where(
                or_(
                    and_(p.c.kind == PrizeKind.CASH.value,
                         p.c.amount_fen <= k.c.budget_fen - k.c.paid_fen - k.c.returned_fen),
                    and_(p.c.kind == PrizeKind.COUPON.value, o.c.issued_count < o.c.stock, o.c.expires_at > now),
                )
            )
            .exists()
        )  # fmt: skip
        q = (
            _campaigns()
            .add_columns(u.c.display_name.label("owner_name"))
            .join(f, and_(f.c.followee_id == k.c.owner_id, f.c.follower_id == follower_id))
            .join(u, u.c.id == k.c.owner_id)
            .where(k.c.channel == dc.Channel.FOLLOWERS.value, k.c.status == CampaignStatus.ACTIVE.value)
            .where(world_of(k.c.owner_id) == world)
            .where(k.c.starts_at <= now, k.c.ends_at > now, prize_left)
            .order_by(k.c.id.desc())
            .limit(limit)
        )
        return [(_campaign_row(r), str(r.owner_name)) for r in self.conn.execute(q)]

    def prizes_of(self, campaign_id: int) -> list[PrizeLine]:
        p = c.campaign_prizes
        rows = self.conn.execute(select(p).where(p.c.campaign_id == campaign_id).order_by(p.c.id))
        return [
            {"kind": r.kind, "amount_fen": int(r.amount_fen) if r.kind == PrizeKind.CASH.value else None,
             "offer_id": r.offer_id, "weight": r.weight, "count": r.count_max, "issued": r.issued_count}
            for r in rows
        ]  # fmt: skip

    def campaign_figures(self, campaign_id: int) -> ClaimFigures:
        cc, k = c.campaign_claims, c.coupons
        total = self.conn.execute(
            select(
                func.count(), func.count(distinct(cc.c.user_id)), func.coalesce(func.sum(cc.c.amount_fen), 0),
                func.count(cc.c.coupon_id),
            ).where(cc.c.campaign_id == campaign_id)
        ).one()  # fmt: skip
        redeemed = self.conn.execute(
            select(func.count())
            .select_from(cc.join(k, k.c.id == cc.c.coupon_id))
            .where(cc.c.campaign_id == campaign_id, k.c.status == "redeemed")
        ).scalar_one()
        by_day = self.conn.execute(
            select(cc.c.day, func.count(), func.count(distinct(cc.c.user_id)),
                   func.coalesce(func.sum(cc.c.amount_fen), 0), func.count(cc.c.coupon_id))
            .where(cc.c.campaign_id == campaign_id)
            .group_by(cc.c.day)
            .order_by(cc.c.day)
        )  # fmt: skip
        return {
            "issued": int(total[0]),
            "unique_claimers": int(total[1]),
            "claimed_fen": int(total[2]),
            "coupons_issued": int(total[3]),
            "coupons_redeemed": int(redeemed),
            "by_day": [
                {"day": r[0], "issued": int(r[1]), "unique_claimers": int(r[2]), "claimed_fen": int(r[3]),
                 "coupons_issued": int(r[4])}
                for r in by_day
            ],
        }  # fmt: skip

    def due_campaign_ids(self, now: datetime, limit: int) -> list[int]:
        k = c.campaigns
        rows = self.conn.execute(
            select(k.c.id)
            .where(k.c.status == CampaignStatus.ACTIVE.value, k.c.ends_at <= now)
            .order_by(k.c.ends_at)
            .limit(limit)
        )
        return [int(r.id) for r in rows]

    def top_up_campaign(self, campaign_id: int, amount_fen: int, budget_fen_max: int, now: datetime) -> int | None:
        """Add `amount_fen` from the owner's wallet to an active campaign's budget; the new budget, or None when
        the campaign closed or ended, or the budget would pass its maximum (one conditional UPDATE decides)."""
        k, t = c.campaigns, s.transfers
        with rows_nowait("campaigns", {campaign_id}):  # never waited for mid-batch (locks.py)
            done = self.conn.execute(
                update(k)
                .where(
                    self.nowait_row(k, campaign_id),
                    k.c.status == CampaignStatus.ACTIVE.value,
                    k.c.ends_at > now,
                    k.c.budget_fen + amount_fen <= budget_fen_max,
                )
                .values(budget_fen=k.c.budget_fen + amount_fen)
                .returning(k.c.budget_fen, k.c.budget_account_id, k.c.owner_id)
            ).first()
        if done is None:
            return None
        budget = int(done.budget_account_id)
        # The campaign row is locked by the UPDATE above, so top-ups of one campaign are numbered in turn.
        before = self.conn.execute(
            select(func.count()).where(t.c.credit_account_id == budget, t.c.code == TransferCode.CAMPAIGN_TOPUP.value)
        ).scalar_one()
        self.transfer(
            self.wallet_account_id(int(done.owner_id)), budget, amount_fen, TransferCode.CAMPAIGN_TOPUP,
            f"campaign-topup:{campaign_id}:{int(before) + 1}", now,
        )  # fmt: skip
        return int(done.budget_fen)

    def close_campaign(self, campaign_id: int, now: datetime, *, early: bool = False) -> int | None:
        """Close an ended campaign (or, `early`, an active one now: its owner cancelled it) and return its unspent
        budget to the owner, once; None if not due or already closed."""
        k = c.campaigns
        due = [] if early else [k.c.ends_at <= now]
        with rows_nowait("campaigns", {campaign_id}):
            done = self.conn.execute(
                update(k)
                .where(self.nowait_row(k, campaign_id), k.c.status == CampaignStatus.ACTIVE.value, *due)
                .values(status=CampaignStatus.CLOSED.value, closed_at=now, returned_fen=k.c.budget_fen - k.c.paid_fen)
                .returning(k.c.returned_fen, k.c.budget_account_id, k.c.owner_id)
            ).first()
        if done is None:
            return None
        back = int(done.returned_fen)
        if back > 0:
            self.transfer(
                int(done.budget_account_id), self.wallet_account_id(int(done.owner_id)), back,
                TransferCode.CAMPAIGN_RETURN, f"campaign:{campaign_id}", now,
            )  # fmt: skip
        return back

    def campaign_facts(self) -> tuple[list[CampaignFacts], list[CapFacts]]:
        """What the audit needs: every campaign's budget figures and every per-user cap with its use."""
        k, cc, e = c.campaigns, c.campaign_claims, c.shake_events
        cash: dict[int, list[int]] = {}
        for r in self.conn.execute(select(cc.c.campaign_id, cc.c.amount_fen).where(cc.c.kind == "cash")):
            cash.setdefault(r.campaign_id, []).append(int(r.amount_fen))
        rows = list(self.conn.execute(select(k)))
        facts = [
            CampaignFacts(r.id, int(r.budget_account_id), r.status, int(r.budget_fen), int(r.paid_fen),
                          int(r.returned_fen), tuple(cash.get(r.id, ())))
            for r in rows
        ]  # fmt: skip
        caps: list[CapFacts] = []
        per_user = {r.id: r.per_user_max for r in rows if r.per_user_max is not None}
        per_day = {r.id: r.per_day_max for r in rows if r.per_day_max is not None}
        n = func.count().label("n")
        for u in self.conn.execute(select(cc.c.campaign_id, cc.c.user_id, n).group_by(cc.c.campaign_id, cc.c.user_id)):
            if u.campaign_id in per_user:
                caps.append(CapFacts(f"campaign {u.campaign_id} user {u.user_id}", per_user[u.campaign_id], int(u.n)))
        for d in self.conn.execute(
            select(cc.c.campaign_id, cc.c.user_id, cc.c.day, n).group_by(cc.c.campaign_id, cc.c.user_id, cc.c.day)
        ):
            if d.campaign_id in per_day:
                subject = f"campaign {d.campaign_id} user {d.user_id} day {d.day}"
                caps.append(CapFacts(subject, per_day[d.campaign_id], int(d.n)))
        for w in self.conn.execute(
            select(e.c.id, e.c.wins_per_user_max, cc.c.user_id, n)
            .select_from(cc.join(k, k.c.id == cc.c.campaign_id).join(e, e.c.id == k.c.event_id))
            .group_by(e.c.id, e.c.wins_per_user_max, cc.c.user_id)
        ):
            caps.append(CapFacts(f"shake event {w.id} user {w.user_id}", int(w.wins_per_user_max), int(w.n)))
        return facts, caps
