"""A real Celery worker process for the chat tests: Redis broker, the test database, and a fake
chat model server, all shared with the test process."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codesuggest.celery import app as celery_app
from tests.fake_servers import FakeOpenAIServer
from tests.services import RedisServer, database_url_for_processes

BASE_DIR = Path(__file__).resolve().parents[2]
# A message taken by a killed worker is handed out again after this long.
VISIBILITY_TIMEOUT = 2


class Worker:
    """`beat`: the worker also runs Celery beat (the periodic sweep), as `celery worker -B`.
    `prefork`: the pool as deployed; two child processes answer, so the main process asks the
    broker for the next message while one is being answered."""

    def __init__(
        self,
        *,
        broker_url: str,
        model_url: str,
        log_dir: Path,
        beat: bool = False,
        env: dict[str, str] | None = None,
        prefork: bool = False,
    ) -> None:
        self.beat = beat
        self.prefork = prefork
        self.env = {
            **os.environ,
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or "test-only-secret-key",
            "DATABASE_URL": database_url_for_processes(),
            "CELERY_BROKER_URL": broker_url,
            "REDIS_URL": broker_url,
            "CELERY_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "CHAT_PROVIDER": "openai",
            "CHAT_MODEL": "test-chat-model",
            "CHAT_BASE_URL": model_url,
            "CHAT_TIMEOUT": "10",
            # A killed worker's lease lapses before the broker hands its message out again.
            "CHAT_LEASE_SECONDS": "1",
            **(env or {}),
        }
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.started = 0

    def start(self, timeout: float = 30) -> None:
        self.started += 1
        log_path = self.log_dir / f"worker-{self.started}.log"
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "codesuggest", "worker",
                    *(["--pool=prefork", "--concurrency=2"] if self.prefork
                      else ["--pool=solo"]),
                    "--loglevel=INFO", "--without-heartbeat",
                    "--without-mingle", "--without-gossip",
                    f"--hostname=chat-test-{os.getpid()}-{self.started}@%h",
                    *(["--beat", f"--schedule={self.log_dir / 'beat-schedule'}"]
                      if self.beat else []),
                ],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                # A group of its own: the pool's children and beat go with the worker.
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while b" ready." not in log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The Celery worker did not start:\n{log_path.read_text()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to the worker and its children: no warm shutdown, no acknowledgement, as when
        a machine is lost."""
        assert self.process is not None
        self._kill_group()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        self._kill_group()  # whatever did not stop with it, beat included
        self.process.wait(10)

    def _kill_group(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def log(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.log_dir.glob("worker-*.log"))
        )


def use_broker(broker_url: str | None) -> None:
    """Send this process's tasks to `broker_url` (None: back to eager)."""
    # Pools made earlier (even eager runs make one, for the default amqp:// URL) would keep
    # publishing to the old broker; Celery has no public way to drop them but close(), which
    # also unregisters the app.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.update(
        broker_url=broker_url,
        task_always_eager=broker_url is None,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    )


@pytest.fixture(scope="module")
def worker(
    django_db_setup: None,
    django_db_blocker: object,
    redis_server: RedisServer,
    model_server: FakeOpenAIServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Worker]:
    """A worker process for a module's tests: questions from `redis_server`, answers from
    `model_server`, on the tests' database (which must exist first: django_db_setup)."""
    worker = Worker(
        broker_url=redis_server.url,
        model_url=model_server.url,
        log_dir=tmp_path_factory.mktemp("celery"),
    )
    worker.start()
    yield worker
    worker.stop()
