"""The typed Python client of hongbao: `Client` (sync) and `AsyncClient` (asyncio), on httpx.

    from hongbao.client import Client

    with Client("http://127.0.0.1:8000", host_key="hk_…") as host:
        alice = host.as_user("wx-alice")          # the host's user, by its own id (X-On-Behalf-Of)
        alice.top_up(10_000)
        packet = alice.send_personal(recipient_id=2, amount_fen=520, greeting="新年快乐")

Every operation of the API is a method named by its operation id (`packets_open`, `wallet_top_up`, … generated
from the OpenAPI document into `_generated.py`), its reply one of the API's own response models; the calls used
most also have short names (`open_packet`, `top_up`, …).  A session token works as well (`Client(url, token=…)`,
or `Client(url).logged_in(username, password)`).  Money-moving calls (those that take an Idempotency-Key) carry
one made here (or yours, `idempotency_key=`), fixed across retries, so a retry after a timeout moves no money
twice; they, and GETs, are retried on a dropped connection, 429, 502, 503 and 504 (Retry-After honoured); other
calls are retried only when the request was never sent.  Refusals raise `ApiError` with the server's stable
`code`.  `ops.request(...)` makes a raw call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import httpx

from hongbao.client import models as m
from hongbao.client import ops
from hongbao.client._core import ApiError, Attempts, Call, Event, EventReader, Settings, result
from hongbao.client._generated import AsyncOps, SyncOps

__all__ = ["ApiError", "AsyncClient", "Call", "Client", "Event", "m", "ops"]
T = TypeVar("T")
TIMEOUT_S = 15.0
EVENTS = Call[Any]("GET", "/v1/events")


class Client(SyncOps):
    """Synchronous client.  `host_key` + `as_user(external_id)` for host apps; `token` for a hongbao account."""

    def __init__(
        self, base_url: str, *, token: str | None = None, host_key: str | None = None, on_behalf_of: str | None = None,
        retries: int = 3, backoff_s: float = 0.2, timeout_s: float = TIMEOUT_S, http: httpx.Client | None = None,
    ) -> None:
        self.s = Settings(base_url, host_key or token, on_behalf_of, retries, backoff_s)
        self._own = http is None
        self.http = http or httpx.Client(base_url=self.s.base_url, timeout=timeout_s)

    def as_user(self, external_id: str) -> Client:
        """The same host key acting for another of the host's users (sharing this client's connections)."""
        return Client(self.s.base_url, token=self.s.token, on_behalf_of=external_id, retries=self.s.retries,
                      backoff_s=self.s.backoff_s, http=self.http)

    def logged_in(self, username: str, password: str) -> Client:
        """A client acting with a fresh session of this hongbao account."""
        session = self.login(username, password)
        return Client(self.s.base_url, token=session.token, retries=self.s.retries, backoff_s=self.s.backoff_s,
                      http=self.http)

    def call(self, call: Call[T]) -> T:
        """Run one call, retrying it where that is safe; ApiError for a refusal."""
        run = Attempts(call, self.s.retries, self.s.backoff_s)
        while True:
            answer, error = None, None
            try:
                answer = self.http.request(run.call.method, run.call.path, json=run.call.json,
                                           params=run.call.params, headers=self.s.headers(run.call))
            except httpx.TransportError as exc:
                error = exc
            wait = run.after(answer, error)
            if wait is None:
                return run.result()
            time.sleep(wait)

    def events(self) -> Iterator[Event]:
        """GET /v1/events: this user's live events as they come (a generator; closing it ends the stream).
        Not retried: a client that reconnects should read what it missed from the lists."""
        timeout = httpx.Timeout(self.http.timeout.connect, read=None)
        with self.http.stream("GET", EVENTS.path, headers=self.s.headers(EVENTS), timeout=timeout) as answer:
            if answer.status_code >= 400:
                answer.read()
                result(EVENTS, answer)
            reader = EventReader()
            for line in answer.iter_lines():
                event = reader.feed(line)
                if event is not None:
                    yield event

    conversations_events = events

    def close(self) -> None:
        if self._own:
            self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- short names of the calls used most (every operation is also a method named by its operation id)

    login = SyncOps.users_login
    me = SyncOps.users_me
    find_user = SyncOps.users_find
    wallet = SyncOps.wallet_balance
    top_up = SyncOps.wallet_top_up
    withdraw = SyncOps.wallet_withdraw
    request_friend = SyncOps.social_request_friend
    accept_friend = SyncOps.social_accept_friend
    friends = SyncOps.social_friends
    add_member = SyncOps.social_add_member
    packet = SyncOps.packets_detail
    grab = SyncOps.packets_grab
    open_packet = SyncOps.packets_open
    transfer = SyncOps.transfers_detail
    accept_transfer = SyncOps.transfers_accept
    return_transfer = SyncOps.transfers_return
    host_dashboard = SyncOps.hosts_dashboard
    set_webhook = SyncOps.hosts_set_webhook
    rotate_key = SyncOps.hosts_rotate_key
    revoke_key = SyncOps.hosts_revoke_key

    def register(self, username: str, password: str, display_name: str | None = None) -> m.User:
        return self.call(ops.register(username, password, display_name))

    def statement(self, cursor: str | None = None, limit: int = 20) -> m.Statement:
        return self.call(ops.statement(cursor, limit))

    def create_group(self, name: str, member_ids: list[int] | None = None) -> m.Group:
        return self.call(ops.create_group(name, member_ids))

    def send_personal(
        self, recipient_id: int, amount_fen: int, greeting: str | None = None, *, idempotency_key: str | None = None
    ) -> m.Packet:
        return self.call(ops.send_personal(recipient_id, amount_fen, greeting, idempotency_key))

    def send_group(
        self, group_id: int, shares_count: int, *, total_fen: int | None = None, amount_each_fen: int | None = None,
        split: str = "double_mean", greeting: str | None = None, idempotency_key: str | None = None,
    ) -> m.Packet:
        return self.call(ops.send_group(
            group_id, shares_count, total_fen=total_fen, amount_each_fen=amount_each_fen, split=split,
            greeting=greeting, idempotency_key=idempotency_key,
        ))

    def group_packets(self, group_id: int, cursor: str | None = None, limit: int = 20) -> m.PacketPage:
        return self.call(ops.group_packets(group_id, cursor, limit))

    def send_transfer(
        self, to_user_id: int, amount_fen: int, note: str | None = None, *, idempotency_key: str | None = None
    ) -> m.Transfer:
        return self.call(ops.send_transfer(to_user_id, amount_fen, note, idempotency_key))

    def transfers(self, cursor: str | None = None, limit: int = 20) -> m.TransferPage:
        return self.call(ops.transfers(cursor, limit))


class AsyncClient(AsyncOps):
    """The same calls for asyncio (`await client.open_packet(7)`)."""

    def __init__(
        self, base_url: str, *, token: str | None = None, host_key: str | None = None, on_behalf_of: str | None = None,
        retries: int = 3, backoff_s: float = 0.2, timeout_s: float = TIMEOUT_S, http: httpx.AsyncClient | None = None,
    ) -> None:
        self.s = Settings(base_url, host_key or token, on_behalf_of, retries, backoff_s)
        self._own = http is None
        self.http = http or httpx.AsyncClient(base_url=self.s.base_url, timeout=timeout_s)

    def as_user(self, external_id: str) -> AsyncClient:
        """The same host key acting for another of the host's users (sharing this client's connections)."""
        return AsyncClient(self.s.base_url, token=self.s.token, on_behalf_of=external_id, retries=self.s.retries,
                           backoff_s=self.s.backoff_s, http=self.http)

    async def logged_in(self, username: str, password: str) -> AsyncClient:
        session = await self.login(username, password)
        return AsyncClient(self.s.base_url, token=session.token, retries=self.s.retries, backoff_s=self.s.backoff_s,
                           http=self.http)

    async def call(self, call: Call[T]) -> T:
        """Run one call, retrying it where that is safe; ApiError for a refusal."""
        run = Attempts(call, self.s.retries, self.s.backoff_s)
        while True:
            answer, error = None, None
            try:
                answer = await self.http.request(run.call.method, run.call.path, json=run.call.json,
                                                 params=run.call.params, headers=self.s.headers(run.call))
            except httpx.TransportError as exc:
                error = exc
            wait = run.after(answer, error)
            if wait is None:
                return run.result()
            await asyncio.sleep(wait)

    async def events(self) -> AsyncIterator[Event]:
        """GET /v1/events: this user's live events as they come (`async for`; closing the iterator ends the
        stream).  Not retried: a client that reconnects should read what it missed from the lists."""
        timeout = httpx.Timeout(self.http.timeout.connect, read=None)
        async with self.http.stream("GET", EVENTS.path, headers=self.s.headers(EVENTS), timeout=timeout) as answer:
            if answer.status_code >= 400:
                await answer.aread()
                result(EVENTS, answer)
            reader = EventReader()
            async for line in answer.aiter_lines():
                event = reader.feed(line)
                if event is not None:
                    yield event

    conversations_events = events

    async def aclose(self) -> None:
        if self._own:
            await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # ---- short names of the calls used most (every operation is also a method named by its operation id)

    login = AsyncOps.users_login
    me = AsyncOps.users_me
    find_user = AsyncOps.users_find
    wallet = AsyncOps.wallet_balance
    top_up = AsyncOps.wallet_top_up
    withdraw = AsyncOps.wallet_withdraw
    request_friend = AsyncOps.social_request_friend
    accept_friend = AsyncOps.social_accept_friend
    friends = AsyncOps.social_friends
    add_member = AsyncOps.social_add_member
    packet = AsyncOps.packets_detail
    grab = AsyncOps.packets_grab
    open_packet = AsyncOps.packets_open
    transfer = AsyncOps.transfers_detail
    accept_transfer = AsyncOps.transfers_accept
    return_transfer = AsyncOps.transfers_return
    host_dashboard = AsyncOps.hosts_dashboard
    set_webhook = AsyncOps.hosts_set_webhook
    rotate_key = AsyncOps.hosts_rotate_key
    revoke_key = AsyncOps.hosts_revoke_key

    async def register(self, username: str, password: str, display_name: str | None = None) -> m.User:
        return await self.call(ops.register(username, password, display_name))

    async def statement(self, cursor: str | None = None, limit: int = 20) -> m.Statement:
        return await self.call(ops.statement(cursor, limit))

    async def create_group(self, name: str, member_ids: list[int] | None = None) -> m.Group:
        return await self.call(ops.create_group(name, member_ids))

    async def send_personal(
        self, recipient_id: int, amount_fen: int, greeting: str | None = None, *, idempotency_key: str | None = None
    ) -> m.Packet:
        return await self.call(ops.send_personal(recipient_id, amount_fen, greeting, idempotency_key))

    async def send_group(
        self, group_id: int, shares_count: int, *, total_fen: int | None = None, amount_each_fen: int | None = None,
        split: str = "double_mean", greeting: str | None = None, idempotency_key: str | None = None,
    ) -> m.Packet:
        return await self.call(ops.send_group(
            group_id, shares_count, total_fen=total_fen, amount_each_fen=amount_each_fen, split=split,
            greeting=greeting, idempotency_key=idempotency_key,
        ))

    async def group_packets(self, group_id: int, cursor: str | None = None, limit: int = 20) -> m.PacketPage:
        return await self.call(ops.group_packets(group_id, cursor, limit))

    async def send_transfer(
        self, to_user_id: int, amount_fen: int, note: str | None = None, *, idempotency_key: str | None = None
    ) -> m.Transfer:
        return await self.call(ops.send_transfer(to_user_id, amount_fen, note, idempotency_key))

    async def transfers(self, cursor: str | None = None, limit: int = 20) -> m.TransferPage:
        return await self.call(ops.transfers(cursor, limit))
