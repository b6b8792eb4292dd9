"""Limits at the edge (api/middleware.py): body size (413), body read deadline (408), and HEAD wherever GET is.

The body tests drive the ASGI app directly with a `receive` that hands out chunks, so they can count how much of
a huge or endless body the app asked for before refusing it, and stall a body without a real slow socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from tests.api.conftest import PROBLEM, TestClient, sign_up
from tests.conftest import fast_settings

from hongbao.api.app import create_app
from hongbao.bootstrap import App, build

LIMIT = 64 * 1024
CHUNK = 16 * 1024


@pytest.fixture
def edge_app(tmp_path: Path) -> Iterator[App]:
    app = build(fast_settings(database_url=f"sqlite:///{tmp_path / 'hongbao.db'}", data_dir=tmp_path,
                              body_bytes_max=LIMIT, body_read_timeout_s=0.3))
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def api(edge_app: App) -> FastAPI:
    return create_app(edge_app, scheduler=False)


@pytest.fixture
def edge_client(api: FastAPI) -> Iterator[TestClient]:
    with TestClient(api) as client:
        yield client


class Exchange:
    """One request through the ASGI app: its body chunks as the app asks for them, and the answer it sends."""

    def __init__(self, chunks: Iterator[bytes] | None, *, stall_after: int | None = None) -> None:
        self.chunks = chunks
        self.stall_after = stall_after
        self.chunks_read = 0
        self.status = 0
        self.headers: dict[bytes, bytes] = {}
        self.body = b""

    async def receive(self) -> dict[str, Any]:
        if self.chunks is None or (self.stall_after is not None and self.chunks_read >= self.stall_after):
            await asyncio.Event().wait()  # the client sends nothing more
        assert self.chunks is not None
        chunk = next(self.chunks, None)
        self.chunks_read += 1
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = dict(message["headers"])
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    async def run(self, api: FastAPI, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> Exchange:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
            "client": ("127.0.0.1", 50000), "server": ("testserver", 80), "state": {},
        }
        await asyncio.wait_for(api(scope, self.receive, self.send), timeout=20)
        return self


def endless(chunk: bytes = b" " * CHUNK) -> Iterator[bytes]:
    while True:
        yield chunk


def test_a_content_length_over_the_limit_is_refused_with_413_before_a_byte_is_read(api: FastAPI) -> None:
    # given an unauthenticated registration announcing 200 MB
    exchange = Exchange(endless())

    # when it arrives
    asyncio.run(exchange.run(api, "POST", "/v1/users", [(b"content-length", b"209715200")]))

    # then it is refused as too large, the connection is closed, and the body was never read
    assert exchange.status == 413
    assert exchange.headers[b"content-type"] == PROBLEM.encode()
    assert exchange.headers[b"connection"] == b"close"
    assert orjson.loads(exchange.body)["code"] == "too_large"
    assert exchange.chunks_read == 0


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit_not_buffered_whole(api: FastAPI) -> None:
    # given a chunked POST /v1/users that would never end
    exchange = Exchange(endless())

    # when the app reads it
    asyncio.run(exchange.run(api, "POST", "/v1/users", []))

    # then it is refused once the bytes counted pass the limit: the rest is never asked for
    assert exchange.status == 413
    assert orjson.loads(exchange.body)["code"] == "too_large"
    assert exchange.chunks_read == LIMIT // CHUNK + 1


def test_the_open_fast_path_is_behind_the_body_limit_too(api: FastAPI) -> None:
    exchange = Exchange(endless())

    asyncio.run(exchange.run(api, "POST", "/v1/packets/1/open", [(b"content-length", b"10000000")]))

    assert exchange.status == 413
    assert orjson.loads(exchange.body)["code"] == "too_large"


def test_a_body_under_the_limit_is_served_as_before(edge_client: TestClient) -> None:
    # given a registration padded with whitespace to just under the limit
    body = orjson.dumps({"username": "bob_1", "password": "hongbao123"})
    body += b" " * (LIMIT - len(body))

    response = edge_client.post("/v1/users", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 201, response.text


def test_a_body_that_stops_arriving_is_answered_408_and_the_connection_closed(api: FastAPI) -> None:
    # given a registration whose body stalls after its first chunk (the client holds the connection)
    exchange = Exchange(iter([b'{"username": "slow_1", ']), stall_after=1)

    # when the body read deadline (0.3 s here) passes
    asyncio.run(exchange.run(api, "POST", "/v1/users", [(b"content-length", b"100")]))

    # then the request is answered 408 and closed, and nobody was registered
    assert exchange.status == 408
    assert exchange.headers[b"connection"] == b"close"
    assert orjson.loads(exchange.body)["code"] == "body_timeout"


def test_a_request_with_no_body_is_never_timed_out_while_the_app_streams(api: FastAPI) -> None:
    # given a GET with no body (receive says so at once): the deadline is for bodies, not for answers
    exchange = Exchange(iter([]))

    asyncio.run(exchange.run(api, "GET", "/health", []))

    assert exchange.status == 200


@pytest.mark.parametrize("path", ["/", "/app", "/app/wallet", "/health", "/openapi.json", "/v1/demo-users"])
def test_head_answers_wherever_get_does_with_the_same_status_and_no_body(edge_client: TestClient, path: str) -> None:
    got = edge_client.get(path)
    head = edge_client.head(path)

    assert head.status_code == got.status_code
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


def test_head_on_a_static_file_and_a_landing_page(edge_client: TestClient) -> None:
    script = edge_client.head("/static/js/main.js")
    assert script.status_code == 200
    assert script.content == b""
    assert int(script.headers["content-length"]) > 0

    landing = edge_client.head("/s/no-such-token")
    assert landing.status_code == edge_client.get("/s/no-such-token").status_code == 404
    assert landing.content == b""


def test_head_on_a_route_needing_a_token_is_a_401_with_no_body(edge_client: TestClient) -> None:
    response = edge_client.head("/v1/me")

    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["www-authenticate"] == "Bearer"


def test_head_with_a_token_answers_like_get(edge_client: TestClient) -> None:
    alice = sign_up(edge_client, "alice_1", "hongbao123")

    head = edge_client.head("/v1/me", headers=alice.headers)

    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len(edge_client.get("/v1/me", headers=alice.headers).content)


def test_head_on_a_post_only_route_is_405_not_a_write(edge_client: TestClient) -> None:
    response = edge_client.head("/v1/sessions")

    assert response.status_code == 405
    assert response.content == b""
