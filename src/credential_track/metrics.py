"""Prometheus metrics (`/metrics`, web/ops.py).

Counters and the scan latency histogram live in each process; under
`credtrack serve` (several gunicorn workers and the queue's worker on one
machine) they are summed across processes through prometheus_client's
multiprocess mode, which `serve` switches on with PROMETHEUS_MULTIPROC_DIR
before any worker imports this module — so nothing imports it at start:
callers import it when they first count. Figures that belong to the queue
(its depth, the runs and seconds of every task on every machine) are read
from the queue's store at each scrape."""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

SCANS = Counter("credtrack_scans", "Scans decided, by action, result and station", ["action", "result", "station"])
SCAN_SECONDS = Histogram("credtrack_scan_seconds", "Time to decide and record one scan",
                         buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
LOGIN_FAILURES = Counter("credtrack_login_failures", "Failed logins (wrong password, unknown name or locked out)")
IMPORTS = Counter("credtrack_imports", "Manifest imports finished, by outcome", ["outcome"])
EXPORTS = Counter("credtrack_exports", "Exports authorised, by kind and format", ["kind", "format"])


def observe_scan(*, action: str, result: str, station: str, seconds: float) -> None:
    SCANS.labels(action=action, result=result, station=station).inc()
    SCAN_SECONDS.observe(seconds)


class QueueCollector:
    """The queue's depth and every task's runs, failures and seconds, from
    the queue's store (shared by every worker on every machine)."""

    def collect(self):
        from .tasks import records
        from .tasks.queue import huey

        depth = GaugeMetricFamily("credtrack_queue_depth", "Tasks waiting in the queue")
        runs = CounterMetricFamily("credtrack_task_runs", "Task runs finished, by task and result",
                                   labels=["task", "result"])
        seconds = CounterMetricFamily("credtrack_task_seconds", "Seconds spent running each task", labels=["task"])
        try:
            depth.add_metric([], huey.pending_count())
            stats = records.run_stats()
        except Exception:  # noqa: BLE001 — the queue is down: /readyz says so; the rest is still worth a scrape
            stats = {}
        for name, s in sorted(stats.items()):
            runs.add_metric([name, "ok"], s["count"] - s["failed"])
            runs.add_metric([name, "failed"], s["failed"])
            seconds.add_metric([name], s["seconds"])
        yield depth
        yield runs
        yield seconds


def exposition() -> bytes:
    """The text format of every metric of this machine's processes."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        for collector in (SCANS, SCAN_SECONDS, LOGIN_FAILURES, IMPORTS, EXPORTS):
            registry.register(collector)
        del REGISTRY
    registry.register(QueueCollector())
    return generate_latest(registry)
