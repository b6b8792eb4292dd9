"""The install's secret key, for code and phrase digests and sealed secrets, with older peppers kept for reading.

The key is random per install (stored in `meta`) and peppered by HONGBAO_SECRET_PEPPER, which lives outside the
database.  A rotated pepper moves to HONGBAO_SECRET_PEPPER_PREVIOUS: the keys it gives are used only to match
digests and open seals made before the rotation; every new digest and seal uses the current key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hongbao.service.ports import Store
    from hongbao.service.ports.meta import Meta

META_KEY = "open_secret_key"


def parse_peppers(text: str | None) -> tuple[str, ...]:
    """HONGBAO_SECRET_PEPPER_PREVIOUS: comma-separated peppers, newest first; blanks are ignored."""
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


class InstallKey:
    """The current key first, then one per previous pepper (for reading only)."""

    def __init__(self, store: Store, pepper: str | None, previous: Sequence[str] = ()) -> None:
        self.store = store
        self.pepper = pepper
        self.previous = tuple(p for p in dict.fromkeys(previous) if p and p != pepper)
        self._keys: tuple[bytes, ...] | None = None

    def _job(self, tx: Meta) -> str:
        return tx.meta_get_or_add(META_KEY, secrets.token_hex(32))

    def _derive(self, stored: str) -> tuple[bytes, ...]:
        raw = bytes.fromhex(stored)

        def peppered(pepper: str | None) -> bytes:
            return hmac.new(pepper.encode(), raw, hashlib.sha256).digest() if pepper else raw

        self._keys = tuple(peppered(p) for p in (self.pepper, *self.previous))
        return self._keys

    async def ensure_all(self) -> tuple[bytes, ...]:
        """Every key, the current one first (loaded on first use)."""
        return self._keys or self._derive(await self.store.write(self._job))

    async def ensure(self) -> bytes:
        """The current key: the only one new digests and seals are made with."""
        return (await self.ensure_all())[0]

    def all(self) -> tuple[bytes, ...]:
        """Every key, loaded synchronously on first use (the async paths call `ensure` first)."""
        return self._keys or self._derive(self.store.write_sync(self._job))

    def get(self) -> bytes:
        return self.all()[0]
