"""Prometheus metrics: requests, errors and latency per endpoint and task.

With several gunicorn workers, `immich-sidecar serve` sets PROMETHEUS_MULTIPROC_DIR so that /metrics
adds up every worker, as prometheus_client's multiprocess mode prescribes.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REQUESTS = Counter("aio_requests_total", "Requests answered", ["endpoint", "task", "status"])
ERRORS = Counter("aio_request_errors_total", "Requests answered with a 4xx or 5xx status", ["endpoint", "task"])
LATENCY = Histogram(
    "aio_request_seconds",
    "Time to answer a request",
    ["endpoint", "task"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

# The lanes of sidecar/lanes.py: how long requests waited before their inference started, and how many
# requests of each lane are being served (each holds a request thread while it is).
LANE_WAIT = Histogram(
    "aio_lane_wait_seconds",
    "Time a request waited before its inference started, per lane (interactive: none by design; "
    "background: for a background slot)",
    ["lane"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
LANE_IN_FLIGHT = Gauge(
    "aio_lane_requests_in_flight",
    "Requests being served, per lane (interactive, background, upstream)",
    ["lane"],
    multiprocess_mode="livesum",
)


def observe(endpoint: str, task: str, status: int, seconds: float) -> None:
    REQUESTS.labels(endpoint, task, str(status)).inc()
    LATENCY.labels(endpoint, task).observe(seconds)
    if status >= 400:
        ERRORS.labels(endpoint, task).inc()


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
