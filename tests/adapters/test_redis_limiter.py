"""The Redis failure limiter (scaled mode): processes sharing one Redis share every window, and a Redis that cannot
be reached refuses guesses instead of letting them through uncounted.  Needs the real Redis at 127.0.0.1:6379."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from hongbao.adapters.redis_limiter import PREFIX, RedisLimiters
from hongbao.api.app import create_app
from hongbao.bootstrap import build
from hongbao.domain.errors import TooManyRequests, Unavailable
from hongbao.service.guesses import Guesses
from tests.api.conftest import PASSWORD, TestClient, assert_problem
from tests.conftest import fast_settings, service_missing

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        service_missing("Redis", str(exc))
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    mine = f"hongbao:test:{uuid.uuid4().hex}:"
    yield mine
    for key in redis_client.scan_iter(match=mine + "*"):
        redis_client.delete(key)


def process(prefix: str) -> RedisLimiters:
    """The limiters one API process would build from the same redis_url.  The socket timeout is raised from the
    shipped 0.1 s: these tests check what is counted, and a loaded CI machine once took longer than that."""
    return RedisLimiters(REDIS_URL, prefix=prefix, timeout_s=2.0)


def test_two_processes_sharing_redis_count_each_others_failures(prefix: str) -> None:
    first, second = process(prefix)("login", 10, 900.0), process(prefix)("login", 10, 900.0)

    for attempt in range(10):
        limiter = first if attempt % 2 == 0 else second
        limiter.check("alice")
        limiter.failed("alice")

    with pytest.raises(TooManyRequests):
        first.check("alice")
    with pytest.raises(TooManyRequests):
        second.check("alice")
    assert second.check("bob") == 0  # another key is untouched


def test_limiters_of_different_names_keep_apart_in_one_redis(prefix: str) -> None:
    limiters = process(prefix)
    login, redeem = limiters("login", 1, 900.0), limiters("redeem", 1, 900.0)

    login.failed("alice")

    with pytest.raises(TooManyRequests):
        login.check("alice")
    assert redeem.check("alice") == 0


def test_failures_age_out_of_the_window(prefix: str) -> None:
    limiter = process(prefix)("login", 2, 1.0)
    limiter.failed("alice")
    limiter.failed("alice")
    with pytest.raises(TooManyRequests):
        limiter.check("alice")

    time.sleep(1.1)

    assert limiter.check("alice") == 0


def test_a_success_clears_the_failures_for_every_process(prefix: str, redis_client: redis.Redis) -> None:
    first, second = process(prefix)("login", 2, 900.0), process(prefix)("login", 2, 900.0)
    first.failed("alice")
    first.failed("alice")

    second.succeeded("alice")

    assert first.check("alice") == 0
    assert list(redis_client.scan_iter(match=prefix + "*")) == []


def test_a_window_expires_from_redis_after_its_last_failure(prefix: str, redis_client: redis.Redis) -> None:
    process(prefix)("login", 10, 900.0).failed("alice")

    ttl_ms = redis_client.pttl(prefix + "login:alice")

    assert 0 < ttl_ms <= 900_000


class Counted(RedisLimiters):
    """The limiters of one process, counting the scripts they run (each is one round trip to Redis)."""

    runs = 0

    def run(self, script: Any, key: str, *args: object) -> Any:
        self.runs += 1
        return super().run(script, key, *args)


def test_take_checks_and_counts_in_one_round_trip_shared_by_processes(
    prefix: str, redis_client: redis.Redis
) -> None:
    first_process, second_process = Counted(REDIS_URL, prefix=prefix), Counted(REDIS_URL, prefix=prefix)
    first, second = first_process("host_rate:1", 3, 60.0), second_process("host_rate:1", 3, 60.0)

    first.take("1")
    second.take("1")
    first.take("1")
    with pytest.raises(TooManyRequests) as refused:
        second.take("1")

    assert (first_process.runs, second_process.runs) == (2, 2)  # one script a take, refused or not
    assert refused.value.retry_after_s is not None and 1 <= refused.value.retry_after_s <= 61
    assert redis_client.zcard(prefix + "host_rate:1:1") == 3  # the refused request counted nothing
    assert 0 < redis_client.pttl(prefix + "host_rate:1:1") <= 60_000


def test_an_unreachable_redis_refuses_guesses_with_a_503() -> None:
    limiter = RedisLimiters("redis://127.0.0.1:1/0")("login", 10, 900.0)

    with pytest.raises(Unavailable) as checked:
        limiter.check("alice")
    with pytest.raises(Unavailable) as failed:
        limiter.failed("alice")

    assert (checked.value.status, checked.value.code) == (503, "limiter_unavailable")
    assert failed.value.code == "limiter_unavailable"
    limiter.succeeded("alice")  # a success that cannot be recorded leaves the failures counted: no error


def test_two_apps_with_one_redis_url_share_the_login_lockout(redis_client: redis.Redis, tmp_path: Path) -> None:
    name = f"lock_{uuid.uuid4().hex[:12]}"
    settings = fast_settings(database_url=f"sqlite:///{tmp_path / 'hongbao.db'}", data_dir=tmp_path,
                             redis_url=REDIS_URL, redis_prefix=f"hongbao:test:{name}:")  # this database's own
    first_app, second_app = build(settings), build(settings)
    try:
        # A client address of this test's own: wrong passwords also count per address (login:address:…).
        with TestClient(create_app(first_app, scheduler=False), client=(name, 50000)) as first, \
                TestClient(create_app(second_app, scheduler=False), client=(name, 50000)) as second:
            assert first.post("/v1/users", json={"username": name, "password": PASSWORD}).status_code == 201
            for attempt in range(10):
                client = first if attempt % 2 == 0 else second
                wrong = client.post("/v1/sessions", json={"username": name, "password": "wrong password!"})
                assert_problem(wrong, 401, "bad_credentials")

            locked = second.post("/v1/sessions", json={"username": name, "password": PASSWORD})

            assert_problem(locked, 429, "too_many_attempts")
    finally:
        first_app.close()
        second_app.close()
        redis_client.delete(f"{PREFIX}login:{name}", f"{PREFIX}login:address:{name}", f"{settings.redis_prefix}owner")


def test_an_app_whose_redis_is_unreachable_refuses_logins_with_a_503_problem(tmp_path: Path) -> None:
    settings = fast_settings(database_url=f"sqlite:///{tmp_path / 'hongbao.db'}", data_dir=tmp_path,
                             redis_url="redis://127.0.0.1:1/0")
    app = build(settings)
    try:
        with TestClient(create_app(app, scheduler=False)) as client:
            refused = client.post("/v1/sessions", json={"username": "alice", "password": PASSWORD})

            assert_problem(refused, 503, "limiter_unavailable")
    finally:
        app.close()


def test_code_guesses_through_two_processes_share_one_per_user_limit(prefix: str) -> None:
    first, second = Guesses(3, 50, 900.0, process(prefix)), Guesses(3, 50, 900.0, process(prefix))
    for guesses in (first, second, first):
        guesses.begin(7, "10.0.0.1")
        guesses.end(7, "10.0.0.1", failed=True)

    with pytest.raises(TooManyRequests):
        second.begin(7, "10.0.0.2")
    second.begin(8, "10.0.0.2")  # another user is untouched
