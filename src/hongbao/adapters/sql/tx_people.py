"""Repository methods of users and tokens, friends, followers and verified accounts, groups (mixed into SqlTx)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from functools import partial

from sqlalchemy import delete, func, insert, or_, select, text, tuple_, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import hot
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.aware import utc
from hongbao.adapters.sql.locks import RowLocks, rows_nowait
from hongbao.adapters.sql.lookup import SqlLookup
from hongbao.domain.errors import Conflict
from hongbao.domain.ledger import AccountKind
from hongbao.service.ports.people import GroupRow, UserRow

PRUNE_BATCH_MAX = 5_000  # rows one pruning statement deletes: the writer's transaction stays short
REVOCATIONS_LOCK = 0x68626F6E67000001  # pg_advisory_xact_lock key: revocations commit in id order


class PeopleTx(RowLocks):
    conn: Connection
    is_sqlite: bool

    # ------------------------------------------------------------------ users and tokens

    def create_user(self, username: str, display_name: str, password_hash: str, now: datetime) -> int:
        try:
            user_id = self.conn.execute(
                insert(s.users)
                .values(
                    username=username, display_name=display_name, password_hash=password_hash, created_at=now
                )
                .returning(s.users.c.id)
            ).scalar_one()
        except IntegrityError as exc:
            raise Conflict(f"The username {username!r} is taken.", code="username_taken") from exc
        self.conn.execute(
            insert(s.accounts).values(kind=AccountKind.WALLET.value, owner_id=user_id, balance_fen=0)
        )
        return int(user_id)

    def user_by_username(self, username: str) -> UserRow | None:
        row = self.conn.execute(select(s.users).where(s.users.c.username == username)).first()
        return None if row is None else UserRow(row.id, row.username, row.display_name, row.password_hash)

    def display_names(self, ids: Collection[int]) -> dict[int, str]:
        """Users' display names by id, in one read (the claim notices of a write batch)."""
        return {int(uid): name for uid, name in hot.rows_in(
            self.conn, "SELECT id, display_name FROM users WHERE id {}", sorted(ids))}

    def users_by_ids(self, ids: Sequence[int]) -> dict[int, UserRow]:
        if not ids:
            return {}
        found: dict[int, UserRow] = {}
        for some in hot.chunks(sorted(set(ids))):
            found.update((int(uid), UserRow(int(uid), name, shown, hashed)) for uid, name, shown, hashed in hot.rows(
                self.conn, "SELECT id, username, display_name, password_hash FROM users "
                f"WHERE id IN ({hot.marks(len(some))})", some))
        return found

    def user_exists(self, user_id: int) -> bool:
        return self.conn.execute(select(s.users.c.id).where(s.users.c.id == user_id)).first() is not None

    def add_token(
        self, token_id: str, secret_hash: bytes, user_id: int, expires_at: datetime, now: datetime
    ) -> None:
        self.conn.execute(
            insert(s.tokens).values(
                id=token_id, secret_hash=secret_hash, user_id=user_id, expires_at=expires_at, created_at=now
            )
        )

    def tokens(self, token_ids: list[str]) -> dict[str, tuple[bytes, int, datetime]]:
        rows = self.conn.execute(select(s.tokens).where(s.tokens.c.id.in_(token_ids)))
        return {row.id: (bytes(row.secret_hash), row.user_id, utc(row.expires_at)) for row in rows}

    def delete_token(self, token_id: str) -> None:
        self.conn.execute(delete(s.tokens).where(s.tokens.c.id == token_id))

    def revoke_token(self, token_id: str, expires_at: datetime) -> None:
        """Log a signed token out for every process (they read `revoked_tokens_since`); once is enough.

        Readers page by id, so ids must become visible in id order: on PostgreSQL, where several writers commit in
        any order, revocations take one transaction lock first (an id drawn later then also commits later)."""
        self.delete_token(token_id)
        r = s.token_revocations
        if not self.is_sqlite:
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REVOCATIONS_LOCK})
        if self.conn.execute(select(r.c.id).where(r.c.token_id == token_id)).first() is None:
            self.conn.execute(insert(r).values(token_id=token_id, expires_at=expires_at))

    def revoked_tokens_since(self, after_id: int) -> tuple[int, list[str]]:
        """The highest revocation id and the token ids revoked after `after_id`."""
        r = s.token_revocations
        rows = self.conn.execute(select(r.c.id, r.c.token_id).where(r.c.id > after_id).order_by(r.c.id)).all()
        return (int(rows[-1].id) if rows else after_id), [row.token_id for row in rows]

    def has_users(self) -> bool:
        return self.conn.execute(select(s.users.c.id).limit(1)).first() is not None

    # ------------------------------------------------------------------ housekeeping (the sweeper's pruning)

    def delete_expired_tokens(self, now: datetime, limit: int = PRUNE_BATCH_MAX) -> int:
        t = s.tokens
        due = select(t.c.id).where(t.c.expires_at <= now).limit(limit)
        return int(self.conn.execute(delete(t).where(t.c.id.in_(due))).rowcount)

    def delete_expired_revocations(self, now: datetime, limit: int = PRUNE_BATCH_MAX) -> int:
        """Revocations of tokens that have expired anyway (a signed token carries its expiry)."""
        r = s.token_revocations
        due = select(r.c.id).where(r.c.expires_at <= now).limit(limit)
        return int(self.conn.execute(delete(r).where(r.c.id.in_(due))).rowcount)

    def delete_idempotency_keys_before(self, cutoff: datetime, limit: int = PRUNE_BATCH_MAX) -> int:
        """Stored replies older than `cutoff`: a retry with such a key runs as a new request."""
        k = s.idempotency_keys
        due = select(k.c.user_id, k.c.key).where(k.c.created_at < cutoff).limit(limit)
        return int(self.conn.execute(delete(k).where(tuple_(k.c.user_id, k.c.key).in_(due))).rowcount)

    # ------------------------------------------------------------------ friends

    def friendship(self, a: int, b: int) -> tuple[int, int, str] | None:
        """(requester, addressee, status) of the friendship between a and b, either direction."""
        found = hot.rows(self.conn, "SELECT requester_id, addressee_id, status FROM friendships WHERE "
                         "(requester_id = ? AND addressee_id = ?) OR (requester_id = ? AND addressee_id = ?)",
                         (a, b, b, a))
        return None if not found else (int(found[0][0]), int(found[0][1]), str(found[0][2]))

    def are_friends(self, a: int, b: int) -> bool:
        found = self.friendship(a, b)
        return found is not None and found[2] == "accepted"

    def friends_among(self, user_id: int, others: Sequence[int]) -> set[int]:
        """Which of `others` are the user's friends (accepted, either direction), in one read per 1,000."""
        found: set[int] = set()
        for some in hot.chunks(sorted(set(others))):
            ids = hot.marks(len(some))
            found.update(int(uid) for (uid,) in hot.rows(
                self.conn,
                f"SELECT addressee_id FROM friendships WHERE requester_id = ? AND status = 'accepted' "
                f"AND addressee_id IN ({ids}) UNION SELECT requester_id FROM friendships WHERE addressee_id = ? "
                f"AND status = 'accepted' AND requester_id IN ({ids})",
                [user_id, *some, user_id, *some]))
        return found

    def add_friend_request(self, requester: int, addressee: int, now: datetime) -> None:
        try:
            self.conn.execute(
                insert(s.friendships).values(
                    requester_id=requester, addressee_id=addressee, status="pending", created_at=now
                )
            )
        except IntegrityError as exc:
            raise Conflict("A friend request already exists.", code="already_requested") from exc

    def accept_friend_request(self, requester: int, addressee: int) -> bool:
        f = s.friendships
        with rows_nowait("friendships", {(requester, addressee)}):  # never waited for mid-batch (locks.py)
            done = self.conn.execute(
                update(f).where(self.nowait_row(f, requester, addressee), f.c.status == "pending")
                .values(status="accepted")
            )
        return done.rowcount == 1

    def friends_of(self, user_id: int) -> list[int]:
        f = s.friendships
        rows = self.conn.execute(
            select(f.c.requester_id, f.c.addressee_id).where(
                f.c.status == "accepted", or_(f.c.requester_id == user_id, f.c.addressee_id == user_id)
            )
        )
        return sorted(r.addressee_id if r.requester_id == user_id else r.requester_id for r in rows)

    def pending_requests_to(self, user_id: int) -> list[int]:
        f = s.friendships
        rows = self.conn.execute(
            select(f.c.requester_id).where(f.c.addressee_id == user_id, f.c.status == "pending")
        )
        return sorted(r.requester_id for r in rows)

    # ------------------------------------------------------------------ followers and verified accounts

    def follow(self, follower_id: int, followee_id: int, now: datetime) -> bool:
        """Follow an account; False if already following."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(s.follows).values(follower_id=follower_id, followee_id=followee_id, created_at=now)
                )
        except IntegrityError:
            return False
        return True

    def unfollow(self, follower_id: int, followee_id: int) -> bool:
        f = s.follows
        done = self.conn.execute(delete(f).where(f.c.follower_id == follower_id, f.c.followee_id == followee_id))
        return done.rowcount == 1

    def is_follower(self, follower_id: int, followee_id: int) -> bool:
        f = s.follows
        found = self.conn.execute(
            select(f.c.follower_id).where(f.c.follower_id == follower_id, f.c.followee_id == followee_id)
        ).first()
        return found is not None

    def followers_among(self, followee_id: int, user_ids: list[int]) -> set[int]:
        """Which of `user_ids` follow `followee_id` now (one read for many opens of a celebrity packet)."""
        return SqlLookup(partial(hot.rows, self.conn)).followers_among(followee_id, user_ids)

    def follower_count(self, followee_id: int) -> int:
        f = s.follows
        return int(self.conn.execute(select(func.count()).where(f.c.followee_id == followee_id)).scalar_one())

    def verified_as(self, user_id: int) -> str | None:
        """"celebrity" or "enterprise" for a verified account, else None."""
        found: str | None = self.conn.execute(
            select(s.users.c.verified_as).where(s.users.c.id == user_id)
        ).scalar_one_or_none()
        return found

    def set_verified_as(self, user_id: int, verified_as: str | None) -> bool:
        done = self.conn.execute(update(s.users).where(s.users.c.id == user_id).values(verified_as=verified_as))
        return done.rowcount == 1

    def is_admin(self, user_id: int) -> bool:
        found = self.conn.execute(select(s.users.c.is_admin).where(s.users.c.id == user_id)).scalar_one_or_none()
        return bool(found)

    def set_admin(self, user_id: int, is_admin: bool) -> bool:
        done = self.conn.execute(update(s.users).where(s.users.c.id == user_id).values(is_admin=is_admin))
        return done.rowcount == 1

    # ------------------------------------------------------------------ groups

    def create_group(self, name: str, owner_id: int, now: datetime) -> int:
        gid = self.conn.execute(
            insert(s.groups).values(name=name, owner_id=owner_id, created_at=now).returning(s.groups.c.id)
        ).scalar_one()
        self.add_member(int(gid), owner_id, now)
        return int(gid)

    def group(self, group_id: int) -> GroupRow | None:
        found = hot.rows(self.conn, "SELECT id, name, owner_id, created_at FROM groups WHERE id = ?", (group_id,))
        return None if not found else GroupRow(int(found[0][0]), found[0][1], int(found[0][2]), hot.stamp(found[0][3]))

    def lock_group(self, group_id: int) -> GroupRow | None:
        """The group, its row locked until commit on PostgreSQL (SQLite's writer lock already serialises writers).

        Adding a member counts then inserts; the lock makes that one step across API processes.  FOR NO KEY UPDATE,
        not FOR UPDATE: the lock leaves new rows pointing at the group (members, packets, relay chains) free, and
        PostgreSQL's writer takes it without waiting mid-batch (locks.py).
        """
        g = s.groups
        nowait = self.will_lock("groups", group_id)
        with rows_nowait("groups", {group_id}):
            row = self.conn.execute(
                select(g).where(g.c.id == group_id).with_for_update(nowait=nowait, key_share=True)
            ).first()
        return None if row is None else GroupRow(row.id, row.name, row.owner_id, utc(row.created_at))

    def add_member(self, group_id: int, user_id: int, now: datetime) -> None:
        try:
            self.conn.execute(
                insert(s.group_members).values(group_id=group_id, user_id=user_id, joined_at=now)
            )
        except IntegrityError as exc:
            raise Conflict("Already a member of this group.", code="already_member") from exc

    def add_members(self, group_id: int, user_ids: Sequence[int], now: datetime) -> None:
        """`add_member` for many users in one statement (a new group's members)."""
        stamp = hot.ts(self.conn)(now)
        try:
            hot.many(self.conn, "INSERT INTO group_members (group_id, user_id, joined_at) VALUES (?, ?, ?)",
                     [(group_id, uid, stamp) for uid in user_ids])
        except IntegrityError as exc:
            raise Conflict("Already a member of this group.", code="already_member") from exc

    def remove_member(self, group_id: int, user_id: int) -> bool:
        gm = s.group_members
        return (
            self.conn.execute(delete(gm).where(gm.c.group_id == group_id, gm.c.user_id == user_id)).rowcount
            == 1
        )

    def is_member(self, group_id: int, user_id: int) -> bool:
        return bool(hot.rows(self.conn, "SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?",
                             (group_id, user_id)))

    def members_among(self, group_id: int, user_ids: list[int]) -> set[int]:
        """Which of `user_ids` are members of the group now (one read for a batch of opens)."""
        return {int(uid) for (uid,) in hot.rows_in(
            self.conn, "SELECT user_id FROM group_members WHERE group_id = ? AND user_id {}", user_ids, [group_id])}

    def member_ids(self, group_id: int) -> list[int]:
        gm = s.group_members
        return [
            r.user_id
            for r in self.conn.execute(
                select(gm.c.user_id).where(gm.c.group_id == group_id).order_by(gm.c.user_id)
            )
        ]

    def member_count(self, group_id: int) -> int:
        gm = s.group_members
        return int(self.conn.execute(select(func.count()).where(gm.c.group_id == group_id)).scalar_one())

    def groups_of(self, user_id: int) -> list[GroupRow]:
        g, gm = s.groups, s.group_members
        rows = self.conn.execute(
            select(g).join(gm, gm.c.group_id == g.c.id).where(gm.c.user_id == user_id).order_by(g.c.id)
        )
        return [GroupRow(r.id, r.name, r.owner_id, utc(r.created_at)) for r in rows]
