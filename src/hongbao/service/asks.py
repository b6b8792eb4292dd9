"""Asks (讨红包): a user asks a friend or a group for a packet; the asked fulfil, decline or ignore it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from hongbao.domain import relay as rules
from hongbao.domain.errors import NotFound, Rejected
from hongbao.domain.money import format_fen
from hongbao.domain.packets import PacketKind
from hongbao.domain.paging import check_limit
from hongbao.domain.relay import AskStatus, RelayRules
from hongbao.domain.split import Split
from hongbao.service.conversations import conversation_for_group, conversation_for_pair, post_system_notice
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, once
from hongbao.service.packets import Packets, sent_public
from hongbao.service.results.asks import Ask, AskFulfilled, AskPage, AskSettings
from hongbao.service.worlds import check_reachable

if TYPE_CHECKING:
    from datetime import datetime

    from hongbao.service.ports.conversations import NamedNotices
    from hongbao.service.ports.relay import AskFulfilling, AskReads, AskRow, AskWrites

ASKS_PAGE_MAX = 100


class Asks:
    def __init__(self, deps: Deps, packets: Packets, limits: RelayRules) -> None:
        self.d = deps
        self.packets = packets
        self.limits = limits

    # ------------------------------------------------------------------ ask

    async def ask(
        self,
        asker_id: int,
        *,
        to_user_id: int | None = None,
        group_id: int | None = None,
        amount_fen: object = None,
        message: object = None,
        idem: IdempotencyKey | None = None,
    ) -> Ask:
        """Ask a friend (`to_user_id`) or the members of a group (`group_id`) for a packet."""
        if (to_user_id is None) == (group_id is None):
            raise Rejected("Ask either a friend (to_user_id) or a group (group_id).", code="invalid_ask_target")
        if to_user_id == asker_id:
            raise Rejected("You cannot ask yourself.", code="cannot_ask_self")
        amount = None if amount_fen is None else self.d.rules.check_new(total_fen=amount_fen, shares_count=1)[0]
        text = rules.clean_message(message)
        now = self.d.clock.now()
        cap = self.limits.asks_per_day_max

        def job(tx: AskWrites) -> Ask:
            def effect() -> Ask:
                if to_user_id is not None:
                    check_reachable(tx, asker_id, to_user_id)
                    if not tx.are_friends(asker_id, to_user_id):
                        raise Rejected("You can only ask a friend.", code="not_friends")
                    if not tx.allows_asks(to_user_id):
                        raise rules.asks_disabled()
                elif group_id is not None and (tx.group(group_id) is None or not tx.is_member(group_id, asker_id)):
                    raise NotFound("No such group.", code="group_not_found")
                # Decided inside the write: the n-th ask of the day takes slot n, so the cap holds under races.
                ask_id = tx.create_ask(
                    asker_id=asker_id, to_user_id=to_user_id, group_id=group_id, amount_fen=amount,
                    message=text, day=rules.ask_day(now), cap=cap, now=now,
                    expires_at=now + timedelta(seconds=self.limits.ask_ttl_s),
                )
                if ask_id is None:
                    raise rules.asked_too_often(cap)
                row = tx.ask(ask_id)
                assert row is not None
                _notice(tx, row, "asked", asker_id, now)
                return _view(row, asker_id, now)

            return once(tx, idem, effect, now=now)

        return await self.d.store.write(job)

    # ------------------------------------------------------------------ answer

    async def fulfil(
        self,
        ask_id: int,
        user_id: int,
        *,
        amount_fen: object = None,
        greeting: object = None,
        shares_count: object = None,
        idem: IdempotencyKey | None = None,
    ) -> AskFulfilled:
        """One step: send the linked packet (personal to the asker, or lucky to the asking group) and close the ask."""
        amount = None if amount_fen is None else self.d.rules.check_new(total_fen=amount_fen, shares_count=1)[0]
        text = self.d.rules.clean_greeting(greeting)
        now = self.d.clock.now()

        def job(tx: AskFulfilling) -> AskFulfilled:
            def effect() -> AskFulfilled:
                ask = self._answerable(tx, ask_id, user_id, now)
                total = amount if amount is not None else ask.amount_fen
                if total is None:
                    raise Rejected("Name the amount: this ask has none.", code="invalid_amount")
                if ask.to_user_id is not None:
                    if not tx.are_friends(user_id, ask.asker_id):
                        raise Rejected("You can only send a personal packet to a friend.", code="not_friends")
                    total, _ = self.d.rules.check_new(total_fen=total, shares_count=1)
                    row = self.packets.create(
                        tx, kind=PacketKind.PERSONAL, how=Split.EQUAL, sender_id=user_id, recipient_id=ask.asker_id,
                        total_fen=total, shares_count=1, greeting=text, now=now, link_id=ask_id,
                    )
                else:
                    assert ask.group_id is not None
                    count = shares_count
                    if count is None:
                        rest = tx.member_count(ask.group_id) - 1
                        count = max(1, min(rest, self.d.rules.shares_count_max, total // self.d.rules.share_fen_min))
                    total, count = self.d.rules.check_new(total_fen=total, shares_count=count)
                    row = self.packets.create(
                        tx, kind=PacketKind.GROUP, how=Split.DOUBLE_MEAN, sender_id=user_id, group_id=ask.group_id,
                        total_fen=total, shares_count=count, greeting=text, now=now, link_id=ask_id,
                    )
                # The ask row decides: of two fulfils racing, one closes it; the other's packet rolls back.
                if not tx.answer_ask(ask_id, AskStatus.FULFILLED, user_id, now, packet_id=row.view.id):
                    raise rules.ask_answered()
                answered = tx.ask(ask_id)
                assert answered is not None
                _notice(tx, answered, "fulfilled", user_id, now)
                return {
                    "ask": _view(answered, user_id, now),
                    "packet": sent_public(tx, row, user_id),
                }

            return once(tx, idem, effect, now=now)

        reply = await self.d.store.write(job)
        self.d.hooks.published("packet_sent", reply["packet"])
        return reply

    async def decline(self, ask_id: int, user_id: int) -> Ask:
        """The asked friend says no; a group ask is left to its other members (decline is refused)."""
        now = self.d.clock.now()

        def job(tx: AskWrites) -> Ask:
            ask = self._answerable(tx, ask_id, user_id, now)
            if ask.group_id is not None:
                raise Rejected("A group ask cannot be declined; ignore it.", code="group_ask_not_declinable")
            if not tx.answer_ask(ask_id, AskStatus.DECLINED, user_id, now):
                raise rules.ask_answered()
            answered = tx.ask(ask_id)
            assert answered is not None
            _notice(tx, answered, "declined", user_id, now)
            return _view(answered, user_id, now)

        return await self.d.store.write(job)

    @staticmethod
    def _answerable(tx: AskReads, ask_id: int, user_id: int, now: datetime) -> AskRow:
        """The ask, if `user_id` is the one asked and it is still open: refusals in order 404 → 403 → 409 → 422."""
        ask = _visible(tx, ask_id, user_id)
        if user_id == ask.asker_id or (ask.to_user_id is not None and ask.to_user_id != user_id):
            raise rules.not_asked()
        if ask.status is not AskStatus.OPEN:
            raise rules.ask_answered()
        if now >= ask.expires_at:
            raise rules.ask_expired()
        return ask

    # ------------------------------------------------------------------ read and settings

    async def detail(self, ask_id: int, viewer_id: int) -> Ask:
        now = self.d.clock.now()
        return await self.d.store.read(lambda tx: _view(_visible(tx, ask_id, viewer_id), viewer_id, now))

    async def mine(self, user_id: int, cursor: int | None = None, limit: int = ASKS_PAGE_MAX) -> AskPage:
        """A page of asks sent and received (to you, or to a group of yours), newest first, split by direction;
        `next_cursor` (the page's oldest ask id) fetches the older ones."""
        check_limit(limit, ASKS_PAGE_MAX)
        now = self.d.clock.now()
        rows = await self.d.store.read(lambda tx: tx.asks_of(user_id, limit + 1, cursor))
        page = rows[:limit]
        views = [_view(r, user_id, now) for r in page]
        return {
            "sent": [v for v in views if v["asker_id"] == user_id],
            "received": [v for v in views if v["asker_id"] != user_id],
            "next_cursor": str(page[-1].id) if len(rows) > limit else None,
        }

    async def settings(self, user_id: int) -> AskSettings:
        allow = await self.d.store.read(lambda tx: tx.allows_asks(user_id))
        return {"allow_asks": allow}

    async def update_settings(self, user_id: int, *, allow_asks: object) -> AskSettings:
        if not isinstance(allow_asks, bool):
            raise Rejected("allow_asks must be true or false.", code="invalid_setting")

        def job(tx: AskReads) -> AskSettings:
            tx.set_allows_asks(user_id, allow_asks)
            return {"allow_asks": tx.allows_asks(user_id)}

        return await self.d.store.write(job)


def _visible(tx: AskReads, ask_id: int, viewer_id: int) -> AskRow:
    """The asker, the friend asked and the members of the asked group see an ask; nobody else knows it exists."""
    ask = tx.ask(ask_id)
    if ask is None:
        raise rules.ask_not_found()
    if viewer_id in (ask.asker_id, ask.to_user_id):
        return ask
    if ask.group_id is not None and tx.is_member(ask.group_id, viewer_id):
        return ask
    raise rules.ask_not_found()


def _view(ask: AskRow, viewer_id: int, now: datetime) -> Ask:
    expired = ask.status is AskStatus.OPEN and now >= ask.expires_at
    return {
        "id": ask.id,
        "asker_id": ask.asker_id,
        "to_user_id": ask.to_user_id,
        "group_id": ask.group_id,
        "amount_fen": ask.amount_fen,
        "message": ask.message,
        "status": "expired" if expired else ask.status.value,
        "packet_id": ask.packet_id,
        "answered_by": ask.answered_by,
        "created_at": ask.created_at.isoformat(),
        "expires_at": ask.expires_at.isoformat(),
        "answered_at": ask.answered_at.isoformat() if ask.answered_at else None,
        "direction": "sent" if ask.asker_id == viewer_id else "received",
    }


def _notice(tx: NamedNotices, ask: AskRow, step: str, by: int, now: datetime) -> None:
    """Post the ask's step in the pair's (or the group's) conversation, in the same transaction."""
    users = tx.users_by_ids([by])
    name = users[by].display_name if by in users else "?"
    amount = f" ({format_fen(ask.amount_fen)})" if ask.amount_fen else ""
    text = {
        "asked": f"{name} asks for a red packet{amount}" + (f": {ask.message}" if ask.message else ""),
        "fulfilled": f"{name} answered the ask with a red packet",
        "declined": f"{name} declined the ask",
    }[step]
    if ask.group_id is not None:
        conv = conversation_for_group(tx, ask.group_id, now=now)
    else:
        assert ask.to_user_id is not None
        conv = conversation_for_pair(tx, ask.asker_id, ask.to_user_id, now=now)
    # `data` carries what the text says, so a client can word the notice in its reader's language.
    data = {"event": "ask", "ask_id": ask.id, "step": step, "user_id": by, "amount_fen": ask.amount_fen,
            "message": ask.message}
    post_system_notice(tx, conv, text, data, now=now)
