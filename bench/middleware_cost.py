"""What one pure-ASGI middleware adds to a request, in process: api/observe.py's Observe beside SecurityHeaders.

`.venv/bin/python bench/middleware_cost.py`: an app that answers at once is called 100,000 times bare, inside Observe
and inside SecurityHeaders, six rounds alternately; the round with the quickest bare calls is printed (the machine is
shared, so the quietest round is the fairest).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from hongbao.adapters.metrics import RequestTimes
from hongbao.api.observe import Observe
from hongbao.api.security import SecurityHeaders


class _Route:
    path = "/v1/packets/{packet_id}/open"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    scope["route"] = _Route
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def _send(message: Any) -> None:
    pass


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


def _scope() -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/v1/packets/1/open", "headers": [
        (b"host", b"x"), (b"authorization", b"Bearer abc"), (b"content-type", b"application/json"),
        (b"idempotency-key", b"k1"), (b"user-agent", b"wrk")]}


async def _per_call_us(asgi: Any, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        await asgi(_scope(), _receive, _send)
    return (time.perf_counter() - started) / n * 1e6


async def main(n: int = 100_000, rounds: int = 6) -> None:
    observed, secured = Observe(app, RequestTimes()), SecurityHeaders(app)
    results = []
    for _ in range(rounds):
        results.append((await _per_call_us(app, n), await _per_call_us(observed, n), await _per_call_us(secured, n)))
    bare, obs, sec = min(results, key=lambda r: r[0])
    print(f"bare {bare:.2f} us; Observe adds {obs - bare:.2f} us; SecurityHeaders adds {sec - bare:.2f} us a request")


if __name__ == "__main__":
    asyncio.run(main())
