"""Replies of host apps (service/hosts.py): a host with its keys, a key shown once, and a host's dashboard."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from hongbao.service.ports.hosts import HostFigures


class HostKey(TypedDict):
    key_id: str
    scopes: list[str]
    created_at: str
    revoked_at: str | None


class NewHostKey(TypedDict):
    """A new API key, with its secret: shown this once."""

    key_id: str
    key: str  # hk_…
    scopes: list[str]


class Host(TypedDict):
    id: int
    name: str
    created_at: str
    rate_per_min: int
    daily_volume_fen_max: int
    webhook_url: str | None
    keys: list[HostKey]


class HostCreated(Host):
    key: NewHostKey
    webhook_secret: NotRequired[str | None]  # the route adds it when it sets a webhook_url: shown this once


class HostDashboard(Host):
    figures: HostFigures
