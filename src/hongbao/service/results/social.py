"""Replies of friends and groups (service/social.py), followers and profiles (service/social_graph.py), and
conversations and their messages (service/conversations.py)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class Person(TypedDict):
    """A user as friends and groups list them."""

    id: int
    username: str
    display_name: str


class Friendship(TypedDict):
    user_id: int  # the other user
    status: Literal["pending", "accepted", "declined", "removed", "withdrawn"]


class Friends(TypedDict):
    friends: list[Person]
    requests: list[Person]  # asked this user; waiting for their answer
    sent: list[Person]  # this user asked; withdrawable


class GroupSummary(TypedDict):
    id: int
    name: str
    owner_id: int


class Group(GroupSummary):
    members: list[Person]


class MemberRemoved(TypedDict):
    group_id: int
    removed_user_id: int


class Follow(TypedDict):
    user_id: int
    following: bool
    follower_count: int


class ProfileSummary(TypedDict):
    id: int
    username: str
    display_name: str
    verified_as: str | None  # celebrity, enterprise or None


class Profile(ProfileSummary):
    follower_count: int
    following_count: int
    followed_by_me: bool
    is_friend: bool


class Following(TypedDict):
    """The accounts a user follows, the most recently followed first."""

    following: list[ProfileSummary]


class AdminGranted(ProfileSummary):
    """The operator's `hongbao admin grant` (the CLI's only: no route answers it)."""

    is_admin: bool


class Message(TypedDict):
    id: int
    conversation_id: int
    type: str  # text, packet, claim, best_luck or system: a MessageType value
    sender_id: int | None  # None: a notice from hongbao
    sender_name: str | None
    text: str
    data: dict[str, Any]  # packet_id, counts, event name… by type, as stored
    created_at: str


class Conversation(TypedDict):
    id: int
    kind: str  # pair or group: a ConversationKind value
    group_id: int | None
    peer: Person | None  # the friend of a pair conversation
    title: str
    last_message: Message | None  # the newest this reader is shown
    unread_count: int


class ConversationPage(TypedDict):
    """The most recently active first."""

    conversations: list[Conversation]
    next_cursor: str | None


class MessagePage(TypedDict):
    """Newest first."""

    messages: list[Message]
    next_cursor: str | None


class Read(TypedDict):
    conversation_id: int
    last_read_id: int
