"""Conversations (one per pair of friends, one per group) with their messages, packet notices and live feed.

Packets appear in conversations through transactional hooks (`sent`, `opened`, `expired`): the
envelope, "B opened A's packet", best luck and the refund notice are written in the same transaction
as the money, so none is lost or doubled.  Other areas post their own notices from inside their jobs
with `post_system_notice(tx, conversation_for_pair(tx, a, b, now=now), text, data, now=now)`.

Live delivery of what is posted here is live_feed.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hongbao.domain.errors import NotFound, Rejected
from hongbao.domain.money import format_fen
from hongbao.domain.packets import PacketStatus, PacketView
from hongbao.domain.social import MESSAGES_PAGE_MAX, ConversationKind, MessageType, clean_text, pair_key
from hongbao.domain.split import Split, best_luck_index
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, once
from hongbao.service.results.social import Conversation, ConversationPage, Message, MessagePage, Person, Read
from hongbao.service.worlds import check_reachable

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import ClaimRow, PacketRow
    from hongbao.service.live_feed import LiveFeed
    from hongbao.service.ports.conversations import (
        ClaimNotices,
        ConversationPlaces,
        ConversationReads,
        ConversationRow,
        ConversationsPort,
        MessageRow,
        NamedNotices,
        Notices,
    )
    from hongbao.service.ports.people import Groups, People

log = logging.getLogger(__name__)
CONVERSATIONS_PAGE_MAX = 100
PREVIEW_LOOKBACK = 50  # messages looked back for a preview when the newest is a claim notice the reader is not shown


def conversation_not_found() -> NotFound:
    return NotFound("No such conversation.", code="conversation_not_found")


# ---------------------------------------------------------------------- for other areas, inside their jobs


def conversation_for_pair(tx: ConversationPlaces, a: int, b: int, *, now: datetime | None = None) -> int:
    """The id of the one-to-one conversation of users a and b, created on first use.

    The caller decides whether a and b may talk (they are friends, or one answers the other's ask).
    """
    low, high = pair_key(a, b)
    found = tx.pair_conversation_id(low, high)
    if found is not None:
        return found
    return tx.create_conversation(ConversationKind.PAIR.value, now or datetime.now(UTC), low=low, high=high)


def conversation_for_group(tx: ConversationPlaces, group_id: int, *, now: datetime | None = None) -> int:
    """The id of the group's conversation, created on first use."""
    found = tx.group_conversation_id(group_id)
    if found is not None:
        return found
    return tx.create_conversation(ConversationKind.GROUP.value, now or datetime.now(UTC), group_id=group_id)


def post_system_notice(
    tx: Notices, conversation_id: int, text: str, data: Mapping[str, Any] | None = None, *, now: datetime | None = None
) -> int:
    """Post a notice from hongbao itself (refund, relay owed, ask received…); return the message id.

    `data` must be JSON-serialisable; an `"event"` key also sends that live event to the participants.
    Pass `now=` from your use case's clock (wall-clock time otherwise).
    """
    row = tx.add_message(
        conversation_id, None, MessageType.SYSTEM.value, text, dict(data or {}), now or datetime.now(UTC)
    )
    return row.id


def _best_luck_due(view: PacketView) -> bool:
    """A lucky packet of several shares that has just finished names its best luck (手气最佳)."""
    return view.status is PacketStatus.FINISHED and view.split is not Split.EQUAL and view.shares_count > 1


def _place(view: PacketView) -> tuple[int | None, tuple[int, int] | None]:
    """Where a packet's bubble goes: (its group, None), or (None, the sender ↔ recipient pair in id order);
    (None, None) for the others (face-to-face, password, celebrity, enterprise packets live outside conversations)."""
    if view.group_id is not None:
        return view.group_id, None
    if view.recipient_id is not None and view.recipient_id != view.sender_id:
        return None, pair_key(view.sender_id, view.recipient_id)
    return None, None


def _packet_conversation(tx: ConversationPlaces, row: PacketRow, now: datetime) -> int | None:
    """The packet's conversation (`_place`), made if it does not exist yet."""
    group, pair = _place(row.view)
    if group is not None:
        return conversation_for_group(tx, group, now=now)
    return None if pair is None else conversation_for_pair(tx, *pair, now=now)


def _existing_packet_conversation(tx: ConversationPlaces, row: PacketRow) -> int | None:
    group, pair = _place(row.view)
    if group is not None:
        return tx.group_conversation_id(group)
    return None if pair is None else tx.pair_conversation_id(*pair)


# ---------------------------------------------------------------------- use cases


class Conversations:
    def __init__(self, deps: Deps, live: LiveFeed | None = None) -> None:
        self.d = deps
        self.live = live

    # ------------------------------------------------------------------ packet hooks (inside the money's transaction)

    def on_sent(self, tx: Notices, row: PacketRow) -> None:
        now = row.created_at
        cid = _packet_conversation(tx, row, now)
        if cid is None:
            return
        v = row.view
        data = {
            "event": "packet_sent",
            "packet_id": v.id,
            "kind": v.kind.value,
            "split": v.split.value,
            "greeting": row.greeting,
            "shares_count": v.shares_count,
            "sender_id": v.sender_id,
        }
        tx.add_message(cid, v.sender_id, MessageType.PACKET.value, row.greeting, data, now)

    def on_opened_many(self, tx: ClaimNotices, opened: list[tuple[PacketRow, ClaimRow]]) -> None:
        """"B opened A's packet" for each claim of a write batch (and best luck once a lucky packet finishes), with
        a fixed handful of statements whatever the batch: one read of the conversations of every group and pair
        concerned, one of the finished packets' claims, one of the names, one insert of all the notices."""
        if not opened:
            return
        places = {row.view.id: _place(row.view) for row, _ in opened}
        groups, pairs = tx.conversation_ids(
            {group for group, _ in places.values() if group is not None},
            {pair for _, pair in places.values() if pair is not None},
        )

        def conversation(packet_id: int) -> int | None:
            group, pair = places[packet_id]
            return groups.get(group) if group is not None else None if pair is None else pairs.get(pair)

        told = [(row, claim, cid) for row, claim in opened if (cid := conversation(row.view.id)) is not None]
        if not told:
            return
        lucky = tx.amounts_claimed(sorted({row.view.id for row, _, _ in told if _best_luck_due(row.view)}))
        best = {pid: claims[best_luck_index([amount for _, amount in claims]) or 0] for pid, claims in lucky.items()}
        names = tx.display_names({uid for row, claim, _ in told for uid in (row.view.sender_id, claim.user_id)}
                                 | {user for user, _ in best.values()})
        notices: list[tuple[int, int | None, str, str, dict[str, Any], datetime]] = []
        for row, claim, cid in told:
            v = row.view
            claimer, sender = names[claim.user_id], names[v.sender_id]
            text = (
                f"{claimer} opened their own red packet"
                if claim.user_id == v.sender_id
                else f"{claimer} opened {sender}'s red packet"
            )
            data = {
                "event": "packet_opened",
                "packet_id": v.id,
                "user_id": claim.user_id,
                "sender_id": v.sender_id,
                "claimed_count": row.claimed_count,
                "shares_count": v.shares_count,
                "status": v.status.value,
            }
            notices.append((cid, None, MessageType.CLAIM.value, text, data, claim.created_at))
            if v.id in best and _best_luck_due(v):  # the claim that finished the packet (it is FINISHED after it)
                winner, amount = best[v.id]
                notices.append((
                    cid,
                    None,
                    MessageType.BEST_LUCK.value,
                    f"{names[winner]} got the best luck (手气最佳) in {sender}'s red packet",
                    {"packet_id": v.id, "user_id": winner, "amount_fen": amount},
                    claim.created_at,
                ))
        tx.add_messages(notices)

    def on_expired(self, tx: NamedNotices, row: PacketRow, refund_fen: int) -> None:
        v = row.view
        cid = _existing_packet_conversation(tx, row)
        if cid is None:
            return
        sender = tx.users_by_ids([v.sender_id])[v.sender_id].display_name
        unclaimed = v.shares_count - row.claimed_count
        text = (
            f"{sender}'s red packet expired: {unclaimed} of {v.shares_count} share(s) unclaimed, "
            f"{format_fen(refund_fen)} refunded to {sender}"
        )
        data = {
            "event": "packet_expired",
            "packet_id": v.id,
            "sender_id": v.sender_id,
            "refunded_fen": refund_fen,
            "claimed_count": row.claimed_count,
            "shares_count": v.shares_count,
            "status": v.status.value,
        }
        post_system_notice(tx, cid, text, data, now=self.d.clock.now())

    # ------------------------------------------------------------------ opening a conversation

    async def with_friend(self, user_id: int, friend_id: int) -> Conversation:
        """The one-to-one conversation with a friend (created on first use)."""
        if friend_id == user_id:
            raise Rejected("A conversation is with a friend, not with yourself.", code="not_friends")
        now = self.d.clock.now()

        def job(tx: ConversationsPort) -> Conversation:
            check_reachable(tx, user_id, friend_id)
            if not tx.are_friends(user_id, friend_id):
                raise Rejected("You can only talk with your friends.", code="not_friends")
            cid = conversation_for_pair(tx, user_id, friend_id, now=now)
            return self._views(tx, user_id, [_row(tx, cid)])[0]

        return await self.d.store.write(job)

    async def of_group(self, user_id: int, group_id: int) -> Conversation:
        """The conversation of a group the user belongs to (created on first use)."""
        now = self.d.clock.now()

        def job(tx: ConversationsPort) -> Conversation:
            if tx.group(group_id) is None or not tx.is_member(group_id, user_id):
                raise NotFound("No such group.", code="group_not_found")
            cid = conversation_for_group(tx, group_id, now=now)
            return self._views(tx, user_id, [_row(tx, cid)])[0]

        return await self.d.store.write(job)

    # ------------------------------------------------------------------ reading

    async def of_user(
        self, user_id: int, cursor: tuple[int, int] | None = None, limit: int = CONVERSATIONS_PAGE_MAX
    ) -> ConversationPage:
        """A page of the user's conversations, the most recently active first, with last message and unread
        count; `next_cursor` (activity.id of the page's last one) fetches the less active ones."""
        if not 1 <= limit <= CONVERSATIONS_PAGE_MAX:
            raise Rejected(f"limit: 1–{CONVERSATIONS_PAGE_MAX}.", code="invalid_limit")

        def job(tx: ConversationReads) -> ConversationPage:
            rows = tx.conversations_page(user_id, cursor, limit + 1)
            page = rows[:limit]
            return {
                "conversations": self._views(tx, user_id, [conv for conv, _ in page]),
                "next_cursor": f"{page[-1][1]}.{page[-1][0].id}" if len(rows) > limit else None,
            }

        return await self.d.store.read(job)

    async def one(self, user_id: int, conversation_id: int) -> Conversation:
        """One conversation of the user, as in the list (404 for those they do not take part in)."""
        return await self.d.store.read(
            lambda tx: self._views(tx, user_id, [self._participant(tx, conversation_id, user_id)])[0]
        )

    async def messages(
        self, user_id: int, conversation_id: int, cursor: int | None = None, limit: int = 50
    ) -> MessagePage:
        """A page of messages, newest first; `next_cursor` fetches older ones."""
        if not 1 <= limit <= MESSAGES_PAGE_MAX:
            raise Rejected(f"limit: 1–{MESSAGES_PAGE_MAX}.", code="invalid_limit")

        def job(tx: ConversationReads) -> MessagePage:
            self._participant(tx, conversation_id, user_id)
            rows = tx.messages_page(conversation_id, cursor, limit + 1)
            page = rows[:limit]
            return {
                "messages": [m for m in messages_public(tx, page) if shown_to(user_id, m)],
                "next_cursor": str(page[-1].id) if len(rows) > limit else None,
            }

        return await self.d.store.read(job)

    # ------------------------------------------------------------------ writing

    async def post_text(
        self, user_id: int, conversation_id: int, text: object, idem: IdempotencyKey | None = None
    ) -> Message:
        body = clean_text(text)
        now = self.d.clock.now()

        def job(tx: ConversationsPort) -> Message:
            def effect() -> Message:
                conv = self._participant(tx, conversation_id, user_id)
                if conv.kind == ConversationKind.PAIR.value:
                    other = conv.user_high_id if conv.user_low_id == user_id else conv.user_low_id
                    assert other is not None
                    if not tx.are_friends(user_id, other):
                        raise Rejected("You are no longer friends.", code="not_friends")
                row = tx.add_message(conversation_id, user_id, MessageType.TEXT.value, body, {}, now)
                tx.mark_read(conversation_id, user_id, row.id)
                return messages_public(tx, [row])[0]

            return once(tx, idem, effect, now=now)

        reply = await self.d.store.write(job)
        if self.live is not None:
            self.live.poke()
        return reply

    async def mark_read(self, user_id: int, conversation_id: int, message_id: int | None = None) -> Read:
        """Move the read marker to `message_id` (default: the newest message)."""

        def job(tx: ConversationsPort) -> Read:
            self._participant(tx, conversation_id, user_id)
            newest = tx.messages_page(conversation_id, None, 1)
            upto = newest[0].id if newest else 0
            if message_id is not None:
                upto = min(upto, message_id)
            if upto > 0:
                tx.mark_read(conversation_id, user_id, upto)
            return {"conversation_id": conversation_id, "last_read_id": upto}

        return await self.d.store.write(job)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _participant(tx: ConversationReads, conversation_id: int, user_id: int) -> ConversationRow:
        """The conversation, if the user takes part in it now; 404 otherwise (others may not know it exists)."""
        conv = tx.conversation(conversation_id)
        if conv is None or not is_participant(tx, conv, user_id):
            raise conversation_not_found()
        return conv

    @staticmethod
    def _views(tx: ConversationReads, user_id: int, convs: list[ConversationRow]) -> list[Conversation]:
        ids = [c.id for c in convs]
        last = tx.last_messages(ids)
        unread = tx.unread_counts(user_id, ids)
        peers = tx.users_by_ids([_peer(c, user_id) for c in convs if c.kind == ConversationKind.PAIR.value])
        groups: dict[int | None, Any] = {c.group_id: tx.group(c.group_id) for c in convs if c.group_id is not None}
        lasts = messages_public(tx, list(last.values()))
        last_view: dict[int, Message | None] = {m["conversation_id"]: m for m in lasts}
        active = {m["conversation_id"]: m["id"] for m in lasts}  # the order: activity, shown to the reader or not
        for cid, m in list(last_view.items()):
            if m is not None and not shown_to(user_id, m):  # another's claim notice: preview what this reader sees
                recent = messages_public(tx, tx.messages_page(cid, None, PREVIEW_LOOKBACK))
                last_view[cid] = next((x for x in recent if shown_to(user_id, x)), None)
        out: list[Conversation] = []
        for c in convs:
            # Keys in the order they always had: id, kind, group_id, peer, title, last_message, unread_count.
            peer_view: Person | None = None
            if c.kind == ConversationKind.PAIR.value:
                peer = peers[_peer(c, user_id)]
                peer_view = {"id": peer.id, "username": peer.username, "display_name": peer.display_name}
                title = peer.display_name
            else:
                group = groups.get(c.group_id)
                title = group.name if group is not None else ""
            out.append({
                "id": c.id, "kind": c.kind, "group_id": c.group_id, "peer": peer_view, "title": title,
                "last_message": last_view.get(c.id), "unread_count": unread.get(c.id, 0),
            })  # fmt: skip
        out.sort(key=lambda v: (active.get(v["id"], 0), v["id"]), reverse=True)
        return out


def is_participant(tx: Groups, conv: ConversationRow, user_id: int) -> bool:
    if conv.kind == ConversationKind.PAIR.value:
        return user_id in (conv.user_low_id, conv.user_high_id)
    return conv.group_id is not None and tx.is_member(conv.group_id, user_id)


def _peer(conv: ConversationRow, user_id: int) -> int:
    other = conv.user_high_id if conv.user_low_id == user_id else conv.user_low_id
    assert other is not None
    return other


def _row(tx: ConversationReads, conversation_id: int) -> ConversationRow:
    conv = tx.conversation(conversation_id)
    assert conv is not None
    return conv


def shown_to(viewer_id: int, message: Message) -> bool:
    """A claim notice ("Carol opened Alice's red packet") is shown, as in WeChat, only to the two it involves:
    the claimer and the packet's sender. Every other message is shown to every participant."""
    if message["type"] != MessageType.CLAIM.value:
        return True
    data = message["data"] or {}
    return viewer_id in (data.get("user_id"), data.get("sender_id"))


def messages_public(tx: People, rows: list[MessageRow]) -> list[Message]:
    names = tx.users_by_ids([r.sender_id for r in rows if r.sender_id is not None])
    return [message_public(r, names[r.sender_id].display_name if r.sender_id in names else None) for r in rows]


def message_public(row: MessageRow, sender_name: str | None) -> Message:
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "type": row.type,
        "sender_id": row.sender_id,
        "sender_name": sender_name,
        "text": row.body,
        "data": row.data,
        "created_at": row.created_at.isoformat(),
    }
