"""A retried campaign creation (same Idempotency-Key, same body) gets the first answer, even after the window it
asked for has ended: found by `hongbao simulate --seed 1`, where the retry was told invalid_window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.api.conftest import User
from tests.campaign.conftest import campaign_body
from tests.conftest import FrozenClock


def test_a_campaign_created_with_a_key_is_answered_from_the_key_after_its_window_ended(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User]
) -> None:
    # Given a campaign created with an Idempotency-Key, running for an hour
    corp = enterprise()
    body = campaign_body(clock.now(), ends_at=(clock.now() + timedelta(hours=1)).isoformat())
    headers = {**corp.headers, "Idempotency-Key": "campaign-1"}
    first = client.post("/v1/campaigns", json=body, headers=headers)
    assert first.status_code == 201, first.text

    # When the client retries the same request after the window has ended
    clock.advance(hours=2)
    again = client.post("/v1/campaigns", json=body, headers=headers)

    # Then it gets the first answer (same campaign, same link token), and no second budget was taken
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    mine = client.get("/v1/campaigns", headers=corp.headers).json()["campaigns"]
    assert [c["id"] for c in mine] == [first.json()["id"]]


def test_a_campaign_key_reused_for_another_body_is_refused_after_the_window_ended(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User]
) -> None:
    corp = enterprise()
    body = campaign_body(clock.now(), ends_at=(clock.now() + timedelta(hours=1)).isoformat())
    headers = {**corp.headers, "Idempotency-Key": "campaign-2"}
    assert client.post("/v1/campaigns", json=body, headers=headers).status_code == 201

    clock.advance(hours=2)
    other = client.post("/v1/campaigns", json={**body, "name": "another"}, headers=headers)

    assert other.status_code == 409, other.text
    assert other.json()["code"] == "idempotency_key_reused"
