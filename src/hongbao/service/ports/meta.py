"""What the install's settings kept in the store need: the `meta` table's values by key."""

from __future__ import annotations

from typing import Protocol


class Meta(Protocol):
    def meta_get_or_add(self, key: str, value: str) -> str:
        """The value stored under `key`, storing `value` first if there is none (one writer wins a race)."""
        ...
