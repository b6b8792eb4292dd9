"""Webhooks to host apps: an outbox written in the same transaction as the money, and its delivery.

Events (`type`): packet.sent, packet.opened, packet.finished (the last share opened), packet.expired (the remainder
refunded), transfer.created, transfer.accepted, transfer.returned, transfer.refunded, payment.settled.  A host gets
the events of the packets, transfers and payments its users take part in, if it has a webhook URL; the event names
the host's own users by `external_id`.  Each message belongs to a stream (`packet:7`): a stream's messages are sent
one at a time in the order they were written, so a receiver sees a packet's story in order.  A message is sent
until the receiver answers 2xx, with exponential backoff (HONGBAO_WEBHOOK_BACKOFF_S doubling up to
HONGBAO_WEBHOOK_BACKOFF_MAX_S), and given up after HONGBAO_WEBHOOK_ATTEMPTS_MAX attempts (`hongbao webhooks replay`
sends it again).  Delivery is at least once: a receiver deduplicates by the `webhook-id` header.  Signing is
`hongbao.webhooks` (Standard Webhooks).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from hongbao import webhooks as signing
from hongbao.domain.open_kinds import seal, unseal_with
from hongbao.service.deps import Deps
from hongbao.service.install_key import InstallKey

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import ClaimRow, PacketRow
    from hongbao.service.ports.hosts import HostUserRow, OutboxReads, OutboxRow, OutboxWrites

log = logging.getLogger(__name__)
HEADS_MAX = 200  # streams sent to at once in one round
ROUNDS_MAX = 50  # one pass sends at most this many messages of one stream (the rest next pass)
RETENTION_S = 7 * 24 * 3600  # delivered messages are kept this long (`hongbao webhooks list`), then pruned
PRUNE_INTERVAL_S = 60.0
PRUNE_BATCH_MAX = 5_000
URL_CHARS_MAX = 2048


@dataclass(frozen=True)
class DeliveryRules:
    backoff_s: float = 5.0  # the wait after the first failed attempt; doubled after each further one
    backoff_max_s: float = 3600.0
    attempts_max: int = 15  # then the message is given up (replayable)
    timeout_s: float = 5.0  # one attempt's HTTP deadline
    lock_s: float = 60.0  # a deliverer's claim on a message (another process may take it after)


class Webhooks:
    """Writes the outbox through the money hooks; `deliver_due` is the sweep that sends it."""

    def __init__(self, deps: Deps, key: InstallKey, rules: DeliveryRules | None = None) -> None:
        self.d = deps
        self.key = key
        self.rules = rules or DeliveryRules()
        self._pruned_at: float | None = None

    # ------------------------------------------------------------------ configuration

    async def set_endpoint(self, host_ref: int | str, url: str | None) -> str | None:
        """Point the host's webhooks at `url` (None: stop) with a new signing secret, returned once."""
        from hongbao.service.hosts import _host

        if url is not None and (not url.startswith(("http://", "https://")) or len(url) > URL_CHARS_MAX
                                or _forbidden(httpx.URL(url).host)):
            from hongbao.domain.errors import Rejected

            raise Rejected("url: an http:// or https:// address, not a link-local or unspecified one.",
                           code="invalid_webhook_url")
        secret = None if url is None else signing.new_secret()
        sealed = None if secret is None else seal(await self.key.ensure(), secret)
        await self.d.store.write(lambda tx: tx.set_host_webhook(_host(tx, host_ref).id, url, sealed))
        return secret

    # ------------------------------------------------------------------ the outbox, in the money's transaction

    def _record(self, tx: OutboxWrites, hosts: list[HostUserRow], event: str, stream: str, data: dict[str, Any],
                users: Mapping[str, int | None]) -> None:
        """One message per host concerned; `users` names the roles (sender, claimer…) to show by external id."""
        now = self.d.clock.now()
        for host_id in sorted({h.host_id for h in hosts}):
            mine = {h.user_id: h.external_id for h in hosts if h.host_id == host_id}
            shown = dict(data)
            for role, uid in users.items():
                shown[role] = None if uid is None else {"user_id": uid, "external_id": mine.get(uid)}
            msg_id = "msg_" + secrets.token_hex(12)
            body = {"type": event, "timestamp": now.isoformat(), "data": shown}
            tx.add_outbox(host_id, msg_id, event, stream, orjson.dumps(body).decode(), now)

    def on_sent(self, tx: OutboxWrites, row: PacketRow) -> None:
        hosts = tx.host_users_among([row.view.sender_id], with_webhook=True)
        if hosts:
            self._record(tx, hosts, "packet.sent", f"packet:{row.view.id}", _packet(row),
                         {"sender": row.view.sender_id})

    def on_opened_many(self, tx: OutboxWrites, opened: list[tuple[PacketRow, ClaimRow]]) -> None:
        # One read for the whole batch of opens: the hot path pays one indexed statement, not one per winner.
        hosts = tx.host_users_among(
            [uid for row, claim in opened for uid in (row.view.sender_id, claim.user_id)], with_webhook=True
        )
        if not hosts:
            return
        for row, claim in opened:
            concerned = [h for h in hosts if h.user_id in (row.view.sender_id, claim.user_id)]
            if not concerned:
                continue
            data = {**_packet(row), "claim": {"seq": claim.seq, "amount_fen": claim.amount_fen}}
            stream = f"packet:{row.view.id}"
            roles = {"sender": row.view.sender_id, "claimer": claim.user_id}
            self._record(tx, concerned, "packet.opened", stream, data, roles)
            if row.claimed_count == row.view.shares_count:  # the row as this claim left it: the last share
                self._record(tx, concerned, "packet.finished", stream, _packet(row), {"sender": row.view.sender_id})

    def on_expired(self, tx: OutboxWrites, row: PacketRow, refund_fen: int) -> None:
        hosts = tx.host_users_among([row.view.sender_id], with_webhook=True)
        if hosts:
            self._record(tx, hosts, "packet.expired", f"packet:{row.view.id}",
                         {**_packet(row), "refunded_fen": refund_fen}, {"sender": row.view.sender_id})

    def on_money(self, tx: OutboxWrites, event: str, users: tuple[int, ...], data: dict[str, Any]) -> None:
        hosts = tx.host_users_among(users, with_webhook=True)
        if not hosts:
            return
        kind = event.partition(".")[0]
        roles = {r: int(data[f"{r}_id"]) for r in ("sender", "recipient", "user") if data.get(f"{r}_id") is not None}
        plain = {k: v for k, v in data.items() if not k.endswith("_id") or k in (f"{kind}_id",)}
        self._record(tx, hosts, event, f"{kind}:{data[f'{kind}_id']}", plain, dict(roles))

    # ------------------------------------------------------------------ delivery (scheduler / worker)

    async def deliver_due(self, client: httpx.AsyncClient | None = None) -> int:
        """Send what is due, each stream in order; return how many messages were delivered in this pass."""
        http = client
        try:
            delivered = 0
            for _ in range(ROUNDS_MAX):
                heads = await self._due_heads()
                if not heads:
                    break
                if http is None:  # made only when something is due: a client builds an SSL context, and a pass
                    http = httpx.AsyncClient(timeout=self.rules.timeout_s)  # runs every second (~15 % of a core)
                results = await asyncio.gather(*(self._attempt(http, *head) for head in heads))
                sent = sum(results)
                delivered += sent
                if sent == 0:  # everything due failed: the next pass tries again after the backoff
                    break
            await self.prune()
            return delivered
        finally:
            if http is not None and client is None:
                await http.aclose()

    async def prune(self, *, force: bool = False) -> int:
        """Delete messages delivered more than RETENTION_S ago, a chunk at most once a minute (or now, `force`)."""
        now_s = time.monotonic()
        if not force and self._pruned_at is not None and now_s - self._pruned_at < PRUNE_INTERVAL_S:
            return 0
        self._pruned_at = now_s
        cutoff = self.d.clock.now() - timedelta(seconds=RETENTION_S)
        return await self.d.store.write(lambda tx: tx.delete_delivered_outbox_before(cutoff, PRUNE_BATCH_MAX))

    async def _due_heads(self) -> list[tuple[OutboxRow, str, str]]:
        """The first undelivered message of each stream, if it is due, with its host's URL and secret."""
        now = self.d.clock.now()
        keys = await self.key.ensure_all()
        out = []
        for row, url, sealed in await self.d.store.read(lambda tx: tx.outbox_due_heads(now, HEADS_MAX)):
            secret = None if sealed is None else unseal_with(keys, sealed)
            if secret is not None:  # None: sealed under a pepper since dropped; set the endpoint again
                out.append((row, url, secret))
        return out

    async def _attempt(self, http: httpx.AsyncClient, row: OutboxRow, url: str, secret: str) -> bool:
        now = self.d.clock.now()
        until = now + timedelta(seconds=self.rules.lock_s)
        if not await self.d.store.write(lambda tx: tx.claim_outbox(row.id, now, until)):
            return False  # another deliverer holds it
        body = row.payload.encode()
        error: str | None
        try:
            if await _resolves_forbidden(httpx.URL(url).host):  # checked again: a name may point elsewhere now
                error = "refused: the address is link-local or unspecified"
            else:
                answer = await http.post(url, content=body, headers=signing.headers(secret, row.msg_id, body))
                error = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
        except (httpx.HTTPError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        done = self.d.clock.now()
        if error is None:
            await self.d.store.write(lambda tx: tx.outbox_delivered(row.id, done))
            return True
        attempts = row.attempts + 1
        wait = min(self.rules.backoff_s * 2 ** (attempts - 1), self.rules.backoff_max_s)
        give_up = done if attempts >= self.rules.attempts_max else None
        log.info("webhook %s to host %s failed (attempt %s): %s", row.msg_id, row.host_id, attempts, error)
        await self.d.store.write(
            lambda tx: tx.outbox_failed_attempt(row.id, error, done + timedelta(seconds=wait), give_up)
        )
        return False

    # ------------------------------------------------------------------ inspection (CLI)

    async def list(self, host_ref: int | str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
        from hongbao.service.hosts import _host

        def job(tx: OutboxReads) -> list[dict[str, Any]]:
            host_id = None if host_ref is None else _host(tx, host_ref).id
            return [_message(r) for r in tx.outbox_list(host_id, status, limit)]

        return await self.d.store.read(job)

    async def replay(self, msg_id: str) -> bool:
        now = self.d.clock.now()
        return await self.d.store.write(lambda tx: tx.outbox_replay(msg_id, now))


def _forbidden(host: str) -> bool:
    """Link-local (cloud metadata services live at 169.254.169.254), unspecified or multicast: never a receiver.
    Loopback and private addresses stay allowed: hosts on the same network are a normal deployment."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name: checked when it is resolved, at each delivery
    return address.is_link_local or address.is_unspecified or address.is_multicast


async def _resolves_forbidden(host: str) -> bool:
    if _forbidden(host):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
        return False  # a literal address, allowed above
    except ValueError:
        pass
    found = await asyncio.get_running_loop().getaddrinfo(host, None)
    return any(_forbidden(str(info[4][0])) for info in found)


def _packet(row: PacketRow) -> dict[str, Any]:
    v = row.view
    return {
        "packet_id": v.id, "kind": v.kind.value, "split": v.split.value, "group_id": v.group_id,
        "total_fen": v.total_fen, "shares_count": v.shares_count, "claimed_count": row.claimed_count,
        "claimed_fen": row.claimed_fen, "refunded_fen": row.refunded_fen, "expires_at": v.expires_at.isoformat(),
    }


def _message(r: OutboxRow) -> dict[str, Any]:
    def at(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    status = "delivered" if r.delivered_at else "failed" if r.failed_at else "pending"
    return {
        "msg_id": r.msg_id, "host_id": r.host_id, "type": r.event_type, "stream": r.stream, "status": status,
        "attempts": r.attempts, "created_at": r.created_at.isoformat(), "delivered_at": at(r.delivered_at),
        "next_attempt_at": at(r.next_attempt_at), "last_error": r.last_error,
    }
