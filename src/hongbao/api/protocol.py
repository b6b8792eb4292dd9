"""uvicorn's HTTP protocol with a deadline for each request head, so a slow client cannot hold a connection forever.

uvicorn closes a connection idle for `timeout_keep_alive` after a response, but any byte received cancels that
timer, and a new connection has none: a client that sends its headers one byte every few seconds (slowloris)
holds the connection, and a socket, for as long as it likes.  Here every connection has `header_read_timeout_s`
to deliver each request head, counted from the connection's start or from the end of the previous response;
bytes arriving do not reset it.  When it runs out the connection is answered 408 and closed.  Once a head is
read the request is the app's: its body has a deadline of its own (api/middleware.py).  A connection upgraded to a
WebSocket is the WebSocket's: no deadline.

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

_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@functools.cache
def header_read_timeout_s() -> float:
    from hongbao.config import Settings

    return Settings().header_read_timeout_s


class HeadDeadline:
    """Mixed into a uvicorn HTTP protocol class before it (it calls the protocol's methods through super())."""

    transport: asyncio.Transport
    cycle: Any
    _head_timer: asyncio.TimerHandle | None = None

    def _in_request(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = asyncio.get_running_loop().call_later(header_read_timeout_s(), self._expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _expired(self) -> None:
        self._head_timer = None
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
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]


class H11WithHeadDeadline(HeadDeadline, H11Protocol):
    pass


if HttpToolsProtocol is not None:

    class HttpToolsWithHeadDeadline(HeadDeadline, HttpToolsProtocol):
        pass

    PROTOCOL = "hongbao.api.protocol:HttpToolsWithHeadDeadline"
else:  # pragma: no cover
    PROTOCOL = "hongbao.api.protocol:H11WithHeadDeadline"
