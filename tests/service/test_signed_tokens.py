"""Signed session tokens (service/tokens.py), on SQLite and PostgreSQL: checked with no database read, refused when
forged, altered or expired, logged out for every process, still valid across a pepper rotation; first-format
tokens keep working."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from hongbao.bootstrap import App, build
from hongbao.domain.errors import HongbaoError
from hongbao.service.users import token_digest
from tests.conftest import FrozenClock, fast_settings
from tests.service.helpers import PASSWORD, register


def login(app: App, name: str) -> str:
    return asyncio.run(app.users.login(name, PASSWORD)).token


def refused(app: App, token: str) -> str:
    with pytest.raises(HongbaoError) as info:
        asyncio.run(app.users.authenticate(token))
    return info.value.code


PEPPER = "a pepper kept outside the database"


@pytest.fixture
def hb(store_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[App]:
    """An App with a pepper, as scaled installs run: its tokens are signed on SQLite and PostgreSQL alike."""
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path, secret_pepper=PEPPER), clock=clock)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def other_process(store_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[App]:
    """A second App on the same database: another API process, with nothing of the first one's memory."""
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path, secret_pepper=PEPPER,
                              token_revocation_poll_s=0.0), clock=clock)
    try:
        yield app
    finally:
        app.close()


def reads_during(app: App, work: object) -> list[str]:
    """The SELECT statements the store ran while `work` ran (BEGIN and the like are not reads)."""
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(app.store.engine, "before_cursor_execute", count)
    try:
        asyncio.run(work)  # type: ignore[arg-type]
    finally:
        event.remove(app.store.engine, "before_cursor_execute", count)
    return [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]


def test_a_new_process_checks_a_hundred_unseen_tokens_with_no_read_but_the_revocation_list(
    hb: App, other_process: App
) -> None:
    names = [f"user_{i}" for i in range(100)]
    ids = register(hb, *names)
    tokens = [login(hb, n) for n in names]
    other_process.users.revocations.poll_s = 3600.0  # type: ignore[union-attr]

    async def check_all() -> list[int]:
        return [await other_process.users.authenticate(t) for t in tokens]

    asyncio.run(other_process.users.signer.ready())  # type: ignore[union-attr]  # the install key, once per process
    reads = reads_during(other_process, check_all())

    assert len(reads) == 1 and "token_revocations" in reads[0]  # its first look at the list; then none at all
    assert asyncio.run(check_all()) == ids


def test_a_logout_in_one_process_is_refused_by_another(hb: App, other_process: App) -> None:
    (alice,) = register(hb, "alice")
    token = login(hb, "alice")
    assert asyncio.run(other_process.users.authenticate(token)) == alice

    asyncio.run(hb.users.logout(token))

    assert refused(hb, token) == "token_invalid"  # at once where it was logged out
    assert refused(other_process, token) == "token_invalid"  # at its next look (poll 0 s here)
    asyncio.run(hb.users.logout(token))  # twice is fine
    assert asyncio.run(hb.users.authenticate(login(hb, "alice"))) == alice  # a new login works


def test_forged_altered_and_expired_tokens_are_refused(hb: App, clock: FrozenClock) -> None:
    register(hb, "alice", "mallory")
    token = login(hb, "alice")
    version, user, tid, expires, sig = token.split(".")
    mallory = int(register(hb, "eve")[0])

    assert refused(hb, f"{version}.{mallory}.{tid}.{expires}.{sig}") == "token_invalid"  # someone else's id
    assert refused(hb, f"{version}.{user}.{tid}.{int(expires) + 86400}.{sig}") == "token_invalid"  # longer life
    assert refused(hb, f"{version}.{user}.{tid}.{expires}.{'A' * 22}") == "token_invalid"
    assert refused(hb, "v2.1.2.3.4") == "token_invalid"
    signer = asyncio.run(hb.users.signer.ready())  # type: ignore[union-attr]
    forever = signer.make(int(user), tid, clock.now().replace(year=clock.now().year + 5))
    assert refused(hb, forever) == "token_invalid"  # a genuine signature, a lifetime no token of ours has
    assert refused(hb, forever) == "token_invalid"  # a refused token is not remembered as checked
    assert [asyncio.run(hb.users.authenticate(token)) for _ in range(2)] == [int(user)] * 2  # the 2nd from memory
    clock.advance(days=8)
    assert refused(hb, token) == "token_invalid"  # past its expiry (7 days), though its signature was checked before


def test_tokens_signed_before_a_pepper_rotation_still_work(store_url: str, clock: FrozenClock, tmp_path: Path) -> None:
    before = build(fast_settings(database_url=store_url, data_dir=tmp_path, secret_pepper="old"), clock=clock)
    try:
        (alice,) = register(before, "alice")
        token = login(before, "alice")
    finally:
        before.close()
    rotated = build(fast_settings(database_url=store_url, data_dir=tmp_path, secret_pepper="new",
                                  secret_pepper_previous="old"), clock=clock)
    dropped = build(fast_settings(database_url=store_url, data_dir=tmp_path, secret_pepper="new"), clock=clock)
    try:
        assert asyncio.run(rotated.users.authenticate(token)) == alice
        assert refused(dropped, token) == "token_invalid"  # the old pepper dropped: a clear 401, log in again
        assert login(rotated, "alice").startswith("v2.")
    finally:
        rotated.close()
        dropped.close()


def test_a_first_format_token_from_before_the_upgrade_still_works(hb: App, clock: FrozenClock) -> None:
    (alice,) = register(hb, "alice")
    secret = "s" * 43
    now = clock.now()
    hb.store.write_sync(lambda tx: tx.add_token("0123456789abcdef", token_digest(secret), alice,
                                                now.replace(year=now.year + 1), now))
    old = f"0123456789abcdef.{secret}"

    assert asyncio.run(hb.users.authenticate(old)) == alice
    asyncio.run(hb.users.logout(old))
    assert refused(hb, old) == "token_invalid"


def test_without_a_pepper_the_embedded_server_signs_with_a_key_file_the_database_does_not_hold(
    tmp_path: Path, clock: FrozenClock
) -> None:
    url = f"sqlite:///{tmp_path / 'hongbao.db'}"
    first = build(fast_settings(database_url=url, data_dir=tmp_path), clock=clock)
    try:
        (alice,) = register(first, "alice")
        token = login(first, "alice")
    finally:
        first.close()
    restarted = build(fast_settings(database_url=url, data_dir=tmp_path), clock=clock)
    try:
        key_file = tmp_path / "session-token.key"
        assert token.startswith("v2.") and key_file.stat().st_mode & 0o777 == 0o600
        assert asyncio.run(restarted.users.authenticate(token)) == alice  # the same key after a restart
        stored = restarted.store.read_sync(lambda tx: tx.meta_get("open_secret_key"))
        assert stored is None or bytes.fromhex(stored) != key_file.read_bytes()
    finally:
        restarted.close()


@pytest.mark.postgres
def test_postgresql_without_a_pepper_keeps_first_format_tokens(pg_database: str, clock: FrozenClock,
                                                               tmp_path: Path) -> None:
    from tests.conftest import _reset_postgres

    _reset_postgres(pg_database)
    app = build(fast_settings(database_url=pg_database, data_dir=tmp_path), clock=clock)
    try:
        (alice,) = register(app, "alice")
        token = login(app, "alice")
        assert not token.startswith("v2.")  # the install key is in the database: signing with it would be forgeable
        assert asyncio.run(app.users.authenticate(token)) == alice
    finally:
        app.close()


def test_a_token_is_checked_by_the_app_clock_not_the_wall_clock(tmp_path: Path) -> None:
    """The TTL cap ("no token lives longer than one made now") reads the App's clock, as the expiry does: a clock
    a year ahead of the wall (the simulator's, after its jumps) must not refuse the tokens it just made."""
    ahead = FrozenClock(datetime.now(UTC) + timedelta(days=365))
    app = build(fast_settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", data_dir=tmp_path), clock=ahead)
    try:
        register(app, "ahead")
        token = login(app, "ahead")
        assert asyncio.run(app.users.authenticate(token)) > 0
        ahead.advance(days=6)  # still within the TTL
        assert asyncio.run(app.users.authenticate(token)) > 0
        ahead.advance(days=2)  # past it
        assert refused(app, token) == "token_invalid"
    finally:
        app.close()
