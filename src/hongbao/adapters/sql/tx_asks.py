"""Repository methods of asks (讨红包): ask a friend or a group for a packet, answer, expire (mixed into SqlTx).

An ask's answer is a conditional UPDATE on its status: of two racing answers, the first wins and the other
changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import false, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import schema_relay as r
from hongbao.adapters.sql.aware import utc, utc_or_none
from hongbao.adapters.sql.locks import RowLocks, rows_nowait
from hongbao.domain.relay import AskStatus
from hongbao.service.ports.relay import AskRow

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import SqlTx


def _ask(row: Any) -> AskRow:
    return AskRow(
        row.id, row.asker_id, row.to_user_id, row.group_id,
        None if row.amount_fen is None else int(row.amount_fen), row.message, AskStatus(row.status),
        row.packet_id, row.answered_by, utc(row.created_at), utc(row.expires_at), utc_or_none(row.answered_at),
    )


class AskTx(RowLocks):
    conn: Connection

    def _core(self) -> SqlTx:
        from hongbao.adapters.sql.tx import SqlTx

        assert isinstance(self, SqlTx)
        return self

    def allows_asks(self, user_id: int) -> bool:
        found = self.conn.execute(
            select(r.user_settings.c.allow_asks).where(r.user_settings.c.user_id == user_id)
        ).scalar_one_or_none()
        return True if found is None else bool(found)

    def set_allows_asks(self, user_id: int, allow: bool) -> None:
        us = r.user_settings
        done = self.conn.execute(update(us).where(us.c.user_id == user_id).values(allow_asks=allow))
        if done.rowcount == 0:
            self.conn.execute(insert(us).values(user_id=user_id, allow_asks=allow))

    def create_ask(
        self, *, asker_id: int, to_user_id: int | None, group_id: int | None, amount_fen: int | None,
        message: str, day: date, cap: int, now: datetime, expires_at: datetime,
    ) -> int | None:
        """Insert the ask into the asker's next free daily slot (1..cap); None when every slot is taken.

        The unique (asker, day, slot) index decides, so the cap holds even across processes.
        """
        a = r.asks
        used = int(
            self.conn.execute(
                select(func.count()).where(a.c.asker_id == asker_id, a.c.day == day)
            ).scalar_one()
        )
        for slot in range(used + 1, cap + 1):
            try:
                with self.conn.begin_nested():
                    return int(
                        self.conn.execute(
                            insert(a)
                            .values(
                                asker_id=asker_id, to_user_id=to_user_id, group_id=group_id, amount_fen=amount_fen,
                                message=message, status=AskStatus.OPEN.value, day=day, day_seq=slot,
                                created_at=now, expires_at=expires_at,
                            )
                            .returning(a.c.id)
                        ).scalar_one()
                    )
            except IntegrityError:
                continue  # another process took this slot a moment ago: try the next one
        return None

    def ask(self, ask_id: int) -> AskRow | None:
        row = self.conn.execute(select(r.asks).where(r.asks.c.id == ask_id)).first()
        return None if row is None else _ask(row)

    def answer_ask(
        self, ask_id: int, status: AskStatus, by: int, now: datetime, *, packet_id: int | None = None
    ) -> bool:
        """Move an open, unexpired ask to `status` once; False if it was answered or expired meanwhile."""
        a = r.asks
        with rows_nowait("asks", {ask_id}):  # never waited for mid-batch (locks.py)
            done = self.conn.execute(
                update(a)
                .where(self.nowait_row(a, ask_id), a.c.status == AskStatus.OPEN.value, a.c.expires_at > now)
                .values(status=status.value, answered_by=by, answered_at=now, packet_id=packet_id)
            )
        return done.rowcount == 1

    def asks_of(self, user_id: int, limit: int, before_id: int | None = None) -> list[AskRow]:
        """Asks the user sent, asks to them, and asks to their groups (by others), newest first,
        keyset-paginated by ask id (`before_id`: the last id of the previous page)."""
        a = r.asks
        groups = [g.id for g in self._core().groups_of(user_id)]
        q = (
            select(a)
            .where(
                or_(
                    a.c.asker_id == user_id,
                    a.c.to_user_id == user_id,
                    a.c.group_id.in_(groups) if groups else false(),
                )
            )
            .order_by(a.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            q = q.where(a.c.id < before_id)
        return [_ask(x) for x in self.conn.execute(q)]
