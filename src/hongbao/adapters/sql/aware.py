"""Datetimes in the store are aware UTC: written as UTC on both stores, read back aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every datetime in hongbao is aware UTC."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    """`utc` of a nullable column."""
    return None if value is None else utc(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp column that means the same instant on SQLite and PostgreSQL.

    SQLite has no time zone type: SQLAlchemy writes a datetime's wall-clock digits and drops its offset, so
    `10:00+08:00` was stored as 10:00 and read back as 10:00 UTC, eight hours late, and SQL comparisons
    (`ends_at > :now`) were off by as much. Every value is turned into UTC before it is written or compared
    (a naive one is taken as UTC already), and read back aware UTC; on PostgreSQL (`timestamptz`) this
    changes nothing but the reader's time zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return utc(value) if isinstance(value, datetime) else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return utc(value) if isinstance(value, datetime) else value
