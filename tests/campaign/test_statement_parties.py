"""The statement says what happened: each entry's category (红包, 转账, 企业红包, 摇一摇, 充值), the other party, and
the packet, transfer or campaign it belongs to, on both stores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import User, make_group, send_lucky, send_personal, statement, top_up
from tests.campaign.conftest import claim, create_campaign
from tests.campaign.test_shake_http import pool, shake
from tests.conftest import FrozenClock

SHOWN = ("kind", "category", "party_id", "party_name", "packet_id", "transfer_id", "campaign_id", "amount_fen")


def entries(client: TestClient, user: User) -> list[tuple[Any, ...]]:
    return [tuple(e[k] for k in SHOWN) for e in statement(client, user)]


def test_packets_and_transfers_name_the_other_person_and_what_they_were(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # given Alice, her friend Bob and their group with Carol
    alice, bob, carol = new_user("alice"), new_user("bob"), new_user("carol")
    group_id = make_group(client, alice, [bob, carol], name="一家人")
    top_up(client, alice, 10_000)
    # when Alice sends Bob a personal packet he opens, a lucky packet in the group, and a transfer he accepts
    personal = send_personal(client, alice, bob, 200)
    assert client.post(f"/v1/packets/{personal['id']}/open", headers=bob.headers).status_code == 200
    lucky = send_lucky(client, alice, group_id, 300, 2)
    paid = client.post("/v1/transfers", json={"to_user_id": bob.id, "amount_fen": 500}, headers=alice.headers)
    assert paid.status_code == 201, paid.text
    tid = paid.json()["id"]
    assert client.post(f"/v1/transfers/{tid}/accept", headers=bob.headers).status_code == 200
    # then Alice's statement names Bob, the group, and each packet or transfer
    assert entries(client, alice) == [
        ("sent", "transfer", bob.id, bob.username, None, tid, None, -500),
        ("sent", "packet", None, "一家人", lucky["id"], None, None, -300),
        ("sent", "packet", bob.id, bob.username, personal["id"], None, None, -200),
        ("top_up", "top_up", None, None, None, None, None, 10_000),
    ]
    # and Bob's names Alice as the one who paid him
    assert entries(client, bob) == [
        ("received", "transfer", alice.id, alice.username, None, tid, None, 500),
        ("received", "packet", alice.id, alice.username, personal["id"], None, None, 200),
    ]


def test_campaign_and_shake_prizes_name_the_brand_and_count_as_their_own_kinds(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a campaign by Acme and a Gala round with JD's pool, and a guest who wins in both
    acme, jd, guest = enterprise("acme"), enterprise("jd"), new_user("guest")
    campaign = create_campaign(client, acme, clock.now(), name="Acme 新春")
    assert claim(client, guest, campaign).status_code == 201
    now = clock.now()
    event = client.post("/v1/shake/events", headers=acme.headers, json={
        "name": "春晚", "win_permille": 1000,
        "rounds": [{"starts_at": now.isoformat(), "ends_at": (now + timedelta(minutes=10)).isoformat()}],
    }).json()
    funded = pool(client, jd, event["id"], 500, [{"kind": "cash", "amount_fen": 100}])
    assert funded.status_code == 201, funded.text
    assert shake(client, guest, event["id"]).json()["result"] == "cash"
    # then the guest's statement says 摇一摇 from JD's pool and 企业红包 from Acme's campaign, by brand
    got = entries(client, guest)
    assert got == [
        ("received", "shake", jd.id, "JD 京东", None, None, funded.json()["id"], 100),
        ("received", "campaign", acme.id, "Acme 新春", None, None, campaign["id"], 100),
    ]
    # and Acme's own statement names its campaign's budget, with no other party
    assert entries(client, acme)[0] == ("sent", "campaign", None, "Acme 新春", None, None, campaign["id"], -1_000)
