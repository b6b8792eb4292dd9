"""Repository methods of shake win tickets (mixed into SqlTx through ShakeTx): lease, use, give back, and the K cap.

A ticket is one prize of a shake pool held out for an API process (its `holder`) during one round.  Leasing
tickets is one conditional UPDATE per pool (its budget left) and per prize (its count left), so pools are never
overspent however many processes lease at once; a winner uses one ticket in the same transaction that pays it.
Tickets not used go back (held counts decremented) when the round ends, the process stops, or the lease expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection

from hongbao.adapters.sql import schema_campaign as c
from hongbao.adapters.sql.locks import RowLocks, rows_nowait
from hongbao.domain.campaigns import CampaignStatus, PrizeKind, Rng
from hongbao.domain.tickets import Lease, Option, TicketFacts, draw_tickets


class _Taken(Exception):
    """Another process leased the last of a prize or a budget between the read and the update."""


class TicketTx(RowLocks):
    conn: Connection
    is_sqlite: bool

    def lease_tickets(
        self, event_id: int, round_seq: int, holder: str, want: int, expires_at: datetime, now: datetime, rng: Rng
    ) -> list[Lease]:
        """Draw up to `want` prizes among the event's open pools (a pool at random, then a prize by weight) and
        hold them out for `holder`: each pool's budget and each prize's count decided by one conditional UPDATE."""
        options, budget_left, stock_left = self.ticket_options(event_id, now)
        drawn = draw_tickets(options, budget_left, stock_left, want, rng)
        by_prize = {(o.campaign_id, o.prize_id): o for o in options}
        leases: list[Lease] = []
        # One pool at a time, the pool's row first: every process locks pools, then their prizes, in id order.
        for cid in sorted({cid for cid, _ in drawn}):
            mine = [(by_prize[key], n) for key, n in sorted(drawn.items()) if key[0] == cid]
            try:
                with self.conn.begin_nested():
                    leases += self._hold(event_id, round_seq, holder, mine, expires_at, now)
            except _Taken:
                continue
        return leases

    def ticket_options(self, event_id: int, now: datetime) -> tuple[list[Option], dict[int, int], dict[int, int]]:
        k, p, o = c.campaigns, c.campaign_prizes, c.coupon_offers
        rows = self.conn.execute(
            select(k.c.id, k.c.owner_id, k.c.budget_fen, k.c.paid_fen, k.c.returned_fen, k.c.held_fen,
                   p.c.id.label("pid"), p.c.kind, p.c.amount_fen, p.c.offer_id, p.c.weight, p.c.count_max,
                   p.c.issued_count, p.c.held_count, o.c.stock, o.c.issued_count.label("offer_issued"))
            .select_from(k.join(p, p.c.campaign_id == k.c.id).outerjoin(o, o.c.id == p.c.offer_id))
            .where(k.c.event_id == event_id, k.c.status == CampaignStatus.ACTIVE.value, k.c.starts_at <= now,
                   k.c.ends_at > now)
            .where(or_(p.c.kind == PrizeKind.CASH.value, and_(o.c.expires_at > now, o.c.issued_count < o.c.stock)))
            .order_by(k.c.id, p.c.id)
        )  # fmt: skip
        options: list[Option] = []
        budget_left: dict[int, int] = {}
        stock_left: dict[int, int] = {}
        for r in rows:
            budget_left[r.id] = int(r.budget_fen) - int(r.paid_fen) - int(r.returned_fen) - int(r.held_fen)
            if r.offer_id is not None:
                # Coupon stock is the merchant's, shared with its other campaigns: checked again when a ticket is used.
                stock_left[r.offer_id] = int(r.stock) - int(r.offer_issued)
            left = None if r.count_max is None else int(r.count_max) - int(r.issued_count) - int(r.held_count)
            cash = int(r.amount_fen) if r.kind == PrizeKind.CASH.value else 0
            options.append(Option(r.id, r.owner_id, r.pid, r.kind, cash, r.offer_id, int(r.weight), left))
        return options, budget_left, stock_left

    def _hold(
        self, event_id: int, round_seq: int, holder: str, drawn: Sequence[tuple[Option, int]], expires_at: datetime,
        now: datetime,
    ) -> list[Lease]:  # fmt: skip
        k, p, sl = c.campaigns, c.campaign_prizes, c.shake_leases
        cid = drawn[0][0].campaign_id
        fen = sum(o.amount_fen * n for o, n in drawn)
        with rows_nowait("campaigns", {cid}):  # pools and prizes never waited for mid-batch (locks.py)
            held = self.conn.execute(
                update(k)
                .where(self.nowait_row(k, cid), k.c.status == CampaignStatus.ACTIVE.value, k.c.ends_at > now,
                       k.c.paid_fen + k.c.returned_fen + k.c.held_fen + fen <= k.c.budget_fen)
                .values(held_fen=k.c.held_fen + fen)
            )  # fmt: skip
        if held.rowcount != 1:
            raise _Taken
        out = []
        for o, n in drawn:
            with rows_nowait("campaign_prizes", {o.prize_id}):
                taken = self.conn.execute(
                    update(p)
                    .where(self.nowait_row(p, o.prize_id),
                           or_(p.c.count_max.is_(None), p.c.issued_count + p.c.held_count + n <= p.c.count_max))
                    .values(held_count=p.c.held_count + n)
                )  # fmt: skip
            if taken.rowcount != 1:
                raise _Taken
            lease_id = int(
                self.conn.execute(
                    sl.insert()
                    .values(event_id=event_id, round_seq=round_seq, campaign_id=cid, prize_id=o.prize_id,
                            amount_fen=o.amount_fen, tickets=n, holder=holder, expires_at=expires_at, created_at=now)
                    .returning(sl.c.id)
                ).scalar_one()
            )  # fmt: skip
            out.append(Lease(lease_id, event_id, round_seq, cid, o.sponsor_id, o.prize_id, o.kind, o.amount_fen,
                             o.offer_id, n))  # fmt: skip
        return out

    def prizes_left(self, event_id: int, now: datetime) -> int:
        """About how many prizes the event's open pools can still give (held tickets included): per pool, the cash
        its budget left pays at its smallest cash prize (within the prizes' counts) and the coupons left in stock."""
        options, budget_left, stock_left = self.ticket_options(event_id, now)
        left = 0
        for cid in {o.campaign_id for o in options}:
            mine = [o for o in options if o.campaign_id == cid]
            cash = [o for o in mine if o.amount_fen > 0]
            held = self.conn.execute(select(c.campaigns.c.held_fen).where(c.campaigns.c.id == cid)).scalar_one()
            if cash:
                by_budget = (budget_left[cid] + int(held)) // min(o.amount_fen for o in cash)
                counted = [o.left for o in cash]
                left += by_budget if None in counted else min(by_budget, sum(n or 0 for n in counted))
            for o in mine:
                if o.amount_fen == 0 and o.offer_id is not None:
                    stock = stock_left.get(o.offer_id, 0)
                    left += max(0, stock if o.left is None else min(stock, o.left))
        return left

    def use_ticket(self, lease_id: int, holder: str) -> bool:
        """Take one ticket of the holder's lease off the held counts (the caller then pays the prize in the same
        transaction); False when the lease was given back meanwhile (expired, round over) or is used up."""
        sl = c.shake_leases
        with rows_nowait("shake_leases", {lease_id}):  # lease, pool, prize: none waited for mid-batch (locks.py)
            row = self.conn.execute(
                update(sl)
                .where(self.nowait_row(sl, lease_id), sl.c.holder == holder, sl.c.tickets > 0)
                .values(tickets=sl.c.tickets - 1)
                .returning(sl.c.campaign_id, sl.c.prize_id, sl.c.amount_fen)
            ).first()
        if row is None:
            return False
        self._give_back(int(row.campaign_id), int(row.prize_id), int(row.amount_fen), 1)
        return True

    def _give_back(self, campaign_id: int, prize_id: int, amount_fen: int, n: int) -> None:
        """`n` tickets of `amount_fen` off the held figures of their pool and prize (used or given back)."""
        k, p = c.campaigns, c.campaign_prizes
        with rows_nowait("campaigns", {campaign_id}):
            self.conn.execute(
                update(k).where(self.nowait_row(k, campaign_id)).values(held_fen=k.c.held_fen - n * amount_fen)
            )
        with rows_nowait("campaign_prizes", {prize_id}):
            self.conn.execute(update(p).where(self.nowait_row(p, prize_id)).values(held_count=p.c.held_count - n))

    def release_leases(
        self, *, holder: str | None = None, lease_ids: Sequence[int] | None = None, due_at: datetime | None = None
    ) -> int:
        """Give the tickets of these leases back to their pools, each lease once; the number of tickets returned.

        `due_at`: every lease expired by then, of a round ended by then, or of a pool no longer active."""
        sl, r, k = c.shake_leases, c.shake_rounds, c.campaigns
        q = select(sl.c.id)
        if holder is not None:
            q = q.where(sl.c.holder == holder)
        if lease_ids is not None:
            q = q.where(sl.c.id.in_(list(lease_ids)))
        if due_at is not None:
            ended = select(r.c.seq).where(r.c.event_id == sl.c.event_id, r.c.seq == sl.c.round_seq,
                                          r.c.ends_at <= due_at).exists()  # fmt: skip
            closed = (
                select(k.c.id).where(k.c.id == sl.c.campaign_id, k.c.status != CampaignStatus.ACTIVE.value).exists()
            )
            q = q.where(or_(sl.c.expires_at <= due_at, ended, closed))
        returned = 0
        for lid in [int(x.id) for x in self.conn.execute(q.order_by(sl.c.campaign_id, sl.c.id))]:
            with rows_nowait("shake_leases", {lid}):
                gone = self.conn.execute(
                    sl.delete().where(self.nowait_row(sl, lid))
                    .returning(sl.c.campaign_id, sl.c.prize_id, sl.c.amount_fen, sl.c.tickets)
                ).first()  # fmt: skip
            if gone is None or gone.tickets == 0:
                continue
            n = int(gone.tickets)
            self._give_back(int(gone.campaign_id), int(gone.prize_id), int(gone.amount_fen), n)
            returned += n
        return returned

    def renew_leases(self, holder: str, expires_at: datetime) -> int:
        sl = c.shake_leases
        return int(self.conn.execute(update(sl).where(sl.c.holder == holder).values(expires_at=expires_at)).rowcount)

    def tickets_held_elsewhere(self, event_id: int, holder: str, now: datetime) -> bool:
        """Whether another process holds unused tickets of an open pool of the event (they may come back)."""
        sl, k = c.shake_leases, c.campaigns
        q = (
            select(sl.c.id)
            .select_from(sl.join(k, k.c.id == sl.c.campaign_id))
            .where(sl.c.event_id == event_id, sl.c.holder != holder, sl.c.tickets > 0,
                   k.c.status == CampaignStatus.ACTIVE.value, k.c.ends_at > now)
            .limit(1)
        )  # fmt: skip
        return self.conn.execute(q).first() is not None

    def count_shake_win(self, event_id: int, user_id: int, wins_max: int) -> bool:
        """Count one more win of the user in the event if fewer than `wins_max` so far (one conditional UPDATE,
        after the user's row is made if missing): exact however many processes the user's shakes reach."""
        sp = c.shake_players
        self.ensure_row(sp, (event_id, user_id))
        with rows_nowait("shake_players", {(event_id, user_id)}):  # never waited for mid-batch (locks.py)
            done = self.conn.execute(
                update(sp).where(self.nowait_row(sp, event_id, user_id), sp.c.wins < wins_max)
                .values(wins=sp.c.wins + 1)
            )
        return done.rowcount == 1

    def ticket_facts(self) -> TicketFacts:
        k, p, sl = c.campaigns, c.campaign_prizes, c.shake_leases
        fen = {
            int(r.campaign_id): int(r.fen)
            for r in self.conn.execute(
                select(sl.c.campaign_id, func.sum(sl.c.tickets * sl.c.amount_fen).label("fen")).group_by(
                    sl.c.campaign_id
                )
            )
        }
        count = {
            int(r.prize_id): int(r.n)
            for r in self.conn.execute(select(sl.c.prize_id, func.sum(sl.c.tickets).label("n")).group_by(sl.c.prize_id))
        }
        pools = [
            (int(r.id), str(r.status), int(r.budget_fen), int(r.paid_fen), int(r.returned_fen), int(r.held_fen),
             fen.get(int(r.id), 0))
            for r in self.conn.execute(select(k.c.id, k.c.status, k.c.budget_fen, k.c.paid_fen, k.c.returned_fen,
                                              k.c.held_fen).where(k.c.channel == "shake"))
        ]  # fmt: skip
        prizes = [
            (int(r.id), int(r.issued_count), r.count_max, int(r.held_count), count.get(int(r.id), 0))
            for r in self.conn.execute(
                select(p.c.id, p.c.issued_count, p.c.count_max, p.c.held_count)
                .select_from(p.join(k, k.c.id == p.c.campaign_id))
                .where(k.c.channel == "shake")
            )
        ]
        return TicketFacts(pools, prizes)
