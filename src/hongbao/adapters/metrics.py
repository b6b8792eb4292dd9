"""Prometheus metrics of one API process, exposed at GET /metrics (prometheus-client's text format).

What is counted on the request path costs a dict lookup and a few integer additions: request times go into plain
lists here, opens and gate refusals into the gate's own counters (adapters/gate.py), and prometheus-client turns
them into metric families only when Prometheus scrapes.  Everything else (the writer's queue and batches, live
streams, payments) is read at scrape time from the objects that already keep it.

Metrics are per process: with `serve --workers N` each scrape reaches one worker; run one process per port (or
per container) and scrape each when you need the whole picture.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from hongbao import __version__
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.store import BATCH_SIZE_BOUNDS

if TYPE_CHECKING:
    from hongbao.bootstrap import App

# Upper bounds of the request-time buckets, seconds: an open answered from the gate takes ~0.1 ms, a group commit
# a few ms, a write waiting out an outage up to HONGBAO_WRITE_TIMEOUT_S.
REQUEST_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_BOUNDS = [*(repr(b) for b in REQUEST_BUCKETS_S), "+Inf"]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class RequestTimes:
    """Request durations by (method, route template, status): a histogram kept as plain lists."""

    def __init__(self) -> None:
        # Per series: a count per bucket (the last is +Inf, not cumulative), then the sum of seconds.
        self.series: dict[tuple[str, str, int], list[float]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request (api/observe.py inlines this for every request)."""
        key = (method, route, status)
        row = self.series.get(key) or self.row(key)
        row[bisect_left(REQUEST_BUCKETS_S, seconds)] += 1
        row[-1] += seconds

    def row(self, key: tuple[str, str, int]) -> list[float]:
        """The counts of a new series: one per bucket (the last is +Inf, not cumulative), then the sum."""
        row = self.series[key] = [0] * (len(REQUEST_BUCKETS_S) + 2)
        return row

    def family(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily(
            "hongbao_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method, route template and status "
            "(its _count is the number of requests).",
            labels=["method", "route", "status"],
        )
        for (method, route, status), row in list(self.series.items()):
            cumulative, buckets = 0.0, []
            for bound, count in zip(_BOUNDS, row[:-1], strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            family.add_metric([method, route, str(status)], buckets, sum_value=row[-1])
        return family


class Metrics:
    """The registry of one App's API process and what it counts itself (requests, sweeps)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.requests = RequestTimes()
        self.sweeps: Counter[tuple[str, str]] = Counter()  # (sweep, "ok" | "error") -> runs
        self.swept: Counter[str] = Counter()  # sweep -> items it settled
        self.payments: list[tuple[str, str, int]] = []  # (direction, status, count), read before each scrape
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        self.registry.register(_AppCollector(self))

    def swept_once(self, sweep: str, items: int | None) -> None:
        """Record one run of a scheduler sweep: `items` settled, or None when it failed."""
        self.sweeps[(sweep, "ok" if items is not None else "error")] += 1
        if items:
            self.swept[sweep] += items

    async def exposition(self) -> bytes:
        """The text Prometheus scrapes; reads the payments by status from the database first."""
        with contextlib.suppress(Exception):  # the scrape still answers (the last counts) while the database is away
            self.payments = await self.app.store.read(_payments_by_status)
        return generate_latest(self.registry)


def _payments_by_status(tx: object) -> list[tuple[str, str, int]]:
    p = s.channel_payments
    conn = tx.conn  # type: ignore[attr-defined]
    rows = conn.execute(select(p.c.direction, p.c.status, func.count()).group_by(p.c.direction, p.c.status)).all()
    return [(str(direction), str(status), int(count)) for direction, status, count in rows]


class _AppCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m, app = self.metrics, self.metrics.app
        info = GaugeMetricFamily("hongbao_build_info", "The running hongbao version (always 1).", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        yield m.requests.family()

        gate = app.deps.gate
        opens = CounterMetricFamily(
            "hongbao_opens", "Opens (拆) by outcome: won, already_claimed, exhausted, expired, failed from the store; "
            "a refusal code when the gate refused the open from memory.", labels=["outcome"])
        for outcome, count in sorted(getattr(gate, "open_outcomes", {}).items()):
            opens.add_metric([outcome], count)
        yield opens
        hits = CounterMetricFamily(
            "hongbao_gate_refusals", "Grabs and opens the gate refused before any write (gate hits), by call and code.",
            labels=["call", "code"])
        for (call, code), count in sorted(getattr(gate, "refusals", {}).items()):
            hits.add_metric([call, code], count)
        yield hits

        store = app.store
        yield GaugeMetricFamily("hongbao_write_queue_depth", "Writes waiting for the writer thread.",
                                value=store.health()["queued"])
        batches = HistogramMetricFamily(
            "hongbao_write_batch_jobs", "Writes per committed group-commit batch (_sum / _count is the mean size).")
        cumulative, buckets = 0.0, []
        for bound, count in zip([*map(str, BATCH_SIZE_BOUNDS), "+Inf"], store.batch_sizes, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        batches.add_metric([], buckets, sum_value=float(store.jobs_done))
        yield batches
        yield CounterMetricFamily("hongbao_write_unknown_commits", "COMMITs whose reply was lost (then settled).",
                                  value=store.unknown_commits)
        yield CounterMetricFamily("hongbao_write_unavailable", "Writes answered 503 store_unavailable.",
                                  value=store.unavailable_answers)
        yield CounterMetricFamily("hongbao_write_busy_failures",
                                  "Batch attempts refused as busy (deadlock, serialization), then retried.",
                                  value=store.busy_failures)
        yield CounterMetricFamily("hongbao_write_deferred",
                                  "Writes sent on to the next batch: another writer held rows they need (locks.py).",
                                  value=store.deferred_jobs)
        yield CounterMetricFamily("hongbao_write_carried",
                                  "Opens sent on to the next batch so that a write beside them committed sooner.",
                                  value=store.carried_jobs)

        runs = CounterMetricFamily("hongbao_sweeps", "Scheduler sweeps run in this process, by sweep and result.",
                                   labels=["sweep", "result"])
        for (sweep, result), count in sorted(m.sweeps.items()):
            runs.add_metric([sweep, result], count)
        yield runs
        swept = CounterMetricFamily("hongbao_swept_items", "Rows the scheduler's sweeps settled or pruned.",
                                    labels=["sweep"])
        for sweep, count in sorted(m.swept.items()):
            swept.add_metric([sweep], count)
        yield swept

        payments = GaugeMetricFamily(
            "hongbao_payments", "Payments through the channel by direction (in: top-up, out: withdrawal) and status "
            "(pending, booked, failed, sent), from the database: shared by every process.",
            labels=["direction", "status"])
        for direction, status, count in m.payments:
            payments.add_metric([direction, status], count)
        yield payments
        yield GaugeMetricFamily("hongbao_sse_connections", "Live-event streams (GET /v1/events) open now.",
                                value=app.live.bus.subscriber_count())
