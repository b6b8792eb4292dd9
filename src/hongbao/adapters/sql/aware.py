"""Datetimes read back from the store, made aware UTC (SQLite hands back naive ones)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every datetime in hongbao is aware UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    """`utc` of a nullable column."""
    return None if value is None else utc(value)
