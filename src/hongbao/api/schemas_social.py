"""Answers of the social routes: friends, groups, followers, conversations and messages."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from hongbao.api.schemas import Page, Reply, UserPublic


class FriendshipPublic(Reply):
    user_id: int = Field(description="The other user.")
    status: Literal["pending", "accepted", "declined", "removed", "withdrawn"]


class FriendsPublic(Reply):
    friends: list[UserPublic]
    requests: list[UserPublic] = Field(description="Asked you; waiting for your answer.")
    sent: list[UserPublic] = Field(description="You asked; withdrawable with DELETE /v1/friends/{id}.")


class GroupSummary(Reply):
    id: int
    name: str
    owner_id: int


class GroupPublic(GroupSummary):
    members: list[UserPublic]


class MemberRemoved(Reply):
    group_id: int
    removed_user_id: int


class FollowPublic(Reply):
    user_id: int
    following: bool
    follower_count: int


class ProfileSummary(Reply):
    id: int
    username: str
    display_name: str
    verified_as: str | None = Field(description="celebrity, enterprise or null")


class ProfilePublic(ProfileSummary):
    follower_count: int
    following_count: int
    followed_by_me: bool
    is_friend: bool


class FollowingPublic(Reply):
    following: list[ProfileSummary]


class MessagePublic(Reply):
    id: int
    conversation_id: int
    type: str = Field(description="text, packet, claim, best_luck or system")
    sender_id: int | None = Field(description="null: a notice from hongbao")
    sender_name: str | None
    text: str
    data: dict[str, Any] = Field(description="packet_id, counts, event name… by type")
    created_at: str


class ConversationPublic(Reply):
    id: int
    kind: str = Field(description="pair (a friend) or group")
    group_id: int | None
    peer: UserPublic | None = Field(description="The friend of a pair conversation.")
    title: str
    last_message: MessagePublic | None
    unread_count: int


class ConversationPage(Page):
    conversations: list[ConversationPublic]


class MessagePage(Page):
    messages: list[MessagePublic]


class ReadPublic(Reply):
    conversation_id: int
    last_read_id: int
