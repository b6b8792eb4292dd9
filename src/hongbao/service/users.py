"""Registration, login and bearer tokens (argon2-hashed passwords, sha256-hashed token secrets)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from hongbao.domain.errors import Rejected, Unauthorized
from hongbao.service.batch import BatchLoader
from hongbao.service.cache import Lru
from hongbao.service.deps import Deps

USERNAME_RE = re.compile(r"^[a-z0-9_]{3,32}$")
PASSWORD_CHARS_MIN = 8
PASSWORD_CHARS_MAX = 256
TOKEN_CACHE_S = 30.0  # a revoked token may be honoured this long by another process's cache


@dataclass(frozen=True)
class Session:
    token: str
    user_id: int
    expires_at: datetime


def token_digest(secret: str) -> bytes:
    """What is stored for a bearer secret (a session token's secret half, a claim link's token): its sha256."""
    return hashlib.sha256(secret.encode()).digest()


class Users:
    def __init__(self, deps: Deps) -> None:
        self.d = deps
        self._tokens: Lru[str, tuple[int, datetime, float]] = Lru(100_000)
        # Tokens missing from the cache are read in batches (see service/batch.py for why).
        self._token_rows: BatchLoader[str, tuple[bytes, int, datetime]] = BatchLoader(
            lambda ids: self.d.store.read(lambda tx: tx.tokens(ids))
        )
        self._dummy_hash: str | None = None
        self.login_limiter = deps.limiters("login", 10, 900.0)

    async def register(self, username: object, password: object, display_name: object = None) -> int:
        name = _clean_username(username)
        pw = _clean_password(password)
        shown = name if display_name is None else _clean_display_name(display_name)
        pw_hash = await asyncio.to_thread(self.d.hasher.hash, pw)
        now = self.d.clock.now()
        return await self.d.store.write(lambda tx: tx.create_user(name, shown, pw_hash, now))

    async def login(self, username: object, password: object) -> Session:
        """A new session for the right password; 10 failures per username in 15 min lock it for a while."""
        if not isinstance(username, str) or not isinstance(password, str):
            raise Unauthorized("Wrong username or password.", code="bad_credentials")
        name = username.strip().lower()
        self.login_limiter.check(name)
        user = await self.d.store.read(lambda tx: tx.user_by_username(name))
        if user is None:
            # Spend the same time as a real check, so a wrong name is not told apart by timing.
            if self._dummy_hash is None:
                self._dummy_hash = await asyncio.to_thread(self.d.hasher.hash, secrets.token_hex(8))
            await asyncio.to_thread(self.d.hasher.verify, self._dummy_hash, password)
            ok = False
        else:
            ok = await asyncio.to_thread(self.d.hasher.verify, user.password_hash, password)
        if not ok or user is None:
            self.login_limiter.failed(name)
            raise Unauthorized("Wrong username or password.", code="bad_credentials")
        self.login_limiter.succeeded(name)
        return await self.issue_token(user.id)

    async def issue_token(self, user_id: int) -> Session:
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        now = self.d.clock.now()
        expires_at = now + timedelta(seconds=self.d.limits.token_ttl_s)
        digest = token_digest(secret)
        await self.d.store.write(lambda tx: tx.add_token(token_id, digest, user_id, expires_at, now))
        # Known good: the first request with it needs no store read (in this process).
        self._tokens.put(f"{token_id}.{digest.hex()}", (user_id, expires_at, time.monotonic() + TOKEN_CACHE_S))
        return Session(f"{token_id}.{secret}", user_id, expires_at)

    async def authenticate(self, token: str) -> int:
        """The user id a bearer token stands for; Unauthorized if it is unknown, wrong or expired."""
        token_id, _, secret = token.partition(".")
        if not token_id or not secret or len(token) > 128:
            raise Unauthorized("Invalid token.", code="token_invalid")
        digest = token_digest(secret)
        cache_key = f"{token_id}.{digest.hex()}"
        hit = self._tokens.get(cache_key)
        now = self.d.clock.now()
        if hit is not None and hit[2] > time.monotonic() and hit[1] > now:
            return hit[0]
        found = await self._token_rows.get(token_id)
        if found is None or not hmac.compare_digest(found[0], digest) or found[2] <= now:
            self._tokens.pop(cache_key)
            raise Unauthorized("Invalid or expired token.", code="token_invalid")
        self._tokens.put(cache_key, (found[1], found[2], time.monotonic() + TOKEN_CACHE_S))
        return found[1]

    async def logout(self, token: str) -> None:
        token_id, _, secret = token.partition(".")
        self._tokens.pop(f"{token_id}.{token_digest(secret).hex()}")
        await self.d.store.write(lambda tx: tx.delete_token(token_id))


def _clean_username(value: object) -> str:
    if not isinstance(value, str) or not USERNAME_RE.match(value.strip().lower()):
        raise Rejected("username: 3–32 of a–z, 0–9 and _.", code="invalid_username")
    return value.strip().lower()


def _clean_password(value: object) -> str:
    if not isinstance(value, str) or not PASSWORD_CHARS_MIN <= len(value) <= PASSWORD_CHARS_MAX:
        raise Rejected(
            f"password: {PASSWORD_CHARS_MIN}–{PASSWORD_CHARS_MAX} characters.", code="weak_password"
        )
    return value


def _clean_display_name(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 64 or not value.isprintable():
        raise Rejected("display_name: 1–64 printable characters.", code="invalid_display_name")
    return value.strip()
