"""Health checks and metrics for load balancers, orchestrators and Prometheus, shaped like GitLab's.

`GET /-/health`: the process answers (GitLab's `GitLab OK`). `GET /-/liveness`: the same, as
JSON. `GET /-/readiness`: it can serve, that is the database answers; Redis and the Celery broker
(when configured) are reported too, but do not make the process unready: the service goes on
without Redis (codesuggest/cache.py) and without the broker (only chat needs it), and an outage
of either must not take every node out of the load balancer at once. `GET /-/metrics`:
Prometheus' text format (codesuggest/metrics.py).

Only addresses in HEALTH_CHECK_ALLOWED_IPS may read them (GitLab's monitoring allowlist); any
other gets the 404 of an unknown path, as from GitLab. The answers say ok or failed and nothing
else: no host names, no error messages (those go to the log, once per outage).
"""

import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from codesuggest import metrics
from codesuggest.api.throttling import client_address
from codesuggest.outages import BROKER, DATABASE, REDIS
from codesuggest.shared_redis import shared_redis

# The broker is asked for a connection once, without Celery's usual retries: a probe must answer
# within its orchestrator's timeout (docker-compose.yml allows 5 s).
BROKER_TIMEOUT = 1.0  # seconds


def allowed_to_monitor(request: HttpRequest) -> bool:
    try:
        ip = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in settings.HEALTH_CHECK_ALLOWED_IPS)


def monitoring_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`view` for the addresses in HEALTH_CHECK_ALLOWED_IPS; for any other, the 404 of a path
    that does not exist, so that nothing tells it the endpoint is there."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not allowed_to_monitor(request):
            raise Http404
        return view(request, *args, **kwargs)

    return guarded


@require_GET
@monitoring_only
def health(request: HttpRequest) -> HttpResponse:
    # GitLab's exact answer: monitoring set up for GitLab looks for this text.
    return HttpResponse("GitLab OK", content_type="text/plain")


@require_GET
@monitoring_only
def liveness(request: HttpRequest) -> JsonResponse:
    # Nothing else is checked: a database outage must not get every web process restarted.
    return JsonResponse({"status": "ok"})


@require_GET
@monitoring_only
def readiness(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, else 503; each check's status under its own key."""
    checks: dict[str, Callable[[], bool]] = {"db_check": database_answers}
    redis_client = shared_redis()
    if redis_client is not None:
        checks["redis_check"] = lambda: redis_answers(redis_client)
    if settings.CELERY_BROKER_URL:
        checks["broker_check"] = broker_answers
    results = {name: check() for name, check in checks.items()}
    ready = results["db_check"]
    body: dict[str, object] = {"status": status(ready)}
    body.update({name: [{"status": status(passed)}] for name, passed in results.items()})
    return JsonResponse(body, status=200 if ready else 503)


def status(passed: bool) -> str:
    return "ok" if passed else "failed"


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError as exc:
        DATABASE.failed(exc)
        return False
    finally:
        # Handed back at once (to the pool, or closed), whatever CONN_MAX_AGE says: probes come
        # every few seconds from each orchestrator and must not keep connections.
        connection.close()


def redis_answers(client: redis.Redis) -> bool:
    try:
        client.ping()
    except redis.RedisError as exc:
        REDIS.failed(exc)
        return False
    REDIS.succeeded()
    return True


def broker_answers() -> bool:
    from codesuggest.celery import app

    try:
        with app.connection_for_read(
            settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT
        ) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
    except Exception as exc:  # kombu raises its transport's own errors
        BROKER.failed(exc)
        return False
    BROKER.succeeded()
    return True


@require_GET
@monitoring_only
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics.exposition(), content_type="text/plain; version=0.0.4")
