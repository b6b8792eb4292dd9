"""Login throttling (service/users.py): per client address and per account, without locking the owner out.

Each test runs with the in-process limiters and with the Redis ones (the real Redis at 127.0.0.1:6379); names
and client addresses are unique per test, and their Redis keys are deleted afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from tests.api.conftest import PASSWORD, TestClient, assert_problem
from tests.conftest import fast_settings, service_missing

from hongbao.adapters.redis_limiter import PREFIX
from hongbao.api.app import create_app
from hongbao.api.routes.users import DEVICE_COOKIE
from hongbao.bootstrap import App, build

REDIS_URL = "redis://127.0.0.1:6379/0"
PER_ADDRESS, PER_ACCOUNT, PER_DEVICE = 5, 3, 3
WRONG = "not the password"


class World:
    """One app, and a client per address (each with its own cookie jar, like separate devices)."""

    def __init__(self, app: App, tag: str) -> None:
        self.app = app
        self.tag = tag
        self.clients: list[TestClient] = []
        self.names: list[str] = []
        self.addresses: list[str] = []
        self.devices: set[str] = set()  # every device token handed out, so their Redis keys can be deleted

    def name(self, who: str) -> str:
        name = f"{who}_{self.tag}"
        self.names.append(name)
        return name

    def device(self, address: str) -> TestClient:
        """A new device (empty cookie jar) at this client address."""
        self.addresses.append(address)
        client = TestClient(create_app(self.app, scheduler=False), client=(address, 50000))
        client.__enter__()
        client.event_hooks["response"].append(self._note_device)
        self.clients.append(client)
        return client

    def _note_device(self, response: httpx.Response) -> None:
        if "hongbao-device" in response.headers:
            self.devices.add(response.headers["hongbao-device"].partition(".")[0])

    def close(self) -> None:
        for client in self.clients:
            client.__exit__(None, None, None)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    shared = request.param == "redis"
    keys: redis.Redis | None = None
    if shared:
        keys = redis.Redis.from_url(REDIS_URL, socket_timeout=1.0)
        try:
            keys.ping()
        except redis.RedisError as exc:
            keys.close()
            service_missing("Redis", str(exc))
    settings = fast_settings(
        database_url=f"sqlite:///{tmp_path / 'hongbao.db'}", data_dir=tmp_path,
        redis_url=REDIS_URL if shared else None,
        redis_prefix=f"hongbao:test:{uuid.uuid4().hex[:10]}:",  # this database's own (the shared Redis is shared)
        login_failures_max_per_address=PER_ADDRESS, login_failures_max_per_account=PER_ACCOUNT,
        login_failures_max_per_device=PER_DEVICE,
    )
    app = build(settings)
    made = World(app, uuid.uuid4().hex[:10])
    try:
        yield made
    finally:
        made.close()
        app.close()
        if keys is not None:
            for name in made.names:
                keys.delete(f"{PREFIX}login:{name}")
            for address in made.addresses:
                keys.delete(f"{PREFIX}login:address:{address}")
            for nonce in made.devices:
                keys.delete(f"{PREFIX}login:device:{nonce}")
            keys.delete(f"{settings.redis_prefix}owner")
            keys.close()


def login(client: TestClient, name: str, password: str, device: str | None = None) -> httpx.Response:
    headers = {"Hongbao-Device": device} if device else {}
    return client.post("/v1/sessions", json={"username": name, "password": password}, headers=headers)


def register(client: TestClient, name: str) -> None:
    assert client.post("/v1/users", json={"username": name, "password": PASSWORD}).status_code == 201


def assert_throttled(response: httpx.Response) -> None:
    assert_problem(response, 429, "too_many_attempts")
    assert int(response.headers["retry-after"]) > 0


def test_one_address_trying_many_usernames_is_throttled_and_others_are_not(world: World) -> None:
    # given an attacker at one address trying a different username each time
    attacker = world.device(f"10.0.0.1-{world.tag}")
    owner_name = world.name("owner")
    register(attacker, owner_name)
    for i in range(PER_ADDRESS):
        assert_problem(login(attacker, world.name(f"guess{i}"), WRONG), 401, "bad_credentials")

    # when the same address tries again, even with a right password
    refused = login(attacker, owner_name, PASSWORD)

    # then it is told to wait, while a user elsewhere logs in as usual
    assert_throttled(refused)
    assert login(world.device(f"10.0.0.2-{world.tag}"), owner_name, PASSWORD).status_code == 201


def test_an_owner_s_known_device_logs_in_from_an_address_a_guesser_has_throttled(world: World) -> None:
    # given an owner whose phone logged in before, behind the same address (NAT) as a guesser
    shared = f"10.5.0.1-{world.tag}"
    phone = world.device(shared)
    name = world.name("owner")
    register(phone, name)
    assert login(phone, name, PASSWORD).status_code == 201
    guesser = world.device(shared)
    for i in range(PER_ADDRESS):
        assert_problem(login(guesser, world.name(f"guess{i}"), WRONG), 401, "bad_credentials")
    assert_throttled(login(guesser, name, PASSWORD))

    # when the owner logs in on the phone
    answer = login(phone, name, PASSWORD)

    # then it gets in
    assert answer.status_code == 201


def test_guesses_lock_an_account_for_new_devices_but_the_owner_s_known_device_still_logs_in(world: World) -> None:
    # given an owner who logged in once on their phone (it kept the device cookie)
    phone = world.device(f"10.1.0.1-{world.tag}")
    name = world.name("owner")
    register(phone, name)
    first = login(phone, name, PASSWORD)
    assert first.status_code == 201
    assert phone.cookies.get(DEVICE_COOKIE) == first.headers["hongbao-device"]

    # when guessers at several addresses spend the account's failures
    for i in range(PER_ACCOUNT):
        guesser = world.device(f"10.1.1.{i}-{world.tag}")
        assert_problem(login(guesser, name, WRONG), 401, "bad_credentials")

    # then a new device is refused even with the right password, and the owner's phone is let in
    assert_throttled(login(world.device(f"10.1.2.1-{world.tag}"), name, PASSWORD))
    assert login(phone, name, PASSWORD).status_code == 201
    # and an API client that kept the Hongbao-Device header gets in the same way
    laptop = world.device(f"10.1.3.1-{world.tag}")
    assert login(laptop, name, PASSWORD, device=first.headers["hongbao-device"]).status_code == 201


def test_a_known_device_has_its_own_limit_on_wrong_passwords(world: World) -> None:
    # given a device token (say, stolen from the owner's browser)
    phone = world.device(f"10.2.0.1-{world.tag}")
    name = world.name("owner")
    register(phone, name)
    device = login(phone, name, PASSWORD).headers["hongbao-device"]
    thief = world.device(f"10.2.0.2-{world.tag}")

    # when it is used to guess
    for _ in range(PER_DEVICE):
        assert_problem(login(thief, name, WRONG, device=device), 401, "bad_credentials")

    # then that device is throttled like anyone else
    assert_throttled(login(thief, name, PASSWORD, device=device))


@pytest.mark.parametrize("forged", ["another account's", "tampered", "garbage"])
def test_a_device_token_not_signed_for_this_account_counts_as_a_new_device(world: World, forged: str) -> None:
    # given a locked account, and a device token of another account (or a tampered one, or junk)
    here = world.device(f"10.3.0.1-{world.tag}")
    name, other = world.name("owner"), world.name("other")
    register(here, name)
    register(here, other)
    theirs = login(here, other, PASSWORD).headers["hongbao-device"]
    token = {
        "another account's": theirs,
        "tampered": theirs[:-1] + ("0" if theirs[-1] != "0" else "1"),
        "garbage": "x" * 49,
    }[forged]
    for i in range(PER_ACCOUNT):
        assert_problem(login(world.device(f"10.3.1.{i}-{world.tag}"), name, WRONG), 401, "bad_credentials")

    # when the right password comes with that token from a new device
    answer = login(world.device(f"10.3.2.1-{world.tag}"), name, PASSWORD, device=token)

    # then the lock holds
    assert_throttled(answer)


def test_the_device_cookie_is_http_only_same_site_and_scoped_to_logins(world: World) -> None:
    client = world.device(f"10.4.0.1-{world.tag}")
    name = world.name("owner")
    register(client, name)

    cookie = login(client, name, PASSWORD).headers["set-cookie"].lower()

    assert cookie.startswith(f"{DEVICE_COOKIE}=")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/v1/sessions" in cookie


def test_service_callers_without_an_address_keep_the_account_lock(world: World, run: Callable[..., object]) -> None:
    # the simulator and scripts call the service directly: no address, no device, the account limit alone
    name = world.name("owner")
    run(world.app.users.register(name, PASSWORD))
    for _ in range(PER_ACCOUNT):
        with pytest.raises(Exception, match="Wrong username or password"):
            run(world.app.users.login(name, WRONG))
    with pytest.raises(Exception, match="Too many failed attempts"):
        run(world.app.users.login(name, PASSWORD))


@pytest.fixture
def run() -> Callable[..., object]:
    import asyncio

    return asyncio.run
