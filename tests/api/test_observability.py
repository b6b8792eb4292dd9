"""What an operator sees: Prometheus metrics, request ids on answers and log lines, readiness with Redis."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from tests.api.conftest import PROBLEM, TestClient, User, make_group, send_lucky, sign_up, top_up
from tests.conftest import fast_settings, service_missing

from hongbao.api.app import create_app
from hongbao.bootstrap import App, build
from hongbao.logs import JsonFormatter, TextFormatter

OPEN_ROUTE = "/v1/packets/{packet_id}/open"
REDIS_URL = "redis://127.0.0.1:6379/0"


def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics by (name, labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests_of(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], method: str, route: str,
                status: str) -> float:
    labels = frozenset({"method": method, "route": route, "status": status}.items())
    return samples.get(("hongbao_http_request_duration_seconds_count", labels), 0.0)


def test_metrics_count_requests_by_route_template_and_status_and_opens_by_outcome(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # given a lucky packet of 2 shares in a group of four
    sender, *members = (new_user() for _ in range(4))
    group_id = make_group(client, sender, members)
    top_up(client, sender, 1_000)
    packet = send_lucky(client, sender, group_id, 200, 2)

    # when three members open it (one too many), one opens twice, and someone asks for a path that is not there
    opened = [client.post(f"/v1/packets/{packet['id']}/open", headers=m.headers) for m in members]
    again = client.post(f"/v1/packets/{packet['id']}/open", headers=members[0].headers)
    assert client.get("/v1/no-such-thing/12345").status_code == 404
    samples = scrape(client)

    # then the opens are counted under the route's template, whatever the packet id, by status
    assert sorted(r.status_code for r in opened) == [200, 200, 409]
    assert again.status_code == 409
    assert requests_of(samples, "POST", OPEN_ROUTE, "200") == 2
    assert requests_of(samples, "POST", OPEN_ROUTE, "409") == 2
    assert requests_of(samples, "GET", "unmatched", "404") == 1
    assert requests_of(samples, "POST", "/v1/packets", "201") == 1
    # and by outcome: two won, and the late and the repeated opens were refused by the gate from memory
    assert samples[("hongbao_opens_total", frozenset({("outcome", "won")}))] == 2
    refused = {dict(labels)["outcome"]: value for (name, labels), value in samples.items()
               if name == "hongbao_opens_total" and dict(labels)["outcome"] != "won"}
    assert sum(refused.values()) == 2 and set(refused) <= {"packet_exhausted", "already_claimed", "exhausted"}
    gate_hits = sum(value for (name, labels), value in samples.items()
                    if name == "hongbao_gate_refusals_total" and dict(labels)["call"] == "open")
    assert gate_hits >= 1
    # and the writer's group commits, queue and the channel's payments are there
    assert samples[("hongbao_write_batch_jobs_count", frozenset())] >= 1
    assert samples[("hongbao_write_batch_jobs_bucket", frozenset({("le", "+Inf")}))] == samples[
        ("hongbao_write_batch_jobs_count", frozenset())]
    assert samples[("hongbao_write_batch_jobs_bucket", frozenset({("le", "1")}))] >= 1  # the lone writes
    assert samples[("hongbao_write_batch_jobs_sum", frozenset())] >= samples[("hongbao_write_batch_jobs_count",
                                                                               frozenset())]
    assert samples[("hongbao_write_queue_depth", frozenset())] == 0
    assert samples[("hongbao_payments", frozenset({("direction", "in"), ("status", "booked")}))] == 1
    assert samples[("hongbao_sse_connections", frozenset())] == 0


def test_every_answer_carries_a_request_id_the_clients_own_when_it_is_sane(client: TestClient) -> None:
    made = client.get("/health").headers["x-request-id"]
    assert len(made) == 24 and int(made, 16) >= 0
    assert client.get("/health").headers["x-request-id"] != made

    assert client.get("/health", headers={"X-Request-Id": "lb-7f3a:42"}).headers["x-request-id"] == "lb-7f3a:42"
    for insane in ("two words", "x" * 129, "a\tb"):
        answered = client.get("/health", headers={"X-Request-Id": insane}).headers["x-request-id"]
        assert answered != insane and len(answered) == 24
    # refusals at the edge carry it too
    big = client.post("/v1/packets", content=b"x", headers={"content-length": str(10**9), "X-Request-Id": "big-1"})
    assert big.status_code == 413 and big.headers["x-request-id"] == "big-1"


@pytest.fixture
def log_lines() -> Iterator[Callable[[logging.Formatter], io.StringIO]]:
    """Attach a handler with the given formatter to the root logger for the test; yields its output."""
    handlers: list[logging.Handler] = []
    root = logging.getLogger()
    level = root.level

    def attach(formatter: logging.Formatter) -> io.StringIO:
        out = io.StringIO()
        handler = logging.StreamHandler(out)
        handler.setFormatter(formatter)
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        handlers.append(handler)
        return out

    yield attach
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


def test_the_access_log_and_errors_are_json_lines_with_the_request_id(
    hb: App, log_lines: Callable[[logging.Formatter], io.StringIO]
) -> None:
    # given a server with its access log on, logging JSON
    hb.settings.access_log = True
    out = log_lines(JsonFormatter())
    api = create_app(hb, scheduler=False)

    @api.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(api) as client:
        # when a request succeeds and another meets a bug
        client.get("/health", headers={"X-Request-Id": "req-ok"})
        failed = client.get("/boom", headers={"X-Request-Id": "req-bug"})

    # then the bug is a problem+json 500 that names the request, and both requests are logged with their id
    assert failed.status_code == 500 and failed.headers["content-type"] == PROBLEM
    assert failed.headers["x-request-id"] == "req-bug" and failed.json()["code"] == "internal_error"
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    accessed = {line["request_id"]: line for line in lines if line["logger"] == "hongbao.access"}
    assert accessed["req-ok"]["route"] == "/health" and accessed["req-ok"]["status"] == 200
    assert accessed["req-bug"]["status"] == 500 and accessed["req-bug"]["route"] == "/boom"
    bug = [line for line in lines if line["level"] == "error"]
    assert bug and bug[0]["request_id"] == "req-bug" and "RuntimeError: a bug" in bug[0]["exc"]


def test_text_log_lines_name_the_request_and_no_access_log_by_default(
    client: TestClient, log_lines: Callable[[logging.Formatter], io.StringIO]
) -> None:
    out = log_lines(TextFormatter())
    client.get("/health", headers={"X-Request-Id": "quiet"})
    logging.getLogger("hongbao.test").info("outside any request")

    assert "hongbao.access" not in out.getvalue()
    assert "INFO    hongbao.test [-] outside any request" in out.getvalue()


def need_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except redis.RedisError as exc:
        service_missing("Redis", str(exc))


def _ready(settings_redis_url: str, tmp_path: Path) -> tuple[int, dict[str, object]]:
    prefix = f"ready-{uuid.uuid4().hex}:"
    app = build(fast_settings(data_dir=tmp_path, redis_url=settings_redis_url, redis_prefix=prefix))
    try:
        with TestClient(create_app(app, scheduler=False)) as client:
            response = client.get("/ready")
            return response.status_code, response.json()
    finally:
        app.close()


@pytest.mark.redis
def test_ready_checks_redis_when_it_is_configured(tmp_path: Path) -> None:
    need_redis()
    status, body = _ready(REDIS_URL, tmp_path / "up")
    assert status == 200 and body["redis"] == "ok" and body["database"] == "ok"

    # port 6599 (this test's range): nothing listens there
    status, body = _ready("redis://127.0.0.1:6599/0", tmp_path / "down")
    assert status == 503 and body["redis"] == "unreachable" and body["status"] == "unavailable"


def test_ready_says_nothing_of_redis_without_it(client: TestClient) -> None:
    body = client.get("/ready").json()
    assert "redis" not in body and body["status"] == "ready"


def test_every_429_says_when_to_come_back() -> None:
    from hongbao.api.errors import retry_after
    from hongbao.domain.errors import TooManyRequests, too_many_attempts
    from hongbao.domain.relay import asked_too_often

    for refusal in (asked_too_often(10), TooManyRequests("Too many guesses at once."), too_many_attempts(42)):
        assert refusal.status == 429
        assert retry_after(refusal) is not None and int(retry_after(refusal)["Retry-After"]) >= 1  # type: ignore[index]
    assert retry_after(too_many_attempts(42)) == {"Retry-After": "42"}


@pytest.mark.redis
def test_the_redis_gate_counts_opens_and_its_refusals_too(tmp_path: Path) -> None:
    need_redis()
    prefix = f"obs-{uuid.uuid4().hex}:"  # this test's keys alone, dropped at the end (the Redis is shared)
    app = build(fast_settings(data_dir=tmp_path, redis_url=REDIS_URL, redis_prefix=prefix))
    try:
        with TestClient(create_app(app, scheduler=False)) as client:
            sender, member = sign_up(client, "rg_sender"), sign_up(client, "rg_member")
            group_id = make_group(client, sender, [member])
            top_up(client, sender, 1_000)
            packet = send_lucky(client, sender, group_id, 100, 1)
            assert client.post(f"/v1/packets/{packet['id']}/open", headers=member.headers).status_code == 200
            assert client.post(f"/v1/packets/{packet['id']}/open", headers=member.headers).status_code == 409
            samples = scrape(client)
    finally:
        app.close()
        shared = redis.Redis.from_url(REDIS_URL)
        keys = list(shared.scan_iter(match=f"{prefix}*"))
        if keys:
            shared.delete(*keys)
        shared.close()
    assert type(app.deps.gate).__name__ == "RedisGate"
    assert samples[("hongbao_opens_total", frozenset({("outcome", "won")}))] == 1
    refused = sum(value for (name, labels), value in samples.items()
                  if name == "hongbao_gate_refusals_total" and dict(labels)["call"] == "open")
    assert refused == 1
