"""uvicorn's HTTP protocol with a deadline for each request head, so a slow client cannot hold a connection forever.

uvicorn closes a connection idle for `timeout_keep_alive` after a response, but any byte received cancels that
timer, and a new connection has none: a client that sends its headers one byte every few seconds (slowloris)
holds the connection, and a socket, for as long as it likes.  Here every connection has `header_read_timeout_s`
to deliver each request head, counted from the connection's start or from the end of the previous response;
bytes arriving do not reset it.  When it runs out the connection is answered 408 and closed.  Once a head is
read the request is the app's: its body has a deadline of its own (api/middleware.py).  A connection upgraded to a
WebSocket is the WebSocket's: no deadline.

The deadline costs no timer per request: each connection has at most one, and a request moves the deadline rather
than cancelling and re-arming it (a timer armed and cancelled per request was ~5 % of a refused open's CPU).

Over httptools, the head of a response of known length is written together with its body (`HeadWithBody`): one
send(2) instead of two for a small answer, the two having been a fifth of a refused open's CPU in a W1 storm (py-spy).
Streamed answers (no Content-Length: event streams) still get their head at once.

`hongbao serve` runs uvicorn with `http=PROTOCOL`, an import string, so `--workers` processes load it too; the
deadline is read from HONGBAO_HEADER_READ_TIMEOUT_S in each process.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, cast

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency; h11 is uvicorn's own fallback
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

_TIMER_SLACK_S = 0.005  # a timer may fire a hair before its time (uvloop counts in ms): that is the deadline
_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@functools.cache
def header_read_timeout_s() -> float:
    from hongbao.config import Settings

    return Settings().header_read_timeout_s


class HeadDeadline:
    """Mixed into a uvicorn HTTP protocol class before it (it calls the protocol's methods through super())."""

    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any
    _head_timer: asyncio.TimerHandle | None = None
    _head_deadline: float | None = None  # loop time by which the next head must be in; None while a request runs

    def _in_request(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self) -> None:
        self._head_deadline = deadline = self.loop.time() + header_read_timeout_s()
        if self._head_timer is None:
            self._head_timer = self.loop.call_at(deadline, self._expired)

    def _disarm(self) -> None:
        self._head_deadline = None  # the timer, when it fires, finds nothing to do

    def _expired(self) -> None:
        self._head_timer = None
        deadline = self._head_deadline
        if deadline is None:
            return
        if deadline - self.loop.time() > _TIMER_SLACK_S:  # moved on by a request since: wait for the new deadline
            self._head_timer = self.loop.call_at(deadline, self._expired)
            return
        if self._in_request() or self.transport.is_closing():
            return
        self.transport.write(_TIMED_OUT)
        self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        # A head read (a request running), or an upgrade: uvicorn handed the transport to a WebSocket protocol,
        # whose connection the deadline must not cut (it wrote a 408 into every socket and closed it).
        if self._in_request() or self.transport.get_protocol() is not cast(object, self):
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self._in_request() and not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_deadline = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)  # type: ignore[misc]


class HeadWithBody:
    """The connection's transport as one response cycle sees it: the head of a response of known length is held
    and written with the first piece of its body, in one write.  Any other write (a streamed answer's head, a
    "100 Continue") goes at once; closing writes what is held first.  uvicorn's cycle writes, closes and asks
    `is_closing` through it; anything else is the transport's own."""

    __slots__ = ("_held", "_started", "transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self._held: bytes | None = None
        self._started = False

    def write(self, data: bytes) -> None:
        if self._held is not None:
            data, self._held = self._held + data, None
        elif not self._started and not data.startswith(b"HTTP/1.1 100 "):
            self._started = True  # the response's head: uvicorn writes it in one piece, names in lower case
            if b"\r\ncontent-length: " in data:
                self._held = data
                return
        self.transport.write(data)

    def close(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self.transport.write(held)
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class H11WithHeadDeadline(HeadDeadline, H11Protocol):
    pass


if HttpToolsProtocol is not None:

    class HttpToolsWithHeadDeadline(HeadDeadline, HttpToolsProtocol):
        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            cycle = self.cycle  # the new request's, not yet running (its task starts on the next loop turn)
            # A HEAD answer writes no body after its head: nothing to join it with.
            if cycle is not None and cycle.transport is self.transport and cycle.scope["method"] != "HEAD":
                cycle.transport = HeadWithBody(self.transport)

    PROTOCOL = "hongbao.api.protocol:HttpToolsWithHeadDeadline"
else:  # pragma: no cover
    PROTOCOL = "hongbao.api.protocol:H11WithHeadDeadline"
