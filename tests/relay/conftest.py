"""Fixtures of the relay tests: the HTTP client of tests/api, and service-level helpers for races."""

from __future__ import annotations

import asyncio
from typing import Any

from hongbao.bootstrap import App
from tests.api.conftest import client, new_user

__all__ = ["client", "friends", "new_user", "people", "run"]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def people(hb: App, *names: str, top_up_fen: int = 100_000) -> list[int]:
    """Register users with money in their wallets; return their ids."""

    async def make() -> list[int]:
        ids = []
        for name in names:
            uid = await hb.users.register(name, "correct horse battery", name)
            await hb.wallet.top_up(uid, top_up_fen)
            ids.append(uid)
        return ids

    result: list[int] = run(make())
    return result


def friends(hb: App, a: int, *others: int) -> None:
    async def make() -> None:
        for b in others:
            await hb.social.request_friend(a, b)
            await hb.social.accept_friend(b, a)

    run(make())
