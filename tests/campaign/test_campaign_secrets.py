"""A link campaign's claim token in keyed replies: sealed at rest, opened for the owner's retry; and a claimer's keyed
retry is answered from its key even after wrong tokens have locked them out."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from hongbao.bootstrap import App
from tests.api.conftest import User, assert_problem, balance
from tests.campaign.conftest import campaign_body, claim
from tests.conftest import FrozenClock


def stored_responses(hb: App) -> list[str]:
    rows = hb.store.read_sync(lambda tx: tx.conn.exec_driver_sql("SELECT response FROM idempotency_keys").all())
    return [str(r[0]) for r in rows]


def test_the_reply_stored_for_a_keyed_link_campaign_holds_its_token_only_sealed_and_the_retry_still_shows_it(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # Given a link campaign created with an Idempotency-Key
    corp, alice = enterprise(), new_user("alice")
    body = campaign_body(clock.now())
    headers = {**corp.headers, "Idempotency-Key": "create-link-1"}
    first = client.post("/v1/campaigns", json=body, headers=headers)
    assert first.status_code == 201, first.text
    token = first.json()["link_token"]

    # Then the stored reply does not hold the token in the clear (a database dump does not give the link away)
    responses = stored_responses(hb)
    assert any(f'"id": {first.json()["id"]}' in r for r in responses)
    assert all(token not in r for r in responses)

    # When the owner retries with the same key, the first answer comes back with the token, which claims
    again = client.post("/v1/campaigns", json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert claim(client, alice, again.json()).status_code == 201
    assert balance(client, alice) == 100


def test_a_keyed_claim_retried_after_wrong_tokens_locked_the_user_out_gets_its_first_answer_and_no_new_guess(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # Given a claim with the right token under an Idempotency-Key
    corp, eve = enterprise(), new_user("eve")
    created = client.post("/v1/campaigns", json=campaign_body(clock.now()), headers=corp.headers).json()
    path = f"/v1/campaigns/{created['id']}/claim"
    keyed = {**eve.headers, "Idempotency-Key": "claim-1"}
    first = client.post(path, json={"token": created["link_token"]}, headers=keyed)
    assert first.status_code == 201, first.text

    # And ten wrong tokens since, which lock the user out
    for i in range(10):
        assert_problem(claim(client, eve, created, token=f"guess-{i}"), 404, "campaign_not_found")
    assert_problem(claim(client, eve, created), 429, "too_many_attempts")

    # When the first claim is retried with its key, it gets its first answer
    again = client.post(path, json={"token": created["link_token"]}, headers=keyed)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()

    # But a new key is a new attempt: still locked out, whatever token it brings, and nothing more was paid
    for token in (created["link_token"], "guess-new"):
        fresh = client.post(path, json={"token": token}, headers={**eve.headers, "Idempotency-Key": f"new-{token}"})
        assert_problem(fresh, 429, "too_many_attempts")
    assert balance(client, eve) == 100
