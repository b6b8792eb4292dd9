"""What the use cases of people need from the store: users and their worlds, friendships, groups.

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

    def remove_member(self, group_id: int, user_id: int) -> bool: ...

    def is_member(self, group_id: int, user_id: int) -> bool: ...

    def member_ids(self, group_id: int) -> list[int]: ...

    def member_count(self, group_id: int) -> int: ...

    def groups_of(self, user_id: int) -> list[GroupRow]: ...


class SocialPort(People, Friends, Groups, Protocol):
    """What the friends-and-groups use cases (service/social.py) read and write in one job."""
