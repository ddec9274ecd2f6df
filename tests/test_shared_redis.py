"""The machine's Redis is shared: no test or benchmark may empty a database of it. Tests that
need a Redis to themselves start one (tests/services.py RedisServer); the rest delete only the
keys they created."""

import re
from pathlib import Path

from django.conf import settings

EMPTYING = re.compile(r"flush_?(db|all)", re.IGNORECASE)


def test_no_test_or_benchmark_empties_a_redis_database():
    root = Path(settings.BASE_DIR)
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("tests", "bench")
        for path in sorted((root / folder).rglob("*.py"))
        if path != Path(__file__)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if EMPTYING.search(line)
    ]

    assert offenders == []
