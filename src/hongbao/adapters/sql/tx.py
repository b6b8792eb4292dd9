"""Repository methods over one SQL connection: every read and every atomic money statement.

Rules kept here (saleor's habits): atomic increments, never read-modify-write; no check-then-act
where a unique constraint can decide; a statement that fails a constraint is turned into a
`HongbaoError` at once and the job stops (its savepoint is rolled back by the writer).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.aware import utc
from hongbao.adapters.sql.tx_campaign import CampaignTx
from hongbao.adapters.sql.tx_open import OpenTx
from hongbao.adapters.sql.tx_payments import PaymentTx
from hongbao.adapters.sql.tx_relay import RelayTx
from hongbao.adapters.sql.tx_social import SocialTx
from hongbao.domain import errors
from hongbao.domain.errors import Conflict, NotFound
from hongbao.domain.ledger import (
    WORLD_ACCOUNT_ID,
    Account,
    AccountKind,
    ClaimFacts,
    PacketFacts,
    Transfer,
    TransferCode,
)
from hongbao.domain.packets import PacketKind, PacketStatus, PacketView
from hongbao.domain.split import Split


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    password_hash: str


@dataclass(frozen=True)
class PacketRow:
    view: PacketView
    greeting: str
    claimed_count: int
    claimed_fen: int
    refunded_fen: int
    escrow_account_id: int
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class ClaimRow:
    packet_id: int
    seq: int
    user_id: int
    amount_fen: int
    created_at: datetime


@dataclass(frozen=True)
class StatementRow:
    id: int
    code: str
    ref: str
    amount_fen: int  # signed: + money in, − money out
    created_at: datetime


@dataclass(frozen=True)
class GroupRow:
    id: int
    name: str
    owner_id: int
    created_at: datetime


class SqlTx(SocialTx, OpenTx, RelayTx, CampaignTx, PaymentTx):
    """One connection inside a transaction (writer) or a read snapshot (readers).

    Each area's repository methods live in its own mixin (tx_social.py, tx_open.py, tx_relay.py,
    tx_campaign.py, tx_payments.py); this class holds the core: users, tokens, ledger, friends, groups, packets.
    """

    def __init__(self, conn: Connection, is_sqlite: bool) -> None:
        self.conn = conn
        self.is_sqlite = is_sqlite

    # ------------------------------------------------------------------ meta

    def meta_get(self, key: str) -> str | None:
        return self.conn.execute(select(s.meta.c.value).where(s.meta.c.key == key)).scalar_one_or_none()

    def meta_set(self, key: str, value: str) -> None:
        done = self.conn.execute(update(s.meta).where(s.meta.c.key == key).values(value=value))
        if done.rowcount == 0:
            self.conn.execute(insert(s.meta).values(key=key, value=value))

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

    def users_by_ids(self, ids: Sequence[int]) -> dict[int, UserRow]:
        if not ids:
            return {}
        rows = self.conn.execute(select(s.users).where(s.users.c.id.in_(set(ids))))
        return {r.id: UserRow(r.id, r.username, r.display_name, r.password_hash) for r in rows}

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

    def delete_expired_tokens(self, now: datetime) -> int:
        return self.conn.execute(delete(s.tokens).where(s.tokens.c.expires_at <= now)).rowcount

    # ------------------------------------------------------------------ accounts and transfers

    def ensure_world_account(self) -> None:
        found = self.conn.execute(select(s.accounts.c.id).where(s.accounts.c.id == WORLD_ACCOUNT_ID)).first()
        if found is None:
            self.conn.execute(
                insert(s.accounts).values(id=WORLD_ACCOUNT_ID, kind=AccountKind.WORLD.value, owner_id=None)
            )

    def wallet_account_id(self, user_id: int) -> int:
        acc = self.conn.execute(
            select(s.accounts.c.id).where(
                s.accounts.c.kind == AccountKind.WALLET.value, s.accounts.c.owner_id == user_id
            )
        ).scalar_one_or_none()
        if acc is None:
            raise NotFound("No such wallet.", code="account_not_found")
        return int(acc)

    def balance_fen(self, user_id: int) -> int:
        bal = self.conn.execute(
            select(s.accounts.c.balance_fen).where(
                s.accounts.c.kind == AccountKind.WALLET.value, s.accounts.c.owner_id == user_id
            )
        ).scalar_one_or_none()
        if bal is None:
            raise NotFound("No such wallet.", code="account_not_found")
        return int(bal)

    def transfer(
        self, debit_id: int, credit_id: int, amount_fen: int, code: TransferCode, ref: str, now: datetime
    ) -> int:
        """Book one immutable transfer and move the cached balances; refuse if a wallet would go below 0."""
        assert amount_fen > 0, "transfers move a positive amount"
        self._debit(debit_id, amount_fen)
        self.conn.execute(
            update(s.accounts)
            .where(s.accounts.c.id == credit_id)
            .values(balance_fen=s.accounts.c.balance_fen + amount_fen)
        )
        return self._book(debit_id, credit_id, amount_fen, code, ref, now)

    def pay_to_wallet(
        self, debit_id: int, user_id: int, amount_fen: int, code: TransferCode, ref: str, now: datetime
    ) -> int:
        """`transfer` into a user's wallet, found by its owner in the same statement that credits it (the hot path
        of 拆: one statement fewer than looking the wallet up first)."""
        assert amount_fen > 0, "transfers move a positive amount"
        self._debit(debit_id, amount_fen)
        a = s.accounts
        credit_id = self.conn.execute(
            update(a)
            .where(a.c.kind == AccountKind.WALLET.value, a.c.owner_id == user_id)
            .values(balance_fen=a.c.balance_fen + amount_fen)
            .returning(a.c.id)
        ).scalar_one_or_none()
        if credit_id is None:
            raise NotFound("No such wallet.", code="account_not_found")
        return self._book(debit_id, int(credit_id), amount_fen, code, ref, now)

    def _debit(self, debit_id: int, amount_fen: int) -> None:
        if debit_id != WORLD_ACCOUNT_ID:
            taken = self.conn.execute(
                update(s.accounts)
                .where(s.accounts.c.id == debit_id, s.accounts.c.balance_fen >= amount_fen)
                .values(balance_fen=s.accounts.c.balance_fen - amount_fen)
            )
            if taken.rowcount != 1:
                raise errors.insufficient_funds()
        else:
            self.conn.execute(
                update(s.accounts)
                .where(s.accounts.c.id == debit_id)
                .values(balance_fen=s.accounts.c.balance_fen - amount_fen)
            )

    def _book(self, debit_id: int, credit_id: int, amount_fen: int, code: TransferCode, ref: str, now: datetime) -> int:
        try:
            tid = self.conn.execute(
                insert(s.transfers)
                .values(
                    debit_account_id=debit_id,
                    credit_account_id=credit_id,
                    amount_fen=amount_fen,
                    code=code.value,
                    ref=ref,
                    created_at=now,
                )
                .returning(s.transfers.c.id)
            ).scalar_one()
        except IntegrityError as exc:
            raise Conflict(f"{code.value} {ref} is already booked.", code="already_booked") from exc
        return int(tid)

    def statement(self, user_id: int, before_id: int | None, limit: int) -> list[StatementRow]:
        """Transfers touching the user's wallet, newest first, keyset-paginated by transfer id."""
        acc = self.wallet_account_id(user_id)
        t = s.transfers
        signed = case((t.c.credit_account_id == acc, t.c.amount_fen), else_=-t.c.amount_fen)
        q = (
            select(t.c.id, t.c.code, t.c.ref, signed.label("amount"), t.c.created_at)
            .where(or_(t.c.debit_account_id == acc, t.c.credit_account_id == acc))
            .order_by(t.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            q = q.where(t.c.id < before_id)
        return [
            StatementRow(r.id, r.code, r.ref, int(r.amount), utc(r.created_at)) for r in self.conn.execute(q)
        ]

    # ------------------------------------------------------------------ friends

    def friendship(self, a: int, b: int) -> tuple[int, int, str] | None:
        """(requester, addressee, status) of the friendship between a and b, either direction."""
        f = s.friendships
        row = self.conn.execute(
            select(f.c.requester_id, f.c.addressee_id, f.c.status).where(
                or_(
                    and_(f.c.requester_id == a, f.c.addressee_id == b),
                    and_(f.c.requester_id == b, f.c.addressee_id == a),
                )
            )
        ).first()
        return None if row is None else (row.requester_id, row.addressee_id, row.status)

    def are_friends(self, a: int, b: int) -> bool:
        found = self.friendship(a, b)
        return found is not None and found[2] == "accepted"

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
        done = self.conn.execute(
            update(f)
            .where(f.c.requester_id == requester, f.c.addressee_id == addressee, f.c.status == "pending")
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
        row = self.conn.execute(select(s.groups).where(s.groups.c.id == group_id)).first()
        return None if row is None else GroupRow(row.id, row.name, row.owner_id, utc(row.created_at))

    def lock_group(self, group_id: int) -> GroupRow | None:
        """The group, its row locked until commit on PostgreSQL (SQLite's writer lock already serialises writers).

        Adding a member counts then inserts; the lock makes that one step across API processes.
        """
        row = self.conn.execute(select(s.groups).where(s.groups.c.id == group_id).with_for_update()).first()
        return None if row is None else GroupRow(row.id, row.name, row.owner_id, utc(row.created_at))

    def add_member(self, group_id: int, user_id: int, now: datetime) -> None:
        try:
            self.conn.execute(
                insert(s.group_members).values(group_id=group_id, user_id=user_id, joined_at=now)
            )
        except IntegrityError as exc:
            raise Conflict("Already a member of this group.", code="already_member") from exc

    def remove_member(self, group_id: int, user_id: int) -> bool:
        gm = s.group_members
        return (
            self.conn.execute(delete(gm).where(gm.c.group_id == group_id, gm.c.user_id == user_id)).rowcount
            == 1
        )

    def is_member(self, group_id: int, user_id: int) -> bool:
        gm = s.group_members
        return (
            self.conn.execute(
                select(gm.c.user_id).where(gm.c.group_id == group_id, gm.c.user_id == user_id)
            ).first()
            is not None
        )

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

    # ------------------------------------------------------------------ packets

    def create_packet(
        self,
        *,
        kind: PacketKind,
        how: Split,
        sender_id: int,
        group_id: int | None,
        recipient_id: int | None,
        total_fen: int,
        shares: list[int],
        greeting: str,
        now: datetime,
        expires_at: datetime,
        secret_hash: bytes | None = None,
        link_id: int | None = None,
        extra: dict[str, object] | None = None,
    ) -> int:
        """Insert the packet, its secret shares and its escrow account, and fund the escrow from the sender."""
        pid = int(
            self.conn.execute(
                insert(s.packets)
                .values(
                    kind=kind.value,
                    split=how.value,
                    sender_id=sender_id,
                    group_id=group_id,
                    recipient_id=recipient_id,
                    total_fen=total_fen,
                    shares_count=len(shares),
                    greeting=greeting,
                    status=PacketStatus.ACTIVE.value,
                    created_at=now,
                    expires_at=expires_at,
                    secret_hash=secret_hash,
                    link_id=link_id,
                    extra=json.dumps(extra or {}, ensure_ascii=False, separators=(",", ":")),
                )
                .returning(s.packets.c.id)
            ).scalar_one()
        )
        escrow = int(
            self.conn.execute(
                insert(s.accounts)
                .values(kind=AccountKind.ESCROW.value, owner_id=pid, balance_fen=0)
                .returning(s.accounts.c.id)
            ).scalar_one()
        )
        self.conn.execute(update(s.packets).where(s.packets.c.id == pid).values(escrow_account_id=escrow))
        self.conn.execute(
            insert(s.packet_shares),
            [{"packet_id": pid, "seq": i, "amount_fen": a} for i, a in enumerate(shares)],
        )
        self.transfer(
            self.wallet_account_id(sender_id),
            escrow,
            total_fen,
            TransferCode.PACKET_FUND,
            f"packet:{pid}",
            now,
        )
        return pid

    def packet(self, packet_id: int) -> PacketRow | None:
        row = self.conn.execute(select(s.packets).where(s.packets.c.id == packet_id)).first()
        return None if row is None else _packet_row(row)

    def packets_where(
        self,
        *,
        sender_id: int | None = None,
        group_id: int | None = None,
        before_id: int | None = None,
        limit: int = 20,
    ) -> list[PacketRow]:
        q = select(s.packets).order_by(s.packets.c.id.desc()).limit(limit)
        if sender_id is not None:
            q = q.where(s.packets.c.sender_id == sender_id)
        if group_id is not None:
            q = q.where(s.packets.c.group_id == group_id)
        if before_id is not None:
            q = q.where(s.packets.c.id < before_id)
        return [_packet_row(r) for r in self.conn.execute(q)]

    def claim_of(self, packet_id: int, user_id: int) -> ClaimRow | None:
        c = s.claims
        row = self.conn.execute(select(c).where(c.c.packet_id == packet_id, c.c.user_id == user_id)).first()
        return (
            None
            if row is None
            else ClaimRow(row.packet_id, row.seq, row.user_id, row.amount_fen, utc(row.created_at))
        )

    def claims_of(self, packet_id: int) -> list[ClaimRow]:
        c = s.claims
        rows = self.conn.execute(select(c).where(c.c.packet_id == packet_id).order_by(c.c.seq))
        return [ClaimRow(r.packet_id, r.seq, r.user_id, r.amount_fen, utc(r.created_at)) for r in rows]

    def claimer_ids(self, packet_id: int) -> list[int]:
        c = s.claims
        return [r.user_id for r in self.conn.execute(select(c.c.user_id).where(c.c.packet_id == packet_id))]

    def open_share(self, packet_id: int, user_id: int, now: datetime) -> ClaimRow:
        """The atomic step of 拆: take the next share, record the claim, pay it, all or nothing.

        One statement advances the packet's counter only while the packet is active, unexpired and
        not exhausted; the unique (packet, user) index then decides "one claim per user".  Whichever of
        this and `expire_packet` updates the row first wins; the other sees the new state.
        """
        p = s.packets
        share_amount = (
            select(s.packet_shares.c.amount_fen)
            .where(s.packet_shares.c.packet_id == p.c.id, s.packet_shares.c.seq == p.c.claimed_count)
            .scalar_subquery()
        )
        taken_amount = (
            select(s.packet_shares.c.amount_fen)
            .where(s.packet_shares.c.packet_id == p.c.id, s.packet_shares.c.seq == p.c.claimed_count - 1)
            .scalar_subquery()
            .label("amount_fen")
        )
        taken = self.conn.execute(
            update(p)
            .where(
                p.c.id == packet_id,
                p.c.status == PacketStatus.ACTIVE.value,
                p.c.expires_at > now,
                p.c.claimed_count < p.c.shares_count,
            )
            .values(
                claimed_fen=p.c.claimed_fen + share_amount,
                claimed_count=p.c.claimed_count + 1,
                status=case(
                    (p.c.claimed_count + 1 >= p.c.shares_count, PacketStatus.FINISHED.value), else_=p.c.status
                ),
                finished_at=case((p.c.claimed_count + 1 >= p.c.shares_count, now), else_=p.c.finished_at),
            )
            # RETURNING sees the new counter, so the share just taken is seq = claimed_count - 1.
            .returning(p.c.claimed_count, p.c.escrow_account_id, taken_amount)
        ).first()
        if taken is None:
            row = self.packet(packet_id)
            if row is None:
                raise errors.packet_not_found()
            if row.view.status is PacketStatus.EXPIRED or now >= row.view.expires_at:
                raise errors.packet_expired()
            if self.claim_of(packet_id, user_id) is not None:
                raise errors.already_claimed()
            raise errors.packet_exhausted()
        seq, amount = int(taken.claimed_count) - 1, int(taken.amount_fen)
        try:
            self.conn.execute(
                insert(s.claims).values(
                    packet_id=packet_id, seq=seq, user_id=user_id, amount_fen=amount, created_at=now
                )
            )
        except IntegrityError as exc:
            raise errors.already_claimed() from exc
        self.pay_to_wallet(
            int(taken.escrow_account_id), user_id, amount, TransferCode.PACKET_CLAIM, f"claim:{packet_id}:{seq}", now
        )
        return ClaimRow(packet_id, seq, user_id, amount, now)

    def due_packet_ids(self, now: datetime, limit: int) -> list[int]:
        p = s.packets
        rows = self.conn.execute(
            select(p.c.id)
            .where(p.c.status == PacketStatus.ACTIVE.value, p.c.expires_at <= now)
            .order_by(p.c.expires_at)
            .limit(limit)
        )
        return [r.id for r in rows]

    def expire_packet(self, packet_id: int, now: datetime) -> int | None:
        """Mark an active, due packet expired and refund its remainder once; None if it was not due or active."""
        p = s.packets
        done = self.conn.execute(
            update(p)
            .where(p.c.id == packet_id, p.c.status == PacketStatus.ACTIVE.value, p.c.expires_at <= now)
            .values(status=PacketStatus.EXPIRED.value, refunded_fen=p.c.total_fen - p.c.claimed_fen)
            .returning(p.c.refunded_fen, p.c.escrow_account_id, p.c.sender_id)
        ).first()
        if done is None:
            return None
        refund = int(done.refunded_fen)
        if refund > 0:
            self.transfer(
                int(done.escrow_account_id),
                self.wallet_account_id(int(done.sender_id)),
                refund,
                TransferCode.PACKET_REFUND,
                f"refund:{packet_id}",
                now,
            )
        return refund

    # ------------------------------------------------------------------ idempotency

    def idempotent_reply(self, user_id: int, key: str) -> tuple[bytes, int, str] | None:
        k = s.idempotency_keys
        row = self.conn.execute(
            select(k.c.request_hash, k.c.status_code, k.c.response).where(
                k.c.user_id == user_id, k.c.key == key
            )
        ).first()
        return None if row is None else (bytes(row.request_hash), int(row.status_code), str(row.response))

    def save_idempotent_reply(
        self, user_id: int, key: str, request_hash: bytes, status_code: int, response: str, now: datetime
    ) -> None:
        try:
            self.conn.execute(
                insert(s.idempotency_keys).values(
                    user_id=user_id,
                    key=key,
                    request_hash=request_hash,
                    status_code=status_code,
                    response=response,
                    created_at=now,
                )
            )
        except IntegrityError as exc:
            # Another process is committing the same key right now; its effect wins, this one rolls back.
            raise Conflict(
                "A request with this Idempotency-Key is in progress; retry.", code="request_in_progress"
            ) from exc

    # ------------------------------------------------------------------ audit

    def audit_facts(self) -> tuple[list[Account], list[Transfer], list[PacketFacts], list[ClaimFacts]]:
        accounts = [
            Account(r.id, AccountKind(r.kind), r.owner_id, int(r.balance_fen))
            for r in self.conn.execute(select(s.accounts))
        ]
        transfers = [
            Transfer(
                r.id, r.debit_account_id, r.credit_account_id, int(r.amount_fen), TransferCode(r.code), r.ref
            )
            for r in self.conn.execute(select(s.transfers).order_by(s.transfers.c.id))
        ]
        shares: dict[int, list[int]] = {}
        for r in self.conn.execute(
            select(s.packet_shares).order_by(s.packet_shares.c.packet_id, s.packet_shares.c.seq)
        ):
            shares.setdefault(r.packet_id, []).append(int(r.amount_fen))
        packets = [
            PacketFacts(
                id=r.id,
                escrow_account_id=r.escrow_account_id,
                sender_id=r.sender_id,
                status=r.status,
                total_fen=int(r.total_fen),
                shares_count=r.shares_count,
                share_amounts=tuple(shares.get(r.id, ())),
                claimed_count=r.claimed_count,
                claimed_fen=int(r.claimed_fen),
                refunded_fen=int(r.refunded_fen),
            )
            for r in self.conn.execute(select(s.packets))
        ]
        claims = [
            ClaimFacts(r.packet_id, r.user_id, r.seq, int(r.amount_fen))
            for r in self.conn.execute(select(s.claims))
        ]
        return accounts, transfers, packets, claims


def _packet_row(r: Any) -> PacketRow:
    view = PacketView(
        id=r.id,
        kind=PacketKind(r.kind),
        sender_id=r.sender_id,
        group_id=r.group_id,
        recipient_id=r.recipient_id,
        split=Split(r.split),
        total_fen=int(r.total_fen),
        shares_count=r.shares_count,
        expires_at=utc(r.expires_at),
        status=PacketStatus(r.status),
        secret_hash=bytes(r.secret_hash) if r.secret_hash is not None else None,
        link_id=r.link_id,
        extra=json.loads(r.extra) if r.extra and r.extra != "{}" else {},
    )
    return PacketRow(
        view=view,
        greeting=r.greeting,
        claimed_count=r.claimed_count,
        claimed_fen=int(r.claimed_fen),
        refunded_fen=int(r.refunded_fen),
        escrow_account_id=int(r.escrow_account_id),
        created_at=utc(r.created_at),
        finished_at=utc(r.finished_at) if r.finished_at else None,
    )
