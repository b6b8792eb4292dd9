"""The browser app's server side: deep links answer its page; the demo logins only in embedded demo mode."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.api.conftest import PROBLEM, TestClient, User, assert_problem, befriend, send_personal, top_up
from tests.conftest import FrozenClock, fast_settings

from hongbao.api.app import create_app
from hongbao.api.static import tree_digest
from hongbao.bootstrap import App, build
from hongbao.config import Settings
from hongbao.seed import seed_demo

VERSIONED_MAIN = re.compile(r'<script type="module" src="(/static/v/[0-9a-f]{12})/js/main\.js">')


def test_deep_links_under_app_answer_the_browser_page_naming_this_release_s_static_files(client: TestClient) -> None:
    prefixes = set()
    for path in ("/", "/app", "/app/wallet", "/app/packet/42", "/app/x/shake?event=1"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        # the page must be revalidated: it is what names the current version
        assert response.headers["cache-control"] == "no-cache"
        found = VERSIONED_MAIN.search(response.text)
        assert found, response.text
        prefixes.add(found.group(1))
        assert not re.search(r'"/static/(?!v/)', response.text)  # every file the page names is versioned
    assert len(prefixes) == 1
    script = client.get(prefixes.pop() + "/js/main.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))


def _prefix(client: TestClient) -> str:
    found = VERSIONED_MAIN.search(client.get("/app").text)
    assert found
    return found.group(1)


def test_a_versioned_static_file_is_cached_for_a_year_as_immutable(client: TestClient) -> None:
    prefix = _prefix(client)
    # a module the page imports by a relative path is under the same prefix, so versioned too
    for path in ("/js/main.js", "/js/views/x/sharesheet.js", "/app.css"):
        response = client.get(prefix + path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.content == client.get("/static" + path).content
    # a revalidation (304) says the same
    etag = client.get(prefix + "/js/main.js").headers["etag"]
    again = client.get(prefix + "/js/main.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_the_unversioned_static_path_still_answers_with_a_short_cache(client: TestClient) -> None:
    # a page loaded before an upgrade names /static/…: it keeps working, and is soon refetched
    response = client.get("/static/js/main.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"


def test_an_unknown_static_version_is_not_found_rather_than_served_with_another_release_s_files(
    client: TestClient,
) -> None:
    # a module of an older release would not fit the modules of this one: 404 (the app then reloads itself)
    other = "/static/v/000000000000"
    assert other != _prefix(client)
    assert client.get(other + "/js/main.js").status_code == 404
    assert client.get(_prefix(client) + "/js/no-such-module.js").status_code == 404


def test_the_static_version_is_a_digest_of_every_file_s_path_and_contents(tmp_path: Path) -> None:
    # given a static tree
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "main.js").write_text("export const a = 1;\n")
    (tmp_path / "app.css").write_text("body {}\n")
    first = tree_digest(tmp_path)

    # then it is stable, and any change of content, of a name or a new file gives another digest
    assert first == tree_digest(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{12}", first)
    (tmp_path / "js" / "main.js").write_text("export const a = 2;\n")
    changed = tree_digest(tmp_path)
    (tmp_path / "js" / "main.js").rename(tmp_path / "js" / "app.js")
    renamed = tree_digest(tmp_path)
    (tmp_path / "js" / "extra.js").write_text("")
    added = tree_digest(tmp_path)
    assert len({first, changed, renamed, added}) == 4


def test_demo_users_are_not_listed_when_demo_data_is_off(client: TestClient) -> None:
    response = client.get("/v1/demo-users")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_demo_users_are_listed_in_embedded_mode_only(store_url: str, tmp_path: Path) -> None:
    # given a server with demo data on and created, on SQLite (embedded) or PostgreSQL (scaled)
    app: App = build(fast_settings(demo=True, database_url=store_url, data_dir=tmp_path))
    try:
        assert asyncio.run(seed_demo(app)) == "created"
        with TestClient(create_app(app, scheduler=False)) as client:
            # when the login page asks for the demo logins
            response = client.get("/v1/demo-users")
    finally:
        app.close()

    # then embedded mode lists them (no token needed), and scaled mode has none
    if store_url.startswith("sqlite"):
        assert response.status_code == 200, response.text
        users = {u["username"]: u for u in response.json()}
        assert {"alice", "bob", "carol", "dave"} <= set(users)
        assert users["alice"]["password"] == "hongbao123"
    else:
        assert response.status_code == 404


def test_demo_data_is_on_by_default_only_for_the_embedded_store_and_never_joins_real_users(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).demo_enabled()  # the quick start
    assert not Settings(database_url="postgresql://db.example/hongbao").demo_enabled()  # never silently
    assert Settings(database_url="postgresql://db.example/hongbao", demo=True).demo_enabled()  # when asked
    assert not Settings(data_dir=tmp_path, demo=False).demo_enabled()

    # given an embedded store that already has a real user, started with the default
    app: App = build(fast_settings(demo=None, data_dir=tmp_path))
    try:
        asyncio.run(app.users.register("real_person", "a long enough passphrase"))
        # then the default does not add the demo accounts (published password, an admin) beside them
        assert asyncio.run(seed_demo(app, into_empty_only=True)) == "skipped"
        with TestClient(create_app(app, scheduler=False)) as client:
            assert client.get("/v1/demo-users").status_code == 404
        # and asking for them does
        assert asyncio.run(seed_demo(app)) == "created"
        assert asyncio.run(seed_demo(app)) == "ready"
    finally:
        app.close()


def test_fairness_by_grab_position_gives_one_row_per_share_whose_means_add_up_to_the_total(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # when a logged-in user asks how ¥10 in 5 lucky shares falls over 400 simulated packets
    params = {"total_fen": 1000, "shares": 5, "runs": 400, "algorithm": "double_mean"}
    response = client.get("/v1/fairness", params=params, headers=new_user().headers)

    # then each grab position has its mean, spread, range and best-luck odds, and they add up
    assert response.status_code == 200, response.text
    body = response.json()
    positions = body["positions"]
    assert [p["position"] for p in positions] == [1, 2, 3, 4, 5]
    assert abs(sum(p["mean_fen"] for p in positions) - 1000) < 1e-6
    assert abs(sum(p["best_luck_probability"] for p in positions) - 1) < 1e-9
    assert all(1 <= p["min_fen"] <= p["mean_fen"] <= p["max_fen"] and p["stdev_fen"] > 0 for p in positions)


def test_fairness_of_an_equal_split_gives_no_spread(client: TestClient, new_user: Callable[..., User]) -> None:
    params = {"total_fen": 600, "shares": 3, "runs": 10, "algorithm": "equal"}
    response = client.get("/v1/fairness", params=params, headers=new_user().headers)

    assert response.status_code == 200, response.text
    assert [(p["mean_fen"], p["stdev_fen"]) for p in response.json()["positions"]] == [(200, 0), (200, 0), (200, 0)]


def test_fairness_needs_a_login_because_it_costs_cpu(client: TestClient) -> None:
    params = {"total_fen": 1000, "shares": 5, "runs": 10}
    assert_problem(client.get("/v1/fairness", params=params), 401, "token_missing")


def test_fairness_beyond_its_bounds_gives_422_problems(client: TestClient, new_user: Callable[..., User]) -> None:
    headers = new_user().headers
    cases = [
        ({"total_fen": 1000, "shares": 5, "runs": 20_001}, "invalid_runs"),
        ({"total_fen": 1000, "shares": 5, "runs": 0}, "invalid_runs"),
        ({"total_fen": 100_000, "shares": 100, "runs": 2_001}, "invalid_runs"),  # more than 200,000 draws
        ({"total_fen": 100_000, "shares": 101, "runs": 10}, "invalid_share_count"),
        ({"total_fen": 1000, "shares": 0, "runs": 10}, "invalid_share_count"),
        ({"total_fen": 3, "shares": 5, "runs": 10}, "share_too_small"),
        ({"total_fen": 10**11, "shares": 5, "runs": 10}, "invalid_amount"),
        ({"total_fen": 1000, "shares": 5, "runs": 10, "algorithm": "biggest_first"}, "invalid_request"),
        ({"total_fen": "lots", "shares": 5}, "invalid_request"),
    ]
    for params, code in cases:
        assert_problem(client.get("/v1/fairness", params=params, headers=headers), 422, code, case=params)


def open_packet(client: TestClient, user: User, packet_id: int) -> None:
    response = client.post(f"/v1/packets/{packet_id}/open", headers=user.headers)
    assert response.status_code in (200, 201), response.text


def report(client: TestClient, user: User, **params: object) -> dict[str, Any]:
    response = client.get("/v1/me/report", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_yearly_report_gives_the_callers_own_sent_received_and_luckiest_packet(
    client: TestClient, new_user: Callable[..., User], clock: FrozenClock
) -> None:
    # given Alice sends her friend Bob a packet on New Year's Eve 2025, and two more on New Year's Day 2026
    clock.at = datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    alice, bob, carol = new_user("alice"), new_user("bob"), new_user("carol")
    befriend(client, alice, bob)
    top_up(client, alice, 100_000)
    earlier = send_personal(client, alice, bob, 5000)
    open_packet(client, bob, earlier["id"])
    clock.advance(hours=2)
    first = send_personal(client, alice, bob, 888)
    second = send_personal(client, alice, bob, 300)
    open_packet(client, bob, first["id"])
    open_packet(client, bob, second["id"])

    # when each asks for their 2026 report
    bobs, alices, carols = (report(client, u, year=2026) for u in (bob, alice, carol))

    # then Bob received two packets, the luckiest the ¥8.88 one, all in January
    assert (bobs["received_fen"], bobs["received_count"], bobs["sent_fen"]) == (1188, 2, 0)
    assert bobs["luckiest"]["amount_fen"] == 888
    assert bobs["luckiest"]["packet_id"] == first["id"]
    assert bobs["months"][0] == {"month": 1, "sent_fen": 0, "received_fen": 1188}
    # and Alice sent those two; the year before is its own report, and this year is the default
    assert (alices["sent_fen"], alices["sent_count"], alices["received_fen"], alices["luckiest"]) == (1188, 2, 0, None)
    assert report(client, bob, year=2025)["received_fen"] == 5000
    assert report(client, alice)["sent_fen"] == 1188
    # and Carol, who took part in nothing, sees nothing of theirs
    assert (carols["sent_fen"], carols["received_fen"], carols["luckiest"]) == (0, 0, None)


def test_yearly_report_of_another_user_is_never_reachable(client: TestClient, new_user: Callable[..., User]) -> None:
    # given Bob received a packet from Alice
    alice, bob, carol = new_user("alice"), new_user("bob"), new_user("carol")
    befriend(client, alice, bob)
    top_up(client, alice, 10_000)
    open_packet(client, bob, send_personal(client, alice, bob, 520)["id"])

    # when Carol tries to name Bob, or nobody logs in at all
    named = report(client, carol, year=2026, user_id=bob.id, username=bob.username)
    anonymous = client.get("/v1/me/report", params={"year": 2026, "user_id": bob.id})

    # then Carol gets only her own (empty) report, and no token gets no report
    assert (named["received_fen"], named["luckiest"]) == (0, None)
    assert_problem(anonymous, 401)
    assert report(client, bob, year=2026)["received_fen"] == 520


def test_yearly_report_outside_the_known_years_gives_422(client: TestClient, new_user: Callable[..., User]) -> None:
    user = new_user()
    for year, code in (("1999", "invalid_year"), ("2101", "invalid_year"), ("last", "invalid_request")):
        response = client.get("/v1/me/report", params={"year": year}, headers=user.headers)
        assert_problem(response, 422, code, case=year)
