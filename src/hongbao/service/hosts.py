"""The platform API: host apps (chat or payment apps) act for their own users by external id with an API key.

A host is registered by an admin (`hongbao hosts create`, or POST /v1/admin/hosts) and given API keys
`hk_<key id>_<secret>`: shown once, stored as an HMAC of the secret under the install key (peppered like every
other secret digest, `install_key.py`), scoped (`read`: GET requests; `write`: every request; `dashboard`: the host's
own figures), rotatable and revocable.  A request with a host key names the host's user in `X-On-Behalf-Of`;
(host, external id) is mapped to a hongbao user and wallet on first use, with no password (none can log in as it).
Every existing endpoint then works for that user, with the same checks as for anyone: a host's key reaches only
its own users, so another host's users' money is out of its reach.  Each host has a rate (requests a minute) and a
daily volume (fen its users send in packets and transfers a UTC day, counted in the same transaction as the money).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from hongbao.domain.errors import Conflict, Forbidden, NotFound, Rejected, TooManyRequests, Unauthorized
from hongbao.service.cache import Lru
from hongbao.service.deps import Deps
from hongbao.service.install_key import InstallKey
from hongbao.service.ratelimit import Limiter
from hongbao.service.results.hosts import Host, HostCreated, HostDashboard, HostKey, NewHostKey

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import PacketRow
    from hongbao.service.ports.hosts import HostKeyRow, HostLookup, HostRecords, HostRow, HostUsers, HostVolume
    from hongbao.service.worlds import Worlds

KEY_PREFIX = "hk_"
SCOPES = ("read", "write", "dashboard")
KEY_CACHE_S = 5.0  # a key revoked in another process is refused within this (at once in the revoking process)
EXTERNAL_ID_CHARS_MAX = 128
NAME_CHARS_MAX = 64
NO_PASSWORD = "!"  # not an argon2 hash: no password verifies against it
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class HostDefaults:
    rate_per_min: int = 6000
    daily_volume_fen_max: int = 100_000_000  # 1,000,000 yuan a day


@dataclass(frozen=True)
class HostCaller:
    """Who a host key stands for."""

    host_id: int
    key_id: str
    scopes: tuple[str, ...]
    rate_per_min: int


def is_host_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


class Hosts:
    def __init__(
        self, deps: Deps, key: InstallKey, defaults: HostDefaults | None = None, worlds: Worlds | None = None
    ) -> None:
        self.d = deps
        self.worlds = worlds  # told each acting user's world (its host's), so no world check reads it
        self.key = key
        self.defaults = defaults or HostDefaults()
        self._callers: Lru[str, tuple[HostCaller, float]] = Lru(10_000)
        self._users: Lru[tuple[int, str], int] = Lru(100_000)  # (host, external id) → user: never changes
        self._rates: dict[tuple[int, int], Limiter] = {}

    # ------------------------------------------------------------------ administration (CLI, admin API)

    async def create(
        self, name: object, rate_per_min: int | None = None, daily_volume_fen_max: int | None = None,
        scopes: object = None, admin_id: int | None = None,
    ) -> HostCreated:
        """Register a host with its first API key (shown once in the reply); `admin_id`: an API caller, who must be an
        admin (the CLI's operator needs no account)."""
        clean = _clean_name(name)
        rate = _positive("rate_per_min", self.defaults.rate_per_min if rate_per_min is None else rate_per_min)
        volume = _positive("daily_volume_fen_max",
                           self.defaults.daily_volume_fen_max if daily_volume_fen_max is None else daily_volume_fen_max)
        wanted = _clean_scopes(scopes)
        keys = await self.key.ensure_all()
        key_id, secret = _new_key()
        now = self.d.clock.now()

        def job(tx: HostRecords) -> int:
            if admin_id is not None and not tx.is_admin(admin_id):
                raise Forbidden("Only an admin registers host apps.", code="not_admin")
            host_id = tx.add_host(clean, rate, volume, now)
            tx.add_host_key(key_id, host_id, _digest(keys[0], secret), wanted, now)
            return host_id

        host_id = await self.d.store.write(job)
        # cast: HostCreated's webhook_secret is the route's to add
        return cast(HostCreated, {**await self.describe(host_id), "key": _key_reply(key_id, secret, wanted)})

    async def describe(self, host_ref: int | str) -> Host:
        def job(tx: HostRecords) -> Host:
            host = _host(tx, host_ref)
            return _public(host, tx.host_keys_of(host.id))

        return await self.d.store.read(job)

    async def list(self) -> list[Host]:
        return await self.d.store.read(lambda tx: [_public(h, tx.host_keys_of(h.id)) for h in tx.hosts_all()])

    async def set_limits(self, host_ref: int | str, rate_per_min: int | None, daily_volume_fen_max: int | None) -> None:
        rate = None if rate_per_min is None else _positive("rate_per_min", rate_per_min)
        volume = None if daily_volume_fen_max is None else _positive("daily_volume_fen_max", daily_volume_fen_max)
        await self.d.store.write(lambda tx: tx.set_host_limits(_host(tx, host_ref).id, rate, volume))
        self._callers = Lru(10_000)  # this process sees the new rate at once

    async def new_key(self, host_ref: int | str, scopes: object = None) -> NewHostKey:
        """Another API key for the host (shown once)."""
        wanted = _clean_scopes(scopes)
        keys = await self.key.ensure_all()
        key_id, secret = _new_key()
        now = self.d.clock.now()
        await self.d.store.write(
            lambda tx: tx.add_host_key(key_id, _host(tx, host_ref).id, _digest(keys[0], secret), wanted, now)
        )
        return _key_reply(key_id, secret, wanted)

    async def revoke_key(self, key_id: str, host_id: int | None = None) -> HostKey:
        """Refuse this key from now on (in other processes within KEY_CACHE_S); `host_id`: only the host's own."""
        now = self.d.clock.now()

        def job(tx: HostRecords) -> HostKeyRow:
            found = tx.host_key(key_id)
            if found is None or (host_id is not None and found.host_id != host_id):
                raise NotFound("No such key.", code="host_key_not_found")
            tx.revoke_host_key(key_id, now)
            row = tx.host_key(key_id)
            assert row is not None
            return row

        row = await self.d.store.write(job)
        self._callers = Lru(10_000)
        return _key_public(row)

    async def rotate_key(self, key_id: str, host_id: int | None = None) -> NewHostKey:
        """A new key with the same scopes, and the old one revoked, in one transaction (the new one shown once)."""
        keys = await self.key.ensure_all()
        new_id, secret = _new_key()
        now = self.d.clock.now()

        def job(tx: HostRecords) -> tuple[str, ...]:
            old = tx.host_key(key_id)
            if old is None or (host_id is not None and old.host_id != host_id):
                raise NotFound("No such key.", code="host_key_not_found")
            if not tx.revoke_host_key(key_id, now):
                raise Conflict("This key is revoked already.", code="host_key_revoked")
            tx.add_host_key(new_id, old.host_id, _digest(keys[0], secret), old.scopes, now)
            return old.scopes

        scopes = await self.d.store.write(job)
        self._callers = Lru(10_000)
        return _key_reply(new_id, secret, scopes)

    # ------------------------------------------------------------------ requests made with a host key

    async def caller(self, token: str) -> HostCaller:
        """The host a key stands for, counted against the host's rate; 401 for an unknown or revoked key."""
        found = self._callers.get(token)
        if found is None or found[1] <= time.monotonic():
            caller = await self._check_key(token)
            self._callers.put(token, (caller, time.monotonic() + KEY_CACHE_S))
        else:
            caller = found[0]
        limiter = self._rates.get((caller.host_id, caller.rate_per_min))
        if limiter is None:
            limiter = self._rates[(caller.host_id, caller.rate_per_min)] = self.d.limiters(
                f"host_rate:{caller.host_id}", caller.rate_per_min, 60.0
            )
        try:
            limiter.take(str(caller.host_id))  # every request counts: checked and counted in one step
        except TooManyRequests as exc:
            limited = TooManyRequests(f"This host may make {caller.rate_per_min} requests a minute.",
                                      code="host_rate_limited")
            limited.retry_after_s = exc.retry_after_s
            raise limited from exc
        return caller

    async def acting_user(self, token: str, external_id: str | None, method: str) -> int:
        """The hongbao user a host key acts for (`X-On-Behalf-Of`), made on first use."""
        caller = await self.caller(token)
        need = "read" if method.upper() in SAFE_METHODS else "write"
        if need not in caller.scopes and "write" not in caller.scopes:
            raise Forbidden(f"This key lacks the '{need}' scope.", code="scope_missing")
        if external_id is None:
            raise Unauthorized("A host key acts for one of the host's users: send 'X-On-Behalf-Of: <external id>'.",
                               code="on_behalf_of_missing")
        ext = _clean_external_id(external_id)
        user_id = self._users.get((caller.host_id, ext))
        if user_id is None:
            user_id = await self._map_user(caller.host_id, ext)
            self._users.put((caller.host_id, ext), user_id)
        if self.worlds is not None:
            self.worlds.learn(user_id, caller.host_id)  # a host's users live in its world (service/worlds.py)
        return user_id

    async def dashboard_of(self, caller: HostCaller) -> HostDashboard:
        """The host's own figures (api/routes/hosts.py checks the key's `dashboard` scope)."""
        day = self.d.clock.now().date()

        def job(tx: HostRecords) -> HostDashboard:
            host = _host(tx, caller.host_id)
            return {**_public(host, tx.host_keys_of(host.id)), "figures": tx.host_figures(host.id, day)}

        return await self.d.store.read(job)

    async def _check_key(self, token: str) -> HostCaller:
        _, key_id, secret = [*token.split("_", 2), "", ""][:3]
        if not key_id or not secret or len(token) > 128:
            raise Unauthorized("Invalid host key.", code="host_key_invalid")

        def job(tx: HostRecords) -> tuple[HostKeyRow, HostRow] | None:
            row = tx.host_key(key_id)
            host = None if row is None else tx.host(row.host_id)
            return None if row is None or host is None else (row, host)

        found = await self.d.store.read(job)
        keys = await self.key.ensure_all()
        if found is None or not any(hmac.compare_digest(found[0].secret_hash, _digest(k, secret)) for k in keys):
            raise Unauthorized("Invalid host key.", code="host_key_invalid")
        row, host = found
        if row.revoked_at is not None:
            raise Unauthorized("This host key was revoked.", code="host_key_invalid")
        return HostCaller(host.id, row.id, row.scopes, host.rate_per_min)

    async def _map_user(self, host_id: int, ext: str) -> int:
        digest = hashlib.sha256(ext.encode()).hexdigest()[:20]
        username = f"h{host_id}_{digest}"
        shown = ext[:NAME_CHARS_MAX]
        now = self.d.clock.now()

        def job(tx: HostUsers) -> int:
            found = tx.host_user(host_id, ext)
            if found is not None:
                return found
            user_id = tx.create_user(username, shown, NO_PASSWORD, now)
            tx.add_host_user(host_id, ext, user_id, now)
            return user_id

        try:
            return await self.d.store.write(job)
        except Conflict:  # another process mapped it a moment ago
            raced = await self.d.store.read(lambda tx: tx.host_user(host_id, ext))
            if raced is None:
                raise
            return raced

    # ------------------------------------------------------------------ daily volume, in the money's transaction

    def _count(self, tx: HostVolume, sender_id: int, amount_fen: int) -> None:
        found = tx.host_users_among([sender_id])
        if not found:
            return
        host = tx.host(found[0].host_id)
        assert host is not None
        if not tx.add_host_volume(host.id, self.d.clock.now().date(), amount_fen, host.daily_volume_fen_max):
            raise TooManyRequests(
                f"This host's users may send {host.daily_volume_fen_max} fen a day (UTC); try again tomorrow.",
                code="host_volume_exceeded",
            )

    def count_packet(self, tx: HostVolume, row: PacketRow) -> None:
        self._count(tx, row.view.sender_id, row.view.total_fen)

    def count_transfer(self, tx: HostVolume, event: str, users: tuple[int, ...], data: dict[str, Any]) -> None:
        if event == "transfer.created":
            self._count(tx, int(data["sender_id"]), int(data["amount_fen"]))


def _new_key() -> tuple[str, str]:
    return secrets.token_hex(8), secrets.token_urlsafe(32)


def _digest(key: bytes, secret: str) -> bytes:
    return hmac.new(key, f"host_key:{secret}".encode(), hashlib.sha256).digest()


def _key_reply(key_id: str, secret: str, scopes: tuple[str, ...]) -> NewHostKey:
    return {"key_id": key_id, "key": f"{KEY_PREFIX}{key_id}_{secret}", "scopes": list(scopes)}


def _key_public(row: HostKeyRow) -> HostKey:
    return {"key_id": row.id, "scopes": list(row.scopes), "created_at": row.created_at.isoformat(),
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}


def _public(host: HostRow, keys: list[HostKeyRow]) -> Host:
    return {
        "id": host.id, "name": host.name, "created_at": host.created_at.isoformat(),
        "rate_per_min": host.rate_per_min, "daily_volume_fen_max": host.daily_volume_fen_max,
        "webhook_url": host.webhook_url, "keys": [_key_public(k) for k in keys],
    }


def _host(tx: HostLookup, ref: int | str) -> HostRow:
    found = tx.host(ref) if isinstance(ref, int) else (
        tx.host(int(ref)) if ref.isdigit() else tx.host_by_name(ref)
    )
    if found is None:
        raise NotFound("No such host.", code="host_not_found")
    return found


def _clean_name(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= NAME_CHARS_MAX or not value.isprintable():
        raise Rejected(f"name: 1–{NAME_CHARS_MAX} printable characters.", code="invalid_host")
    if value.strip().isdigit():
        raise Rejected("name: not only digits (hosts are named by id or name).", code="invalid_host")
    return value.strip()


def _positive(field: str, value: object) -> int:
    if type(value) is not int or not 1 <= value <= 10**15:
        raise Rejected(f"{field}: a positive whole number.", code="invalid_host")
    return value


def _clean_scopes(value: object) -> tuple[str, ...]:
    if value is None:
        return SCOPES
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise Rejected(f"scopes: some of {', '.join(SCOPES)}.", code="invalid_scopes")
    clean = tuple(dict.fromkeys(str(s).strip() for s in items))
    if any(s not in SCOPES for s in clean):
        raise Rejected(f"scopes: some of {', '.join(SCOPES)}.", code="invalid_scopes")
    return clean


def _clean_external_id(value: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= EXTERNAL_ID_CHARS_MAX or not text.isprintable():
        raise Rejected(f"X-On-Behalf-Of: 1–{EXTERNAL_ID_CHARS_MAX} printable characters.", code="invalid_on_behalf_of")
    return text
