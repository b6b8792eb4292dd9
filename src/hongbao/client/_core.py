"""What the sync and async clients share: a call's description, the retry policy, errors (no I/O here)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from hongbao.client.models import parse

T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_AFTER_MAX_S = 30.0


class ApiError(Exception):
    """Raised for every refusal the server answers (problem+json): `status`, the stable `code`, `detail`."""

    def __init__(self, status: int, code: str, detail: str, problem: dict[str, Any]) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.problem = problem


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request: `keyed` calls move money and carry an Idempotency-Key (made here unless the caller gave one),
    which makes them safe to retry; GETs are safe by nature; other POSTs are retried only if never sent.
    `model` is the reply's type (an API response model, a list or union of them; None: plain JSON); `kind` says
    what the reply is: "json", "bytes" (an image) or "text"."""

    method: str
    path: str
    model: Any = None
    json: Any = None
    params: dict[str, Any] | None = None
    keyed: bool = False
    idempotency_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "json"

    def prepared(self) -> Call[T]:
        """The call with its Idempotency-Key fixed once, so every retry sends the same one."""
        if not self.keyed:
            return self
        key = self.idempotency_key or f"hbc-{uuid.uuid4()}"
        return Call(self.method, self.path, self.model, self.json, self.params, True, key,
                    {**self.headers, "Idempotency-Key": key}, self.kind)

    @property
    def safe(self) -> bool:
        return self.method in ("GET", "HEAD") or self.idempotency_key is not None


def retry_wait(call: Call[Any], attempt: int, retries: int, backoff_s: float,
               answer: httpx.Response | None, error: Exception | None) -> float | None:
    """Seconds to wait before trying `call` again, or None to give up (the answer or error then stands)."""
    if attempt >= retries:
        return None
    if error is not None:
        never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        return backoff_s * 2**attempt if never_sent or call.safe else None
    assert answer is not None
    if answer.status_code not in RETRY_STATUSES or not call.safe:
        return None
    after = answer.headers.get("retry-after", "")
    return min(float(after), RETRY_AFTER_MAX_S) if after.isdigit() else backoff_s * 2**attempt


class Attempts(Generic[T]):
    """The retry loop of one call without I/O (both clients drive it): send `call`, then tell `after` what came
    back; it gives the seconds to wait before sending again, or None when the call is done (`result()`)."""

    def __init__(self, call: Call[T], retries: int, backoff_s: float) -> None:
        self.call = call.prepared()
        self.retries = retries
        self.backoff_s = backoff_s
        self._attempt = 0
        self._last: tuple[httpx.Response | None, Exception | None] = (None, None)

    def after(self, answer: httpx.Response | None, error: Exception | None) -> float | None:
        self._last = (answer, error)
        wait = retry_wait(self.call, self._attempt, self.retries, self.backoff_s, answer, error)
        self._attempt += 1
        return wait

    def result(self) -> T:
        answer, error = self._last
        if error is not None:
            raise error
        assert answer is not None
        return result(self.call, answer)


class Settings:
    """What both clients hold: where, as whom, and how hard to retry."""

    def __init__(self, base_url: str, token: str | None, on_behalf_of: str | None, retries: int,
                 backoff_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.on_behalf_of = on_behalf_of
        self.retries = retries
        self.backoff_s = backoff_s

    def headers(self, call: Call[Any]) -> dict[str, str]:
        return {**auth_headers(self.token, self.on_behalf_of), **call.headers}


def result(call: Call[T], answer: httpx.Response) -> T:
    """The reply parsed into the call's model; ApiError for a refusal."""
    if answer.status_code >= 400:
        try:
            problem = answer.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        raise ApiError(answer.status_code, str(problem.get("code", "http_error")),
                       str(problem.get("detail", answer.text[:200])), problem)
    if call.kind == "bytes":
        return answer.content  # type: ignore[return-value]
    if call.kind == "text":
        return answer.text  # type: ignore[return-value]
    if answer.status_code == 204 or not answer.content:
        return None  # type: ignore[return-value]
    value: T = parse(call.model, answer.json())
    return value


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event of GET /v1/events: its name (`message`, `packet_sent`, `packet_opened`, …), id, data."""

    name: str
    data: Any
    id: str | None = None


class EventReader:
    """Turns an event stream's lines into Events (comments and heartbeats skipped); no I/O."""

    def __init__(self) -> None:
        self._name = "message"
        self._id: str | None = None
        self._data: list[str] = []

    def feed(self, line: str) -> Event | None:
        """The event a blank line completes, else None."""
        if not line:
            if not self._data:
                self._name = "message"
                return None
            event = Event(self._name, json.loads("\n".join(self._data)), self._id)
            self._name, self._id, self._data = "message", None, []
            return event
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._name = value
        elif field == "id":
            self._id = value
        elif field == "data":
            self._data.append(value)
        return None


def auth_headers(token: str | None, on_behalf_of: str | None) -> dict[str, str]:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if on_behalf_of is not None:
        headers["X-On-Behalf-Of"] = on_behalf_of
    return headers
