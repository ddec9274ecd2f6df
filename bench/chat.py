"""Chat latency: web → Celery worker → answer, against an instant fake model, vs the same request
answered eagerly in-process (the baseline), measured in the same run.

Run by hand (needs Redis; PostgreSQL when DATABASE_URL says so):
    DJANGO_SECRET_KEY=x .venv/bin/python bench/chat.py [--requests 200]
Prints p50/p95 in milliseconds for both paths.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codesuggest.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)

from tests.chat.worker import Worker, use_broker  # noqa: E402
from tests.conftest import Api, make_token  # noqa: E402
from tests.fake_servers import FakeOpenAIServer  # noqa: E402
from tests.services import RedisServer  # noqa: E402


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def measure(api: Api, token: str, count: int) -> list[float]:
    timings = []
    for number in range(count):
        started = time.perf_counter()
        response = api.post(
            "/api/v4/chat/completions",
            {"content": f"Question {number}?", "with_clean_history": True},
            token=token,
        )
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.content
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    from projects.models import User

    # A Redis server of the benchmark's own: the shared one is never emptied or written to.
    redis_server = RedisServer(Path(tempfile.mkdtemp()))
    redis_server.start()
    broker_url = redis_server.url
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    worker = None
    try:
        with FakeOpenAIServer() as model:
            settings.CHAT_PROVIDER = "openai"
            settings.CHAT_RATE_LIMIT = 0  # hundreds of questions from one user
            settings.CHAT_BASE_URL = model.url
            user = User.objects.create_user("alice")
            token = make_token(user)
            api = Api()

            # Baseline: the same request, answered in-process (no broker, no worker).
            use_broker(None)
            settings.CHAT_REDIS_URL = ""
            measure(api, token, 10)  # warm-up
            eager = measure(api, token, args.requests)

            worker = Worker(
                broker_url=broker_url, model_url=model.url, log_dir=Path(tempfile.mkdtemp())
            )
            worker.start()
            use_broker(broker_url)
            settings.CHAT_REDIS_URL = broker_url
            measure(api, token, 10)
            queued = measure(api, token, args.requests)
    finally:
        if worker is not None:
            worker.stop()
        teardown_databases(old_config, verbosity=0)
        redis_server.kill()

    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"chat latency, {args.requests} requests each, instant fake model, {database}")
    print(f"{'path':<32}{'p50 ms':>10}{'p95 ms':>10}")
    for name, samples in (
        ("eager, in-process (baseline)", eager),
        ("web → worker → answer", queued),
    ):
        p50, p95 = percentiles(samples)
        print(f"{name:<32}{p50:>10.1f}{p95:>10.1f}")


if __name__ == "__main__":
    main()
