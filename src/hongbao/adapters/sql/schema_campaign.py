"""Tables of enterprise campaigns, coupons, shake events and nearby merchants, on the shared metadata of schema.py."""

from __future__ import annotations

from hongbao.adapters.sql.schema import metadata  # noqa: F401
