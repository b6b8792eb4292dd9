"""A Redis prefix is one database's: the gate's keys name packets by id alone, so a process of a fresh or recreated
database started on the keys of another (packet 1 again) had every open refused as taken by packets not its own
(seen while measuring: a new PostgreSQL database behind the previous run's Redis keys, 0 of 2,000 opens won).  Such
a process now refuses to start, and says which setting to change."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis

from hongbao.adapters.redis_shared import PrefixTaken, connect
from hongbao.bootstrap import build
from hongbao.config import Settings
from tests.conftest import fast_settings


def _settings(folder: Path, redis_url: str, prefix: str) -> Settings:
    folder.mkdir(exist_ok=True)
    return fast_settings(database_url=f"sqlite:///{folder / 'hongbao.db'}", data_dir=folder, redis_url=redis_url,
                         redis_prefix=prefix)


def test_a_process_does_not_start_on_another_databases_redis_prefix(redis_url: str, tmp_path: Path) -> None:
    prefix = f"hongbao:test:{uuid.uuid4().hex[:10]}:"
    first, other = _settings(tmp_path / "first", redis_url, prefix), _settings(tmp_path / "other", redis_url, prefix)
    client: redis.Redis = connect(redis_url)  # type: ignore[assignment]
    try:
        # Two processes of one database share the prefix
        for app in (build(first), build(first)):
            app.close()

        # A process of another database is refused, with the setting to change and the key that says whose it is
        with pytest.raises(PrefixTaken) as taken:
            build(other)
        assert prefix in str(taken.value) and "HONGBAO_REDIS_PREFIX" in str(taken.value)
        assert f"{prefix}owner" in str(taken.value)
        build(first).close()  # the owner's processes still start

        # Once that database's keys are gone (Redis lost them, or an operator deleted them), the other may take it
        client.delete(f"{prefix}owner")
        build(other).close()
        with pytest.raises(PrefixTaken):
            build(first)
    finally:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
        client.close()
