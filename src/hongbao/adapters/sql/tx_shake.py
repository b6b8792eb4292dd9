"""Repository methods of shake (摇一摇) events: rounds, shakes per round and K wins per user (mixed into SqlTx).

Each limit is one conditional UPDATE inside the write job, never a read before it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, insert, literal, or_, select, update
from sqlalchemy.engine import Connection

from hongbao.adapters.sql import schema_campaign as c
from hongbao.adapters.sql.aware import utc
from hongbao.adapters.sql.locks import rows_nowait
from hongbao.adapters.sql.schema_hosts import world_of
from hongbao.adapters.sql.tx_tickets import TicketTx
from hongbao.domain.campaigns import Round
from hongbao.service.ports.shake import EventRow


class ShakeTx(TicketTx):
    """Events and rounds here; win tickets and the K cap in TicketTx (tx_tickets.py)."""

    conn: Connection

    # ------------------------------------------------------------------ shake events

    def create_event(
        self, owner_id: int, name: str, rounds: Sequence[Round], win_permille: int, wins_per_user_max: int,
        cards: Sequence[str], now: datetime,
    ) -> int:  # fmt: skip
        eid = int(
            self.conn.execute(
                insert(c.shake_events)
                .values(owner_id=owner_id, name=name, starts_at=rounds[0].starts_at, ends_at=rounds[-1].ends_at,
                        win_permille=win_permille, wins_per_user_max=wins_per_user_max,
                        cards=json.dumps(list(cards), ensure_ascii=False), created_at=now)
                .returning(c.shake_events.c.id)
            ).scalar_one()
        )  # fmt: skip
        self.conn.execute(
            insert(c.shake_rounds),
            [{"event_id": eid, "seq": r.seq, "starts_at": r.starts_at, "ends_at": r.ends_at} for r in rounds],
        )
        return eid

    def event(self, event_id: int) -> EventRow | None:
        e, r = c.shake_events, c.shake_rounds
        row = self.conn.execute(select(e, world_of(e.c.owner_id).label("world")).where(e.c.id == event_id)).first()
        if row is None:
            return None
        rounds = [
            Round(x.seq, utc(x.starts_at), utc(x.ends_at))
            for x in self.conn.execute(select(r).where(r.c.event_id == event_id).order_by(r.c.seq))
        ]
        return EventRow(row.id, row.owner_id, row.name, utc(row.starts_at), utc(row.ends_at), row.win_permille,
                        row.wins_per_user_max, list(json.loads(row.cards)), rounds, int(row.world))  # fmt: skip

    def events_listed(self, world: int, now: datetime, ended_since: datetime, limit: int) -> list[EventRow]:
        """Events of `world` (service/worlds.py) not ended before `ended_since`: those with a round on now first,
        then by their next round's start, then the ended ones, latest ended first."""
        e, r = c.shake_events, c.shake_rounds
        live = select(r.c.seq).where(r.c.event_id == e.c.id, r.c.starts_at <= now, r.c.ends_at > now).exists()
        next_start = (
            select(func.min(r.c.starts_at)).where(r.c.event_id == e.c.id, r.c.starts_at > now).scalar_subquery()
        )
        group = case((live, 0), (next_start.is_not(None), 1), else_=2)
        # The second key is NULL for every live and every ended event: SQLite and PostgreSQL order NULLs differently.
        q = (
            select(e)
            .where(e.c.ends_at > ended_since, world_of(e.c.owner_id) == world)
            .order_by(group, case((live, None), else_=next_start), e.c.ends_at.desc(), e.c.id)
            .limit(limit)
        )
        rows = list(self.conn.execute(q))
        if not rows:
            return []
        rounds: dict[int, list[Round]] = {}
        for x in self.conn.execute(
            select(r).where(r.c.event_id.in_([row.id for row in rows])).order_by(r.c.event_id, r.c.seq)
        ):
            rounds.setdefault(int(x.event_id), []).append(Round(x.seq, utc(x.starts_at), utc(x.ends_at)))
        return [
            EventRow(row.id, row.owner_id, row.name, utc(row.starts_at), utc(row.ends_at), row.win_permille,
                     row.wins_per_user_max, list(json.loads(row.cards)), rounds.get(row.id, []), world)
            for row in rows
        ]  # fmt: skip

    def count_shake(self, event_id: int, user_id: int, round_seq: int, round_shakes_max: int) -> bool:
        """Count one shake of the user in this round; False when the round's allowance is used up."""
        sp = c.shake_players
        key = (event_id, user_id)
        self.ensure_row(sp, key)  # the user's row, made on a first shake
        same = sp.c.round_seq == round_seq
        with rows_nowait("shake_players", {key}):  # never waited for mid-batch (locks.py)
            done = self.conn.execute(
                update(sp)
                .where(self.nowait_row(sp, *key))
                .where(or_(sp.c.round_seq != round_seq, sp.c.round_shakes < round_shakes_max))
                .values(
                    round_shakes=case((same, sp.c.round_shakes + 1), else_=literal(1)),
                    round_seq=round_seq,
                    shakes=sp.c.shakes + 1,
                )
            )
        return done.rowcount == 1

    def take_win(self, event_id: int, user_id: int, wins_max: int) -> bool:
        """Count a win of the user if fewer than `wins_max` so far (the row exists: count_shake made it)."""
        sp = c.shake_players
        with rows_nowait("shake_players", {(event_id, user_id)}):
            done = self.conn.execute(
                update(sp).where(self.nowait_row(sp, event_id, user_id), sp.c.wins < wins_max)
                .values(wins=sp.c.wins + 1)
            )
        return done.rowcount == 1

    def give_back_win(self, event_id: int, user_id: int) -> None:
        sp = c.shake_players
        with rows_nowait("shake_players", {(event_id, user_id)}):
            self.conn.execute(update(sp).where(self.nowait_row(sp, event_id, user_id)).values(wins=sp.c.wins - 1))

    def shake_player(self, event_id: int, user_id: int) -> tuple[int, int]:
        """(wins, shakes) of the user in the event."""
        sp = c.shake_players
        row = self.conn.execute(
            select(sp.c.wins, sp.c.shakes).where(sp.c.event_id == event_id, sp.c.user_id == user_id)
        ).first()
        return (0, 0) if row is None else (int(row.wins), int(row.shakes))
