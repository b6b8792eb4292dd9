"""Fixtures of the platform API: host apps with keys, and helpers that act for a host's users over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from hongbao.bootstrap import App
from tests.api.conftest import client as client  # the TestClient fixture, re-exported


@dataclass(frozen=True)
class Host:
    """A registered host app and its first key."""

    id: int
    name: str
    key: str
    key_id: str

    def as_user(self, external_id: str, **extra: str) -> dict[str, str]:
        """Headers acting for the host's user `external_id`."""
        return {"Authorization": f"Bearer {self.key}", "X-On-Behalf-Of": external_id, **extra}

    @property
    def itself(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def new_host(hb: App) -> Callable[..., Host]:
    """Factory: `new_host("wechat", rate_per_min=..., daily_volume_fen_max=..., scopes=...)`, as the admin CLI does."""

    def make(name: str, **options: Any) -> Host:
        made = asyncio.run(hb.hosts.create(name, **options))
        return Host(made["id"], made["name"], made["key"]["key"], made["key"]["key_id"])

    return make
