"""Replies of friends and groups (service/social.py), followers and profiles (service/social_graph.py)."""

from __future__ import annotations

from typing import Literal, TypedDict


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
