"""Worlds over HTTP for what businesses publish: campaigns, shake events (and their pools) and nearby offers.

Each belongs to its owner's world (service/worlds.py). A user of another host, or hongbao's own, is answered about
it exactly as about an id nobody made (the same 404 body), sees none of it in any list, and moves none of its money;
users of the owner's world see, claim, shake and take as before.  The shake path still answers a loser from memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hongbao.bootstrap import App, build
from tests.api.conftest import PASSWORD, TestClient, User, sign_up, top_up
from tests.campaign.conftest import campaign_body, merchant_with_offer
from tests.conftest import FrozenClock, fast_settings
from tests.embed.conftest import Host
from tests.embed.test_hosts_http import balance, fund
from tests.embed.test_worlds_http import NOBODY, refusal, uid

Scene = dict[str, Any]


def host_user(client: TestClient, host: Host, external_id: str) -> User:
    """A host's user as the campaign helpers take one (its id, and the host key's headers acting for it)."""
    headers = host.as_user(external_id)
    return User(uid(client, headers), external_id, headers)


def verified(hb: App, user: User) -> User:
    hb.store.write_sync(lambda tx: tx.set_verified_as(user.id, "enterprise"))
    return user


def shake_event(client: TestClient, owner: User, clock: FrozenClock, win_permille: int) -> dict[str, Any]:
    """An event with a round on now, and a pool of 1-yuan prizes from its owner."""
    now = clock.now()
    rounds = [{"starts_at": now.isoformat(), "ends_at": (now + timedelta(minutes=10)).isoformat()}]
    made = client.post(
        "/v1/shake/events", json={"name": "春晚", "rounds": rounds, "win_permille": win_permille}, headers=owner.headers
    )
    assert made.status_code == 201, made.text
    funded = client.post(
        f"/v1/shake/events/{made.json()['id']}/pools",
        headers=owner.headers,
        json={"name": "pool", "budget_fen": 500, "prizes": [{"kind": "cash", "amount_fen": 100}]},
    )
    assert funded.status_code == 201, funded.text
    event: dict[str, Any] = made.json()
    return event


@pytest.fixture
def scene(hb: App, client: TestClient, clock: FrozenClock, new_host: Callable[..., Host]) -> Scene:
    """Host A's enterprise `corp` (a link and a followers campaign, a shake event, a merchant's offer) and its user
    bob (who follows corp); host B's user eve and enterprise eve_corp; hongbao's own nina and enterprise own_corp
    (a followers campaign, a shake event, an offer of its own)."""
    a, b = new_host("world-a"), new_host("world-b")
    fund(client, a, "corp", 100_000)
    corp = verified(hb, host_user(client, a, "corp"))
    bob = host_user(client, a, "bob")
    eve = host_user(client, b, "eve")
    fund(client, b, "eve_corp", 10_000)
    eve_corp = verified(hb, host_user(client, b, "eve_corp"))
    nina = sign_up(client, "nina")
    own_corp = verified(hb, sign_up(client, "own_corp"))
    top_up(client, own_corp, 100_000)
    now = clock.now()
    made = {}
    for name, owner, channel in (
        ("link", corp, "link"),
        ("followers", corp, "followers"),
        ("own_followers", own_corp, "followers"),
    ):
        got = client.post("/v1/campaigns", json=campaign_body(now, channel=channel), headers=owner.headers)
        assert got.status_code == 201, got.text
        made[name] = got.json()
    assert client.post(f"/v1/users/{corp.id}/follow", headers=bob.headers).status_code < 300
    return {
        "a": a,
        "b": b,
        "corp": corp,
        "bob": bob,
        "eve": eve,
        "eve_corp": eve_corp,
        "nina": nina,
        "own_corp": own_corp,
        **made,
    }


def same_as_nobody(client: TestClient, who: User, method: str, path: str, body: Any, code: str, real: int) -> None:
    """`path` with {id} naming another world's `real` thing answers exactly as with an id nobody has."""
    across = client.request(method, path.replace("{id}", str(real)), json=body, headers=who.headers)
    nobody = client.request(method, path.replace("{id}", str(NOBODY)), json=body, headers=who.headers)
    assert across.status_code == 404, (who.username, path, across.text)
    assert refusal(across) == refusal(nobody) and refusal(across)["code"] == code, (path, across.text)


def test_another_worlds_campaign_is_answered_as_one_nobody_made(client: TestClient, scene: Scene) -> None:
    link, followers = scene["link"], scene["followers"]
    token = link["link_token"]
    calls = [
        ("GET", f"/v1/campaigns/{{id}}?token={token}", None, link["id"]),
        ("GET", "/v1/campaigns/{id}", None, followers["id"]),
        ("POST", "/v1/campaigns/{id}/claim", {"token": token}, link["id"]),
        ("POST", "/v1/campaigns/{id}/claim", None, followers["id"]),
        ("POST", "/v1/campaigns/{id}/top-up", {"amount_fen": 100}, followers["id"]),  # was 403 not_campaign_owner
        ("POST", "/v1/campaigns/{id}/cancel", None, followers["id"]),
        ("GET", "/v1/campaigns/{id}/figures", None, followers["id"]),
    ]
    for who in (scene["eve"], scene["nina"]):
        for method, path, body, real in calls:
            same_as_nobody(client, who, method, path, body, "campaign_not_found", real)
    # hongbao's own campaign is as unknown to host A's users
    for method, path, body, _ in calls[1:2] + calls[3:]:
        same_as_nobody(client, scene["bob"], method, path, body, "campaign_not_found", scene["own_followers"]["id"])
    # Within host A, bob sees and claims both; nobody outside got anything, and both campaigns are still open.
    bob = scene["bob"]
    assert client.get(f"/v1/campaigns/{link['id']}", params={"token": token}, headers=bob.headers).status_code == 200
    assert (
        client.post(f"/v1/campaigns/{link['id']}/claim", json={"token": token}, headers=bob.headers).status_code == 201
    )
    assert client.post(f"/v1/campaigns/{followers['id']}/claim", headers=bob.headers).status_code == 201
    assert balance(client, scene["a"], "bob") == 200
    assert balance(client, scene["b"], "eve") == 0
    assert client.get("/v1/wallet", headers=scene["nina"].headers).json()["balance_fen"] == 0
    for made in (link, followers):
        figures = client.get(f"/v1/campaigns/{made['id']}/figures", headers=scene["corp"].headers).json()
        assert figures["status"] == "active" and figures["paid_fen"] == 100 and figures["unique_claimers"] == 1


def test_campaigns_followed_are_listed_from_the_viewers_world_only(
    hb: App, client: TestClient, clock: FrozenClock, scene: Scene
) -> None:
    corp, nina = scene["corp"], scene["nina"]
    # A follow across worlds cannot be made today; one stored before worlds were (made here directly) shows nothing.
    assert client.post(f"/v1/users/{corp.id}/follow", headers=nina.headers).json()["code"] == "user_not_found"
    hb.store.write_sync(lambda tx: tx.follow(nina.id, corp.id, clock.now()))
    assert client.get("/v1/campaigns/following", headers=nina.headers).json()["campaigns"] == []
    claimed = client.post(f"/v1/campaigns/{scene['followers']['id']}/claim", headers=nina.headers)
    assert claimed.status_code == 404 and claimed.json()["code"] == "campaign_not_found"
    seen = client.get("/v1/campaigns/following", headers=scene["bob"].headers).json()["campaigns"]
    assert [c["id"] for c in seen] == [scene["followers"]["id"]]


def test_another_worlds_shake_event_is_not_seen_sponsored_or_shaken(
    client: TestClient, clock: FrozenClock, scene: Scene
) -> None:
    event = shake_event(client, scene["corp"], clock, win_permille=1000)
    own_event = shake_event(client, scene["own_corp"], clock, win_permille=1000)
    pool = {"name": "eve's", "budget_fen": 100, "prizes": [{"kind": "cash", "amount_fen": 100}]}
    for who, theirs in ((scene["eve"], event), (scene["nina"], event), (scene["bob"], own_event)):
        same_as_nobody(client, who, "GET", "/v1/shake/events/{id}", None, "shake_event_not_found", theirs["id"])
        same_as_nobody(
            client, who, "POST", "/v1/shake/events/{id}/shake", None, "shake_event_not_found", theirs["id"]
        )  # the lean path
    # another world's enterprise cannot sponsor the event
    same_as_nobody(
        client, scene["eve_corp"], "POST", "/v1/shake/events/{id}/pools", pool, "shake_event_not_found", event["id"]
    )
    # the list shows each world its own
    listed = {
        name: [e["id"] for e in client.get("/v1/shake/events", headers=scene[name].headers).json()["events"]]
        for name in ("bob", "eve", "nina")
    }
    assert listed == {"bob": [event["id"]], "eve": [], "nina": [own_event["id"]]}
    # on the socket: a shake and the live counters, as for an event nobody made
    with client.websocket_connect("/v1/shake/socket", headers=scene["eve"].headers) as ws:
        for asked in ({"event_id": event["id"]}, {"event_id": NOBODY}, {"live": event["id"]}, {"live": NOBODY}):
            ws.send_json(asked)
            answer = ws.receive_json()
            assert answer["status"] == 404 and answer["problem"]["code"] == "shake_event_not_found", answer
    # bob, in corp's world, shakes and wins (every shake wins here); eve and nina won nothing
    with client.websocket_connect("/v1/shake/socket", headers=scene["bob"].headers) as ws:
        ws.send_json({"live": event["id"]})
        assert ws.receive_json()["live"]["prizes_left"] == 5
    won = client.post(f"/v1/shake/events/{event['id']}/shake", headers=scene["bob"].headers)
    assert won.status_code == 200 and won.json()["result"] == "cash", won.text
    assert balance(client, scene["a"], "bob") == 100
    assert balance(client, scene["b"], "eve") == 0 and balance(client, scene["b"], "eve_corp") == 10_000
    assert client.get("/v1/wallet", headers=scene["nina"].headers).json()["balance_fen"] == 0


def test_the_world_check_of_a_shake_reads_nothing(
    hb: App, client: TestClient, clock: FrozenClock, scene: Scene, store_url: str, tmp_path: Path
) -> None:
    if hb.users.revocations is not None:  # the logout list is read on a timer, not per request: kept out of the count
        hb.users.revocations.poll_s = 3_600.0
    # given events that never win, each leased and cached by a first shake, and users whose last request was before
    event = shake_event(client, scene["corp"], clock, win_permille=0)
    own_event = shake_event(client, scene["own_corp"], clock, win_permille=0)
    for who, at in ((scene["bob"], event), (scene["nina"], own_event)):
        assert client.post(f"/v1/shake/events/{at['id']}/shake", headers=who.headers).json()["result"] == "nothing"
    carol = host_user(client, scene["a"], "carol")  # mapped by this request
    # rita registered through another process, and logs in here: her first request will be the shake
    other = build(fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock, migrate_schema=False)
    try:
        asyncio.run(other.users.register("rita", PASSWORD))
    finally:
        other.close()
    session = client.post("/v1/sessions", json={"username": "rita", "password": PASSWORD})
    assert session.status_code == 201, session.text
    rita = User(session.json()["user_id"], "rita", {"Authorization": f"Bearer {session.json()['token']}"})
    reads: list[object] = []
    real_read = hb.store.read

    async def counted(job: Callable[[Any], Any]) -> Any:
        reads.append(job)
        return await real_read(job)

    hb.store.read = counted  # type: ignore[method-assign]
    batches = hb.store.batches
    # when a host's user and one of hongbao's own shake their world's event, and eve shakes host A's
    shaken = [
        client.post(f"/v1/shake/events/{at['id']}/shake", headers=who.headers)
        for who, at in ((carol, event), (rita, own_event), (scene["eve"], event))
    ]
    # then each is answered (eve as about an event nobody made) with nothing read or written
    assert [s.json().get("result", s.json().get("code")) for s in shaken] == [
        "nothing",
        "nothing",
        "shake_event_not_found",
    ]
    assert (reads, hb.store.batches) == ([], batches)


def test_another_worlds_offers_are_not_nearby_nor_taken(client: TestClient, clock: FrozenClock, scene: Scene) -> None:
    now = clock.now()
    _, offer = merchant_with_offer(client, scene["corp"], now, name="A 的店")
    _, own_offer = merchant_with_offer(client, scene["own_corp"], now, name="自己的店")
    here = {"lat": 39.9087, "lng": 116.3975, "radius_m": 1_000}
    near = {
        name: [
            o["offer_id"]
            for o in client.get("/v1/shake/nearby", params=here, headers=scene[name].headers).json()["offers"]
        ]
        for name in ("bob", "eve", "nina")
    }
    assert near == {"bob": [offer], "eve": [], "nina": [own_offer]}
    for who, theirs in ((scene["eve"], offer), (scene["nina"], offer), (scene["bob"], own_offer)):
        same_as_nobody(client, who, "POST", "/v1/offers/{id}/coupons", None, "offer_not_found", theirs)
    assert client.post(f"/v1/offers/{offer}/coupons", headers=scene["bob"].headers).status_code == 201
    assert client.get("/v1/coupons", headers=scene["eve"].headers).json()["coupons"] == []
    stock = client.get("/v1/merchants", headers=scene["corp"].headers).json()["merchants"][0]["offers"][0]
    assert stock["issued"] == 1
