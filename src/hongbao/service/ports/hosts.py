"""What the platform API's use cases (service/hosts.py) need from the store: host apps, their keys, the users they
map, each host's daily volume and its webhook outbox, both written in the money's own transaction.

The SQL transaction (adapters/sql/tx_hosts.py) implements these structurally; the rows it answers are defined here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypedDict


class HostFigures(TypedDict):
    """A host's dashboard figures: its users, what they sent, claimed and got back, today's volume, its webhooks."""

    users_count: int
    packets_sent_count: int
    packets_sent_fen: int
    packets_refunded_fen: int
    claims_count: int
    claimed_fen: int
    volume_today_fen: int
    webhooks_delivered_count: int
    webhooks_failed_count: int
    webhooks_pending_count: int


@dataclass(frozen=True)
class HostRow:
    id: int
    name: str
    created_at: datetime
    rate_per_min: int
    daily_volume_fen_max: int
    webhook_url: str | None
    webhook_secret_sealed: str | None


@dataclass(frozen=True)
class HostKeyRow:
    id: str
    host_id: int
    secret_hash: bytes
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class HostUserRow:
    host_id: int
    external_id: str
    user_id: int


@dataclass(frozen=True)
class OutboxRow:
    id: int
    host_id: int
    msg_id: str
    event_type: str
    stream: str
    payload: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    locked_until: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    last_error: str | None


class HostLookup(Protocol):
    def host(self, host_id: int) -> HostRow | None: ...

    def host_by_name(self, name: str) -> HostRow | None: ...


class HostRecords(HostLookup, Protocol):
    """Host apps, registered by an admin (or the operator's CLI), with their limits and API keys (stored hashed)."""

    def is_admin(self, user_id: int) -> bool: ...

    def add_host(self, name: str, rate_per_min: int, daily_volume_fen_max: int, now: datetime) -> int: ...

    def hosts_all(self) -> list[HostRow]: ...

    def set_host_limits(self, host_id: int, rate_per_min: int | None, daily_volume_fen_max: int | None) -> None: ...

    def host_figures(self, host_id: int, day: date) -> HostFigures: ...

    def add_host_key(
        self, key_id: str, host_id: int, secret_hash: bytes, scopes: Iterable[str], now: datetime
    ) -> None: ...

    def host_key(self, key_id: str) -> HostKeyRow | None: ...

    def host_keys_of(self, host_id: int) -> list[HostKeyRow]: ...

    def revoke_host_key(self, key_id: str, now: datetime) -> bool: ...


class HostUsers(Protocol):
    """A host's users, mapped to hongbao users on first use by the host's own id for them."""

    def host_user(self, host_id: int, external_id: str) -> int | None: ...

    def create_user(self, username: str, display_name: str, password_hash: str, now: datetime) -> int: ...

    def add_host_user(self, host_id: int, external_id: str, user_id: int, now: datetime) -> None: ...


class HostVolume(HostLookup, Protocol):
    """A host's daily volume, counted by one conditional UPDATE inside the write that moves the money."""

    def host_users_among(self, user_ids: Iterable[int], with_webhook: bool = False) -> list[HostUserRow]: ...

    def add_host_volume(self, host_id: int, day: date, amount_fen: int, cap_fen: int) -> bool: ...


class OutboxWrites(Protocol):
    """Webhook messages for the hosts concerned, written in the same transaction as the money they tell of."""

    def host_users_among(self, user_ids: Iterable[int], with_webhook: bool = False) -> list[HostUserRow]: ...

    def add_outbox(
        self, host_id: int, msg_id: str, event_type: str, stream: str, payload: str, now: datetime
    ) -> None: ...


class OutboxReads(HostLookup, Protocol):
    def outbox_list(self, host_id: int | None, status: str | None, limit: int) -> list[OutboxRow]: ...
