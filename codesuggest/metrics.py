"""Prometheus metrics, served at /-/metrics to the monitoring allowlist (codesuggest/health.py).

Under gunicorn every worker process writes its values to files of its own in
PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py creates and empties that folder at start, and marks
an exited worker's gauges dead); a scrape, whichever worker answers it, adds them all up. Without
that variable (`manage.py`, a Celery worker, the tests' own process) the process's own values
are served.

Every label has few values: an endpoint is its URL route, never the path; a provider and a
model come from the settings; an event from the list the API accepts. Values that only the
database knows (questions waiting for an answer) are read when scraped (`collect_at_scrape`).
"""

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# From a cached token look-up (a few ms) to a chat answer or a slow model (a minute).
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

# Its _count is the request count: no separate counter, one write less per request.
REQUEST_DURATION = Histogram(
    "codesuggest_http_request_duration_seconds",
    "Time from a request's arrival in Django to the end of its response, streams included",
    ["method", "endpoint", "status"],
    buckets=SECONDS,
)
REQUEST_OVERHEAD = Histogram(
    "codesuggest_http_request_overhead_seconds",
    "A request's time in the service itself, its model calls taken off (requests that made one)",
    ["endpoint"],
    buckets=SECONDS,
)
UPSTREAM_DURATION = Histogram(
    "codesuggest_upstream_request_duration_seconds",
    "Time of one call to a model provider (a stream: until its last chunk), retries included",
    ["provider", "model"],
    buckets=SECONDS,
)
RATE_LIMITED = Counter(
    "codesuggest_rate_limited_requests_total",
    "Requests refused by a rate limit, per limit",
    ["limit"],
)
SUGGESTION_EVENTS = Counter(
    "codesuggest_suggestion_events_total",
    "Editors' suggestion telemetry (suggestion_shown, suggestion_accepted, ...)",
    ["event"],
)
DATABASE_POOL = Gauge(
    "codesuggest_database_pool_connections",
    "PostgreSQL connection pools of the web processes, added up: size, idle, requests waiting",
    ["state"],
    multiprocess_mode="livesum",
)

_scrape_collectors: list[Any] = []


def collect_at_scrape(collector: Any) -> None:
    """Add a collector (an object with `collect()` yielding metric families) run by each scrape,
    in the process answering it: for values read from a shared store, such as the database."""
    _scrape_collectors.append(collector)


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    scraped = CollectorRegistry(auto_describe=False)
    for collector in _scrape_collectors:
        scraped.register(collector)
    return generate_latest(registry) + generate_latest(scraped)


# Model calls -------------------------------------------------------------------------------------

# The seconds the current request has spent waiting for models, for REQUEST_OVERHEAD.
_upstream_seconds: ContextVar[list[float] | None] = ContextVar("upstream_seconds", default=None)


def start_request() -> list[float]:
    """Start counting the current request's model time; the returned one-item list holds it."""
    spent = [0.0]
    _upstream_seconds.set(spent)
    return spent


def end_request() -> None:
    _upstream_seconds.set(None)


@contextmanager
def upstream_call(*, provider: str, model: str) -> Iterator[None]:
    spent = _upstream_seconds.get()
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        UPSTREAM_DURATION.labels(provider, model).observe(seconds)
        if spent is not None:
            spent[0] += seconds


def observe_request(
    *, method: str, endpoint: str, status: int, seconds: float, upstream_seconds: float
) -> None:
    REQUEST_DURATION.labels(method, endpoint, str(status)).observe(seconds)
    if upstream_seconds:
        REQUEST_OVERHEAD.labels(endpoint).observe(max(0.0, seconds - upstream_seconds))


# Database pool -----------------------------------------------------------------------------------

POOL_SAMPLE_SECONDS = 1.0
_pool_sampled_at = 0.0
_pool_lock = threading.Lock()


def sample_database_pool(pool: Callable[[], Any]) -> None:
    """Record the state of the `pool()` (None without one), at most once a second per process:
    each worker has its own pool, and a scrape reaches only one worker, so each worker writes its
    own, summed when scraped."""
    global _pool_sampled_at
    now = time.monotonic()
    if now - _pool_sampled_at < POOL_SAMPLE_SECONDS:
        return
    with _pool_lock:
        if now - _pool_sampled_at < POOL_SAMPLE_SECONDS:
            return
        _pool_sampled_at = now
    database_pool = pool()
    if database_pool is None:
        return
    stats = database_pool.get_stats()
    DATABASE_POOL.labels("size").set(stats.get("pool_size", 0))
    DATABASE_POOL.labels("idle").set(stats.get("pool_available", 0))
    DATABASE_POOL.labels("waiting").set(stats.get("requests_waiting", 0))
