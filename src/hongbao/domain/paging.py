"""Page sizes of the lists the service answers a page at a time."""

from __future__ import annotations

from hongbao.domain.errors import Rejected


def check_limit(limit: object, limit_max: int) -> int:
    """A page size: a whole number from 1 to `limit_max` (a bool is not a number here); else 422 invalid_limit."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= limit_max:
        raise Rejected(f"limit is a whole number from 1 to {limit_max}.", code="invalid_limit")
    return limit
