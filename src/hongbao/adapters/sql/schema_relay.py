"""Tables of relay chains, asks and transfers, on the shared metadata of schema.py."""

from __future__ import annotations

from hongbao.adapters.sql.schema import metadata  # noqa: F401
