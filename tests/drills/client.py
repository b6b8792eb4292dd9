"""The drills' HTTP client: every call and what it answered, and the rules that no answer may break.

A drill's verdict is over the whole record: an answer the client saw (2xx) must be in the ledger, a failure
must be a 503 `store_unavailable` with Retry-After (never a 500, never a hang), and the test compares the
record with the database afterwards.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.drills.server import DEMO_PASSWORD

CLIENT_TIMEOUT_S = 15.0  # an answer may be an error, but it must come: no request may wait longer than this


@dataclass
class Call:
    """One request and its answer (`status` None: no answer at all, see `error`)."""

    op: str
    subject: str  # what the test matches in the database: a greeting, a note, "packet:user"
    attempt: int
    status: int | None
    code: str | None = None
    body: Any = None
    retry_after: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def unavailable(self) -> bool:
        return self.status == 503 and self.code == "store_unavailable"

    def __str__(self) -> str:
        said = self.error or f"{self.status} {self.code or ''}".strip()
        return f"{self.op} {self.subject} (attempt {self.attempt}): {said}"


@dataclass
class Record:
    """Every call of every client thread, in the order they were answered."""

    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(
        self,
        client: httpx.Client,
        method: str,
        path: str,
        *,
        op: str,
        subject: str = "",
        attempt: int = 1,
        json: Any = None,
    ) -> Call:
        try:
            reply = client.request(method, path, json=json)
        except httpx.TimeoutException as exc:
            hang = f"no answer within {CLIENT_TIMEOUT_S} s ({type(exc).__name__})"
            seen = Call(op, subject, attempt, None, error=hang)
        except httpx.HTTPError as exc:
            seen = Call(op, subject, attempt, None, error=f"{type(exc).__name__}: {exc}")
        else:
            body = _json(reply)
            code = body.get("code") if isinstance(body, dict) and reply.status_code >= 400 else None
            seen = Call(op, subject, attempt, reply.status_code, code, body, reply.headers.get("retry-after"))
        with self.lock:
            self.calls.append(seen)
        return seen

    def broken(self) -> list[Call]:
        """Answers no fault may cause: a 5xx other than 503 store_unavailable, a 503 without Retry-After, a hang."""
        wrong = []
        for c in self.calls:
            if c.status is None or (c.status >= 500 and not c.unavailable) or (c.unavailable and not c.retry_after):
                wrong.append(c)
        return wrong

    def ok(self, op: str) -> list[Call]:
        return [c for c in self.calls if c.op == op and c.ok]

    def tally(self) -> dict[str, int]:
        """Answers by kind, e.g. {"send 201": 40, "open 503 store_unavailable": 3}: the figure a drill reports."""
        counts: dict[str, int] = {}
        for c in self.calls:
            said = "no answer" if c.status is None else f"{c.status} {c.code or ''}".strip()
            key = f"{c.op} {said}"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))


def _json(reply: httpx.Response) -> Any:
    try:
        return reply.json()
    except ValueError:
        return reply.text[:200]


def logged_in(base: str, username: str) -> httpx.Client:
    """A client with `username`'s bearer token (demo password); raises if the login does not succeed."""
    # A connection per request: a kept-alive one the server closes as idle could fail a request on its own.
    client = httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT_S, limits=httpx.Limits(max_keepalive_connections=0))
    reply = client.post("/v1/sessions", json={"username": username, "password": DEMO_PASSWORD})
    reply.raise_for_status()
    client.headers["Authorization"] = f"Bearer {reply.json()['token']}"
    return client
