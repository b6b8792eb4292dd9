"""Fixtures of the social tests: the HTTP client and user factory of tests/api, on both stores."""

from __future__ import annotations

from tests.api.conftest import client, new_user

__all__ = ["client", "new_user"]
