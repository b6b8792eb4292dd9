"""Red-packet use cases: send (personal, group equal, group lucky), grab (抢), open (拆), detail, expire."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hongbao.domain import errors
from hongbao.domain.errors import HongbaoError, NotFound, Rejected
from hongbao.domain.packets import PacketKind, PacketStatus, PacketView
from hongbao.domain.split import Rng, Split, best_luck_index, split
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, once

EXPIRE_BATCH_MAX = 500
log = logging.getLogger(__name__)

# Refusals the store may give at open time, and what the gate should remember of them.
_GATE_OUTCOME = {
    "already_claimed": "already_claimed",
    "packet_exhausted": "exhausted",
    "packet_expired": "expired",
}


class Packets:
    def __init__(self, deps: Deps, rng: Rng | None = None) -> None:
        self.d = deps
        self.rng = rng  # None: secrets.SystemRandom; a seeded Random only in tests and simulation

    # ------------------------------------------------------------------ send

    async def send_personal(
        self,
        sender_id: int,
        recipient_id: int,
        amount_fen: object,
        greeting: object = None,
        idem: IdempotencyKey | None = None,
    ) -> dict[str, Any]:
        total, _ = self.d.rules.check_new(total_fen=amount_fen, shares_count=1)
        text = self.d.rules.clean_greeting(greeting)
        if recipient_id == sender_id:
            raise Rejected("A personal packet goes to a friend, not to yourself.", code="not_friends")
        now = self.d.clock.now()

        def job(tx: Any) -> dict[str, Any]:
            def effect() -> dict[str, Any]:
                if not tx.user_exists(recipient_id):
                    raise NotFound("No such user.", code="user_not_found")
                if not tx.are_friends(sender_id, recipient_id):
                    raise Rejected("You can only send a personal packet to a friend.", code="not_friends")
                pid = tx.create_packet(
                    kind=PacketKind.PERSONAL,
                    how=Split.EQUAL,
                    sender_id=sender_id,
                    group_id=None,
                    recipient_id=recipient_id,
                    total_fen=total,
                    shares=[total],
                    greeting=text,
                    now=now,
                    expires_at=self.d.rules.expires_at(now),
                )
                return _public(tx.packet(pid), claims=[], users={}, viewer_id=sender_id)

            return once(tx, idem, effect, now=now)

        return await self.d.store.write(job)

    async def send_group(
        self,
        sender_id: int,
        group_id: int,
        *,
        how: object,
        shares_count: object,
        total_fen: object = None,
        amount_each_fen: object = None,
        greeting: object = None,
        idem: IdempotencyKey | None = None,
    ) -> dict[str, Any]:
        """Equal: `amount_each_fen` × `shares_count`.  Lucky (double_mean or line_cut): `total_fen` split at random."""
        try:
            split_how = Split(how) if isinstance(how, str) else None
        except ValueError:
            split_how = None
        if split_how is None:
            raise Rejected("split must be equal, double_mean or line_cut.", code="invalid_split")
        if split_how is Split.EQUAL:
            if total_fen is not None:
                raise Rejected("An equal packet takes amount_each_fen, not total_fen.", code="invalid_amount")
            each, count = self.d.rules.check_new(total_fen=amount_each_fen, shares_count=shares_count)
            total, count = self.d.rules.check_new(total_fen=each * count, shares_count=count)
        else:
            if amount_each_fen is not None:
                raise Rejected("A lucky packet takes total_fen, not amount_each_fen.", code="invalid_amount")
            total, count = self.d.rules.check_new(total_fen=total_fen, shares_count=shares_count)
        text = self.d.rules.clean_greeting(greeting)
        shares = split(total, count, split_how, self.rng)
        now = self.d.clock.now()

        def job(tx: Any) -> dict[str, Any]:
            def effect() -> dict[str, Any]:
                if tx.group(group_id) is None or not tx.is_member(group_id, sender_id):
                    raise NotFound("No such group.", code="group_not_found")
                pid = tx.create_packet(
                    kind=PacketKind.GROUP,
                    how=split_how,
                    sender_id=sender_id,
                    group_id=group_id,
                    recipient_id=None,
                    total_fen=total,
                    shares=shares,
                    greeting=text,
                    now=now,
                    expires_at=self.d.rules.expires_at(now),
                )
                return _public(tx.packet(pid), claims=[], users={}, viewer_id=sender_id)

            return once(tx, idem, effect, now=now)

        return await self.d.store.write(job)

    # ------------------------------------------------------------------ grab and open

    async def grab(self, packet_id: int, user_id: int) -> dict[str, Any]:
        """抢: the cheap question — may this user open the packet now?  Moves no money."""
        view = await self._admit(packet_id, user_id, reserve=False)
        return {"packet_id": view.id, "can_open": True}

    async def open(self, packet_id: int, user_id: int, idem: IdempotencyKey | None = None) -> dict[str, Any]:
        """拆: take a share and credit it to the user's wallet; return the amount."""
        view = await self._admit(packet_id, user_id, reserve=True)
        now = self.d.clock.now()

        def job(tx: Any) -> dict[str, Any]:
            def effect() -> dict[str, Any]:
                # The gate's answer is re-decided here, inside the atomic step.
                if view.kind is PacketKind.GROUP and not tx.is_member(view.group_id, user_id):
                    raise errors.not_group_member()
                claim = tx.open_share(packet_id, user_id, now)
                return {"packet_id": packet_id, "amount_fen": claim.amount_fen, "seq": claim.seq}

            return once(tx, idem, effect, 200, now=now)

        try:
            reply = await self.d.store.write(job)
        except HongbaoError as exc:
            self.d.gate.settle(packet_id, user_id, _GATE_OUTCOME.get(exc.code, "failed"))
            raise
        except BaseException:
            self.d.gate.settle(packet_id, user_id, "failed")
            raise
        self.d.gate.settle(packet_id, user_id, "won")
        return {"packet_id": reply["packet_id"], "amount_fen": reply["amount_fen"]}

    async def _admit(self, packet_id: int, user_id: int, *, reserve: bool) -> PacketView:
        view = await self.d.gate.admit(packet_id, user_id, self.d.clock.now(), reserve=reserve)
        return view

    # ------------------------------------------------------------------ read

    async def detail(self, packet_id: int, viewer_id: int) -> dict[str, Any]:
        """The packet with its claim list, for the sender, the recipient or members of its group."""

        def job(tx: Any) -> dict[str, Any]:
            row = tx.packet(packet_id)
            if row is None:
                raise errors.packet_not_found()
            v = row.view
            if v.kind is PacketKind.PERSONAL:
                if viewer_id not in (v.sender_id, v.recipient_id):
                    raise errors.packet_not_found()  # another's personal packet does not exist for you
            elif viewer_id != v.sender_id and not tx.is_member(v.group_id, viewer_id):
                raise errors.not_group_member()
            claims = tx.claims_of(packet_id)
            users = tx.users_by_ids([v.sender_id, *(c.user_id for c in claims)])
            return _public(row, claims=claims, users=users, viewer_id=viewer_id)

        return await self.d.store.read(job)

    async def list_for_group(
        self, group_id: int, viewer_id: int, cursor: int | None, limit: int
    ) -> dict[str, Any]:
        def job(tx: Any) -> dict[str, Any]:
            if tx.group(group_id) is None or not tx.is_member(group_id, viewer_id):
                raise NotFound("No such group.", code="group_not_found")
            rows = tx.packets_where(group_id=group_id, before_id=cursor, limit=limit + 1)
            page = rows[:limit]
            return {
                "packets": [_public(r, claims=None, users={}, viewer_id=viewer_id) for r in page],
                "next_cursor": str(page[-1].view.id) if len(rows) > limit else None,
            }

        return await self.d.store.read(job)

    # ------------------------------------------------------------------ expiry

    async def expire_due(self, now: datetime | None = None) -> int:
        """Refund the remainder of every packet past its TTL, exactly once; return how many expired."""
        at = now or self.d.clock.now()
        due = await self.d.store.read(lambda tx: tx.due_packet_ids(at, EXPIRE_BATCH_MAX))

        def expire(pid: int) -> Callable[[Any], int | None]:
            return lambda tx: tx.expire_packet(pid, at)

        # Submitted together, the refunds share one group commit; each is its own savepoint.
        refunds = await asyncio.gather(*(self.d.store.write(expire(pid)) for pid in due), return_exceptions=True)
        expired = 0
        for pid, refund in zip(due, refunds, strict=True):
            if isinstance(refund, BaseException):
                log.error("expiring packet %s failed: %r", pid, refund)
            elif refund is not None:
                expired += 1
                self.d.gate.settle(pid, 0, "expired")
        return expired


def _public(row: Any, *, claims: list[Any] | None, users: dict[int, Any], viewer_id: int) -> dict[str, Any]:
    v: PacketView = row.view
    out: dict[str, Any] = {
        "id": v.id,
        "kind": v.kind.value,
        "split": v.split.value,
        "sender_id": v.sender_id,
        "group_id": v.group_id,
        "recipient_id": v.recipient_id,
        "total_fen": v.total_fen,
        "shares_count": v.shares_count,
        "greeting": row.greeting,
        "status": v.status.value,
        "claimed_count": row.claimed_count,
        "claimed_fen": row.claimed_fen,
        "refunded_fen": row.refunded_fen,
        "created_at": row.created_at.isoformat(),
        "expires_at": v.expires_at.isoformat(),
    }
    if v.sender_id in users:
        out["sender_name"] = users[v.sender_id].display_name
    if claims is not None:
        finished = v.status is PacketStatus.FINISHED
        best = (
            best_luck_index([c.amount_fen for c in claims])
            if finished and v.split is not Split.EQUAL
            else None
        )
        out["claims"] = [
            {
                "user_id": c.user_id,
                "display_name": users[c.user_id].display_name if c.user_id in users else None,
                "amount_fen": c.amount_fen,
                "claimed_at": c.created_at.isoformat(),
                "best_luck": i == best,
            }
            for i, c in enumerate(claims)
        ]
        mine = next((c for c in claims if c.user_id == viewer_id), None)
        out["my_amount_fen"] = mine.amount_fen if mine else None
    return out
