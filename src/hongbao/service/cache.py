"""The bounded cache the use cases import from here; it lives in hongbao/cache.py, where adapters reach it too."""

from hongbao.cache import Lru

__all__ = ["Lru"]
