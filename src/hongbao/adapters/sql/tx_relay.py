"""Repository methods of relay chains (接龙) (mixed into SqlTx, with asks and transfers).

Asks live in tx_asks.py and transfers in tx_transfers.py; RelayTx mixes both in, so SqlTx keeps one name for them.

State changes are conditional UPDATEs on the row's status (like `open_share` / `expire_packet`):
whichever of two racing steps updates the row first wins, the other changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import schema_relay as r
from hongbao.adapters.sql.aware import utc, utc_or_none
from hongbao.adapters.sql.locks import RowLocks, rows_nowait
from hongbao.adapters.sql.tx_asks import AskTx
from hongbao.adapters.sql.tx_transfers import TransferOrderTx
from hongbao.domain.errors import Conflict
from hongbao.domain.relay import ChainEnd, ChainStatus
from hongbao.service.ports.relay import ChainRow, RelayEventRow, RoundRow


def _chain(row: Any) -> ChainRow:
    return ChainRow(
        row.id, row.group_id, row.starter_id, int(row.min_fen), row.deadline_s, ChainStatus(row.status),
        row.rounds_count, row.current_packet_id, row.owed_by, utc_or_none(row.due_at), row.ended_reason,
        utc(row.created_at), utc_or_none(row.ended_at),
    )


class RelayTx(AskTx, TransferOrderTx, RowLocks):
    conn: Connection

    def create_chain(self, group_id: int, starter_id: int, min_fen: int, deadline_s: int, now: datetime) -> int:
        return int(
            self.conn.execute(
                insert(r.relay_chains)
                .values(
                    group_id=group_id, starter_id=starter_id, min_fen=min_fen, deadline_s=deadline_s,
                    status=ChainStatus.ACTIVE.value, rounds_count=0, created_at=now,
                )
                .returning(r.relay_chains.c.id)
            ).scalar_one()
        )

    def relay_chain(self, chain_id: int) -> ChainRow | None:
        row = self.conn.execute(select(r.relay_chains).where(r.relay_chains.c.id == chain_id)).first()
        return None if row is None else _chain(row)

    def start_round(
        self, chain_id: int, round_no: int, packet_id: int, sender_id: int, total_fen: int, shares_count: int,
        now: datetime, *, owed_by: int | None,
    ) -> bool:
        """Make `packet_id` round `round_no` of an active chain; False if the chain moved on or ended.

        From round 2 on, only while `owed_by` still owes the round and its deadline has not passed.
        """
        c = r.relay_chains
        conditions = [self.nowait_row(c, chain_id), c.c.status == ChainStatus.ACTIVE.value,
                      c.c.rounds_count == round_no - 1]
        if owed_by is not None:
            conditions += [c.c.owed_by == owed_by, c.c.due_at > now]
        with rows_nowait("relay_chains", {chain_id}):  # never waited for mid-batch (locks.py)
            done = self.conn.execute(
                update(c).where(*conditions).values(
                    rounds_count=round_no, current_packet_id=packet_id, owed_by=None, due_at=None
                )
            )
        if done.rowcount != 1:
            return False
        try:
            self.conn.execute(
                insert(r.relay_rounds).values(
                    chain_id=chain_id, round=round_no, packet_id=packet_id, sender_id=sender_id,
                    total_fen=total_fen, shares_count=shares_count, created_at=now,
                )
            )
        except IntegrityError as exc:
            raise Conflict("This round was already sent.", code="relay_round_taken") from exc
        return True

    def set_owed(self, chain_id: int, packet_id: int, user_id: int, due_at: datetime) -> bool:
        """The current round finished: `user_id` owes the next one until `due_at`."""
        c = r.relay_chains
        with rows_nowait("relay_chains", {chain_id}):
            done = self.conn.execute(
                update(c)
                .where(
                    self.nowait_row(c, chain_id), c.c.status == ChainStatus.ACTIVE.value,
                    c.c.current_packet_id == packet_id, c.c.owed_by.is_(None),
                )
                .values(owed_by=user_id, due_at=due_at)
            )
        return done.rowcount == 1

    def end_chain(self, chain_id: int, reason: ChainEnd, now: datetime, *, packet_id: int | None = None) -> bool:
        """End an active chain once: its deadline passed (owed and due), or round `packet_id` expired."""
        c = r.relay_chains
        conditions = [self.nowait_row(c, chain_id), c.c.status == ChainStatus.ACTIVE.value]
        if reason is ChainEnd.DEADLINE_MISSED:
            conditions += [c.c.owed_by.is_not(None), c.c.due_at <= now]
        else:
            conditions += [c.c.current_packet_id == packet_id, c.c.owed_by.is_(None)]
        with rows_nowait("relay_chains", {chain_id}):
            done = self.conn.execute(
                update(c).where(*conditions)
                .values(status=ChainStatus.ENDED.value, ended_reason=reason.value, ended_at=now)
            )
        return done.rowcount == 1

    def due_chain_ids(self, now: datetime, limit: int) -> list[int]:
        c = r.relay_chains
        rows = self.conn.execute(
            select(c.c.id)
            .where(c.c.status == ChainStatus.ACTIVE.value, c.c.due_at <= now)
            .order_by(c.c.due_at)
            .limit(limit)
        )
        return [row.id for row in rows]

    def chains_of_group(self, group_id: int, limit: int) -> list[ChainRow]:
        c = r.relay_chains
        rows = self.conn.execute(select(c).where(c.c.group_id == group_id).order_by(c.c.id.desc()).limit(limit))
        return [_chain(x) for x in rows]

    def relay_rounds(self, chain_id: int) -> list[RoundRow]:
        rr = r.relay_rounds
        rows = self.conn.execute(select(rr).where(rr.c.chain_id == chain_id).order_by(rr.c.round))
        return [
            RoundRow(x.chain_id, x.round, x.packet_id, x.sender_id, int(x.total_fen), x.shares_count,
                     utc(x.created_at))
            for x in rows
        ]

    def add_relay_event(
        self, chain_id: int, kind: str, now: datetime, *, round_no: int | None = None, user_id: int | None = None,
        detail: str = "",
    ) -> None:
        self.conn.execute(
            insert(r.relay_events).values(
                chain_id=chain_id, kind=kind, round=round_no, user_id=user_id, detail=detail, created_at=now
            )
        )

    def relay_events(self, chain_id: int) -> list[RelayEventRow]:
        e = r.relay_events
        rows = self.conn.execute(select(e).where(e.c.chain_id == chain_id).order_by(e.c.id))
        return [RelayEventRow(x.id, x.kind, x.round, x.user_id, x.detail, utc(x.created_at)) for x in rows]
