"""What conversations need from the store: a pair's or a group's conversation, its messages and read markers, and
the notices other areas post in it from inside their own jobs (a packet's envelope, a refund, an ask's step).

The SQL transaction (adapters/sql/tx_social.py) implements these structurally; the rows it answers are defined here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hongbao.service.ports.people import Friends, Groups, People
from hongbao.service.ports.replies import IdempotentReplies


@dataclass(frozen=True)
class ConversationRow:
    id: int
    kind: str  # "pair" or "group"
    user_low_id: int | None
    user_high_id: int | None
    group_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class MessageRow:
    id: int
    conversation_id: int
    sender_id: int | None
    type: str
    body: str
    data: dict[str, Any]
    created_at: datetime


class ConversationPlaces(Protocol):
    """A pair's or a group's conversation by its key, made on first use (a unique key decides a race)."""

    def pair_conversation_id(self, low: int, high: int) -> int | None: ...

    def group_conversation_id(self, group_id: int) -> int | None: ...

    def create_conversation(
        self, kind: str, now: datetime, *, low: int | None = ..., high: int | None = ..., group_id: int | None = ...
    ) -> int: ...


class Notices(ConversationPlaces, Protocol):
    """A message posted in a pair's or a group's conversation from inside another area's job, so it commits (or
    rolls back) with the step it tells of."""

    def add_message(
        self, conversation_id: int, sender_id: int | None, type_: str, body: str, data: dict[str, Any], now: datetime
    ) -> MessageRow: ...


class NamedNotices(Notices, People, Protocol):
    """A notice that names who did the step ("Alice asked…", "Bob's red packet expired…")."""


class ClaimNotices(Protocol):
    """"B opened A's packet" and best luck for a whole write batch of claims, with a fixed handful of statements."""

    def conversation_ids(
        self, group_ids: Collection[int], pairs: Collection[tuple[int, int]]
    ) -> tuple[dict[int, int], dict[tuple[int, int], int]]: ...

    def amounts_claimed(self, packet_ids: Sequence[int]) -> dict[int, list[tuple[int, int]]]: ...

    def display_names(self, ids: Collection[int]) -> dict[int, str]: ...

    def add_messages(self, messages: list[tuple[int, int | None, str, str, dict[str, Any], datetime]]) -> None: ...


class ConversationReads(People, Groups, Protocol):
    """A user's conversations page by page, with the last message and the unread count of each, and a
    conversation's messages; a group's conversation is its members' (who belongs now)."""

    def conversation(self, conversation_id: int) -> ConversationRow | None: ...

    def conversations_page(
        self, user_id: int, before: tuple[int, int] | None, limit: int
    ) -> list[tuple[ConversationRow, int]]: ...

    def messages_page(self, conversation_id: int, before_id: int | None, limit: int) -> list[MessageRow]: ...

    def last_messages(self, conversation_ids: Sequence[int]) -> dict[int, MessageRow]: ...

    def unread_counts(self, user_id: int, conversation_ids: Sequence[int]) -> dict[int, int]: ...


class ConversationsPort(ConversationReads, Notices, Friends, IdempotentReplies, Protocol):
    """What the conversation use cases' writes use: a friend's or a group's conversation made on first use, a text
    posted, the read marker moved."""

    def mark_read(self, conversation_id: int, user_id: int, message_id: int) -> None: ...


class MessageFeed(People, Groups, Protocol):
    """What live delivery reads after each commit: the messages it has not sent yet and who takes part in them."""

    def conversation(self, conversation_id: int) -> ConversationRow | None: ...

    def messages_after(self, after_id: int, limit: int) -> list[MessageRow]: ...

    def newest_message_id(self) -> int: ...
