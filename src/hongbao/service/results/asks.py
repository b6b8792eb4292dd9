"""Replies of asks (讨红包, service/asks.py): an ask as its asker or the asked see it, its fulfilment, a page of
them split by direction, and the "allow friends to ask me" setting."""

from __future__ import annotations

from typing import Literal, TypedDict

from hongbao.service.results.packets import Packet


class Ask(TypedDict):
    id: int
    asker_id: int
    to_user_id: int | None  # a friend asked, or
    group_id: int | None  # a group asked
    amount_fen: int | None
    message: str
    status: str  # open, fulfilled, declined (an AskStatus value) or expired (open past its deadline)
    packet_id: int | None
    answered_by: int | None
    created_at: str
    expires_at: str
    answered_at: str | None
    direction: Literal["sent", "received"]  # as the viewer sees it


class AskFulfilled(TypedDict):
    ask: Ask
    packet: Packet  # the packet that answered it, as its sender's answer shows it


class AskPage(TypedDict):
    """Asks sent and received, newest first."""

    sent: list[Ask]
    received: list[Ask]
    next_cursor: str | None


class AskSettings(TypedDict):
    allow_asks: bool
