"""Repository methods of face-to-face, password and celebrity packets and share links (mixed into SqlTx)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql import schema_open as so
from hongbao.adapters.sql.aware import utc
from hongbao.adapters.sql.locks import RowLocks
from hongbao.domain.packets import PacketStatus

_INSERT_SHARE_EVENT = insert(so.share_events)  # built once; executed with a list of rows


class OpenTx(RowLocks):
    conn: Connection

    # ------------------------------------------------------------------ per-install key

    def meta_get_or_add(self, key: str, value: str) -> str:
        """The stored value of `key`, storing `value` first if there is none (first writer wins)."""
        found: str | None = self.conn.execute(select(s.meta.c.value).where(s.meta.c.key == key)).scalar_one_or_none()
        if found is not None:
            return found
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(s.meta).values(key=key, value=value))
        except IntegrityError:
            # Another process stored its key first: use that one.
            stored: str = self.conn.execute(select(s.meta.c.value).where(s.meta.c.key == key)).scalar_one()
            return stored
        return value

    # ------------------------------------------------------------------ live secrets

    def secret_free(self, secret_hash: bytes, now: datetime) -> bool:
        """Whether no live packet holds this digest (a finished or overdue holder does not count)."""
        ls, p = so.live_secrets, s.packets
        holder = self.conn.execute(
            select(p.c.status, p.c.expires_at)
            .join(ls, ls.c.packet_id == p.c.id)
            .where(ls.c.secret_hash == secret_hash)
        ).first()
        if holder is None:
            return True
        expires_at = utc(holder.expires_at)
        return not (holder.status == PacketStatus.ACTIVE.value and expires_at > now)

    def hold_secret(self, secret_hash: bytes, packet_id: int, now: datetime) -> bool:
        """Reserve a digest for a live packet; False if a live packet holds it.

        A holder that is no longer live (finished, expired, or past its expiry and not yet refunded)
        gives the digest up.  The primary key decides between two processes racing for one digest; on PostgreSQL's
        writer the digest is first taken without waiting (`lock_key`: another batch holding it defers this job).
        """
        ls = so.live_secrets
        self.lock_key(ls, secret_hash)
        if not self.secret_free(secret_hash, now):
            return False
        self.conn.execute(delete(ls).where(ls.c.secret_hash == secret_hash))
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(ls).values(secret_hash=secret_hash, packet_id=packet_id))
        except IntegrityError:
            return False
        return True

    def release_secret(self, packet_id: int) -> None:
        ls = so.live_secrets
        if self.held is not None:  # PostgreSQL's writer: the digest taken without waiting first, as `hold_secret` does
            digest = self.conn.execute(select(ls.c.secret_hash).where(ls.c.packet_id == packet_id)).scalar()
            if digest is None:
                return
            self.lock_key(ls, bytes(digest))
        self.conn.execute(delete(ls).where(ls.c.packet_id == packet_id))

    def live_packet_by_secret(self, secret_hash: bytes) -> int | None:
        ls = so.live_secrets
        found = self.conn.execute(select(ls.c.packet_id).where(ls.c.secret_hash == secret_hash)).scalar_one_or_none()
        return None if found is None else int(found)

    def finished_packet_by_secret(self, secret_hash: bytes, now: datetime) -> int | None:
        """A packet with this digest whose shares are all taken and which has not expired yet, if any."""
        p = s.packets
        found = self.conn.execute(
            select(p.c.id)
            .where(p.c.secret_hash == secret_hash, p.c.status == PacketStatus.FINISHED.value, p.c.expires_at > now)
            .order_by(p.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        return None if found is None else int(found)

    # ------------------------------------------------------------------ share links and events

    def share_link_of(self, packet_id: int, embed_secret: bool) -> str | None:
        sl = so.share_links
        found: str | None = self.conn.execute(
            select(sl.c.token).where(sl.c.packet_id == packet_id, sl.c.embed_secret == embed_secret)
        ).scalar_one_or_none()
        return found

    def add_share_link(self, token: str, packet_id: int, embed_secret: bool, created_by: int, now: datetime) -> str:
        """Store a share link; the token of the existing one if this packet already has one of this kind."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(so.share_links).values(
                        token=token, packet_id=packet_id, embed_secret=embed_secret, created_by=created_by,
                        created_at=now,
                    )
                )
        except IntegrityError:
            existing = self.share_link_of(packet_id, embed_secret)
            assert existing is not None, "a share link insert failed without an existing link"
            return existing
        return token

    def share_link(self, token: str) -> tuple[int, bool] | None:
        """(packet id, embed_secret) of a share token."""
        sl = so.share_links
        row = self.conn.execute(select(sl.c.packet_id, sl.c.embed_secret).where(sl.c.token == token)).first()
        return None if row is None else (int(row.packet_id), bool(row.embed_secret))

    def add_share_event(self, packet_id: int, event: str, platform: str, channel: str, now: datetime) -> None:
        self.add_share_events([(packet_id, event, platform, channel, now)])

    def add_share_events(self, events: list[tuple[int, str, str, str, datetime]]) -> None:
        """(packet id, event, platform, channel, when) rows, in one executemany of a statement built once."""
        self.conn.execute(_INSERT_SHARE_EVENT, [
            {"packet_id": pid, "event": event, "platform": platform, "channel": channel, "created_at": at}
            for pid, event, platform, channel, at in events
        ])

    def share_figures(self, packet_id: int) -> list[tuple[str, str, str, int]]:
        """(event, platform, channel, count) for one packet."""
        e = so.share_events
        rows = self.conn.execute(
            select(e.c.event, e.c.platform, e.c.channel, func.count().label("n"))
            .where(e.c.packet_id == packet_id)
            .group_by(e.c.event, e.c.platform, e.c.channel)
            .order_by(e.c.event, e.c.platform, e.c.channel)
        )
        return [(r.event, r.platform, r.channel, int(r.n)) for r in rows]
