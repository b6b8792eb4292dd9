"""Fixtures for campaign, coupon and shake tests: an HTTP client, verified enterprises, merchants, campaigns."""

from __future__ import annotations

import asyncio
import itertools
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from hongbao.api.app import create_app
from hongbao.bootstrap import App
from tests.api.conftest import User, sign_up, top_up

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"


@pytest.fixture
def client(hb: App) -> Iterator[TestClient]:
    with TestClient(create_app(hb, scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def new_user(client: TestClient) -> Callable[..., User]:
    counter = itertools.count(1)

    def make(prefix: str = "user") -> User:
        return sign_up(client, f"{prefix}_{next(counter)}")

    return make


@pytest.fixture
def enterprise(hb: App, client: TestClient, new_user: Callable[..., User]) -> Callable[..., User]:
    """Factory: a verified enterprise account with `wallet_fen` in its wallet."""

    def make(prefix: str = "corp", wallet_fen: int = 1_000_000) -> User:
        user = new_user(prefix)
        hb.store.write_sync(lambda tx: tx.set_verified_as(user.id, "enterprise"))
        top_up(client, user, wallet_fen)
        return user

    return make


def iso(at: datetime) -> str:
    return at.isoformat()


def campaign_body(now: datetime, **overrides: Any) -> dict[str, Any]:
    """A link campaign running for a day: 10 yuan budget in prizes of 1 yuan."""
    body: dict[str, Any] = {
        "channel": "link",
        "name": "Tencent 新春红包",
        "logo_url": "https://example.com/logo.png",
        "cover_text": "新年快乐",
        "starts_at": iso(now),
        "ends_at": iso(now + timedelta(days=1)),
        "budget_fen": 1_000,
        "prizes": [{"kind": "cash", "amount_fen": 100}],
    }
    body.update(overrides)
    return body


def create_campaign(client: TestClient, owner: User, now: datetime, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/campaigns", json=campaign_body(now, **overrides), headers=owner.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def claim(client: TestClient, user: User, campaign: dict[str, Any], token: str | None = "same") -> Any:
    """POST a claim; `token="same"` sends the campaign's own link token."""
    sent = campaign.get("link_token") if token == "same" else token
    return client.post(f"/v1/campaigns/{campaign['id']}/claim", json={"token": sent}, headers=user.headers)


def redeem_code(client: TestClient, holder: User, coupon_id: int) -> str:
    """The redeem code beside the coupon's number in its holder's own coupon list (what the customer shows)."""
    coupons = client.get("/v1/coupons", headers=holder.headers).json()["coupons"]
    return next(str(c["redeem_code"]) for c in coupons if c["id"] == coupon_id)


def redeem(client: TestClient, merchant: User, coupon_id: int, code: str) -> Any:
    """POST a redeem of the coupon with this redeem code, as `merchant`."""
    return client.post(f"/v1/coupons/{coupon_id}/redeem", json={"code": code}, headers=merchant.headers)


def merchant_with_offer(
    client: TestClient,
    owner: User,
    now: datetime,
    *,
    stock: int = 10,
    lat: float = 39.9087,
    lng: float = 116.3975,
    name: str = "全聚德 Quanjude",
    days: int = 30,
) -> tuple[int, int]:
    """A merchant of `owner` at (lat, lng) with one offer; returns (merchant id, offer id)."""
    m = client.post("/v1/merchants", json={"name": name, "lat": lat, "lng": lng}, headers=owner.headers)
    assert m.status_code == 201, m.text
    body = {
        "title": "烤鸭 ¥20 off",
        "face_value_fen": 2_000,
        "stock": stock,
        "expires_at": iso(now + timedelta(days=days)),
    }
    o = client.post(f"/v1/merchants/{m.json()['id']}/offers", json=body, headers=owner.headers)
    assert o.status_code == 201, o.text
    return int(m.json()["id"]), int(o.json()["id"])


def register_many(app: App, prefix: str, n: int) -> list[int]:
    async def go() -> list[int]:
        return list(await asyncio.gather(*(app.users.register(f"{prefix}{i}", PASSWORD) for i in range(n))))

    return asyncio.run(go())


def make_enterprise(app: App, username: str, wallet_fen: int) -> int:
    """A verified enterprise made through the services (for races driven without HTTP)."""
    uid = asyncio.run(app.users.register(username, PASSWORD))
    app.store.write_sync(lambda tx: tx.set_verified_as(uid, "enterprise"))
    asyncio.run(app.wallet.top_up(uid, wallet_fen))
    return uid
