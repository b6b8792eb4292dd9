"""Tables of conversations and messages, on the shared metadata of schema.py."""

from __future__ import annotations

from hongbao.adapters.sql.schema import metadata  # noqa: F401
