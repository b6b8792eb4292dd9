"""A bounded in-process cache, for the gates, the token check and the use cases' small memories.

It belongs to neither layer, so adapters use it without importing the service layer."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A bounded dict that forgets the least recently used entry."""

    def __init__(self, size_max: int) -> None:
        self.size_max = size_max
        self._d: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._d.get(key)
        if value is not None:
            self._d.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._d[key] = value
        self._d.move_to_end(key)
        while len(self._d) > self.size_max:
            self._d.popitem(last=False)

    def pop(self, key: K) -> None:
        self._d.pop(key, None)
