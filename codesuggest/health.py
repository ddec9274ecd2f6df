"""Health checks for load balancers and orchestrators, shaped like GitLab's.

`GET /-/liveness`: the process answers. `GET /-/readiness`: it can serve, that is the database
and (when configured) Redis answer. No credential is needed, so the answers say ok or failed and
nothing else: no host names, no error messages (those go to the log).
"""

import logging
from collections.abc import Callable

import redis
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from codesuggest.shared_redis import shared_redis

logger = logging.getLogger(__name__)


@require_GET
def liveness(request: HttpRequest) -> JsonResponse:
    # Nothing else is checked: a database outage must not get every web process restarted.
    return JsonResponse({"status": "ok"})


@require_GET
def readiness(request: HttpRequest) -> JsonResponse:
    """200 when every check passes, else 503; each check's status under its own key."""
    checks: dict[str, Callable[[], bool]] = {"db_check": database_answers}
    redis_client = shared_redis()
    if redis_client is not None:
        checks["redis_check"] = lambda: redis_answers(redis_client)
    results = {name: check() for name, check in checks.items()}
    ready = all(results.values())
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
        logger.warning("Readiness: the database does not answer: %s", exc)
        return False
    finally:
        # Handed back at once (to the pool, or closed), whatever CONN_MAX_AGE says: probes come
        # every few seconds from each orchestrator and must not keep connections.
        connection.close()


def redis_answers(client: redis.Redis) -> bool:
    try:
        client.ping()
        return True
    except redis.RedisError as exc:
        logger.warning("Readiness: Redis does not answer: %s", exc)
        return False
