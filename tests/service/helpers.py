"""Helpers the service tests share: registering users, making friends, running refusals, checked app fixtures."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest

from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError
from hongbao.service.reconcile import reconcile

PASSWORD = "correct horse battery"


def refusal(coro: Coroutine[Any, Any, Any]) -> str:
    """Run a use case that must be refused; return the refusal's code."""
    with pytest.raises(HongbaoError) as info:
        asyncio.run(coro)
    return info.value.code


def register(app: App, *names: str) -> list[int]:
    async def go() -> list[int]:
        return [await app.users.register(name, PASSWORD) for name in names]

    return asyncio.run(go())


def befriend(app: App, a: int, *others: int) -> None:
    async def go() -> None:
        for b in others:
            await app.social.request_friend(a, b)
            await app.social.accept_friend(b, a)

    asyncio.run(go())


def balance(app: App, user_id: int) -> int:
    return asyncio.run(app.wallet.balance(user_id))


def checked(app: App) -> Iterator[App]:
    """A fixture's body (`yield from checked(build(...))`): yields the app, then checks the ledger and closes it."""
    try:
        yield app
        assert reconcile(app.store).violations == []
    finally:
        app.close()
