"""Replies of friends and groups (service/social.py)."""

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
