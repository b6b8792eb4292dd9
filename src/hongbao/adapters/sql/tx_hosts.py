"""Repository methods of the platform API and the webhook outbox (mixed into SqlTx)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import hot
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql import schema_hosts as h
from hongbao.adapters.sql.aware import utc, utc_or_none
from hongbao.adapters.sql.locks import RowLocks, rows_nowait
from hongbao.domain.errors import Conflict
from hongbao.service.ports.hosts import HostFigures, HostKeyRow, HostRow, HostUserRow, OutboxRow


class HostTx(RowLocks):
    conn: Connection
    is_sqlite: bool

    # ------------------------------------------------------------------ hosts and keys

    def add_host(self, name: str, rate_per_min: int, daily_volume_fen_max: int, now: datetime) -> int:
        try:
            hid = self.conn.execute(
                insert(h.hosts)
                .values(name=name, rate_per_min=rate_per_min, daily_volume_fen_max=daily_volume_fen_max,
                        created_at=now)
                .returning(h.hosts.c.id)
            ).scalar_one()
        except IntegrityError as exc:
            raise Conflict(f"A host named {name!r} exists.", code="host_name_taken") from exc
        return int(hid)

    def host(self, host_id: int) -> HostRow | None:
        row = self.conn.execute(select(h.hosts).where(h.hosts.c.id == host_id)).first()
        return None if row is None else _host_row(row)

    def host_by_name(self, name: str) -> HostRow | None:
        row = self.conn.execute(select(h.hosts).where(h.hosts.c.name == name)).first()
        return None if row is None else _host_row(row)

    def hosts_all(self) -> list[HostRow]:
        return [_host_row(r) for r in self.conn.execute(select(h.hosts).order_by(h.hosts.c.id))]

    def set_host_webhook(self, host_id: int, url: str | None, secret_sealed: str | None) -> None:
        self.conn.execute(
            update(h.hosts).where(h.hosts.c.id == host_id)
            .values(webhook_url=url, webhook_secret_sealed=secret_sealed)
        )

    def set_host_limits(self, host_id: int, rate_per_min: int | None, daily_volume_fen_max: int | None) -> None:
        values: dict[str, Any] = {}
        if rate_per_min is not None:
            values["rate_per_min"] = rate_per_min
        if daily_volume_fen_max is not None:
            values["daily_volume_fen_max"] = daily_volume_fen_max
        if values:
            self.conn.execute(update(h.hosts).where(h.hosts.c.id == host_id).values(**values))

    def add_host_key(self, key_id: str, host_id: int, secret_hash: bytes, scopes: Iterable[str], now: datetime) -> None:
        self.conn.execute(
            insert(h.host_keys).values(id=key_id, host_id=host_id, secret_hash=secret_hash,
                                       scopes=",".join(scopes), created_at=now)
        )

    def host_key(self, key_id: str) -> HostKeyRow | None:
        row = self.conn.execute(select(h.host_keys).where(h.host_keys.c.id == key_id)).first()
        return None if row is None else _key_row(row)

    def host_keys_of(self, host_id: int) -> list[HostKeyRow]:
        hk = h.host_keys
        return [_key_row(r) for r in self.conn.execute(select(hk).where(hk.c.host_id == host_id)
                                                       .order_by(hk.c.created_at, hk.c.id))]

    def revoke_host_key(self, key_id: str, now: datetime) -> bool:
        hk = h.host_keys
        done = self.conn.execute(update(hk).where(hk.c.id == key_id, hk.c.revoked_at.is_(None)).values(revoked_at=now))
        return bool(done.rowcount == 1)

    # ------------------------------------------------------------------ the host's users

    def host_user(self, host_id: int, external_id: str) -> int | None:
        hu = h.host_users
        found = self.conn.execute(
            select(hu.c.user_id).where(hu.c.host_id == host_id, hu.c.external_id == external_id)
        ).scalar()
        return None if found is None else int(found)

    def add_host_user(self, host_id: int, external_id: str, user_id: int, now: datetime) -> None:
        try:
            self.conn.execute(
                insert(h.host_users).values(host_id=host_id, external_id=external_id, user_id=user_id, created_at=now)
            )
        except IntegrityError as exc:
            raise Conflict("This external id was mapped a moment ago.", code="request_in_progress") from exc

    def host_users_among(self, user_ids: Iterable[int], with_webhook: bool = False) -> list[HostUserRow]:
        """The host users among `user_ids` (only those of hosts with a webhook endpoint, if asked)."""
        ids = sorted(set(user_ids))
        if not ids:
            return []
        # Driver SQL (hot.py): every write batch of opens asks this once, for its webhooks.
        sql = ("SELECT hu.host_id, hu.external_id, hu.user_id FROM host_users hu JOIN hosts ON hosts.id = hu.host_id "
               "WHERE hosts.webhook_url IS NOT NULL AND hu.user_id {}" if with_webhook
               else "SELECT hu.host_id, hu.external_id, hu.user_id FROM host_users hu WHERE hu.user_id {}")
        return [HostUserRow(int(host), external, int(user))
                for host, external, user in hot.rows_in(self.conn, sql, ids)]

    def worlds_of(self, user_ids: Iterable[int]) -> dict[int, int]:
        """The world of each existing user among `user_ids`: their host's id, 0 for hongbao's own (service/worlds.py);
        users that do not exist are left out.  One query per 1,000 users."""
        ids = sorted(set(user_ids))
        found: dict[int, int] = {}
        for some in hot.chunks(ids):
            found.update((int(uid), int(host or 0)) for uid, host in hot.rows(
                self.conn, "SELECT users.id, host_users.host_id FROM users LEFT JOIN host_users ON host_users.user_id "
                f"= users.id WHERE users.id IN ({hot.marks(len(some))})", some))
        return found

    def add_host_volume(self, host_id: int, day: date, amount_fen: int, cap_fen: int) -> bool:
        """Count `amount_fen` in the host's day if it stays within `cap_fen` (one conditional UPDATE); False if not."""
        hv = h.host_volume
        self.ensure_row(hv, (host_id, day), zeros=("sent_fen",))
        with rows_nowait("host_volume", {(host_id, day)}):  # never waited for mid-batch (locks.py)
            done = self.conn.execute(
                update(hv).where(self.nowait_row(hv, host_id, day), hv.c.sent_fen + amount_fen <= cap_fen)
                .values(sent_fen=hv.c.sent_fen + amount_fen)
            )
        return bool(done.rowcount == 1)

    def host_figures(self, host_id: int, day: date) -> HostFigures:
        """The host's dashboard: its users, what they sent, received and got back, its day's volume, its webhooks."""
        hu, p, c, o = h.host_users, s.packets, s.claims, h.webhook_outbox
        mine = select(hu.c.user_id).where(hu.c.host_id == host_id).scalar_subquery()
        users = self.conn.execute(select(func.count()).where(hu.c.host_id == host_id)).scalar_one()
        sent = self.conn.execute(
            select(func.count(), func.coalesce(func.sum(p.c.total_fen), 0),
                   func.coalesce(func.sum(p.c.refunded_fen), 0))
            .where(p.c.sender_id.in_(mine))
        ).one()
        claimed = self.conn.execute(
            select(func.count(), func.coalesce(func.sum(c.c.amount_fen), 0)).where(c.c.user_id.in_(mine))
        ).one()
        volume = self.conn.execute(
            select(h.host_volume.c.sent_fen).where(h.host_volume.c.host_id == host_id, h.host_volume.c.day == day)
        ).scalar()
        hooks = self.conn.execute(
            select(func.count(), func.count(o.c.delivered_at), func.count(o.c.failed_at)).where(o.c.host_id == host_id)
        ).one()
        return {
            "users_count": int(users),
            "packets_sent_count": int(sent[0]),
            "packets_sent_fen": int(sent[1]),
            "packets_refunded_fen": int(sent[2]),
            "claims_count": int(claimed[0]),
            "claimed_fen": int(claimed[1]),
            "volume_today_fen": int(volume or 0),
            "webhooks_delivered_count": int(hooks[1]),
            "webhooks_failed_count": int(hooks[2]),
            "webhooks_pending_count": int(hooks[0]) - int(hooks[1]) - int(hooks[2]),
        }

    # ------------------------------------------------------------------ the webhook outbox

    def add_outbox(
        self, host_id: int, msg_id: str, event_type: str, stream: str, payload: str, now: datetime
    ) -> None:
        self.conn.execute(
            insert(h.webhook_outbox).values(
                host_id=host_id, msg_id=msg_id, event_type=event_type, stream=stream, payload=payload,
                created_at=now, attempts=0, next_attempt_at=now,
            )
        )

    def outbox_due_heads(self, now: datetime, limit: int) -> list[tuple[OutboxRow, str, str | None]]:
        """The first undelivered message of each stream, where it is due and its host has a webhook URL, oldest
        first, with the URL and sealed secret.  Streams are picked by their head alone, so a host whose endpoint is
        down (its heads waiting out their backoff) never holds back another host's messages."""
        o, hs = h.webhook_outbox, h.hosts
        heads = (
            select(func.min(o.c.id).label("id"))
            .where(o.c.delivered_at.is_(None), o.c.failed_at.is_(None))
            .group_by(o.c.host_id, o.c.stream)
            .subquery()
        )
        rows = self.conn.execute(
            select(o, hs.c.webhook_url, hs.c.webhook_secret_sealed)
            .join(heads, heads.c.id == o.c.id)
            .join(hs, hs.c.id == o.c.host_id)
            .where(hs.c.webhook_url.is_not(None), o.c.next_attempt_at <= now,
                   or_(o.c.locked_until.is_(None), o.c.locked_until <= now))
            .order_by(o.c.id)
            .limit(limit)
        )
        return [(_outbox_row(r), r.webhook_url, r.webhook_secret_sealed) for r in rows]

    def outbox_list(self, host_id: int | None, status: str | None, limit: int) -> list[OutboxRow]:
        """Messages newest first, of one host or all, by status (pending, delivered, failed) or all."""
        o = h.webhook_outbox
        query = select(o).order_by(o.c.id.desc()).limit(limit)
        if host_id is not None:
            query = query.where(o.c.host_id == host_id)
        if status == "delivered":
            query = query.where(o.c.delivered_at.is_not(None))
        elif status == "failed":
            query = query.where(o.c.failed_at.is_not(None))
        elif status == "pending":
            query = query.where(o.c.delivered_at.is_(None), o.c.failed_at.is_(None))
        return [_outbox_row(r) for r in self.conn.execute(query)]

    def claim_outbox(self, outbox_id: int, now: datetime, until: datetime) -> bool:
        """Take a message for delivery unless another deliverer holds it or it is done: one conditional UPDATE."""
        o = h.webhook_outbox
        with rows_nowait("webhook_outbox", {outbox_id}):  # never waited for mid-batch (locks.py)
            done = self.conn.execute(
                update(o)
                .where(self.nowait_row(o, outbox_id), o.c.delivered_at.is_(None), o.c.failed_at.is_(None),
                       or_(o.c.locked_until.is_(None), o.c.locked_until <= now))
                .values(locked_until=until)
            )
        return bool(done.rowcount == 1)

    def outbox_delivered(self, outbox_id: int, now: datetime) -> None:
        o = h.webhook_outbox
        with rows_nowait("webhook_outbox", {outbox_id}):
            self.conn.execute(
                update(o).where(self.nowait_row(o, outbox_id))
                .values(delivered_at=now, locked_until=None, attempts=o.c.attempts + 1, last_error=None)
            )

    def outbox_failed_attempt(self, outbox_id: int, error: str, next_at: datetime, give_up_at: datetime | None) -> None:
        o = h.webhook_outbox
        with rows_nowait("webhook_outbox", {outbox_id}):
            self.conn.execute(
                update(o).where(self.nowait_row(o, outbox_id))
                .values(attempts=o.c.attempts + 1, last_error=error[:255], next_attempt_at=next_at,
                        locked_until=None, failed_at=give_up_at)
            )

    def delete_delivered_outbox_before(self, cutoff: datetime, limit: int) -> int:
        """Messages delivered before `cutoff` (given-up ones stay, for `hongbao webhooks replay`)."""
        o = h.webhook_outbox
        due = select(o.c.id).where(o.c.delivered_at.is_not(None), o.c.delivered_at < cutoff).limit(limit)
        return int(self.conn.execute(delete(o).where(o.c.id.in_(due))).rowcount)

    def outbox_replay(self, msg_id: str, now: datetime) -> bool:
        """Deliver a message again (delivered or given up): it becomes pending, due now."""
        o = h.webhook_outbox
        done = self.conn.execute(
            update(o).where(o.c.msg_id == msg_id)
            .values(delivered_at=None, failed_at=None, locked_until=None, next_attempt_at=now, attempts=0)
        )
        return bool(done.rowcount == 1)


def _host_row(r: Any) -> HostRow:
    return HostRow(int(r.id), r.name, utc(r.created_at), int(r.rate_per_min), int(r.daily_volume_fen_max),
                   r.webhook_url, r.webhook_secret_sealed)


def _key_row(r: Any) -> HostKeyRow:
    return HostKeyRow(r.id, int(r.host_id), bytes(r.secret_hash), tuple(x for x in r.scopes.split(",") if x),
                      utc(r.created_at), utc_or_none(r.revoked_at))


def _outbox_row(r: Any) -> OutboxRow:
    return OutboxRow(
        id=int(r.id), host_id=int(r.host_id), msg_id=r.msg_id, event_type=r.event_type, stream=r.stream,
        payload=r.payload, created_at=utc(r.created_at), attempts=int(r.attempts),
        next_attempt_at=utc(r.next_attempt_at), locked_until=utc_or_none(r.locked_until),
        delivered_at=utc_or_none(r.delivered_at),
        failed_at=utc_or_none(r.failed_at), last_error=r.last_error,
    )
