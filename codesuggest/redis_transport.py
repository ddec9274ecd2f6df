"""kombu's Redis transport (the Celery broker), with one defect of kombu 5.7.0 worked around: a
worker that lost Redis could exit with `Unrecoverable error: AttributeError("'NoneType' object
has no attribute 'hostname'")` and never consume again.

On losing the broker, celery 5.7.0's consumer calls `Connection.collect()`, then `close()`
(`Consumer.on_connection_error_after_connected`). `collect()` closes the channels best-effort:
the task channel's close gives up while a BRPOP is unanswered, and `Transport.close_connection`
stops at the first channel whose close fails (remote control's, deleting its queue in a Redis
that is gone). Then it detaches the transport from the connection (`transport.client = None`).
`close()` closes the task channel again: the message of a task being answered is still
unacknowledged, so the channel restores it through a new connection pool, whose parameters
`Channel._connparams` reads from `transport.client`. The AttributeError reaches the worker.
Whether the worker reads the remote-control socket or the task socket first decides, hence one
crash in two runs. tests/chat/test_worker_broker_restart.py says when this is no longer needed.
"""

from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        # A channel that outlived its connection cannot reach Redis any more: say so with the
        # connection error that closing, acknowledging and the periodic restore all handle.
        # Its unacknowledged messages stay in Redis, redelivered after the visibility timeout.
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("This broker channel's connection was closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel


def use_for_redis_urls() -> None:
    """Make redis:// and rediss:// broker URLs use this transport (call before connecting)."""
    for scheme in ("redis", "rediss"):
        TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
