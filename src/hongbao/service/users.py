"""Registration, login and bearer tokens (argon2-hashed passwords, sha256-hashed token secrets).

Login throttling slows a guesser without locking the owner out (README "Login throttling"):

* per client address: `failures_max_per_address` wrong passwords in `window_s`, on any accounts, then 429 with
  Retry-After until the oldest ages out (one address cannot try 200 usernames);
* per account: after `failures_max_per_account` wrong passwords in the window the account refuses logins
  from devices it has not seen (429 with Retry-After), whoever is typing;
* a known device passes both: every successful login hands out a device token (the API sets it as the
  `hongbao_device` cookie), an HMAC of the user id and a nonce keyed by the user's password hash, so it needs
  no table, works in every process, and dies with a password change.  A device's own wrong passwords are
  limited per device (`failures_max_per_device`), so a stolen device token is not a licence to guess.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from hongbao.domain.errors import NotFound, Rejected, Unauthorized
from hongbao.service.batch import BatchLoader
from hongbao.service.cache import Lru
from hongbao.service.deps import Deps
from hongbao.service.passwords import check_new_password
from hongbao.service.ports.people import MeRow
from hongbao.service.tokens import Revocations, Signed, TokenSigner, is_signed
from hongbao.service.worlds import OWN, Worlds

USERNAME_RE = re.compile(r"^[a-z0-9_]{3,32}$")
TOKEN_CACHE_S = 30.0  # a revoked token may be honoured this long by another process's cache
DEVICE_NONCE_CHARS = 16
DEVICE_SIG_CHARS = 32  # 128 bits of HMAC-SHA256
DEVICE_RE = re.compile(rf"[0-9a-f]{{{DEVICE_NONCE_CHARS}}}\.[0-9a-f]{{{DEVICE_SIG_CHARS}}}")


@dataclass(frozen=True)
class Session:
    token: str
    user_id: int
    expires_at: datetime
    device: str | None = None  # a login's device token: present it at the next login to pass an account lock


@dataclass(frozen=True)
class LoginThrottle:
    """Wrong passwords allowed per window: per client address, per account (unknown devices), per known device."""

    failures_max_per_address: int = 30
    failures_max_per_account: int = 10
    failures_max_per_device: int = 10
    window_s: float = 900.0


def token_digest(secret: str) -> bytes:
    """What is stored for a bearer secret (a session token's secret half, a claim link's token): its sha256."""
    return hashlib.sha256(secret.encode()).digest()


class Users:
    def __init__(self, deps: Deps, throttle: LoginThrottle | None = None) -> None:
        self.d = deps
        self.worlds: Worlds | None = None  # told each session's user is hongbao's own (bootstrap shares the cache)
        self.throttle = throttle = throttle or LoginThrottle()
        self._tokens: Lru[str, tuple[int, datetime, float]] = Lru(100_000)
        # Tokens missing from the cache are read in batches (see service/batch.py for why).
        self._token_rows: BatchLoader[str, tuple[bytes, int, datetime]] = BatchLoader(
            lambda ids: self.d.store.read(lambda tx: tx.tokens(ids))
        )
        self._dummy_hash: str | None = None
        # Signed tokens (service/tokens.py), wired by bootstrap once the install key exists; None: first-format only.
        self.signer: TokenSigner | None = None
        self.revocations: Revocations | None = None
        # The account's limiter keeps the name "login" (its keys are usernames): the lock shared by all processes.
        self.login_limiter = deps.limiters("login", throttle.failures_max_per_account, throttle.window_s)
        self.address_limiter = deps.limiters("login:address", throttle.failures_max_per_address, throttle.window_s)
        self.device_limiter = deps.limiters("login:device", throttle.failures_max_per_device, throttle.window_s)

    async def register(self, username: object, password: object, display_name: object = None) -> int:
        name = _clean_username(username)
        pw = check_new_password(password, name)
        shown = name if display_name is None else _clean_display_name(display_name)
        pw_hash = await asyncio.to_thread(self.d.hasher.hash, pw)
        now = self.d.clock.now()
        user_id: int = await self.d.store.write(lambda tx: tx.create_user(name, shown, pw_hash, now))
        if self.worlds is not None:
            self.worlds.learn(user_id, OWN)  # who registers is one of hongbao's own (a host's users are mapped)
        return user_id

    async def login(
        self, username: object, password: object, *, address: str | None = None, device: str | None = None
    ) -> Session:
        """A new session (and device token) for the right password, within the limits in the module docstring.

        `address` is the client's address (None: a caller with no network client, e.g. the simulator, is not
        limited per address); `device` is the device token of an earlier login, if the client kept one.
        """
        if not isinstance(username, str) or not isinstance(password, str):
            raise Unauthorized("Wrong username or password.", code="bad_credentials")
        name = username.strip().lower()
        user = await self.d.store.read(lambda tx: tx.user_by_username(name))
        nonce = _device_nonce(device, user.id, user.password_hash) if user is not None and device else None
        if nonce is None:
            if address is not None:
                self.address_limiter.check(address)
            self.login_limiter.check(name)
        else:
            # A known device passes its address's and its account's limits (an owner behind the same NAT as a
            # guesser, or whose account a guesser locked); its own wrong passwords are counted apart.
            self.device_limiter.check(nonce)
        if user is None:
            # Spend the same time as a real check, so a wrong name is not told apart by timing.
            if self._dummy_hash is None:
                self._dummy_hash = await asyncio.to_thread(self.d.hasher.hash, secrets.token_hex(8))
            await asyncio.to_thread(self.d.hasher.verify, self._dummy_hash, password)
            ok = False
        else:
            ok = await asyncio.to_thread(self.d.hasher.verify, user.password_hash, password)
        if not ok or user is None:
            if nonce is None:
                if address is not None:
                    self.address_limiter.failed(address)
                self.login_limiter.failed(name)
            else:
                self.device_limiter.failed(nonce)
            raise Unauthorized("Wrong username or password.", code="bad_credentials")
        # The address's failures stay: a guesser who owns one account must not clear its count by logging in.
        # A known device's success leaves the account's count too, or each owner login would reset a guesser.
        if nonce is None:
            self.login_limiter.succeeded(name)
        else:
            self.device_limiter.succeeded(nonce)
        session = await self.issue_token(user.id)
        known = nonce or secrets.token_hex(DEVICE_NONCE_CHARS // 2)
        return replace(session, device=f"{known}.{_device_sig(known, user.id, user.password_hash)}")

    async def prime(self) -> None:
        """Load the token key and read the revocation list now (a server does at start), not on the first request."""
        if self.signer is not None:
            await self.signer.ready()
        if self.revocations is not None:
            await self.revocations.load()

    async def issue_token(self, user_id: int) -> Session:
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        now = self.d.clock.now()
        expires_at = now + timedelta(seconds=self.d.limits.token_ttl_s)  # a signed token keeps its whole seconds
        digest = token_digest(secret)
        await self.d.store.write(lambda tx: tx.add_token(token_id, digest, user_id, expires_at, now))
        if self.signer is not None:  # the row stays: the session is listed and pruned like any other
            return Session((await self.signer.ready()).make(user_id, token_id, expires_at), user_id, expires_at)
        # Known good: the first request with it needs no store read (in this process).
        self._tokens.put(f"{token_id}.{digest.hex()}", (user_id, expires_at, time.monotonic() + TOKEN_CACHE_S))
        return Session(f"{token_id}.{secret}", user_id, expires_at)

    async def authenticate(self, token: str) -> int:
        """The user id a bearer token stands for; Unauthorized if it is unknown, wrong or expired."""
        user_id = await self._token_user(token)
        if self.worlds is not None:
            # A session is had only by logging in with a password, and a host's users have none (hosts.NO_PASSWORD):
            # its user is of hongbao's own world, which the world checks then know without a read (service/worlds.py).
            self.worlds.learn(user_id, OWN)
        return user_id

    async def me(self, user_id: int) -> MeRow:
        """A user as they see themselves (GET /v1/me): who, and their roles; one lookup."""
        found = await self.d.store.look(lambda q: q.me(user_id))
        if found is None:
            raise NotFound("No such user.", code="user_not_found")
        return found

    async def authenticate_kept(self, token: str) -> tuple[int, Signed | None]:
        """As authenticate, and a signed token's claims: a caller that keeps the token (a WebSocket sending many
        shakes on one) checks them again with `authenticate_claims`, without the signature's cost each time."""
        if is_signed(token) and self.signer is not None and self.revocations is not None:
            signed = (await self.signer.ready()).read(token, self.d.clock.now())
            if signed is None:
                raise Unauthorized("Invalid or expired token.", code="token_invalid")
            return await self.authenticate_claims(signed), signed
        return await self.authenticate(token), None

    async def authenticate_claims(self, signed: Signed) -> int:
        """The user of a signed token whose signature was checked (`authenticate_kept`): refused once it expires or
        its session is logged out, as `authenticate` refuses the token itself."""
        user_id = await self._claims_user(signed)
        if self.worlds is not None:
            self.worlds.learn(user_id, OWN)  # as authenticate does: a session's user is of hongbao's own world
        return user_id

    async def _claims_user(self, signed: Signed) -> int:
        assert self.revocations is not None, "signed tokens need the revocation list"
        if signed.expires_at <= self.d.clock.now():
            raise Unauthorized("Invalid or expired token.", code="token_invalid")
        if await self.revocations.is_revoked(signed.token_id):
            raise Unauthorized("This session was logged out.", code="token_invalid")
        return signed.user_id

    async def _token_user(self, token: str) -> int:
        if is_signed(token) and self.signer is not None and self.revocations is not None:
            signed = (await self.signer.ready()).read(token, self.d.clock.now())
            if signed is None:
                raise Unauthorized("Invalid or expired token.", code="token_invalid")
            return await self._claims_user(signed)
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
        if is_signed(token) and self.signer is not None and self.revocations is not None:
            signed = (await self.signer.ready()).read(token, self.d.clock.now())
            if signed is not None:
                await self.d.store.write(lambda tx: tx.revoke_token(signed.token_id, signed.expires_at))
                self.revocations.forget_here(signed.token_id)
            return
        token_id, _, secret = token.partition(".")
        self._tokens.pop(f"{token_id}.{token_digest(secret).hex()}")
        await self.d.store.write(lambda tx: tx.delete_token(token_id))


def _clean_username(value: object) -> str:
    if not isinstance(value, str) or not USERNAME_RE.match(value.strip().lower()):
        raise Rejected("username: 3–32 of a–z, 0–9 and _.", code="invalid_username")
    return value.strip().lower()


def _device_sig(nonce: str, user_id: int, password_hash: str) -> str:
    mac = hmac.new(password_hash.encode(), f"device:{user_id}:{nonce}".encode(), hashlib.sha256)
    return mac.hexdigest()[:DEVICE_SIG_CHARS]


def _device_nonce(device: str, user_id: int, password_hash: str) -> str | None:
    """The nonce of a device token that this user's current password signed, else None."""
    if not DEVICE_RE.fullmatch(device):
        return None
    nonce, _, sig = device.partition(".")
    return nonce if hmac.compare_digest(sig, _device_sig(nonce, user_id, password_hash)) else None


def _clean_display_name(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 64 or not value.isprintable():
        raise Rejected("display_name: 1–64 printable characters.", code="invalid_display_name")
    return value.strip()
