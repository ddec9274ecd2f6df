"""Completions through the service versus straight to the model server, by hand (not in CI):

    .venv/bin/python bench/completions.py [--seconds 5]   # production: codesuggest.asgi
    .venv/bin/python bench/completions.py --app wsgi     # codesuggest.wsgi under gevent

It needs PostgreSQL and Redis at their usual local ports (or BENCH_DATABASE_URL / REDIS_URL)
and `wrk` (Debian: `apt-get install -y wrk`). It creates the database `codesuggest_bench`,
migrates it, makes a user and a token, starts a fake OpenAI-compatible server (asyncio, in a
process of its own, so that it is never the limit) and the service under gunicorn.conf.py, and
sends the same request body both ways:

  - latency p50/p95/p99 with 1 client, and requests/s with 16 and 64 clients, instant upstream;
  - requests/s and errors with 256 clients and an upstream that answers after 200 ms;
  - peak RSS of each gunicorn worker (VmHWM) and of PostgreSQL connections held.

The direct rows measure the fake upstream and wrk together: the ceiling of the harness.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from harness import (
    PYTHON,
    ROOT,
    ConnectionCounter,
    children_of,
    free_port,
    peak_rss_mb,
    prepare_database,
    running,
    upstream_command,
)

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/codesuggest_bench"
)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
PATH = "/api/v4/code_suggestions/completions"

# A realistic request: 2 KB of Python above the cursor, a little below, a block just opened.
ABOVE = (
    "import math\n\n\n"
    + "".join(
        f"def helper_{n}(values):\n    total = 0\n    for v in values:\n"
        f"        total += v * {n}\n    return total\n\n\n"
        for n in range(20)
    )
    + "def add(a, b):\n    "
)
BELOW = "\n\n\nprint(add(1, 2))\n"
REQUEST_BODY = json.dumps(
    {
        "current_file": {
            "file_name": "app/calc.py",
            "content_above_cursor": ABOVE,
            "content_below_cursor": BELOW,
        },
        "intent": "completion",
    }
).encode()
WRK_SCRIPT = """
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BENCH_TOKEN")
if token ~= nil and token ~= "" then wrk.headers["PRIVATE-TOKEN"] = token end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50":%d,"p95":%d,"p99":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def wrk(url: str, *, clients: int, seconds: float, token: str = "") -> dict[str, float]:
    threads = 1 if clients == 1 else 2
    env = {**os.environ, "BENCH_BODY_FILE": str(BODY_FILE), "BENCH_TOKEN": token}
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{clients}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(SCRIPT_FILE),
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH "))
    stats = json.loads(line.removeprefix("BENCH "))
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    stats["errors"] = sum(stats[k] for k in ("connect", "read", "write", "status", "timeout"))
    return stats


def check_answer(url: str, token: str) -> None:
    request = urllib.request.Request(
        url,
        data=REQUEST_BODY,
        headers={"Content-Type": "application/json", "PRIVATE-TOKEN": token},
    )
    # The first request waits for a worker to load the application (gunicorn listens before
    # that): several seconds for four workers on busy cores.
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    if not body.get("choices"):
        sys.exit(f"The service answered without a suggestion: {body}")


# The run -------------------------------------------------------------------------------------


def forget_earlier_runs(redis_url: str) -> None:
    """Drop what an earlier run cached (the service's keys only: this Redis may be shared)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for pattern in ("codesuggest:*", "ratelimit:*"):
        for key in client.scan_iter(match=pattern, count=1000):
            client.unlink(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each run")
    parser.add_argument("--worker-class", default="", help="override gunicorn.conf.py's")
    parser.add_argument("--workers", default="", help="override gunicorn.conf.py's")
    parser.add_argument(
        "--app",
        choices=("wsgi", "asgi"),
        default="asgi",
        help="codesuggest.asgi (production: HTTP and /-/cable) or codesuggest.wsgi (HTTP alone; "
        "the worker class is then gevent unless --worker-class says otherwise)",
    )
    parser.add_argument("--delay-ms", type=int, default=200, help="the slow upstream's delay")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")

    work = Path(tempfile.mkdtemp(prefix="codesuggest-bench-"))
    global BODY_FILE, SCRIPT_FILE
    BODY_FILE, SCRIPT_FILE = work / "body.json", work / "post.lua"
    BODY_FILE.write_bytes(REQUEST_BODY)
    SCRIPT_FILE.write_text(WRK_SCRIPT)
    seconds, delay = options.seconds, options.delay_ms / 1000

    upstream_port, service_port = free_port(), free_port()
    upstream = f"http://127.0.0.1:{upstream_port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "codesuggest.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "COMPLETIONS_PROVIDER": "openai",
        "COMPLETIONS_MODEL": "codestral-latest",
        "CODE_SUGGESTIONS_RATE_LIMIT": "0",
        "GUNICORN_BIND": f"127.0.0.1:{service_port}",
        "LOG_LEVEL": "WARNING",
    }
    if options.app == "wsgi" and not options.worker_class:
        options.worker_class = "gevent"
    for name, value in (
        ("GUNICORN_WORKER_CLASS", options.worker_class),
        ("GUNICORN_WORKERS", options.workers),
    ):
        if value:
            env[name] = value
    forget_earlier_runs(REDIS_URL)
    token = prepare_database(env)
    service = f"http://127.0.0.1:{service_port}{PATH}"
    config = str(ROOT / "gunicorn.conf.py")
    gunicorn = [PYTHON, "-m", "gunicorn", "-c", config, f"codesuggest.{options.app}"]
    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, direct: float, through: float, unit: str, lower_is_better: bool) -> None:
        ratio = through / direct if direct else float("inf")
        rows.append((name, f"{direct:,.1f} {unit}", f"{through:,.1f} {unit}", f"{ratio:.3g}x"))

    with running(upstream_command(upstream_port), os.environ.copy(), upstream_port):
        direct_url = f"{upstream}/v1/completions"
        wrk(direct_url, clients=16, seconds=1)
        d1 = wrk(direct_url, clients=1, seconds=seconds)
        d16 = wrk(direct_url, clients=16, seconds=seconds)
        d64 = wrk(direct_url, clients=64, seconds=seconds)
        slow_direct = wrk(
            f"{upstream}/delay/{options.delay_ms}/v1/completions", clients=256, seconds=seconds
        )

        fast_env = {**env, "COMPLETIONS_BASE_URL": upstream}
        with running(gunicorn, fast_env, service_port) as master:
            check_answer(service, token)
            wrk(service, clients=16, seconds=1, token=token)  # warm every worker
            s1 = wrk(service, clients=1, seconds=seconds, token=token)
            s16 = wrk(service, clients=16, seconds=seconds, token=token)
            with ConnectionCounter(DATABASE_URL) as fast_conns:
                s64 = wrk(service, clients=64, seconds=seconds, token=token)
            fast_rss = [peak_rss_mb(pid) for pid in children_of(master.pid)]

        slow_env = {**env, "COMPLETIONS_BASE_URL": f"{upstream}/delay/{options.delay_ms}"}
        with running(gunicorn, slow_env, service_port) as master:
            check_answer(service, token)
            with ConnectionCounter(DATABASE_URL) as slow_conns:
                slow = wrk(service, clients=256, seconds=seconds, token=token)
            slow_rss = [peak_rss_mb(pid) for pid in children_of(master.pid)]

    worker_class = options.worker_class or "gunicorn.conf.py's"
    print(
        f"\ncompletions benchmark: {os.cpu_count()} CPUs, {seconds:g} s per run, "
        f"codesuggest.{options.app}, worker class {worker_class}, {len(fast_rss)} workers"
    )
    for label, key in (("p50", "p50"), ("p95", "p95"), ("p99", "p99")):
        row(f"latency {label}, 1 client", d1[key] / 1000, s1[key] / 1000, "ms", True)
    row("throughput, 16 clients", d16["rps"], s16["rps"], "req/s", False)
    row("throughput, 64 clients", d64["rps"], s64["rps"], "req/s", False)
    row(
        f"throughput, 256 clients, {options.delay_ms} ms upstream",
        slow_direct["rps"],
        slow["rps"],
        "req/s",
        False,
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'direct':>15}  {'via service':>15}  {'ratio':>7}")
    for name, direct_value, through_value, ratio in rows:
        print(f"{name:{width}}  {direct_value:>15}  {through_value:>15}  {ratio:>7}")

    added50 = (s1["p50"] - d1["p50"]) / 1000
    added95 = (s1["p95"] - d1["p95"]) / 1000
    ideal = min(256 / delay, s16["rps"])
    print(
        f"\nerrors: 1 client {s1['errors']}, 16 clients {s16['errors']}, "
        f"64 clients {s64['errors']}, 256 clients slow {slow['errors']} "
        f"(direct slow {slow_direct['errors']}); details at 256: "
        + ", ".join(f"{k} {slow[k]}" for k in ("connect", "read", "write", "status", "timeout"))
    )
    print(
        f"peak RSS per worker: instant run {', '.join(f'{m:.0f}' for m in fast_rss)} MB; "
        f"slow run {', '.join(f'{m:.0f}' for m in slow_rss)} MB"
    )
    print(
        f"PostgreSQL connections held at most: {fast_conns.peak} (64 clients), "
        f"{slow_conns.peak} (256 clients, slow)"
    )
    print("\ntargets:")
    checks = (
        (f"added latency p50 {added50:.2f} ms <= 3 ms", added50 <= 3),
        (f"added latency p95 {added95:.2f} ms <= 10 ms", added95 <= 10),
        (f"{s16['rps']:.0f} req/s at 16 clients >= 400", s16["rps"] >= 400),
        (f"{slow['errors']} errors at 256 clients, slow upstream == 0", slow["errors"] == 0),
        (
            f"{slow['rps']:.0f} req/s at 256 clients >= 90% of min(256/{delay:g} s, "
            f"{s16['rps']:.0f}) = {0.9 * ideal:.0f}",
            slow["rps"] >= 0.9 * ideal,
        ),
    )
    for text, met in checks:
        print(f"  [{'met' if met else 'MISSED'}] {text}")
    shutil.rmtree(work, ignore_errors=True)


BODY_FILE = SCRIPT_FILE = Path()

if __name__ == "__main__":
    main()
