"""Health checks for load balancers and orchestrators, shaped like GitLab's.

`GET /-/liveness`: the process answers. `GET /-/readiness`: it can serve, that is the database
answers; Redis (when configured) is reported too, but does not make the process unready: the
service goes on without it (codesuggest/cache.py), and an outage of Redis must not take every
node out of the load balancer at once. No credential is needed, so the answers say ok or failed
and nothing else: no host names, no error messages (those go to the log, once per outage).
"""

from collections.abc import Callable

import redis
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from codesuggest.outages import DATABASE, REDIS
from codesuggest.shared_redis import shared_redis


@require_GET
def liveness(request: HttpRequest) -> JsonResponse:
    # Nothing else is checked: a database outage must not get every web process restarted.
    return JsonResponse({"status": "ok"})


@require_GET
def readiness(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, else 503; each check's status under its own key."""
    checks: dict[str, Callable[[], bool]] = {"db_check": database_answers}
    redis_client = shared_redis()
    if redis_client is not None:
        checks["redis_check"] = lambda: redis_answers(redis_client)
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
