"""The browser app's server side: deep links answer its page; the demo logins only in embedded demo mode."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import PROBLEM, TestClient
from tests.conftest import fast_settings

from hongbao.api.app import create_app
from hongbao.bootstrap import App, build


def test_deep_links_under_app_answer_the_browser_page(client: TestClient) -> None:
    for path in ("/", "/app", "/app/wallet", "/app/packet/42", "/app/x/shake?event=1"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/static/js/main.js">' in response.text
    script = client.get("/static/js/main.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))


def test_demo_users_are_not_listed_when_demo_data_is_off(client: TestClient) -> None:
    response = client.get("/v1/demo-users")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_demo_users_are_listed_in_embedded_mode_only(store_url: str, tmp_path: Path) -> None:
    # given a server with demo data on, on SQLite (embedded) or PostgreSQL (scaled)
    app: App = build(fast_settings(demo=True, database_url=store_url, data_dir=tmp_path))
    try:
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
