"""Slow and huge clients against a real `hongbao serve` on 127.0.0.1 (api/protocol.py, api/middleware.py).

Raw sockets, so a test can send a request head one byte at a time, stall a body, or announce 200 MB.  Every
loop is bounded by a budget far above the server's deadlines; the tests assert that the server closed the
connection or answered, never how fast.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.server import running_server

HEAD_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 1.0
BODY_BYTES_MAX = 65_536
BUDGET_S = 30.0  # far above the deadlines: a connection still open after this was never going to be closed


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    data_dir: Path = tmp_path_factory.mktemp("edge")
    env = {
        "HONGBAO_HEADER_READ_TIMEOUT_S": str(HEAD_TIMEOUT_S),
        "HONGBAO_BODY_READ_TIMEOUT_S": str(BODY_TIMEOUT_S),
        "HONGBAO_BODY_BYTES_MAX": str(BODY_BYTES_MAX),
    }
    with running_server(data_dir, **env) as base:
        host, port = base.removeprefix("http://").split(":")
        yield host, int(port)


def connect(server: tuple[str, int]) -> socket.socket:
    return socket.create_connection(server, timeout=BUDGET_S)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by BUDGET_S)."""
    received = b""
    deadline = time.monotonic() + BUDGET_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept the connection open for {BUDGET_S} s; got {received[:200]!r}")


def test_a_request_head_sent_one_byte_at_a_time_is_cut_off(server: tuple[str, int]) -> None:
    # given a client that sends its headers one byte every 0.1 s, for longer than any deadline
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 400
    closed = False
    received = b""
    with connect(server) as sock:
        for byte in head:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            ready, _, _ = select.select([sock], [], [], 0.1)
            if ready:
                try:
                    chunk = sock.recv(4096)
                except ConnectionResetError:  # closed on us while a byte was on its way: a reset (seen in CI)
                    closed = True
                    break
                received += chunk
                if not chunk:
                    closed = True
                    break

    # then the server closed the connection before the head was done, answering 408 if anything
    assert closed, "the server let a slow head trickle in for 40 s"
    assert received == b"" or received.startswith(b"HTTP/1.1 408")


def test_a_connection_that_never_sends_a_request_is_closed(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        answer = read_until_closed(sock)

    assert answer == b"" or answer.startswith(b"HTTP/1.1 408")


def test_a_keep_alive_connection_that_goes_quiet_after_its_answers_is_closed(server: tuple[str, int]) -> None:
    """The deadline is moved by each answer rather than re-armed (one timer a connection): a connection quiet after
    its answers must still be cut, and each answer must come whole (head and body written together)."""
    with connect(server) as sock:
        for _ in range(3):  # each answer moves the deadline on; the timer armed at the start must follow it
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
                chunk = sock.recv(4096)
                assert chunk, f"closed during an answer: {answer!r}"
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
            assert answer.count(b"HTTP/1.1") == 1
        rest = read_until_closed(sock)

    assert rest == b"" or rest.startswith(b"HTTP/1.1 408")


def test_a_body_that_stops_arriving_is_answered_408_and_closed(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"username\": ")
        answer = read_until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"code":"body_timeout"' in answer


def test_a_200_mb_registration_is_refused_before_its_body_is_sent(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 209715200\r\n\r\n")
        answer = read_until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"code":"too_large"' in answer


def test_an_endless_chunked_body_is_refused_while_it_is_still_being_sent(server: tuple[str, int]) -> None:
    chunk = b"4000\r\n" + b" " * 0x4000 + b"\r\n"
    sent = 0
    answer = b""
    cut = False  # the server answered and closed while we were still sending: its 413 may be lost in our reset
    with connect(server) as sock:
        sock.sendall(b"POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        while sent < 256 * 1024 * 1024:  # 4,096x the limit: the server must have answered long before
            ready, writable, _ = select.select([sock], [sock], [], 1.0)
            if ready:
                answer = read_until_closed(sock)
                break
            if writable:
                try:
                    sock.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    cut = True
                    break
                sent += len(chunk)

    # Either we read the 413, or the server closed on us a few MiB in (far short of the 256 MiB we would send).
    assert answer.startswith(b"HTTP/1.1 413") or (cut and sent < 16 * 1024 * 1024), (sent, cut, answer[:200])


def test_a_prompt_client_is_served_as_usual(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = read_until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 200")
    assert b"x-content-type-options: nosniff" in answer.lower()


def test_a_websocket_outlives_the_request_head_deadline(server: tuple[str, int]) -> None:
    """The head deadline is the HTTP request's: once a connection is upgraded it is the WebSocket's.  (It used to
    stay armed, so every shake socket was sent a 408 and closed `HEAD_TIMEOUT_S` after it opened.)"""
    sock = connect(server)
    try:
        sock.sendall(b"GET /v1/shake/socket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, f"closed before the upgrade: {head!r}"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head[:100]
        time.sleep(HEAD_TIMEOUT_S * 2.5)  # past the deadline the upgrade request's head had
        ready, _, _ = select.select([sock], [], [], 0)
        assert not ready, f"the server wrote or closed the socket by itself: {sock.recv(200)!r}"
        token = b'{"token":"not-a-token"}'
        sock.sendall(bytes([0x81, 0x80 | len(token)]) + b"\0\0\0\0" + token)  # a masked text frame, mask 0
        answer = read_until_closed(sock)
        assert answer[:1] == b"\x88" and int.from_bytes(answer[2:4], "big") == 4401, answer[:40]
    finally:
        sock.close()


def test_the_shake_socket_declines_compression_a_browser_offers(server: tuple[str, int]) -> None:
    """A browser always offers permessage-deflate; for messages of a few dozen bytes it would cost zlib's time on
    every shake and ~50 KiB of its state per socket, so `hongbao serve` accepts the socket without it."""
    sock = connect(server)
    try:
        sock.sendall(b"GET /v1/shake/socket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, f"closed before the upgrade: {head!r}"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head[:100]
        assert b"sec-websocket-extensions" not in head.lower(), head
    finally:
        sock.close()
