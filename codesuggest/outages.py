"""What a process knows about the services it depends on being down.

When Redis or the database goes away, every request that needs it fails the same way. Logging
a traceback for each of them buried the one fact that mattered under megabytes of repeats, so
an outage is logged once when it is first seen and once when it ends, with how long it lasted
and how many failures it caused in this process.

A dependency that has just failed is also not asked again for `RETRY_SECONDS`: callers that can
do without it (the shared cache) skip it at once instead of each paying a connection attempt.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


class Dependency:
    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._failures = 0
        self._recovery_hooks: list[Callable[[], None]] = []

    @property
    def down(self) -> bool:
        """True for a moment after a failure: callers that can should not ask it yet."""
        return self._down_since is not None and time.monotonic() < self._retry_at

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            self._failures += 1
            self._retry_at = now + RETRY_SECONDS
            first = self._down_since is None
            if first:
                self._down_since = now
        if first:
            logger.error("%s is unavailable: %s: %s", self.name, type(exc).__name__, exc)

    @property
    def in_outage(self) -> bool:
        """True from a failure until an operation succeeds again and the recovery hooks ran."""
        return self._down_since is not None

    def succeeded(self) -> None:
        if self._down_since is None:  # the usual case, checked without the lock
            return
        for hook in self._recovery_hooks:
            try:
                hook()
            except Exception as exc:
                # Still in the outage: the next successful operation runs the hooks again.
                logger.warning("After %s came back: %s: %s", self.name, type(exc).__name__, exc)
                return
        with self._lock:
            if self._down_since is None:
                return
            lasted = time.monotonic() - self._down_since
            failures = self._failures
            self._down_since = None
            self._failures = 0
        logger.warning(
            "%s is back after %.1fs (%d failed operations in this process)",
            self.name,
            lasted,
            failures,
        )

    def on_recovery(self, hook: Callable[[], None]) -> None:
        """Call `hook` when the dependency answers again after an outage seen here."""
        self._recovery_hooks.append(hook)


REDIS = Dependency("Redis (cache and rate limits)")
DATABASE = Dependency("The database")
BROKER = Dependency("The Celery broker")


def _database_answered(**kwargs: Any) -> None:
    DATABASE.succeeded()


# Sent whenever a connection is opened or lent by the pool: the database answers again.
connection_created.connect(_database_answered, dispatch_uid="codesuggest.outages.database")
