"""The typed Python client of hongbao: `Client` (sync) and `AsyncClient` (asyncio), on httpx.

    from hongbao.client import Client

    with Client("http://127.0.0.1:8000", host_key="hk_…") as host:
        alice = host.as_user("wx-alice")          # the host's user, by its own id (X-On-Behalf-Of)
        alice.top_up(10_000)
        packet = alice.send_personal(recipient_id=2, amount_fen=520, greeting="新年快乐")

A session token works as well (`Client(url, token=…)`, or `Client(url).logged_in(username, password)`).
Money-moving calls carry an Idempotency-Key made here (or yours, `idempotency_key=`), fixed across retries, so a
retry after a timeout moves no money twice; they, and GETs, are retried on a dropped connection, 429, 502, 503 and
504 (Retry-After honoured); other calls are retried only when the request was never sent.  Refusals raise
`ApiError` with the server's stable `code`.  Every call is in `hongbao.client.ops`; `ops.request(...)` reaches any
other endpoint.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, TypeVar

import httpx

from hongbao.client import models as m
from hongbao.client import ops
from hongbao.client._core import ApiError, Attempts, Call, Settings

__all__ = ["ApiError", "AsyncClient", "Call", "Client", "m", "ops"]
T = TypeVar("T")
TIMEOUT_S = 15.0


class Client:
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

    def close(self) -> None:
        if self._own:
            self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- the API's calls (hongbao.client.ops), one line each

    def register(self, username: str, password: str, display_name: str | None = None) -> m.User:
        return self.call(ops.register(username, password, display_name))

    def login(self, username: str, password: str) -> m.Session:
        return self.call(ops.login(username, password))

    def me(self) -> m.User:
        return self.call(ops.me())

    def find_user(self, username: str) -> m.User:
        return self.call(ops.find_user(username))

    def wallet(self) -> m.Balance:
        return self.call(ops.wallet())

    def top_up(self, amount_fen: int, *, idempotency_key: str | None = None) -> m.Payment:
        return self.call(ops.top_up(amount_fen, idempotency_key))

    def withdraw(self, amount_fen: int, *, idempotency_key: str | None = None) -> m.Payment:
        return self.call(ops.withdraw(amount_fen, idempotency_key))

    def statement(self, cursor: str | None = None, limit: int = 20) -> m.Statement:
        return self.call(ops.statement(cursor, limit))

    def request_friend(self, user_id: int) -> Any:
        return self.call(ops.request_friend(user_id))

    def accept_friend(self, requester_id: int) -> Any:
        return self.call(ops.accept_friend(requester_id))

    def friends(self) -> Any:
        return self.call(ops.friends())

    def create_group(self, name: str, member_ids: list[int] | None = None) -> m.Group:
        return self.call(ops.create_group(name, member_ids))

    def add_member(self, group_id: int, user_id: int) -> m.Group:
        return self.call(ops.add_member(group_id, user_id))

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

    def packet(self, packet_id: int) -> m.Packet:
        return self.call(ops.packet(packet_id))

    def grab(self, packet_id: int) -> m.Grab:
        return self.call(ops.grab(packet_id))

    def open_packet(self, packet_id: int, *, idempotency_key: str | None = None) -> m.Opened:
        return self.call(ops.open_packet(packet_id, idempotency_key))

    def group_packets(self, group_id: int, cursor: str | None = None, limit: int = 20) -> m.PacketPage:
        return self.call(ops.group_packets(group_id, cursor, limit))

    def send_transfer(
        self, to_user_id: int, amount_fen: int, note: str | None = None, *, idempotency_key: str | None = None
    ) -> m.Transfer:
        return self.call(ops.send_transfer(to_user_id, amount_fen, note, idempotency_key))

    def transfer(self, transfer_id: int) -> m.Transfer:
        return self.call(ops.transfer(transfer_id))

    def accept_transfer(self, transfer_id: int, *, idempotency_key: str | None = None) -> m.Transfer:
        return self.call(ops.accept_transfer(transfer_id, idempotency_key))

    def return_transfer(self, transfer_id: int, *, idempotency_key: str | None = None) -> m.Transfer:
        return self.call(ops.return_transfer(transfer_id, idempotency_key))

    def transfers(self, cursor: str | None = None, limit: int = 20) -> m.TransferPage:
        return self.call(ops.transfers(cursor, limit))

    def host_dashboard(self) -> m.HostDashboard:
        return self.call(ops.host_dashboard())

    def set_webhook(self, url: str | None) -> m.WebhookEndpoint:
        return self.call(ops.set_webhook(url))

    def rotate_key(self, key_id: str) -> m.HostKey:
        return self.call(ops.rotate_key(key_id))

    def revoke_key(self, key_id: str) -> m.HostKey:
        return self.call(ops.revoke_key(key_id))


class AsyncClient:
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

    async def aclose(self) -> None:
        if self._own:
            await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # ---- the API's calls (hongbao.client.ops), one line each

    async def register(self, username: str, password: str, display_name: str | None = None) -> m.User:
        return await self.call(ops.register(username, password, display_name))

    async def login(self, username: str, password: str) -> m.Session:
        return await self.call(ops.login(username, password))

    async def me(self) -> m.User:
        return await self.call(ops.me())

    async def find_user(self, username: str) -> m.User:
        return await self.call(ops.find_user(username))

    async def wallet(self) -> m.Balance:
        return await self.call(ops.wallet())

    async def top_up(self, amount_fen: int, *, idempotency_key: str | None = None) -> m.Payment:
        return await self.call(ops.top_up(amount_fen, idempotency_key))

    async def withdraw(self, amount_fen: int, *, idempotency_key: str | None = None) -> m.Payment:
        return await self.call(ops.withdraw(amount_fen, idempotency_key))

    async def statement(self, cursor: str | None = None, limit: int = 20) -> m.Statement:
        return await self.call(ops.statement(cursor, limit))

    async def request_friend(self, user_id: int) -> Any:
        return await self.call(ops.request_friend(user_id))

    async def accept_friend(self, requester_id: int) -> Any:
        return await self.call(ops.accept_friend(requester_id))

    async def friends(self) -> Any:
        return await self.call(ops.friends())

    async def create_group(self, name: str, member_ids: list[int] | None = None) -> m.Group:
        return await self.call(ops.create_group(name, member_ids))

    async def add_member(self, group_id: int, user_id: int) -> m.Group:
        return await self.call(ops.add_member(group_id, user_id))

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

    async def packet(self, packet_id: int) -> m.Packet:
        return await self.call(ops.packet(packet_id))

    async def grab(self, packet_id: int) -> m.Grab:
        return await self.call(ops.grab(packet_id))

    async def open_packet(self, packet_id: int, *, idempotency_key: str | None = None) -> m.Opened:
        return await self.call(ops.open_packet(packet_id, idempotency_key))

    async def group_packets(self, group_id: int, cursor: str | None = None, limit: int = 20) -> m.PacketPage:
        return await self.call(ops.group_packets(group_id, cursor, limit))

    async def send_transfer(
        self, to_user_id: int, amount_fen: int, note: str | None = None, *, idempotency_key: str | None = None
    ) -> m.Transfer:
        return await self.call(ops.send_transfer(to_user_id, amount_fen, note, idempotency_key))

    async def transfer(self, transfer_id: int) -> m.Transfer:
        return await self.call(ops.transfer(transfer_id))

    async def accept_transfer(self, transfer_id: int, *, idempotency_key: str | None = None) -> m.Transfer:
        return await self.call(ops.accept_transfer(transfer_id, idempotency_key))

    async def return_transfer(self, transfer_id: int, *, idempotency_key: str | None = None) -> m.Transfer:
        return await self.call(ops.return_transfer(transfer_id, idempotency_key))

    async def transfers(self, cursor: str | None = None, limit: int = 20) -> m.TransferPage:
        return await self.call(ops.transfers(cursor, limit))

    async def host_dashboard(self) -> m.HostDashboard:
        return await self.call(ops.host_dashboard())

    async def set_webhook(self, url: str | None) -> m.WebhookEndpoint:
        return await self.call(ops.set_webhook(url))

    async def rotate_key(self, key_id: str) -> m.HostKey:
        return await self.call(ops.rotate_key(key_id))

    async def revoke_key(self, key_id: str) -> m.HostKey:
        return await self.call(ops.revoke_key(key_id))
