"""Limits at the edge, before any route runs: a request body size limit, a body read deadline, and HEAD as GET.

One pure ASGI middleware, outside the open fast path (api/hotpath.py) and FastAPI alike, so every request passes it:

* A body larger than `body_bytes_max` is refused with 413 `too_large`: a Content-Length over the limit before a
  byte of the body is read, and a chunked body as soon as the bytes counted so far pass it.  Nothing is buffered
  here; whatever the app had buffered is dropped with the request.
* A body that has not fully arrived within `body_read_timeout_s` of the request's start (a slow client holding a
  connection open) is answered 408 `body_timeout`.  Both answers close the connection (`connection: close`): the
  rest of a refused body is never read.
* HEAD is answered as the GET of the same path would be, without its body (FastAPI routes answer GET only).

Header read timeouts are the server's job (api/protocol.py): by the time a request reaches ASGI its head is read.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hongbao.api.errors import problem_body

BODY_BYTES_MAX_DEFAULT = 1_048_576  # 1 MiB: 50x the largest body a route accepts (10,000 group member ids)
BODY_READ_TIMEOUT_S_DEFAULT = 30.0
_PROBLEM = (b"content-type", b"application/problem+json")
_CLOSE = (b"connection", b"close")


class EdgeRefusal(Exception):
    """Raised from `receive` when a body is too large or too slow; the middleware answers it, whatever the app did."""

    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail


class EdgeLimits:
    def __init__(
        self,
        app: ASGIApp,
        body_bytes_max: int = BODY_BYTES_MAX_DEFAULT,
        body_read_timeout_s: float = BODY_READ_TIMEOUT_S_DEFAULT,
    ) -> None:
        self.app = app
        self.body_bytes_max = body_bytes_max
        self.body_read_timeout_s = body_read_timeout_s

    def too_large(self) -> EdgeRefusal:
        return EdgeRefusal(
            413, "too_large", "Request body too large",
            f"The request body is larger than {self.body_bytes_max} bytes.",
        )

    def too_slow(self) -> EdgeRefusal:
        return EdgeRefusal(
            408, "body_timeout", "Request body too slow",
            f"The request body did not arrive within {self.body_read_timeout_s:g} s.",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.body_bytes_max:
                    # A malformed length never reaches here (the server refuses it); the check is cheap anyway.
                    await _refuse(send, self.too_large())
                    return
                break
        if scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
            send = _without_body(send)
        # Every request's receive is watched, even one whose headers promise no body: a server speaking another
        # protocol (HTTP/2 under another ASGI server) may stream a body that no header announces.
        deadline = asyncio.get_running_loop().time() + self.body_read_timeout_s
        received = 0
        body_done = False
        refusal: EdgeRefusal | None = None
        started = False

        async def limited_receive() -> Message:
            nonlocal received, body_done, refusal
            if body_done:  # after the body, receive only waits for a disconnect: no deadline then
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                refusal = self.too_slow()
                raise refusal from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.body_bytes_max:
                    refusal = self.too_large()
                    raise refusal
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if refusal is not None:
                return  # the app's answer to a refused body (often a 400 or 500) is replaced by ours
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except EdgeRefusal:
            pass
        except Exception:
            if refusal is None:
                raise
        if refusal is not None and not started:
            await _refuse(send, refusal)


def _without_body(send: Send) -> Send:
    """A `send` that passes a response's head and ends it with an empty body (HEAD's answer)."""
    ended = False

    async def head_send(message: Message) -> None:
        nonlocal ended
        if message["type"] == "http.response.body":
            if not ended:
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send(message)

    return head_send


async def _refuse(send: Send, refusal: EdgeRefusal) -> None:
    body = problem_body(refusal.status, refusal.code, refusal.title, refusal.detail)
    await send({
        "type": "http.response.start", "status": refusal.status,
        "headers": [_PROBLEM, (b"content-length", str(len(body)).encode()), _CLOSE],
    })
    await send({"type": "http.response.body", "body": body})
