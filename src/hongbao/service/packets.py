"""Red-packet use cases: send (personal, group equal, group lucky), detail, expire; grab (抢) and open (拆) are
`Opener`'s (service/opening.py), where the open path reads top to bottom.

Other kinds (relay, face-to-face, password, celebrity, enterprise) reuse `create` and `open` with their
own audience rule (`register_audience`) and react to events through `deps.hooks`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hongbao.domain import errors
from hongbao.domain.errors import NotFound, Rejected
from hongbao.domain.packets import PacketKind, PacketRules, PacketStatus, PacketView
from hongbao.domain.split import Split, best_luck_index, draw_at_open, split
from hongbao.service.audience import Claimant
from hongbao.service.idempotency import IdempotencyKey, once
from hongbao.service.opening import Opener
from hongbao.service.results.packets import Claim, Packet, PacketPage
from hongbao.service.sweep import sweep
from hongbao.service.worlds import check_reachable, reachable

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import ClaimRow, PacketRow
    from hongbao.service.ports.packet_hooks import PacketExpiry
    from hongbao.service.ports.packets import PacketReads, PacketSending, PacketVisibility, SendPort
    from hongbao.service.ports.people import People, UserRow

EXPIRE_BATCH_MAX = 500
log = logging.getLogger(__name__)

def check_split(rules: PacketRules, how: object, shares_count: object, total_fen: object,
                amount_each_fen: object) -> tuple[Split, int, int]:
    """(how, total, count) under `rules`: equal takes amount_each_fen, lucky takes total_fen."""
    try:
        split_how = Split(how) if isinstance(how, str) else None
    except ValueError:
        split_how = None
    if split_how is None:
        raise Rejected("split must be equal, double_mean or line_cut.", code="invalid_split")
    if split_how is Split.EQUAL:
        if total_fen is not None:
            raise Rejected("An equal packet takes amount_each_fen, not total_fen.", code="invalid_amount")
        each, count = rules.check_new(total_fen=amount_each_fen, shares_count=shares_count)
        total, count = rules.check_new(total_fen=each * count, shares_count=count)
        return split_how, total, count
    if amount_each_fen is not None:
        raise Rejected("A lucky packet takes total_fen, not amount_each_fen.", code="invalid_amount")
    total, count = rules.check_new(total_fen=total_fen, shares_count=shares_count)
    return split_how, total, count


class Packets(Opener):
    """Send, read and expire packets; grab and open (拆) come from `Opener` (service/opening.py)."""

    # ------------------------------------------------------------------ send

    def create(
        self,
        tx: PacketSending,
        *,
        kind: PacketKind,
        how: Split,
        sender_id: int,
        total_fen: int,
        shares_count: int,
        greeting: str,
        now: datetime,
        group_id: int | None = None,
        recipient_id: int | None = None,
        secret_hash: bytes | None = None,
        link_id: int | None = None,
        extra: Mapping[str, object] | None = None,
        ttl_s: int | None = None,
    ) -> PacketRow:
        """Inside a write job: fund the escrow (and draw the shares, where they are not drawn at open), run the
        `sent` hooks; return the row.

        Amounts and counts must already be validated (PacketRules.check_new).
        """
        shares = None if draw_at_open(how) else split(total_fen, shares_count, how, self.rng)
        expires_at = self.d.rules.expires_at(now) if ttl_s is None else now + timedelta(seconds=ttl_s)
        pid = tx.create_packet(
            kind=kind, how=how, sender_id=sender_id, group_id=group_id, recipient_id=recipient_id,
            total_fen=total_fen, shares_count=shares_count, shares=shares, greeting=greeting, now=now,
            expires_at=expires_at, secret_hash=secret_hash, link_id=link_id, extra=dict(extra or {}),
        )
        row = tx.packet(pid)
        assert row is not None, "the packet this job just made"
        for hook in self.d.hooks.sent:
            hook(tx, row)
        return row

    async def send_personal(
        self,
        sender_id: int,
        recipient_id: int,
        amount_fen: object,
        greeting: object = None,
        idem: IdempotencyKey | None = None,
    ) -> Packet:
        total, _ = self.d.rules.check_new(total_fen=amount_fen, shares_count=1)
        text = self.d.rules.clean_greeting(greeting)
        if recipient_id == sender_id:
            raise Rejected("A personal packet goes to a friend, not to yourself.", code="not_friends")
        now = self.d.clock.now()

        def job(tx: SendPort) -> Packet:
            def effect() -> Packet:
                check_reachable(tx, sender_id, recipient_id)
                if not tx.are_friends(sender_id, recipient_id):
                    raise Rejected("You can only send a personal packet to a friend.", code="not_friends")
                row = self.create(
                    tx, kind=PacketKind.PERSONAL, how=Split.EQUAL, sender_id=sender_id, recipient_id=recipient_id,
                    total_fen=total, shares_count=1, greeting=text, now=now,
                )
                return sent_public(tx, row, sender_id)

            return once(tx, idem, effect, now=now)

        return await self._sent(await self.d.store.write(job))

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
        kind: PacketKind = PacketKind.GROUP,
        link_id: int | None = None,
    ) -> Packet:
        """Equal: `amount_each_fen` × `shares_count`.  Lucky (double_mean or line_cut): `total_fen` at random."""
        split_how, total, count = check_split(self.d.rules, how, shares_count, total_fen, amount_each_fen)
        text = self.d.rules.clean_greeting(greeting)
        now = self.d.clock.now()

        def job(tx: SendPort) -> Packet:
            def effect() -> Packet:
                if tx.group(group_id) is None or not tx.is_member(group_id, sender_id):
                    raise NotFound("No such group.", code="group_not_found")
                row = self.create(
                    tx, kind=kind, how=split_how, sender_id=sender_id, group_id=group_id, total_fen=total,
                    shares_count=count, greeting=text, now=now, link_id=link_id,
                )
                return sent_public(tx, row, sender_id)

            return once(tx, idem, effect, now=now)

        return await self._sent(await self.d.store.write(job))


    async def _sent(self, reply: Packet) -> Packet:
        self.d.hooks.published("packet_sent", reply)
        return reply

    # ------------------------------------------------------------------ read

    def check_visible(self, tx: PacketVisibility, view: PacketView, viewer_id: int) -> None:
        """Who may see a packet: its sender, its claimers, and its audience.

        Another user's personal packet, and a code or phrase packet, do not exist for others (404), nor does any
        packet for a user of another world than its sender's (service/worlds.py); a group packet answers
        non-members of its world with 403 not_group_member.
        """
        if viewer_id == view.sender_id or tx.claim_of(view.id, viewer_id) is not None:
            return
        if view.kind is PacketKind.PERSONAL or view.secret_hash is not None:
            if viewer_id != view.recipient_id:
                raise errors.packet_not_found()
            return
        if not reachable(tx, viewer_id, view.sender_id):
            raise errors.packet_not_found()
        self.audience(view.kind).confirm(tx, view, Claimant(viewer_id))

    async def detail(self, packet_id: int, viewer_id: int) -> Packet:
        """The packet with its claim list, for those allowed to see it."""

        def job(tx: PacketReads) -> Packet:
            row = tx.packet(packet_id)
            if row is None:
                raise errors.packet_not_found()
            self.check_visible(tx, row.view, viewer_id)
            claims = tx.claims_of(packet_id)
            users = tx.users_by_ids([row.view.sender_id, *(c.user_id for c in claims)])
            return public(row, claims=claims, users=users, viewer_id=viewer_id)

        return await self.d.store.read(job)

    async def list_for_group(
        self, group_id: int, viewer_id: int, cursor: int | None, limit: int
    ) -> PacketPage:
        def job(tx: PacketReads) -> PacketPage:
            if tx.group(group_id) is None or not tx.is_member(group_id, viewer_id):
                raise NotFound("No such group.", code="group_not_found")
            rows = tx.packets_where(group_id=group_id, before_id=cursor, limit=limit + 1)
            page = rows[:limit]
            return {
                "packets": [public(r, claims=None, users={}, viewer_id=viewer_id) for r in page],
                "next_cursor": str(page[-1].view.id) if len(rows) > limit else None,
            }

        return await self.d.store.read(job)

    # ------------------------------------------------------------------ expiry

    async def expire_due(self, now: datetime | None = None) -> int:
        """Refund the remainder of every packet past its TTL, exactly once; return how many expired."""
        at = now or self.d.clock.now()

        def expired(pid: int, refund: int | None) -> bool:
            if refund is None:
                return False
            self.d.gate.settle(pid, 0, "expired")
            self.d.hooks.published("packet_expired", {"packet_id": pid, "refunded_fen": refund})
            return True

        # Submitted together, the refunds share one group commit; each is its own savepoint.
        return await sweep(self.d.store, lambda tx: tx.due_packet_ids(at, EXPIRE_BATCH_MAX),
                           lambda pid: self._expire_job(pid, at), batch_max=EXPIRE_BATCH_MAX, done=expired,
                           log=log, failed="expiring packet %s failed: %r")

    def _expire_job(self, packet_id: int, at: datetime) -> Callable[[PacketExpiry], int | None]:
        def job(tx: PacketExpiry) -> int | None:
            refund: int | None = tx.expire_packet(packet_id, at)
            if refund is not None and self.d.hooks.expired:
                row = tx.packet(packet_id)
                assert row is not None, "the packet this job just expired"
                for hook in self.d.hooks.expired:
                    hook(tx, row, refund)
            return refund

        return job


def sent_public(tx: People, row: PacketRow, viewer_id: int) -> Packet:
    """A packet just sent, as its sender's answer: named as GET names it (sender_name), with no claims yet."""
    return public(row, claims=[], users=tx.users_by_ids([row.view.sender_id]), viewer_id=viewer_id)


def public(
    row: PacketRow, *, claims: Sequence[ClaimRow] | None, users: Mapping[int, UserRow], viewer_id: int
) -> Packet:
    """The packet as `viewer_id` sees it: named when `users` holds its sender, with its claim list when `claims`
    is given (a summary without)."""
    v: PacketView = row.view
    out: Packet = {
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
        claim_list: list[Claim] = [
            {
                "user_id": c.user_id,
                "display_name": users[c.user_id].display_name if c.user_id in users else None,
                "amount_fen": c.amount_fen,
                "claimed_at": c.created_at.isoformat(),
                "best_luck": i == best,
            }
            for i, c in enumerate(claims)
        ]
        out["claims"] = claim_list
        mine = next((c for c in claims if c.user_id == viewer_id), None)
        out["my_amount_fen"] = mine.amount_fen if mine else None
    return out
