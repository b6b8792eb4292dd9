"""Over HTTP, while the database is away: 503 store_unavailable with Retry-After (never 500, never a hang),
/ready says so, /health stays up, and everything works again once the database is back."""

from __future__ import annotations

from collections.abc import Callable

from tests.api.conftest import PROBLEM, TestClient, User, befriend, top_up

from hongbao.adapters.sql.faults import CommitFaults, inject
from hongbao.bootstrap import App


def test_a_database_that_goes_away_gives_503s_with_retry_after_and_ready_says_so(
    hb: App, client: TestClient, new_user: Callable[..., User]
) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    befriend(client, alice, bob)
    top_up(client, alice, 1_000)
    assert client.get("/ready").status_code == 200
    down = [True]
    inject(hb.store.engine, CommitFaults(unreachable=lambda: down[0]))
    hb.store.write_retry_s = 0.2

    write = client.post("/v1/transfers", json={"to_user_id": bob.id, "amount_fen": 100}, headers=alice.headers)
    read = client.get("/v1/wallet", headers=alice.headers)
    ready = client.get("/ready")
    health = client.get("/health")

    for answer in (write, read):
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == PROBLEM and answer.json()["code"] == "store_unavailable"
        assert int(answer.headers["retry-after"]) >= 1
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
    assert health.status_code == 200  # the process itself is fine: don't restart it

    down[0] = False
    again = client.post("/v1/transfers", json={"to_user_id": bob.id, "amount_fen": 100}, headers=alice.headers)
    assert again.status_code == 201, again.text
    assert client.get("/ready").status_code == 200
    assert client.get("/v1/wallet", headers=alice.headers).json()["balance_fen"] == 900
