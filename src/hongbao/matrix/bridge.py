"""`hongbao matrix-bridge`: a bot that rooms invite; members send red packets with `/hongbao 8.88 5 恭喜发财` and
grab them by reacting to the bot's envelope message.

The bridge is a host app like any other: it holds a host key and acts for each Matrix user by their Matrix id
(`X-On-Behalf-Of: @alice:example.org`), so nobody has a hongbao password.  A room is a hongbao group owned by the
room's own host user (`room:<room id>`), befriended with each member who sends or grabs; a packet's idempotency
key is the Matrix event that asked for it, so an event seen twice sends or opens once.  The bot posts each claim,
the claim list with best luck when the packet is finished, and the refund when it expires (it looks at its live
packets every `poll_s`), with a link to the web app for the envelope animation.  Personal packets and transfers
(`/hongbao @bob:server 5.20`, `/hongbao transfer @bob:server 10.00`) reach their recipient in a direct chat with the
bot, where a reaction opens the packet, or accepts (✅) or returns (↩️) the transfer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from nio import (  # type: ignore[import-untyped]
    AsyncClient as MatrixClient,
)
from nio import (
    InviteMemberEvent,
    JoinedMembersResponse,
    LoginResponse,
    MatrixRoom,
    ReactionEvent,
    RoomCreateResponse,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
)

from hongbao.client import ApiError, AsyncClient, ops
from hongbao.matrix import commands as c

log = logging.getLogger(__name__)


@dataclass
class Live:
    """A packet the bot announced and still watches."""

    packet_id: int
    room_id: str
    sender: str
    shares_count: int
    closed: bool = False


@dataclass
class PendingTransfer:
    """A transfer the bot told its recipient of, in their direct chat."""

    transfer_id: int
    room_id: str
    sender: str
    recipient: str


ACCEPT_KEYS = frozenset({"✅", "👍", "✔️"})
RETURN_KEYS = frozenset({"↩️", "❌", "👎"})


@dataclass
class BridgeConfig:
    homeserver: str
    user_id: str
    password: str
    api_url: str
    host_key: str
    web_url: str | None = None  # links to the web app; default: api_url
    poll_s: float = 2.0


@dataclass
class Bridge:
    config: BridgeConfig
    matrix: MatrixClient = field(init=False)
    hongbao: AsyncClient = field(init=False)
    envelopes: dict[str, Live] = field(default_factory=dict)  # the bot's envelope event id → packet
    groups: dict[str, int] = field(default_factory=dict)  # room id → hongbao group id
    befriended: set[tuple[str, str]] = field(default_factory=set)
    transfers: dict[str, PendingTransfer] = field(default_factory=dict)  # the bot's notice event id → transfer
    direct: dict[str, str] = field(default_factory=dict)  # Matrix user → the bot's direct chat with them

    def __post_init__(self) -> None:
        self.matrix = MatrixClient(self.config.homeserver, self.config.user_id)
        self.hongbao = AsyncClient(self.config.api_url, host_key=self.config.host_key)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Log in, skip the history, then answer until `stop` is set (or for ever)."""
        login = await self.matrix.login(self.config.password)
        if not isinstance(login, LoginResponse):
            raise RuntimeError(f"Matrix login failed: {login}")
        first = await self.matrix.sync(timeout=0, full_state=True)
        if isinstance(first, SyncResponse):  # invited before the bot started
            for room_id in list(first.rooms.invite):
                await self.matrix.join(room_id)
        self.matrix.add_event_callback(_logged(self._on_invite), InviteMemberEvent)
        self.matrix.add_event_callback(_logged(self._on_message), RoomMessageText)
        self.matrix.add_event_callback(_logged(self._on_reaction), ReactionEvent)
        syncing = asyncio.create_task(self.matrix.sync_forever(timeout=3000))
        watching = asyncio.create_task(self._watch())
        try:
            if stop is None:
                await asyncio.gather(syncing, watching)
            else:
                await stop.wait()
        finally:
            for task in (syncing, watching):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.matrix.close()
            await self.hongbao.aclose()

    # ------------------------------------------------------------------ Matrix events

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == self.config.user_id and event.membership == "invite":
            await self.matrix.join(room.room_id)

    async def _on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.config.user_id:
            return
        command = c.parse(event.body)
        if command is None:
            return
        try:
            await self._run(room.room_id, event.sender, event.event_id, command)
        except ApiError as exc:
            await self.say(room.room_id, f"{event.sender}: {exc.detail} ({exc.code})")

    async def _on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        if event.sender == self.config.user_id:
            return
        pending = self.transfers.get(event.reacts_to)
        if pending is not None:
            await self._settle_transfer(pending, event)
            return
        live = self.envelopes.get(event.reacts_to)
        if live is None:
            return
        user = self.hongbao.as_user(event.sender)
        try:
            await self._befriend_room(room.room_id, event.sender)
            opened = await user.open_packet(live.packet_id, idempotency_key=f"mx-{event.event_id}")
        except ApiError as exc:
            await self.say(room.room_id, f"{event.sender}: {exc.detail} ({exc.code})")
            return
        packet = await self.hongbao.as_user(live.sender).packet(live.packet_id)
        await self.say(room.room_id, f"🧧 {event.sender} opened {c.yuan(opened.amount_fen)} "
                                     f"({packet.claimed_count}/{packet.shares_count})")
        if packet.status == "finished":
            await self._finished(live)

    # ------------------------------------------------------------------ commands

    async def _run(self, room_id: str, sender: str, event_id: str, command: c.Command) -> None:
        user = self.hongbao.as_user(sender)
        if isinstance(command, c.Help):
            await self.say(room_id, (command.reason + "\n" if command.reason else "") + c.HELP)
        elif isinstance(command, c.Balance):
            await self.say(room_id, f"{sender}: {c.yuan((await user.wallet()).balance_fen)}")
        elif isinstance(command, c.TopUp):
            paid = await user.top_up(command.amount_fen, idempotency_key=f"mx-{event_id}")
            await self.say(room_id, f"{sender}: topped up {c.yuan(paid.amount_fen)}, balance "
                                    f"{c.yuan(paid.balance_fen)}")
        elif isinstance(command, c.SendGroup):
            group_id = await self._group(room_id, sender)
            packet = await user.send_group(group_id, command.shares_count, total_fen=command.total_fen,
                                           split=command.split, greeting=command.greeting,
                                           idempotency_key=f"mx-{event_id}")
            kind = "lucky" if command.split == "double_mean" else "equal"
            text = (f"🧧 {sender} sent a {kind} red packet: {c.yuan(packet.total_fen)} in {packet.shares_count} "
                    f"shares — {packet.greeting or '恭喜发财'}. React to this message to grab it. "
                    f"{self._link(packet.id)}")
            envelope = await self.say(room_id, text)
            if envelope is not None:
                self.envelopes[envelope] = Live(packet.id, room_id, sender, packet.shares_count)
        elif isinstance(command, c.SendPersonal):
            recipient_id = await self._befriend(user, sender, self.hongbao.as_user(command.recipient),
                                                command.recipient)
            packet = await user.send_personal(recipient_id, command.amount_fen, command.greeting,
                                              idempotency_key=f"mx-{event_id}")
            dm, envelope = await self._tell(room_id, sender, command.recipient, "has it",
                                            f"🧧 {sender} sent you {c.yuan(packet.total_fen)}: "
                                            f"{packet.greeting or '恭喜发财'}. React to this message to open it. "
                                            f"{self._link(packet.id)}")
            if envelope is not None:
                self.envelopes[envelope] = Live(packet.id, dm, sender, 1)
        elif isinstance(command, c.SendTransfer):
            recipient_id = await self._befriend(user, sender, self.hongbao.as_user(command.recipient),
                                                command.recipient)
            sent = await user.send_transfer(recipient_id, command.amount_fen, command.note,
                                            idempotency_key=f"mx-{event_id}")
            dm, notice = await self._tell(room_id, sender, command.recipient, "is asked to accept a transfer",
                                          f"转账 {sender} sent you {c.yuan(sent.amount_fen)}"
                                          f"{': ' + sent.note if sent.note else ''}. React ✅ to accept or ↩️ to "
                                          f"return it (refunded by itself if left).")
            if notice is not None:
                self.transfers[notice] = PendingTransfer(sent.id, dm, sender, command.recipient)

    async def _tell(self, room_id: str, sender: str, recipient: str, what: str, text: str) -> tuple[str, str | None]:
        """Post `text` in the bot's direct chat with `recipient`, and say so in the room; (the chat, the message)."""
        dm = await self._direct(recipient)
        posted = await self.say(dm, text)
        await self.say(room_id, f"{sender}: sent; {recipient} {what} in a direct chat")
        return dm, posted

    async def _settle_transfer(self, pending: PendingTransfer, event: ReactionEvent) -> None:
        if event.key not in ACCEPT_KEYS | RETURN_KEYS:
            return
        user = self.hongbao.as_user(event.sender)
        key = f"mx-{event.event_id}"
        try:
            if event.key in ACCEPT_KEYS:
                done = await user.accept_transfer(pending.transfer_id, idempotency_key=key)
            else:
                done = await user.return_transfer(pending.transfer_id, idempotency_key=key)
        except ApiError as exc:
            await self.say(pending.room_id, f"{event.sender}: {exc.detail} ({exc.code})")
            return
        self.transfers.pop(event.reacts_to, None)
        await self.say(pending.room_id, f"转账 {c.yuan(done.amount_fen)} from {pending.sender}: {done.status}")

    async def _direct(self, mxid: str) -> str:
        """The bot's direct chat with `mxid`, made (and they invited) on first use."""
        known = self.direct.get(mxid)
        if known is not None:
            return known
        made = await self.matrix.room_create(is_direct=True, invite=[mxid], name="hongbao 红包")
        if not isinstance(made, RoomCreateResponse):
            raise RuntimeError(f"could not open a direct chat with {mxid}: {made}")
        self.direct[mxid] = made.room_id
        return str(made.room_id)

    async def _group(self, room_id: str, sender: str) -> int:
        """The room's hongbao group, its members being the room's joined members (the bot aside)."""
        owner = self.hongbao.as_user(f"room:{room_id}")
        answer = await self.matrix.joined_members(room_id)
        members = [m.user_id for m in answer.members] if isinstance(answer, JoinedMembersResponse) else [sender]
        ids = {}
        for mxid in members:
            if mxid != self.config.user_id:
                ids[mxid] = await self._befriend_room(room_id, mxid)
        group_id = self.groups.get(room_id)
        if group_id is None:
            made = await owner.create_group(f"Matrix {room_id}"[:64], sorted(ids.values()))
            group_id = self.groups[room_id] = made.id
        else:
            detail = await owner.call(ops.request("GET", f"/v1/groups/{group_id}"))
            have = {member["id"] for member in detail["members"]}
            for user_id in sorted(set(ids.values()) - have):
                with contextlib.suppress(ApiError):
                    await owner.add_member(group_id, user_id)
        return group_id

    async def _befriend_room(self, room_id: str, mxid: str) -> int:
        """The member's hongbao id, befriended with the room's owner (so the owner can add them to the group)."""
        owner = self.hongbao.as_user(f"room:{room_id}")
        member = self.hongbao.as_user(mxid)
        return await self._befriend(owner, f"room:{room_id}", member, mxid)

    async def _befriend(self, a: AsyncClient, a_name: str, b: AsyncClient, b_name: str) -> int:
        """Make the two friends (the host acts for both); return b's hongbao id."""
        b_id = (await b.wallet()).user_id
        if (a_name, b_name) in self.befriended:
            return b_id
        a_id = (await a.wallet()).user_id
        with contextlib.suppress(ApiError):  # already friends, or already asked
            await a.request_friend(b_id)
        with contextlib.suppress(ApiError):
            await b.accept_friend(a_id)
        self.befriended.add((a_name, b_name))
        return b_id

    # ------------------------------------------------------------------ finished and expired packets

    async def _finished(self, live: Live) -> None:
        packet = await self.hongbao.as_user(live.sender).packet(live.packet_id)
        await self._close(live, f"🧧 packet {packet.id} is finished: " + await self._claims(live, packet))

    async def _watch(self) -> None:
        """Look at the live packets every poll_s: a packet past its TTL tells the room its refund."""
        while True:
            await asyncio.sleep(self.config.poll_s)
            for live in list(self.envelopes.values()):
                try:
                    packet = await self.hongbao.as_user(live.sender).packet(live.packet_id)
                except ApiError:
                    continue
                if packet.status == "expired":
                    await self._close(live, f"🧧 packet {packet.id} expired: {c.yuan(packet.refunded_fen)} refunded "
                                            f"to {live.sender} ({packet.claimed_count}/{packet.shares_count} opened"
                                            f"{': ' + await self._claims(live, packet) if packet.claims else ''})")
                elif packet.status == "finished":
                    await self._finished(live)

    async def _claims(self, live: Live, packet: Any) -> str:
        """Who opened how much, best luck marked (the server names it once the packet is finished)."""
        names = await self._names(live.room_id)
        return "; ".join(
            f"{names.get(claim.user_id, f'user {claim.user_id}')} {c.yuan(claim.amount_fen)}"
            f"{' 手气最佳 best luck' if claim.best_luck else ''}" for claim in packet.claims or []
        )

    async def _close(self, live: Live, text: str) -> None:
        """The packet's last word in the room, said once (the watcher and a last claim may both get here)."""
        if live.closed:
            return
        live.closed = True
        self._forget(live)
        await self.say(live.room_id, text)

    def _forget(self, live: Live) -> None:
        for envelope, other in list(self.envelopes.items()):
            if other is live:
                del self.envelopes[envelope]

    async def _names(self, room_id: str) -> dict[int, str]:
        answer = await self.matrix.joined_members(room_id)
        names: dict[int, str] = {}
        if isinstance(answer, JoinedMembersResponse):
            for m in answer.members:
                if m.user_id != self.config.user_id:
                    names[(await self.hongbao.as_user(m.user_id).wallet()).user_id] = m.user_id
        return names

    def _link(self, packet_id: int) -> str:
        """The web app, where the packet opens with the envelope animation (it has no per-packet address yet)."""
        return f"Packet {packet_id} in the web app: {(self.config.web_url or self.config.api_url).rstrip('/')}/app"

    async def say(self, room_id: str, text: str) -> str | None:
        """Post a message; its event id (None if Matrix refused it)."""
        sent = await self.matrix.room_send(room_id, "m.room.message", {"msgtype": "m.notice", "body": text})
        return sent.event_id if isinstance(sent, RoomSendResponse) else None


def _logged(handler: Callable[[MatrixRoom, Any], Awaitable[None]]) -> Callable[[MatrixRoom, Any], Awaitable[None]]:
    """A Matrix event handler whose failure is logged (the sync loop would drop it silently) and goes no further."""

    async def run(room: MatrixRoom, event: Any) -> None:
        try:
            await handler(room, event)
        except Exception:
            log.exception("handling %s in %s failed", type(event).__name__, room.room_id)

    return run
