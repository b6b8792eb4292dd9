"""What the use cases of people need from the store: users and their worlds, friendships, groups, profiles and
followers.

The SQL transaction (adapters/sql/tx_people.py, tx_social.py, tx_hosts.py) implements these structurally; the rows
it answers are defined here, beside the questions, so the use cases never import the adapter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    password_hash: str


@dataclass(frozen=True)
class MeRow:
    """A user as they see themselves: who, and what they may do beyond their own money (GET /v1/me)."""

    id: int
    username: str
    display_name: str
    verified_as: str | None
    is_admin: bool
    merchant: bool


@dataclass(frozen=True)
class ProfileRow:
    id: int
    username: str
    display_name: str
    verified_as: str | None
    is_admin: bool


@dataclass(frozen=True)
class GroupRow:
    id: int
    name: str
    owner_id: int
    created_at: datetime


class People(Protocol):
    """Users by id, and the world each lives in (a host app's users are apart: service/worlds.py)."""

    def users_by_ids(self, ids: Sequence[int]) -> dict[int, UserRow]: ...

    def worlds_of(self, user_ids: Iterable[int]) -> dict[int, int]: ...


class Friends(Protocol):
    """Friend requests and friendships; a friendship is one row, (requester, addressee, status)."""

    def friendship(self, a: int, b: int) -> tuple[int, int, str] | None: ...

    def are_friends(self, a: int, b: int) -> bool: ...

    def friends_among(self, user_id: int, others: Sequence[int]) -> set[int]: ...

    def add_friend_request(self, requester: int, addressee: int, now: datetime) -> None: ...

    def accept_friend_request(self, requester: int, addressee: int) -> bool: ...

    def decline_friend_request(self, requester: int, addressee: int) -> bool: ...

    def remove_friendship(self, a: int, b: int) -> bool: ...

    def friends_of(self, user_id: int) -> list[int]: ...

    def pending_requests_to(self, user_id: int) -> list[int]: ...

    def pending_requests_from(self, user_id: int) -> list[int]: ...


class Groups(Protocol):
    """Groups and their members; `lock_group` holds the group's row until commit (PostgreSQL)."""

    def create_group(self, name: str, owner_id: int, now: datetime) -> int: ...

    def group(self, group_id: int) -> GroupRow | None: ...

    def lock_group(self, group_id: int) -> GroupRow | None: ...

    def add_member(self, group_id: int, user_id: int, now: datetime) -> None: ...

    def add_members(self, group_id: int, user_ids: Sequence[int], now: datetime) -> None: ...

    def remove_member(self, group_id: int, user_id: int) -> bool: ...

    def is_member(self, group_id: int, user_id: int) -> bool: ...

    def member_ids(self, group_id: int) -> list[int]: ...

    def member_count(self, group_id: int) -> int: ...

    def groups_of(self, user_id: int) -> list[GroupRow]: ...


class AudienceReads(Protocol):
    """Who is in a packet's audience, decided again inside the atomic step: a group's members, a star's followers;
    `*_among` answer for a whole write batch's openers with one read (service/audience.py `DecidedTogether`)."""

    def is_member(self, group_id: int, user_id: int) -> bool: ...

    def members_among(self, group_id: int, user_ids: list[int]) -> set[int]: ...

    def followers_among(self, followee_id: int, user_ids: list[int]) -> set[int]: ...


class SocialPort(People, Friends, Groups, Protocol):
    """What the friends-and-groups use cases (service/social.py) read and write in one job."""


class Profiles(Protocol):
    """Public profiles, admins and verified accounts (celebrity 明星, enterprise 企业)."""

    def user_by_username(self, username: str) -> UserRow | None: ...

    def profile(self, user_id: int) -> ProfileRow | None: ...

    def is_admin(self, user_id: int) -> bool: ...

    def set_admin(self, user_id: int, is_admin: bool) -> bool: ...

    def set_verified_as(self, user_id: int, verified_as: str | None) -> bool: ...


class Follows(Protocol):
    """Who follows whom (a celebrity's packets and a company's campaigns go to followers)."""

    def follow(self, follower_id: int, followee_id: int, now: datetime) -> bool: ...

    def unfollow(self, follower_id: int, followee_id: int) -> bool: ...

    def is_follower(self, follower_id: int, followee_id: int) -> bool: ...

    def follower_count(self, followee_id: int) -> int: ...

    def followee_count(self, follower_id: int) -> int: ...

    def followee_ids(self, follower_id: int, limit: int = ...) -> list[int]: ...


class SocialGraphPort(People, Friends, Profiles, Follows, Protocol):
    """What the social graph's use cases (service/social_graph.py) read and write in one job."""
