"""Tables of face-to-face, password and celebrity packets and share links, on the shared metadata of schema.py."""

from __future__ import annotations

from hongbao.adapters.sql.schema import metadata  # noqa: F401
