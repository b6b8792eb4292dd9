"""Finding shake events and campaigns over HTTP: what the lists show, in what order, to whom, and how many."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hongbao.bootstrap import App
from tests.api.conftest import User, assert_problem
from tests.campaign.conftest import claim, create_campaign
from tests.conftest import FrozenClock


def schedule(client: TestClient, host: User, clock: FrozenClock, name: str, *rounds: tuple[float, float]) -> int:
    """An event whose rounds run (start, end) hours from the clock's now."""
    now = clock.now()
    body = {
        "name": name,
        "rounds": [
            {"starts_at": (now + timedelta(hours=a)).isoformat(), "ends_at": (now + timedelta(hours=b)).isoformat()}
            for a, b in rounds
        ],
    }
    response = client.post("/v1/shake/events", json=body, headers=host.headers)
    assert response.status_code == 201, response.text
    event_id: int = response.json()["id"]
    return event_id


def listed(client: TestClient, user: User, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(path, params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()[key]
    return items


def money_fields(items: list[dict[str, Any]]) -> set[str]:
    """Every key naming an amount of money, in the items and their pools."""
    keys = {k for item in items for k in item} | {k for item in items for p in item.get("pools", []) for k in p}
    return {k for k in keys if "fen" in k or k in ("prizes", "link_token")}


def test_the_event_list_shows_live_events_first_then_upcoming_by_next_round_then_the_recently_ended(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given events scheduled now, seen 26 hours later by a viewer
    host, viewer = enterprise("cctv"), new_user("viewer")
    long_over = schedule(client, host, clock, "long over", (0.5, 1))
    just_over = schedule(client, host, clock, "just over", (2, 3))
    later = schedule(client, host, clock, "later", (30, 31))
    live = schedule(client, host, clock, "live", (25, 27))
    soon = schedule(client, host, clock, "soon", (28, 29))
    between = schedule(client, host, clock, "between rounds", (20, 21), (27.5, 28.5))
    clock.advance(hours=26)

    # when the viewer lists the events
    events = listed(client, viewer, "/v1/shake/events", "events")

    # then the live one comes first, the upcoming ones by their next round, the one ended 23 h ago last,
    # and the one ended 25 h ago is gone
    assert [e["id"] for e in events] == [live, between, soon, later, just_over]
    assert long_over not in [e["id"] for e in events]
    by_id = {e["id"]: e for e in events}
    assert by_id[live]["live"] is True and by_id[live]["active_round"] == by_id[live]["rounds"][0]["seq"]
    assert by_id[live]["next_round_starts_at"] is None
    assert by_id[between]["live"] is False and by_id[between]["ended"] is False
    assert by_id[between]["next_round_starts_at"] == by_id[between]["rounds"][1]["starts_at"]
    assert [r["seq"] for r in by_id[between]["rounds"]] == [0, 1]
    assert by_id[just_over]["ended"] is True and by_id[just_over]["next_round_starts_at"] is None


def test_the_event_list_shows_sponsors_branding_but_not_their_budgets(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given an event with a sponsor's pool of 5 yuan
    host, sponsor, viewer = enterprise("cctv"), enterprise("jd"), new_user("viewer")
    event_id = schedule(client, host, clock, "春晚", (0, 1))
    body = {"name": "JD 京东", "logo_url": "https://example.com/jd.png", "cover_text": "京东给您拜年",
            "budget_fen": 500, "prizes": [{"kind": "cash", "amount_fen": 100}]}  # fmt: skip
    funded = client.post(f"/v1/shake/events/{event_id}/pools", json=body, headers=sponsor.headers)
    assert funded.status_code == 201, funded.text

    # when a viewer lists the events
    [event] = listed(client, viewer, "/v1/shake/events", "events")

    # then the pool's branding is there and no amount of money is
    assert event["live"] is True
    [pool] = event["pools"]
    assert pool == {"campaign_id": funded.json()["id"], "sponsor_id": sponsor.id, "name": "JD 京东",
                    "logo_url": "https://example.com/jd.png", "cover_text": "京东给您拜年"}  # fmt: skip
    assert money_fields([event]) == set()


def test_a_pool_its_sponsor_ended_early_is_no_longer_listed_as_a_sponsor(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a live event with two sponsors' pools, one of which its sponsor then ends
    host, jd, taobao, viewer = enterprise("cctv"), enterprise("jd"), enterprise("tb"), new_user("viewer")
    event_id = schedule(client, host, clock, "春晚", (0, 1))
    pools = {}
    for sponsor, name in ((jd, "JD 京东"), (taobao, "Taobao 淘宝")):
        body = {"name": name, "budget_fen": 500, "prizes": [{"kind": "cash", "amount_fen": 100}]}
        funded = client.post(f"/v1/shake/events/{event_id}/pools", json=body, headers=sponsor.headers)
        assert funded.status_code == 201, funded.text
        pools[name] = funded.json()["id"]
    ended = client.post(f"/v1/campaigns/{pools['Taobao 淘宝']}/cancel", headers=taobao.headers)
    assert ended.status_code == 200, ended.text

    # when a viewer lists the events, then only the pool still funding the event is named
    [event] = listed(client, viewer, "/v1/shake/events", "events")
    assert [p["name"] for p in event["pools"]] == ["JD 京东"]


def test_the_event_list_returns_at_most_limit_events_and_refuses_a_limit_over_50(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    host, viewer = enterprise("cctv"), new_user("viewer")
    for hours in (1, 2, 3):
        schedule(client, host, clock, f"in {hours} h", (hours, hours + 1))

    assert len(listed(client, viewer, "/v1/shake/events", "events", limit=2)) == 2
    problem = assert_problem(client.get("/v1/shake/events?limit=51", headers=viewer.headers), 422, "invalid_request")
    assert "limit" in problem["detail"] and "50" in problem["detail"]
    assert_problem(client.get("/v1/shake/events?limit=0", headers=viewer.headers), 422, "invalid_request")


@pytest.mark.parametrize("path", ["/v1/shake/events", "/v1/campaigns/following"])
def test_the_lists_need_a_logged_in_user(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 401)
    assert_problem(client.get(path, headers={"Authorization": "Bearer not-a-token"}), 401)


def test_following_lists_open_followers_campaigns_of_accounts_you_follow_and_nothing_else(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a fan who follows one company and not another
    corp, stranger_corp, fan, other_fan = enterprise("corp"), enterprise("other"), new_user("fan"), new_user("fan")
    for follower, followee in ((fan, corp), (other_fan, corp)):
        assert client.post(f"/v1/users/{followee.id}/follow", headers=follower.headers).status_code == 200
    now = clock.now()
    # and the company's campaigns: two open, one by link, one not started, one ending soon, one soon exhausted
    older = create_campaign(client, corp, now, channel="followers", name="older")
    newer = create_campaign(client, corp, now, channel="followers", name="newer", logo_url=None)
    create_campaign(client, corp, now, channel="link", name="by link")
    create_campaign(client, corp, now + timedelta(days=1), channel="followers", name="tomorrow",
                    ends_at=(now + timedelta(days=2)).isoformat())  # fmt: skip
    soon = (now + timedelta(hours=1)).isoformat()
    create_campaign(client, corp, now, channel="followers", name="ending", ends_at=soon)
    gone = create_campaign(client, corp, now, channel="followers", name="one prize", budget_fen=100)
    assert claim(client, other_fan, gone, token=None).status_code == 201
    # and an open followers campaign of a company the fan does not follow
    create_campaign(client, stranger_corp, now, channel="followers", name="not followed")
    clock.advance(hours=2)

    # when the fan lists what the accounts they follow run now
    campaigns = listed(client, fan, "/v1/campaigns/following", "campaigns")

    # then only the two open followers campaigns show, newest first, with their owner's name and no money
    assert [c["name"] for c in campaigns] == ["newer", "older"]
    assert [c["id"] for c in campaigns] == [newer["id"], older["id"]]
    assert {c["owner_name"] for c in campaigns} == {corp.username}
    assert {c["owner_id"] for c in campaigns} == {corp.id}
    assert campaigns[1]["cover_text"] == "新年快乐" and campaigns[1]["logo_url"] == "https://example.com/logo.png"
    assert campaigns[0]["logo_url"] is None
    assert money_fields(campaigns) == set()


def test_following_is_empty_for_someone_who_follows_nobody_and_bounded_by_limit(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp, fan, loner = enterprise("corp"), new_user("fan"), new_user("loner")
    assert client.post(f"/v1/users/{corp.id}/follow", headers=fan.headers).status_code == 200
    for i in range(3):
        create_campaign(client, corp, clock.now(), channel="followers", name=f"campaign {i}")

    assert listed(client, loner, "/v1/campaigns/following", "campaigns") == []
    assert len(listed(client, fan, "/v1/campaigns/following", "campaigns", limit=2)) == 2
    problem = assert_problem(client.get("/v1/campaigns/following?limit=51", headers=fan.headers), 422)
    assert problem["code"] == "invalid_request" and "limit" in problem["detail"]


def test_the_owner_still_sees_budgets_in_their_own_list_but_followers_do_not(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp, fan = enterprise("corp"), new_user("fan")
    assert client.post(f"/v1/users/{corp.id}/follow", headers=fan.headers).status_code == 200
    created = create_campaign(client, corp, clock.now(), channel="followers")

    [mine] = listed(client, corp, "/v1/campaigns", "campaigns")
    [theirs] = listed(client, fan, "/v1/campaigns/following", "campaigns")

    assert mine["id"] == theirs["id"] == created["id"] and mine["budget_fen"] == 1_000
    assert money_fields([theirs]) == set()
