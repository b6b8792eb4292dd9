"""Repository methods of the social graph and of conversations and messages (mixed into SqlTx)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, union_all, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import hot
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql import schema_social as ss
from hongbao.adapters.sql.aware import utc
from hongbao.service.ports.conversations import ConversationRow, MessageRow
from hongbao.service.ports.people import ProfileRow

FOLLOWEES_MAX = 1_000
# A write batch's claim notices, in one statement on PostgreSQL (hot.OverRows), in their order.
_INSERT_MESSAGES = hot.insert_over_rows(
    "INSERT INTO messages (conversation_id, sender_id, type, body, data, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    "bigint", "bigint", "text", "text", "text", "timestamptz",
)


def _conversation(r: Any) -> ConversationRow:
    return ConversationRow(r.id, r.kind, r.user_low_id, r.user_high_id, r.group_id, utc(r.created_at))


def _message(r: Any) -> MessageRow:
    data = json.loads(r.data) if r.data and r.data != "{}" else {}
    return MessageRow(r.id, r.conversation_id, r.sender_id, r.type, r.body, data, utc(r.created_at))


class SocialTx:
    conn: Connection

    # ------------------------------------------------------------------ friends

    def decline_friend_request(self, requester: int, addressee: int) -> bool:
        f = s.friendships
        done = self.conn.execute(
            delete(f).where(f.c.requester_id == requester, f.c.addressee_id == addressee, f.c.status == "pending")
        )
        return done.rowcount == 1

    def pending_requests_from(self, user_id: int) -> list[int]:
        """The users this user asked to be friends who have not answered yet."""
        f = s.friendships
        rows = self.conn.execute(
            select(f.c.addressee_id).where(f.c.requester_id == user_id, f.c.status == "pending")
        )
        return sorted(r.addressee_id for r in rows)

    def remove_friendship(self, a: int, b: int) -> bool:
        f = s.friendships
        done = self.conn.execute(
            delete(f).where(
                f.c.status == "accepted",
                or_(
                    and_(f.c.requester_id == a, f.c.addressee_id == b),
                    and_(f.c.requester_id == b, f.c.addressee_id == a),
                ),
            )
        )
        return done.rowcount == 1

    # ------------------------------------------------------------------ profiles and followers

    def profile(self, user_id: int) -> ProfileRow | None:
        u = s.users
        r = self.conn.execute(
            select(u.c.id, u.c.username, u.c.display_name, u.c.verified_as, u.c.is_admin).where(u.c.id == user_id)
        ).first()
        return None if r is None else ProfileRow(r.id, r.username, r.display_name, r.verified_as, bool(r.is_admin))

    def followee_ids(self, follower_id: int, limit: int = FOLLOWEES_MAX) -> list[int]:
        f = s.follows
        rows = self.conn.execute(
            select(f.c.followee_id)
            .where(f.c.follower_id == follower_id)
            .order_by(f.c.created_at.desc(), f.c.followee_id)
            .limit(limit)
        )
        return [r.followee_id for r in rows]

    def followee_count(self, follower_id: int) -> int:
        f = s.follows
        return int(self.conn.execute(select(func.count()).where(f.c.follower_id == follower_id)).scalar_one())

    # ------------------------------------------------------------------ conversations

    def conversation(self, conversation_id: int) -> ConversationRow | None:
        c = ss.conversations
        r = self.conn.execute(select(c).where(c.c.id == conversation_id)).first()
        return None if r is None else _conversation(r)

    def pair_conversation_id(self, low: int, high: int) -> int | None:
        found = hot.rows(self.conn, "SELECT id FROM conversations WHERE user_low_id = ? AND user_high_id = ?",
                         (low, high))
        return int(found[0][0]) if found else None

    def conversation_ids(
        self, group_ids: Collection[int], pairs: Collection[tuple[int, int]]
    ) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
        """The existing conversations of these groups and of these (low, high) pairs, in at most two reads."""
        groups = {int(g): int(cid) for g, cid in hot.rows_in(
            self.conn, "SELECT group_id, id FROM conversations WHERE group_id {}", sorted(group_ids))}
        of_pair = {(int(low), int(high)): int(cid) for low, high, cid in hot.rows_in_pairs(
            self.conn, "SELECT user_low_id, user_high_id, id FROM conversations WHERE {}",
            ("user_low_id", "user_high_id"), sorted(pairs))}
        return groups, of_pair

    def group_conversation_id(self, group_id: int) -> int | None:
        found = hot.rows(self.conn, "SELECT id FROM conversations WHERE group_id = ?", (group_id,))
        return int(found[0][0]) if found else None

    def create_conversation(
        self, kind: str, now: datetime, *, low: int | None = None, high: int | None = None, group_id: int | None = None
    ) -> int:
        """Insert a conversation; if another process created it first, return that one (unique keys decide)."""
        c = ss.conversations
        try:
            with self.conn.begin_nested():
                cid = self.conn.execute(
                    insert(c)
                    .values(kind=kind, user_low_id=low, user_high_id=high, group_id=group_id, created_at=now)
                    .returning(c.c.id)
                ).scalar_one()
            return int(cid)
        except IntegrityError:
            if group_id is not None:
                found = self.group_conversation_id(group_id)
            else:
                assert low is not None and high is not None, "a pair conversation names two users"
                found = self.pair_conversation_id(low, high)
            assert found is not None, "a conversation insert failed without a conflicting row"
            return found

    def conversations_page(
        self, user_id: int, before: tuple[int, int] | None, limit: int
    ) -> list[tuple[ConversationRow, int]]:
        """Pair conversations the user is in and those of the groups they belong to now, with their activity key
        (newest message id, 0 for none), most recently active first, keyset-paginated by (activity, id):
        `before` is the key of the previous page's last conversation.

        Keys only grow, so a conversation already listed never comes back on a later page; one that becomes
        active mid-walk moves above the cursor, to the top of the list (where live events announce it).
        """
        c, gm, m = ss.conversations, s.group_members, ss.messages
        pairs = select(c.c.id).where(or_(c.c.user_low_id == user_id, c.c.user_high_id == user_id))
        groups = select(c.c.id).join(gm, gm.c.group_id == c.c.group_id).where(gm.c.user_id == user_id)
        newest = select(func.max(m.c.id)).where(m.c.conversation_id == c.c.id).scalar_subquery()
        keyed = (
            select(c, func.coalesce(newest, 0).label("activity_id"))
            .where(c.c.id.in_(union_all(pairs, groups)))
            .subquery()
        )
        q = select(keyed).order_by(keyed.c.activity_id.desc(), keyed.c.id.desc()).limit(limit)
        if before is not None:
            activity, cid = before
            q = q.where(or_(keyed.c.activity_id < activity, and_(keyed.c.activity_id == activity, keyed.c.id < cid)))
        return [(_conversation(r), int(r.activity_id)) for r in self.conn.execute(q)]

    # ------------------------------------------------------------------ messages

    def add_message(
        self,
        conversation_id: int,
        sender_id: int | None,
        type_: str,
        body: str,
        data: dict[str, Any],
        now: datetime,
    ) -> MessageRow:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        mid = hot.rows(self.conn, "INSERT INTO messages (conversation_id, sender_id, type, body, data, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                       (conversation_id, sender_id, type_, body, text, hot.ts(self.conn)(now)))[0][0]
        return MessageRow(int(mid), conversation_id, sender_id, type_, body, dict(data), now)

    def add_messages(self, messages: list[tuple[int, int | None, str, str, dict[str, Any], datetime]]) -> None:
        """Insert many messages (conversation, sender, type, body, data, at) in one statement, in this order."""
        stamp = hot.ts(self.conn)
        hot.many(self.conn, _INSERT_MESSAGES, [
                     (cid, sender, type_, body, json.dumps(data, ensure_ascii=False, separators=(",", ":")), stamp(at))
                     for cid, sender, type_, body, data, at in messages
                 ])

    def messages_page(self, conversation_id: int, before_id: int | None, limit: int) -> list[MessageRow]:
        """Newest first, keyset-paginated by message id."""
        m = ss.messages
        q = select(m).where(m.c.conversation_id == conversation_id).order_by(m.c.id.desc()).limit(limit)
        if before_id is not None:
            q = q.where(m.c.id < before_id)
        return [_message(r) for r in self.conn.execute(q)]

    def last_messages(self, conversation_ids: Sequence[int]) -> dict[int, MessageRow]:
        """The newest message of each conversation (those without messages are absent)."""
        if not conversation_ids:
            return {}
        m = ss.messages
        newest = (
            select(func.max(m.c.id).label("id"))
            .where(m.c.conversation_id.in_(set(conversation_ids)))
            .group_by(m.c.conversation_id)
            .subquery()
        )
        rows = self.conn.execute(select(m).join(newest, newest.c.id == m.c.id))
        return {r.conversation_id: _message(r) for r in rows}

    def unread_counts(self, user_id: int, conversation_ids: Sequence[int]) -> dict[int, int]:
        """Messages from others after the user's read marker, per conversation (absent: none unread).

        Claim notices are not counted: most are not shown to the reader (only to the claimer and the packet's
        sender, service/conversations.py `shown_to`), and which are lies in their data, not in a column."""
        if not conversation_ids:
            return {}
        m, r = ss.messages, ss.conversation_reads
        q = (
            select(m.c.conversation_id, func.count().label("n"))
            .select_from(m.outerjoin(r, and_(r.c.conversation_id == m.c.conversation_id, r.c.user_id == user_id)))
            .where(
                m.c.conversation_id.in_(set(conversation_ids)),
                or_(r.c.last_read_id.is_(None), m.c.id > r.c.last_read_id),
                or_(m.c.sender_id.is_(None), m.c.sender_id != user_id),
                m.c.type != "claim",
            )
            .group_by(m.c.conversation_id)
        )
        return {row.conversation_id: int(row.n) for row in self.conn.execute(q)}

    def mark_read(self, conversation_id: int, user_id: int, message_id: int) -> None:
        """Move the user's read marker forward to `message_id` (never backwards)."""
        r = ss.conversation_reads
        done = self.conn.execute(
            update(r)
            .where(r.c.conversation_id == conversation_id, r.c.user_id == user_id, r.c.last_read_id < message_id)
            .values(last_read_id=message_id)
        )
        if done.rowcount == 0:
            try:
                with self.conn.begin_nested():
                    self.conn.execute(
                        insert(r).values(conversation_id=conversation_id, user_id=user_id, last_read_id=message_id)
                    )
            except IntegrityError:
                pass  # the marker exists and is already at or past message_id

    def messages_after(self, after_id: int, limit: int) -> list[MessageRow]:
        """Every message newer than `after_id`, oldest first: what live delivery has not sent yet."""
        m = ss.messages
        rows = self.conn.execute(select(m).where(m.c.id > after_id).order_by(m.c.id).limit(limit))
        return [_message(r) for r in rows]

    def newest_message_id(self) -> int:
        return int(self.conn.execute(select(func.coalesce(func.max(ss.messages.c.id), 0))).scalar_one())
