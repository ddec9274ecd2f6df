"""Which worker is answering a question right now.

A worker takes a short lease on a question before it asks the model and renews it while it
works. The lease says two things no broker tells us in time:
- a second copy of the task (a broker redelivery, a sweep's dispatch) finds it taken and steps
  aside, so one question is never answered by two workers at once;
- a lease that lapsed means its worker died (SIGKILL, a lost machine): the periodic sweep
  (`chat.services.questions_sweep`) then dispatches the question again, within about
  2 x CHAT_LEASE_SECONDS + CHAT_SWEEP_SECONDS instead of the broker's visibility timeout.

Without Redis (the embedded default) tasks run in-process, one at a time per question, and
there is nothing to lease.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.conf import settings
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from chat.relay import PREFIX, shared_client


def _key(question_id: int) -> str:
    return f"{PREFIX}:lease:{question_id}"


@contextmanager
def answering(question_id: int) -> Iterator[bool]:
    """Hold the question's lease for the block: True if this worker got it, False if another
    worker holds it. Raises redis.RedisError when Redis cannot be reached (worth a retry)."""
    client = shared_client()
    if client is None:
        yield True
        return
    lease = client.lock(
        _key(question_id), timeout=settings.CHAT_LEASE_SECONDS, blocking=False, thread_local=False
    )
    if not lease.acquire():
        yield False
        return
    done = threading.Event()
    renewer = threading.Thread(target=_renew, args=(lease, done), daemon=True)
    renewer.start()
    try:
        yield True
    finally:
        done.set()
        renewer.join()
        # A lease that lapsed may be someone else's by now; theirs stays. One that cannot be
        # released (Redis is gone) lapses by itself: the answer is stored either way.
        with suppress(LockError, RedisError):
            lease.release()


def _renew(lease: Lock, done: threading.Event) -> None:
    interval = settings.CHAT_LEASE_SECONDS / 3
    while not done.wait(interval):
        try:
            lease.reacquire()
        except (RedisError, LockError):
            return  # Redis is gone or the lease was lost: the sweep decides what happens next


def held(question_id: int) -> bool:
    client = shared_client()
    return client is not None and bool(client.exists(_key(question_id)))
