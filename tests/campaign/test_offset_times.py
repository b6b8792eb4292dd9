"""Times given with an offset (`…+08:00`, China time) mean the same instant on SQLite and PostgreSQL.

SQLite has no time zone type: a datetime was written as its wall-clock digits with the offset dropped, so
`10:00+08:00` came back as 10:00 UTC, eight hours late, and a campaign that should have ended paid prizes.
Each time field a client sends is checked here on both stores: read back as the same instant, and compared
in SQL (the conditional UPDATEs and the listings) as that instant.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient

from tests.api.conftest import User, assert_problem, balance
from tests.campaign.conftest import campaign_body, claim, create_campaign
from tests.campaign.test_coupons_http import COUPON_ONLY
from tests.campaign.test_shake_http import pool, shake
from tests.conftest import FrozenClock

CHINA = timezone(timedelta(hours=8))


def china(at: datetime) -> str:
    """The instant as a client in Beijing writes it: `2026-02-19T04:00:00+08:00`."""
    text = at.astimezone(CHINA).isoformat()
    assert text.endswith("+08:00")
    return text


def same_instant(text: str, at: datetime) -> bool:
    return datetime.fromisoformat(text) == at


def test_a_campaign_window_given_in_china_time_opens_and_closes_at_that_instant(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a campaign starting in an hour and ending in three, both written in China time
    owner, guest = enterprise("acme"), new_user("guest")
    now = clock.now()
    starts_at, ends_at = now + timedelta(hours=1), now + timedelta(hours=3)
    body = campaign_body(now, starts_at=china(starts_at), ends_at=china(ends_at))
    created = client.post("/v1/campaigns", json=body, headers=owner.headers)
    assert created.status_code == 201, created.text
    campaign = created.json()
    # then it reads back as the same instants
    shown = client.get(f"/v1/campaigns/{campaign['id']}", params={"token": campaign["link_token"]},
                       headers=guest.headers).json()
    assert same_instant(shown["starts_at"], starts_at), shown
    assert same_instant(shown["ends_at"], ends_at), shown
    # and a claim before the start is refused, one inside the window pays
    assert_problem(claim(client, guest, campaign), 422, "campaign_not_started")
    clock.advance(hours=2)
    assert claim(client, guest, campaign).status_code == 201
    assert balance(client, guest) == 100
    # and once it has ended (an hour ago in any time zone) nothing more is paid
    clock.advance(hours=2)
    assert_problem(claim(client, new_user("late"), campaign), 422, "campaign_ended")
    assert balance(client, guest) == 100


def test_a_shake_round_given_in_china_time_is_live_exactly_then(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a Gala round from in 1 hour to in 2 hours, written in China time, with a sponsor's pool
    host, sponsor, viewer = enterprise("cctv"), enterprise("jd"), new_user("viewer")
    now = clock.now()
    starts_at, ends_at = now + timedelta(hours=1), now + timedelta(hours=2)
    body = {"name": "春晚", "rounds": [{"starts_at": china(starts_at), "ends_at": china(ends_at)}],
            "win_permille": 1000}
    created = client.post("/v1/shake/events", json=body, headers=host.headers)
    assert created.status_code == 201, created.text
    event = created.json()
    assert pool(client, sponsor, event["id"], 500, [{"kind": "cash", "amount_fen": 100}]).status_code == 201
    # then it reads back as the same instants, upcoming
    shown = client.get(f"/v1/shake/events/{event['id']}", headers=viewer.headers).json()
    assert same_instant(shown["rounds"][0]["starts_at"], starts_at), shown
    assert same_instant(shown["rounds"][0]["ends_at"], ends_at), shown
    listed = client.get("/v1/shake/events", headers=viewer.headers).json()["events"]
    assert same_instant(listed[0]["next_round_starts_at"], starts_at), listed
    # and a shake before the round is refused, one inside it pays, one after it is refused again
    assert_problem(shake(client, viewer, event["id"]), 422, "round_not_active")
    clock.advance(minutes=90)
    assert shake(client, viewer, event["id"]).json()["result"] == "cash"
    clock.advance(minutes=60)
    assert_problem(shake(client, viewer, event["id"]), 422, "round_not_active")
    assert balance(client, viewer) == 100


def test_a_coupon_offer_expiring_in_china_time_stops_being_offered_at_that_instant(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given an offer expiring in an hour, written in China time, and a coupon campaign of it
    owner, guest = enterprise("shop"), new_user("guest")
    now = clock.now()
    expires_at = now + timedelta(hours=1)
    shop = client.post("/v1/merchants", json={"name": "全聚德", "lat": 39.9087, "lng": 116.3975}, headers=owner.headers)
    assert shop.status_code == 201, shop.text
    offer = client.post(f"/v1/merchants/{shop.json()['id']}/offers", headers=owner.headers, json={
        "title": "烤鸭 ¥20 off", "face_value_fen": 2_000, "stock": 10, "expires_at": china(expires_at)})
    assert offer.status_code == 201, offer.text
    campaign = create_campaign(client, owner, now, prizes=[{"kind": "coupon", "offer_id": offer.json()["id"]}],
                               **COUPON_ONLY)
    near = {"lat": 39.9087, "lng": 116.3975}
    # then the owner's list shows the same instant, and it is offered nearby and won before then
    offers = client.get("/v1/merchants", headers=owner.headers).json()["merchants"][0]["offers"]
    assert same_instant(offers[0]["expires_at"], expires_at), offers
    nearby = client.get("/v1/shake/nearby", params=near, headers=guest.headers).json()["offers"]
    assert [o["offer_id"] for o in nearby] == [offer.json()["id"]]
    clock.advance(minutes=30)
    won = claim(client, guest, campaign)
    assert won.status_code == 201, won.text
    coupons = client.get("/v1/coupons", headers=guest.headers).json()["coupons"]
    assert same_instant(coupons[0]["expires_at"], expires_at), coupons
    # and once it has expired it is neither offered nor won
    clock.advance(minutes=60)
    assert client.get("/v1/shake/nearby", params=near, headers=guest.headers).json()["offers"] == []
    assert_problem(claim(client, new_user("late"), campaign), 409, "campaign_exhausted")
