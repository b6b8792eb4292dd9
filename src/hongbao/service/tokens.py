"""Session tokens checked in memory: signed with the install's key, revoked through a deny-list every process reads.

A token is `v2.<user id>.<token id>.<expires, unix s>.<signature>`, the signature an HMAC-SHA256 (128 bits) of the
rest under a key that the database alone does not give away (a dump, a replica or an injected query must not let
anyone sign in as anyone): with HONGBAO_SECRET_PEPPER set, a key derived from the peppered install key
(`install_key.py`), so rotating the pepper rotates it and tokens signed before keep working while the old pepper is
listed as previous; embedded without a pepper, a random key in a file of the data folder, beside the database but not
in it; PostgreSQL without a pepper keeps the first-format tokens below.  Checking one costs no database read:
a storm of users whose tokens no process has seen before (a restart, a new process, an hour idle) is answered from
memory.  Logout writes the token id to `token_revocations`; the process that logs out forgets the token at once,
and every other process reads what was revoked since its last look once `poll_s` has passed: in the background
while its list is younger than `poll_s * 4`, waiting for the read past that (one small read per process per
`poll_s`, not one per request).

Tokens of the first format (`<id>.<secret>`, checked against the `tokens` table) keep working until they expire.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hongbao.cache import Lru

if TYPE_CHECKING:
    from hongbao.service.install_key import InstallKey
    from hongbao.service.ports import Store

PREFIX = "v2"
SIG_BYTES = 16  # 128 bits
CHECKED_MAX = 65_536  # tokens whose signature this process checked, remembered (~25 MB at most)
STALE_FACTOR = 4  # past poll_s a request reads in the background; past poll_s * 4 it waits for the read
log = logging.getLogger(__name__)
TOKEN_RE = re.compile(r"v2\.([1-9][0-9]{0,18})\.([0-9a-f]{16})\.([0-9]{1,12})\.([A-Za-z0-9_-]{22})")


@dataclass(frozen=True)
class Signed:
    """What a signed token says: who, which token (for revocation), and until when."""

    user_id: int
    token_id: str
    expires_at: datetime


class TokenSigner:
    """Makes and checks signed tokens with its keys (the current one first, then older ones, for checking only)."""

    def __init__(self, keys: Callable[[], Awaitable[tuple[bytes, ...]]], ttl_s: float) -> None:
        self._source = keys
        self.ttl_s = ttl_s  # no genuine token lives longer: a later expiry is a forgery, whatever its signature
        self._keys_derived: tuple[bytes, ...] | None = None
        self._load: tuple[asyncio.AbstractEventLoop, asyncio.Future[tuple[bytes, ...]]] | None = None
        # A token's claims once its signature checked out: a client's next requests skip the HMAC and the parsing
        # (~8 % of a refused open's CPU).  Only good tokens are kept; expiry and logout are the caller's, each time.
        self._checked: Lru[str, Signed] = Lru(CHECKED_MAX)

    @classmethod
    def peppered(cls, install_key: InstallKey, ttl_s: float) -> TokenSigner:
        """Keys from the peppered install key (HONGBAO_SECRET_PEPPER set): every process with the pepper agrees."""
        return cls(install_key.ensure_all, ttl_s)

    @classmethod
    def from_file(cls, path: Path, ttl_s: float) -> TokenSigner:
        """A random key kept in `path` (made on first use, readable by its owner only): the embedded server's."""

        async def load() -> tuple[bytes, ...]:
            return (await asyncio.to_thread(_file_key, path),)

        return cls(load, ttl_s)

    async def ready(self) -> TokenSigner:
        """Load the install key on first use (one store write, once per process, however many ask at once)."""
        if self._keys_derived is None:
            raw = await asyncio.shield(self._loading())
            self._keys_derived = tuple(hmac.new(k, b"hongbao session token v2", hashlib.sha256).digest() for k in raw)
        return self

    def _loading(self) -> asyncio.Future[tuple[bytes, ...]]:
        loop = asyncio.get_running_loop()
        failed = self._load is not None and self._load[1].done() and (
            self._load[1].cancelled() or self._load[1].exception() is not None)
        if self._load is None or self._load[0] is not loop or failed:  # a new event loop, or the last load failed
            self._load = (loop, asyncio.ensure_future(self._source()))
        return self._load[1]

    def _keys(self) -> tuple[bytes, ...]:
        assert self._keys_derived is not None, "await ready() first"
        return self._keys_derived

    def make(self, user_id: int, token_id: str, expires_at: datetime) -> str:
        body = f"{PREFIX}.{user_id}.{token_id}.{int(expires_at.timestamp())}"
        return f"{body}.{_sign(self._keys()[0], body)}"

    def read(self, token: str, now: datetime) -> Signed | None:
        """The token's claims if its signature is one of ours, else None (forged, altered or not a v2 token, or
        one claiming a longer life than a token made `now` gets).  `now` is the caller's clock, as the expiry
        check beside it uses: the wall clock here refused every token of a simulation run ahead of it."""
        checked = self._checked.get(token)
        if checked is not None:  # its life was no longer than allowed then, so it is not now, a later `now`
            return checked
        m = TOKEN_RE.fullmatch(token)
        if m is None:
            return None
        body = token.rpartition(".")[0]
        if not any(hmac.compare_digest(_sign(key, body), m.group(4)) for key in self._keys()):
            return None
        expires = int(m.group(3))
        if expires > now.timestamp() + self.ttl_s + 60:
            return None
        signed = Signed(int(m.group(1)), m.group(2), datetime.fromtimestamp(expires, UTC))
        self._checked.put(token, signed)
        return signed


def is_signed(token: str) -> bool:
    return token.startswith(PREFIX + ".")


def _file_key(path: Path) -> bytes:
    """The 32-byte key in `path`, made first if missing (by one process: O_EXCL; the others read what it wrote)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it right now
            key = path.read_bytes()
            if len(key) == 32:
                return key
            time.sleep(0.01)
        raise RuntimeError(
            f"{path}: not a 32-byte session key; delete it to make a new one (everyone logs in again)"
        ) from None
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def _sign(key: bytes, body: str) -> str:
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()[:SIG_BYTES]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


class Revocations:
    """The token ids logged out, as this process last read them (at most `poll_s * STALE_FACTOR` ago when trusted)."""

    def __init__(self, store: Store, poll_s: float) -> None:
        self.store = store
        self.poll_s = poll_s
        self._ids: set[str] = set()
        self._last_id = 0
        self._read_at = float("-inf")
        self._reading: asyncio.Task[None] | None = None  # the one read in flight, shared by whoever needs it
        # Scaled mode: tells the other processes at once (through Redis); the list read every poll stays the truth.
        self.announce: Callable[[str], None] | None = None

    async def is_revoked(self, token_id: str) -> bool:
        age = time.monotonic() - self._read_at
        if age >= self.poll_s:
            reading = self._reading
            # A read under way is left to finish without asking for the running loop (in 3.11 each ask is a getpid
            # system call, on every request while a read is slow); one of another loop is replaced once stale.
            if reading is None or reading.done() or age >= self.poll_s * STALE_FACTOR:
                reading = self._read_soon()
            if age >= self.poll_s * STALE_FACTOR:  # never read, or the reads failed for a while: wait for one
                # shield: a request given up (client gone) must not cancel the read others wait for
                await asyncio.shield(reading)
            # else answer from the list as it is, read under `poll_s * STALE_FACTOR` ago (making a storm of
            # requests wait for each read cost 3x their own check)
        return token_id in self._ids

    async def load(self) -> None:
        """Read what is new now and wait for it (a server does at start, before the first request)."""
        await asyncio.shield(self._read_soon())

    def forget_here(self, token_id: str) -> None:
        """This process revoked it: refuse it at once, before the next read, and tell the others."""
        self._ids.add(token_id)
        if self.announce is not None:
            self.announce(token_id)

    def forget_told(self, token_id: str) -> None:
        """Another process revoked it and said so: refuse it at once (any thread; a set add is atomic)."""
        self._ids.add(token_id)

    def _read_soon(self) -> asyncio.Task[None]:
        loop = asyncio.get_running_loop()
        if self._reading is None or self._reading.done() or self._reading.get_loop() is not loop:
            self._reading = loop.create_task(self._read())
            self._reading.add_done_callback(_quiet)
        return self._reading

    async def _read(self) -> None:
        started = time.monotonic()
        last, ids = await self.store.read(lambda tx: tx.revoked_tokens_since(self._last_id))
        self._ids.update(ids)
        self._last_id = max(self._last_id, last)
        self._read_at = started


def _quiet(task: asyncio.Task[None]) -> None:
    """A background read's failure is logged; the next request past the staleness bound waits and sees it."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("reading token revocations failed: %s", task.exception())
