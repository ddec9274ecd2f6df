"""Soak and fault injection, by hand (not in CI):

    .venv/bin/python bench/soak.py [--minutes 2] [--clients 8] [--chat-clients 2]
        [--fault none|redis|worker|db-connections|model] [--fault-at S] [--fault-seconds 15]

It starts everything it uses, on this machine: a Redis of its own (so that it may kill it), the
database codesuggest_soak on the local PostgreSQL (dropped and created again; SOAK_DATABASE_URL
names another), a fake OpenAI-compatible model server, the service as deployed (codesuggest.asgi
under gunicorn.conf.py) and a Celery worker with beat. Then --clients threads send mixed traffic
for --minutes, every request on a new connection: completions (whole and streamed), generations
(streamed), /enabled for a project that exists and one that does not, /user and malformed JSON
(400 expected); the --chat-clients among them ask chat questions, some read back through their
SSE subscription. A status the request should get is not an error; any other status, a
timeout, a broken connection or an empty suggestion is.

Every --sample-seconds it prints requests/s, errors, the PostgreSQL connections the soak
database holds and the RSS of each gunicorn worker and of the Celery worker. At the end: the end
of the run against its start (ratios), and with --fault, each phase (before, during, after the
fault) and how long each endpoint took to recover; then the chat questions as the database holds
them (lost, duplicated, left pending after up to --drain-seconds for the sweep), and the
tracebacks in the service's logs, which stay in a temporary folder.

Faults: `redis` SIGKILLs the soak Redis and starts it again on the same port after
--fault-seconds; `worker` SIGKILLs the Celery worker (all its processes) and starts a new one
after --fault-seconds; `db-connections` terminates the soak database's backends
(pg_terminate_backend) every second for --fault-seconds; `model` makes the model server answer
500 for the first half of the fault and garbage (a 200 that is not JSON, a stream cut short) for
the second half.
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from harness import (
    CHAT_TEXT,
    PYTHON,
    ROOT,
    admin_url,
    children_of,
    connections_held,
    database_name,
    free_port,
    kill,
    manage,
    prepare_database,
    print_table,
    rss_mb,
    start,
    stop,
    upstream_command,
    wait_for_port,
)

DATABASE_URL = os.environ.get(
    "SOAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/codesuggest_soak"
)
FAULTS = ("none", "redis", "worker", "db-connections", "model")
PROJECT = "soak/app"
COMPLETIONS = "/api/v4/code_suggestions/completions"
ENABLED = "/api/v4/code_suggestions/enabled"
CHAT = "/api/v4/chat/completions"
QUESTION_PREFIX = "Soak question"
# The error rate counts as back to its baseline within this margin (percentage points).
RECOVERY_MARGIN = 0.01
RECOVERY_WINDOW = 5.0

ABOVE = (
    "import math\n\n\n"
    + "".join(
        f"def helper_{n}(values):\n    total = 0\n    for v in values:\n"
        f"        total += v * {n}\n    return total\n\n\n"
        for n in range(5)
    )
    + "def add(a, b):\n    "
)
BELOW = "\n\n\nprint(add(1, 2))\n"


# What the clients saw ------------------------------------------------------------------------


@dataclass
class Result:
    started: float  # seconds since the traffic began
    ended: float
    endpoint: str
    failure: str  # "" when the request got what it should


@dataclass
class Question:
    content: str
    subscription: str = ""
    outcome: str = ""  # the status the POST got, or "timeout", "connection"
    message: str = ""  # what an error response said
    answer: str | None = None
    streamed: str = ""  # the SSE reader: "done", "error event", "timeout", ...
    streamed_text: str | None = None


class Failure(Exception):
    """The request did not get what it should: the label says what it got instead."""


@dataclass
class Record:
    results: list[Result] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, result: Result) -> None:
        with self.lock:
            self.results.append(result)

    def between(self, start: float, end: float) -> list[Result]:
        with self.lock:
            return [r for r in self.results if start <= r.started < end]

    def ended_between(self, start: float, end: float) -> list[Result]:
        with self.lock:
            return [r for r in self.results if start <= r.ended < end]


class Client:
    """One simulated editor: a request at a time, each on a new connection. A chat client asks
    questions only, the others send everything else: a question that waits (a worker is down)
    must not hold back the completions an editor sends meanwhile."""

    def __init__(
        self, port: int, token: str, timeout: float, record: Record, clock, *, chat: bool
    ) -> None:
        self.port, self.token, self.timeout = port, token, timeout
        self.record, self.clock = record, clock
        self.random = random.Random()
        self.kinds: list[tuple[str, int, Callable[[], None]]] = (
            [("chat", 6, self.chat), ("chat + subscription", 4, self.chat_with_subscription)]
            if chat
            else [
                ("completions", 25, self.completion),
                ("completions stream", 8, self.completion_stream),
                ("generation SSE", 5, self.generation_stream),
                ("enabled", 10, lambda: self.enabled(PROJECT, 200)),
                ("enabled, no project", 5, lambda: self.enabled("soak/missing", 404)),
                ("user", 10, self.user),
                ("bad JSON", 5, self.bad_json),
            ]
        )

    # The loop

    def run(self, until: threading.Event) -> None:
        names = [name for name, _, _ in self.kinds]
        weights = [weight for _, weight, _ in self.kinds]
        calls = {name: call for name, _, call in self.kinds}
        while not until.is_set():
            name = self.random.choices(names, weights)[0]
            self.timed(name, calls[name])

    def timed(self, endpoint: str, call: Callable[[], None]) -> None:
        started = self.clock()
        failure = ""
        try:
            call()
        except Failure as exc:
            failure = str(exc)
        except Exception as exc:  # everything a request can end with counts, nothing stops us
            failure = failure_label(exc)
        self.record.add(Result(started, self.clock(), endpoint, failure))

    # HTTP

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(
                method,
                path,
                body=body,
                headers={
                    "PRIVATE-TOKEN": self.token,
                    "Content-Type": "application/json",
                    "Connection": "close",
                    **(headers or {}),
                },
            )
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def post_json(self, path: str, data: dict, headers: dict | None = None) -> tuple[int, bytes]:
        return self.request("POST", path, json.dumps(data).encode(), headers)

    # The requests

    def completion(self) -> None:
        status, body = self.post_json(COMPLETIONS, self.completion_body())
        expect(status, 200)
        if not any(c.get("text") for c in json.loads(body).get("choices", ())):
            raise Failure("200 without a suggestion")

    def completion_stream(self) -> None:
        status, body = self.post_json(COMPLETIONS, {**self.completion_body(), "stream": True})
        expect(status, 200)
        if not body.strip():
            raise Failure("200 empty stream")

    def generation_stream(self) -> None:
        data = {
            "current_file": {
                "file_name": "app/calc.py",
                "content_above_cursor": "# write a function that adds two numbers\n",
                "content_below_cursor": "",
            },
            "intent": "generation",
            "stream": True,
        }
        status, body = self.post_json(
            COMPLETIONS, data, headers={"X-Supports-Sse-Streaming": "true"}
        )
        expect(status, 200)
        if b"event: stream_end" not in body:
            ended = "an error event" if b"event: error" in body else "no end event"
            raise Failure(f"200 stream with {ended}")

    def enabled(self, project: str, expected: int) -> None:
        status, _ = self.post_json(ENABLED, {"project_path": project})
        expect(status, expected)

    def user(self) -> None:
        status, _ = self.request("GET", "/api/v4/user")
        expect(status, 200)

    def bad_json(self) -> None:
        path = self.random.choice([COMPLETIONS, CHAT])
        status, _ = self.request("POST", path, b'{"current_file": {"file_name": ')
        expect(status, 400)

    def completion_body(self) -> dict:
        data: dict = {
            "current_file": {
                "file_name": "app/calc.py",
                "content_above_cursor": ABOVE,
                "content_below_cursor": BELOW,
            },
            "intent": "completion",
        }
        if self.random.random() < 0.5:
            data["project_path"] = PROJECT
        return data

    def chat(self) -> None:
        self.ask(Question(f"{QUESTION_PREFIX} {uuid.uuid4()}: how do I add two numbers?"))

    def chat_with_subscription(self) -> None:
        question = Question(
            f"{QUESTION_PREFIX} {uuid.uuid4()}: and with a stream?",
            subscription=f"soak-{uuid.uuid4()}",
        )
        reader = threading.Thread(target=self.read_subscription, args=(question,))
        reader.start()
        try:
            self.ask(question)
        finally:
            reader.join(self.timeout + 5)

    def ask(self, question: Question) -> None:
        with self.record.lock:
            self.record.questions.append(question)
        data: dict = {"content": question.content}
        if question.subscription:
            data["client_subscription_id"] = question.subscription
        try:
            status, body = self.post_json(CHAT, data)
        except Exception as exc:
            question.outcome = failure_label(exc)
            raise
        question.outcome = str(status)
        if status != 201:
            question.message = error_message(body)
        expect(status, 201)
        question.answer = json.loads(body)
        if question.answer != CHAT_TEXT:
            raise Failure("201 with another answer")

    def read_subscription(self, question: Question) -> None:
        """Read the question's SSE stream to its `done` (or `error`) event; a result of its own."""
        started = self.clock()
        deadline = time.monotonic() + self.timeout
        failure = "no end event"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(
                "GET",
                f"/api/v4/chat/subscriptions/{question.subscription}",
                headers={"PRIVATE-TOKEN": self.token, "Connection": "close"},
            )
            response = conn.getresponse()
            if response.status != 200:
                failure = str(response.status)
                response.read()
                return
            event = ""
            while time.monotonic() < deadline:
                line = response.readline()
                if not line:
                    break
                text = line.decode().rstrip("\n")
                if text.startswith("event: "):
                    event = text.removeprefix("event: ")
                elif text.startswith("data: ") and event in ("done", "error"):
                    if event == "done":
                        question.streamed_text = json.loads(text.removeprefix("data: "))["content"]
                        failure = ""
                    else:
                        failure = "error event"
                    break
            else:
                failure = "timeout"
        except Exception as exc:
            failure = failure_label(exc)
        finally:
            conn.close()
            question.streamed = failure or "done"
            self.record.add(Result(started, self.clock(), "subscription SSE", failure))


def expect(status: int, expected: int) -> None:
    if status != expected:
        raise Failure(str(status))


def error_message(body: bytes) -> str:
    """The message of an error response (api.md's bodies), or its start when it has none."""
    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        return body[:80].decode(errors="replace")


def failure_label(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, http.client.IncompleteRead):
        return "broken body"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionError | http.client.HTTPException):
        return "connection"
    if isinstance(exc, ValueError):
        return "bad body"
    return type(exc).__name__


# The processes -------------------------------------------------------------------------------


class Services:
    """The processes the soak runs, each logging to a file of its own in `work`."""

    def __init__(self, options: argparse.Namespace, work: Path) -> None:
        self.work = work
        self.redis_port = free_port()
        self.upstream_port = free_port()
        self.port = free_port()
        upstream = f"http://127.0.0.1:{self.upstream_port}"
        redis = f"redis://127.0.0.1:{self.redis_port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CODESUGGEST_")},
            "DJANGO_SETTINGS_MODULE": "codesuggest.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "soak-only-secret-key",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": DATABASE_URL,
            "DATABASE_POOL_SIZE": str(options.pool_size),
            "REDIS_URL": f"{redis}/0",
            "CELERY_BROKER_URL": f"{redis}/1",
            "COMPLETIONS_PROVIDER": "openai",
            "COMPLETIONS_MODEL": "codestral-latest",
            "COMPLETIONS_BASE_URL": upstream,
            "CHAT_PROVIDER": "openai",
            "CHAT_BASE_URL": upstream,
            # Its clients ask far more than a person: no limit may stand in the way.
            "CODE_SUGGESTIONS_RATE_LIMIT": "0",
            "CHAT_RATE_LIMIT": "0",
            "AUTH_FAILURE_LIMIT": "0",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(options.workers),
            "LOG_LEVEL": "INFO",
        }
        for name, value in (
            ("CHAT_LEASE_SECONDS", options.lease_seconds),
            ("CHAT_SWEEP_SECONDS", options.sweep_seconds),
        ):
            if value:
                self.env[name] = str(value)
        self.chat_ms = options.chat_ms
        self.processes: list[subprocess.Popen] = []
        self.redis: subprocess.Popen | None = None
        self.gunicorn: subprocess.Popen | None = None
        self.celery: subprocess.Popen | None = None
        self.celery_logs: list[Path] = []

    def _start(self, name: str, command: list[str], **kwargs) -> subprocess.Popen:
        process = start(command, self.env, self.work / f"{name}.log", **kwargs)
        self.processes.append(process)
        return process

    def start_redis(self) -> None:
        self.redis = self._start(
            "redis",
            [
                *("redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.work)),
            ],
        )
        wait_for_port(self.redis_port, self.redis)

    def start_upstream(self) -> None:
        process = self._start("model", upstream_command(self.upstream_port, self.chat_ms))
        wait_for_port(self.upstream_port, process)

    def model_fault(self, mode: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=5)
        try:
            conn.request("POST", f"/fault/{mode}", b"")
            conn.getresponse().read()
        finally:
            conn.close()

    def start_gunicorn(self) -> None:
        command = [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
        self.gunicorn = self._start("gunicorn", [*command, "codesuggest.asgi"])
        wait_for_port(self.port, self.gunicorn)

    def start_celery(self) -> None:
        """A worker with beat; returns once it says it is ready."""
        number = len(self.celery_logs) + 1
        log = self.work / f"celery-{number}.log"
        self.celery_logs.append(log)
        command = [PYTHON, "-m", "celery", "-A", "codesuggest", "worker", "--beat"]
        command += ["--schedule", str(self.work / f"beat-schedule-{number}")]
        command += ["--loglevel", "INFO", "--hostname", f"soak{number}@%h"]
        self.celery = self._start(log.stem, command)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.celery.poll() is not None:
                sys.exit(f"The Celery worker exited with {self.celery.returncode}: see {log}")
            if log.exists() and " ready." in log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        sys.exit(f"The Celery worker was not ready within 60 s: see {log}")

    def gunicorn_workers(self) -> list[int]:
        return children_of(self.gunicorn.pid) if self.gunicorn else []

    def celery_processes(self) -> list[int]:
        if self.celery is None or self.celery.poll() is not None:
            return []
        return [self.celery.pid, *children_of(self.celery.pid)]

    def stop_all(self) -> None:
        # Redis last: the others would log its going as an outage.
        redis = [p for p in self.processes if p.args[0] == "redis-server"]
        for process in [*(p for p in reversed(self.processes) if p not in redis), *redis]:
            stop(process, grace=10)

    def logs(self) -> list[Path]:
        return sorted(self.work.glob("*.log"))


# Sampling --------------------------------------------------------------------------------------


@dataclass
class Sample:
    at: float
    requests: int
    errors: int
    connections: dict[str, int]
    peak_connections: int
    gunicorn: dict[int, float]
    celery: float


class Sampler:
    """Every second, the soak database's connections; every `every` seconds, a printed line."""

    def __init__(self, services: Services, record: Record, clock, every: float) -> None:
        self.services, self.record, self.clock, self.every = services, record, clock, every
        self.conn = psycopg.connect(admin_url(DATABASE_URL), autocommit=True)
        self.name = database_name(DATABASE_URL)
        self.samples: list[Sample] = []
        self.counts: list[tuple[float, int]] = []  # (when, connections held)
        self.last = 0.0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.note = ""

    def count(self) -> dict[str, int]:
        connections = connections_held(self.conn, self.name)
        self.counts.append((self.clock(), sum(connections.values())))
        return connections

    def peak_between(self, start: float, end: float) -> int:
        return max((n for at, n in self.counts if start <= at <= end), default=0)

    def take(self) -> Sample:
        now = self.clock()
        results = self.record.ended_between(self.last, now)
        connections = self.count()
        sample = Sample(
            at=now,
            requests=len(results),
            errors=sum(1 for r in results if r.failure),
            connections=connections,
            peak_connections=max(self.peak_between(self.last, now), sum(connections.values())),
            gunicorn={pid: rss_mb(pid) for pid in self.services.gunicorn_workers()},
            celery=sum(rss_mb(pid) for pid in self.services.celery_processes()),
        )
        self.samples.append(sample)
        self._print(sample, now - self.last)
        self.last = now
        return sample

    def _print(self, sample: Sample, seconds: float) -> None:
        if len(self.samples) == 1:
            print(
                f"{'t s':>6} {'req/s':>7} {'errors':>6} {'pg conns now/peak':>18} "
                f"{'gunicorn workers RSS MB':>24} {'celery RSS MB':>13}  note"
            )
        rate = sample.requests / seconds if seconds > 0 else 0.0
        conns = f"{sum(sample.connections.values())}/{sample.peak_connections}"
        rss = " ".join(f"{mb:.0f}" for mb in sample.gunicorn.values())
        print(
            f"{sample.at:6.0f} {rate:7.1f} {sample.errors:6d} {conns:>18} {rss:>24} "
            f"{sample.celery:13.0f}  {self.note}",
            flush=True,
        )
        self.note = ""

    def _run(self) -> None:
        while not self.stopping.wait(1.0):
            if self.clock() - self.last >= self.every - 0.5:
                self.take()
            else:
                self.count()

    def __enter__(self) -> "Sampler":
        self.take()
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.thread.join()


# The fault -------------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str
    at: float
    seconds: float
    began: float | None = None
    ended: float | None = None
    notes: list[str] = field(default_factory=list)


def inject(fault: Fault, services: Services, sampler: Sampler, clock, finished: threading.Event):
    """Wait for the fault's time, inject it, and undo it --fault-seconds later."""
    if finished.wait(max(0.0, fault.at - clock())):
        return
    fault.began = clock()
    until = fault.began + fault.seconds
    if fault.kind == "redis":
        kill(services.redis)
        services.redis.wait()
        sampler.note = "redis killed"
        finished.wait(max(0.0, until - clock()))
        fault.ended = clock()
        services.start_redis()
        fault.notes.append(f"Redis listening again {clock() - fault.ended:.1f} s after restart")
        sampler.note = "redis restarted"
    elif fault.kind == "worker":
        kill(services.celery)
        services.celery.wait()
        sampler.note = "celery killed"
        finished.wait(max(0.0, until - clock()))
        fault.ended = clock()
        services.start_celery()
        fault.notes.append(f"new Celery worker ready {clock() - fault.ended:.1f} s after start")
        sampler.note = "celery started"
    elif fault.kind == "db-connections":
        terminated = 0
        with psycopg.connect(admin_url(DATABASE_URL), autocommit=True) as conn:
            while clock() < until:
                rows = conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (database_name(DATABASE_URL),),
                ).fetchall()
                terminated += sum(1 for (done,) in rows if done)
                if finished.wait(min(1.0, max(0.0, until - clock()))):
                    break
        fault.ended = clock()
        fault.notes.append(f"{terminated} backends terminated, once a second")
        sampler.note = "db backends terminated"
    elif fault.kind == "model":
        services.model_fault("500")
        sampler.note = "model answers 500"
        finished.wait(max(0.0, fault.began + fault.seconds / 2 - clock()))
        services.model_fault("garbage")
        fault.notes.append(
            f"model answered 500 from {fault.began:.1f} s, garbage from {clock():.1f} s"
        )
        finished.wait(max(0.0, until - clock()))
        services.model_fault("none")
        fault.ended = clock()
        sampler.note = "model healthy"


# Reports ---------------------------------------------------------------------------------------


def failures_text(results: list[Result]) -> str:
    counts = Counter(r.failure for r in results if r.failure)
    return ", ".join(f"{label} x{n}" for label, n in counts.most_common())


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def ratio(start: float, end: float) -> str:
    if start == 0:
        return "-" if end == 0 else "inf"
    return f"{end / start:.2f}"


def report_start_end(record: Record, sampler: Sampler, every: float, end: float):
    first, last = sampler.samples[0], sampler.samples[-1]
    begin = record.between(0, every)
    close = record.between(end - every, end)

    def rate(results: list[Result]) -> float:
        return len(results) / every

    def error_share(results: list[Result]) -> float:
        return sum(1 for r in results if r.failure) / len(results) if results else 0.0

    def latency(results: list[Result], share: float) -> float:
        times = [1000 * (r.ended - r.started) for r in results if r.endpoint == "completions"]
        return percentile(times, share)

    rows = [
        ["requests/s", f"{rate(begin):.1f}", f"{rate(close):.1f}"],
        [
            "errors/s",
            f"{rate([r for r in begin if r.failure]):.2f}",
            f"{rate([r for r in close if r.failure]):.2f}",
        ],
        ["error share %", f"{100 * error_share(begin):.2f}", f"{100 * error_share(close):.2f}"],
        ["completions p50 ms", f"{latency(begin, 0.5):.1f}", f"{latency(close, 0.5):.1f}"],
        ["completions p95 ms", f"{latency(begin, 0.95):.1f}", f"{latency(close, 0.95):.1f}"],
        ["pg connections held", sum(first.connections.values()), sum(last.connections.values())],
        [
            "pg connections, peak in the window",
            sampler.peak_between(0, every),
            sampler.peak_between(end - every, end),
        ],
    ]
    rows = [[*row, ratio(float(row[1]), float(row[2]))] for row in rows]
    start_pids, end_pids = list(first.gunicorn), list(last.gunicorn)
    for number in range(max(len(start_pids), len(end_pids))):
        a = first.gunicorn[start_pids[number]] if number < len(start_pids) else 0.0
        b = last.gunicorn[end_pids[number]] if number < len(end_pids) else 0.0
        replaced = "" if start_pids[number : number + 1] == end_pids[number : number + 1] else "*"
        rows.append(
            [f"gunicorn worker {number + 1} RSS MB{replaced}", f"{a:.0f}", f"{b:.0f}", ratio(a, b)]
        )
    rows.append(
        [
            "celery RSS MB (all processes)",
            f"{first.celery:.0f}",
            f"{last.celery:.0f}",
            ratio(first.celery, last.celery),
        ]
    )
    print(
        f"\nstart vs end (rates: the first and the last {every:g} s; memory and connections: "
        "before the traffic and at its end)"
    )
    print_table(["", "start", "end", "end/start"], rows)
    if start_pids != end_pids:
        print(f"  * gunicorn worker pids changed: {start_pids} -> {end_pids}")


def report_totals(record: Record) -> None:
    by_endpoint: dict[str, list[Result]] = defaultdict(list)
    for result in record.results:
        by_endpoint[result.endpoint].append(result)
    rows = []
    for endpoint, results in sorted(by_endpoint.items()):
        times = [1000 * (r.ended - r.started) for r in results if not r.failure]
        failed = sum(1 for r in results if r.failure)
        rows.append(
            [
                endpoint,
                len(results),
                failed,
                f"{percentile(times, 0.5):.0f}",
                f"{percentile(times, 0.95):.0f}",
                failures_text(results),
            ]
        )
    print("\nevery request, by endpoint")
    print_table(["endpoint", "requests", "failed", "p50 ms", "p95 ms", "failures"], rows)


def report_fault(record: Record, fault: Fault, end: float) -> None:
    if fault.began is None or fault.ended is None:
        print("\nthe fault was not injected (the run ended first)")
        return
    print(f"\nfault {fault.kind}: from {fault.began:.1f} s to {fault.ended:.1f} s")
    for note in fault.notes:
        print(f"  {note}")
    phases = [
        ("before", 0.0, fault.began),
        ("during", fault.began, fault.ended),
        ("after", fault.ended, end),
    ]
    rows = []
    for phase, since, until in phases:
        results = record.between(since, until)
        by_endpoint: dict[str, list[Result]] = defaultdict(list)
        for result in results:
            by_endpoint[result.endpoint].append(result)
        failed = sum(1 for r in results if r.failure)
        label = f"{phase} ({until - since:.0f} s)"
        rows.append([label, "all", len(results), failed, slowest(results), failures_text(results)])
        for endpoint, some in sorted(by_endpoint.items()):
            # The rest are shown when they failed; chat's counts tell even when it did not.
            if any(r.failure for r in some) or endpoint.startswith(("chat", "subscription")):
                rows.append(
                    [
                        "",
                        endpoint,
                        len(some),
                        sum(1 for r in some if r.failure),
                        slowest(some),
                        failures_text(some),
                    ]
                )
    print("requests by the phase they were sent in")
    print_table(["phase", "endpoint", "requests", "failed", "slowest s", "failures"], rows)

    before = record.between(0, fault.began)
    baseline = sum(1 for r in before if r.failure) / len(before) if before else 0.0
    after = record.between(fault.ended, end)
    rows = []
    for endpoint in sorted({r.endpoint for r in record.results}):
        ours = [r for r in record.results if r.endpoint == endpoint]
        sent_after = [r.ended for r in after if r.endpoint == endpoint and not r.failure]
        ended_after = [r.ended for r in ours if r.ended >= fault.ended and not r.failure]
        failures_after = [r.started for r in after if r.endpoint == endpoint and r.failure]
        across = [
            r.ended - r.started
            for r in ours
            if not r.failure and r.started < fault.ended and r.ended > fault.began
        ]
        rows.append(
            [
                endpoint,
                since_end(min(sent_after, default=None), fault),
                since_end(min(ended_after, default=None), fault),
                since_end(max(failures_after, default=None), fault, none="-"),
                f"{max(across):.1f} s" if across else "-",
            ]
        )
    print("\nrecovery, in seconds from the fault's end")
    print_table(
        [
            "endpoint",
            "first success (sent after)",
            "first success (any)",
            "last failure sent",
            "slowest success across the fault",
        ],
        rows,
    )
    recovered = None
    moment = fault.ended
    while moment + RECOVERY_WINDOW <= end:
        window = record.between(moment, moment + RECOVERY_WINDOW)
        share = sum(1 for r in window if r.failure) / len(window) if window else 1.0
        if window and share <= baseline + RECOVERY_MARGIN:
            recovered = moment - fault.ended
            break
        moment += 1.0
    when = f"{recovered:.0f} s" if recovered is not None else "not within the run"
    print(
        f"error rate back to the baseline ({100 * baseline:.2f}% before the fault, "
        f"+{100 * RECOVERY_MARGIN:g} points, over {RECOVERY_WINDOW:g} s): {when}"
    )


def slowest(results: list[Result]) -> str:
    return f"{max((r.ended - r.started for r in results), default=0.0):.1f}"


def since_end(moment: float | None, fault: Fault, none: str = "none in the run") -> str:
    return none if moment is None or fault.ended is None else f"{moment - fault.ended:.1f} s"


def drain(seconds: float) -> tuple[int, float]:
    """Wait for every question to leave `pending`; (still pending, seconds waited)."""
    began = time.monotonic()
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM chat_message WHERE role = 'user' AND state = 'pending'"
            ).fetchone()
            pending = row[0] if row else 0
            waited = time.monotonic() - began
            if pending == 0 or waited >= seconds:
                return pending, waited
            time.sleep(1.0)


def report_data(record: Record, pending: int, waited: float, web_log: Path) -> None:
    """Chat as the database holds it against what the clients saw, and usage events lost."""
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT q.content, q.state, q.error, count(a.id), "
            "       array_remove(array_agg(a.content), NULL) "
            "FROM chat_message q LEFT JOIN chat_message a "
            "     ON a.question_id = q.id AND a.role = 'assistant' "
            "WHERE q.role = 'user' GROUP BY q.id"
        ).fetchall()
        orphans = conn.execute(
            "SELECT count(*) FROM chat_message WHERE role = 'assistant' AND question_id IS NULL"
        ).fetchone()
        usage = conn.execute("SELECT count(*) FROM completions_usageevent").fetchone()
    # The service drops a batch it cannot write, and says so (completions/usage.py).
    unwritten = sum(
        int(n)
        for n in re.findall(
            r"Could not write (\d+) usage events", web_log.read_text(errors="replace")
        )
    )
    stored: dict[str, list[tuple]] = defaultdict(list)
    for content, state, error, answers, texts in rows:
        stored[content].append((state, error, answers, texts))
    states = Counter(state for _, state, _, _, _ in rows)
    errors = Counter(error for _, state, error, _, _ in rows if state == "failed")
    asked = record.questions
    outcomes = Counter(q.outcome for q in asked)

    # Refused: the request never reached the service; 4xx and 5xx: the client was told.
    told = [q for q in asked if q.outcome[:1] in ("4", "5") or q.outcome == "refused"]
    missing_told = [q for q in told if q.content not in stored]
    missing_untold = [q for q in asked if q.content not in stored and q not in told]
    twice = [q for q in asked if len(stored.get(q.content, ())) > 1]
    duplicates = sum(1 for _, _, _, answers, _ in rows if answers > 1)
    done_unanswered = sum(1 for _, state, _, answers, _ in rows if state == "done" and answers == 0)
    lost_answers = []
    for q in asked:
        if q.outcome != "201" or q.content not in stored:
            continue
        state, _, answers, texts = stored[q.content][0]
        if state != "done" or answers != 1 or texts[0] != q.answer:
            lost_answers.append(q)
    ok_but_missing = [q for q in asked if q.outcome == "201" and q.content not in stored]
    streamed = [q for q in asked if q.subscription]
    stream_outcomes = Counter(q.streamed for q in streamed)
    stream_mismatch = [
        q
        for q in streamed
        if q.streamed == "done"
        and q.content in stored
        and stored[q.content][0][3][:1] != [q.streamed_text]
    ]
    unanswered_client = [
        q
        for q in asked
        if q.outcome != "201" and q.content in stored and stored[q.content][0][0] == "done"
    ]

    print(f"\nchat data, read from {database_name(DATABASE_URL)} after the traffic stopped")
    table = [
        ["questions asked by the clients (POST sent)", len(asked)],
        ["questions in the database (role user, warm-up included)", len(rows)],
        ["asked, not stored, client told (4xx, 5xx, refused)", len(missing_told)],
        ["asked, not stored, client not told (timeout, connection)", len(missing_untold)],
        ["asked, stored more than once", len(twice)],
        ["201 but not stored", len(ok_but_missing)],
        ["201 but not done with that one answer in the database", len(lost_answers)],
        ["not 201 for the client, answered in the database later", len(unanswered_client)],
        ["questions with more than one answer", duplicates],
        ["questions done without an answer", done_unanswered],
        ["answers without a question", orphans[0] if orphans else 0],
        [f"left pending after the drain ({waited:.0f} s)", pending],
        ["SSE done, text differs from the stored answer", len(stream_mismatch)],
    ]
    print_table(["", "count"], table)
    print(f"clients got: {', '.join(f'{k} x{n}' for k, n in outcomes.most_common())}")
    told_later = Counter(f"{q.outcome} {q.message!r}" for q in unanswered_client)
    for what, count in told_later.most_common():
        print(f"  answered later, {count} x told {what}")
    print(f"database states: {', '.join(f'{k} {n}' for k, n in sorted(states.items()))}")
    for error, count in errors.most_common():
        print(f"  failed {count} x {error!r}")
    print(f"SSE readers: {', '.join(f'{k} x{n}' for k, n in stream_outcomes.most_common())}")
    lost = (
        len(ok_but_missing)
        + len(lost_answers)
        + len(twice)
        + duplicates
        + done_unanswered
        + pending
        + len(missing_untold)
    )
    print(
        f"usage events: {usage[0] if usage else 0} written, {unwritten} dropped "
        "(the service logged 'Could not write N usage events')"
    )
    verdict = "none" if lost == 0 else f"{lost} questions (see the rows above)"
    print(f"data lost: chat {verdict}; usage events {unwritten}")


def report_logs(services: Services) -> None:
    print("\nlogs (kept)")
    rows, finals = [], []
    for log in services.logs():
        lines = log.read_text(errors="replace").splitlines()
        ends = traceback_ends(lines)
        errors = sum(1 for line in lines if re.search(r"\b(ERROR|CRITICAL)\b", line))
        rows.append([str(log), len(ends), errors])
        finals += [(log.name, final, n) for final, n in Counter(ends).most_common(6)]
    print_table(["file", "tracebacks", "ERROR lines"], rows)
    for name, final, count in finals:
        print(f"  {name}: {count} x {final[:160]}")


CHAINED = ("During handling of the above exception", "The above exception was the direct cause")


def traceback_ends(lines: list[str]) -> list[str]:
    """The exception each traceback ended with; a chain of tracebacks counts once, by its last."""
    ends: list[str] = []
    inside, last = False, ""
    for line in lines:
        if not line.strip() or line.startswith((" ", "\t", "^", "~")):
            continue
        if line.startswith("Traceback"):
            if inside and last:
                ends.append(last)
            inside, last = True, ""
        elif line.startswith(CHAINED):
            last = ""
        elif inside and not last:
            last = line  # the exception; the chain may go on
        elif inside:
            ends.append(last)
            inside, last = False, ""
    if inside and last:
        ends.append(last)
    return ends


# The run ---------------------------------------------------------------------------------------


def warm_up(services: Services, token: str, timeout: float) -> None:
    """Every worker has served each kind of request, and a chat question was answered."""
    record = Record()
    client = Client(services.port, token, timeout, record, time.monotonic, chat=False)
    deadline = time.monotonic() + 60
    while True:
        client.timed("user", client.user)
        if not record.results[-1].failure:
            break
        if time.monotonic() > deadline:
            sys.exit(f"The service did not answer /user: {record.results[-1].failure}")
        time.sleep(0.5)
    record.results.clear()
    for _ in range(3):
        for name, _, call in client.kinds:
            client.timed(name, call)
    status, body = client.post_json(CHAT, {"content": "Soak warm-up: are you there?"})
    failed = [r for r in record.results if r.failure]
    if failed or status != 201:
        sys.exit(f"Warm-up failed: chat {status} {body[:200]!r}; {failures_text(failed)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=2.0, help="how long the traffic lasts")
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument(
        "--chat-clients", type=int, default=2, help="how many of them ask chat questions only"
    )
    parser.add_argument("--fault", choices=FAULTS, default="none")
    parser.add_argument("--fault-at", type=float, help="seconds in; default a third of the run")
    parser.add_argument("--fault-seconds", type=float, default=15.0)
    parser.add_argument(
        "--timeout",
        type=float,
        default=70.0,
        help="seconds a client waits for an answer (chat waits up to 60 s)",
    )
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=60.0,
        help="how long to wait at the end for pending questions to end",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--pool-size", type=int, default=4, help="DATABASE_POOL_SIZE")
    parser.add_argument(
        "--chat-ms", type=int, default=300, help="how long the fake model takes for a chat answer"
    )
    parser.add_argument("--lease-seconds", type=int, help="CHAT_LEASE_SECONDS (service default)")
    parser.add_argument("--sweep-seconds", type=int, help="CHAT_SWEEP_SECONDS (service default)")
    options = parser.parse_args()
    seconds = options.minutes * 60
    fault = Fault(
        options.fault,
        options.fault_at if options.fault_at is not None else seconds / 3,
        options.fault_seconds,
    )
    if not shutil.which("redis-server"):
        sys.exit("redis-server is needed: apt-get install -y redis-server")

    work = Path(tempfile.mkdtemp(prefix="codesuggest-soak-"))
    services = Services(options, work)
    try:
        services.start_redis()
        token = prepare_database(services.env, user="soak")
        manage(services.env, "create_group", "soak")
        manage(services.env, "create_project", PROJECT)
        manage(services.env, "add_member", "soak", "soak")
        services.start_upstream()
        services.start_gunicorn()
        services.start_celery()
        warm_up(services, token, options.timeout)
        outcome = run(options, services, token, seconds, fault)
    except KeyboardInterrupt:
        sys.exit("interrupted")
    finally:
        # Before the reports: gunicorn writes its last usage events as it exits.
        services.stop_all()
    record, sampler, end, pending, waited = outcome
    report_totals(record)
    report_start_end(record, sampler, options.sample_seconds, end)
    if fault.kind != "none":
        report_fault(record, fault, end)
    report_data(record, pending, waited, services.work / "gunicorn.log")
    report_logs(services)
    print(f"\nthe database {database_name(DATABASE_URL)} is kept")


def run(options, services: Services, token: str, seconds: float, fault: Fault):
    """The traffic, the fault and the drain: (record, sampler, end, still pending, drain s)."""
    record = Record()
    began = time.monotonic()

    def clock() -> float:
        return time.monotonic() - began

    chatting = min(options.chat_clients, options.clients)
    print(
        f"soak: {seconds:g} s, {options.clients} clients ({chatting} asking chat questions), "
        "a new connection per request, "
        f"fault {fault.kind}"
        + (f" at {fault.at:g} s for {fault.seconds:g} s" if fault.kind != "none" else "")
        + f"; gunicorn workers {options.workers}, DATABASE_POOL_SIZE {options.pool_size}, "
        f"{os.cpu_count()} CPUs\n"
    )
    finished = threading.Event()
    with Sampler(services, record, clock, options.sample_seconds) as sampler:
        clients = [
            threading.Thread(
                target=Client(
                    services.port, token, options.timeout, record, clock, chat=number < chatting
                ).run,
                args=(finished,),
                daemon=True,
            )
            for number in range(options.clients)
        ]
        injector = None
        if fault.kind != "none":
            injector = threading.Thread(
                target=inject, args=(fault, services, sampler, clock, finished), daemon=True
            )
            injector.start()
        for client in clients:
            client.start()
        try:
            time.sleep(max(0.0, seconds - clock()))
        finally:
            end = clock()
            finished.set()
        sampler.stopping.set()
        sampler.thread.join()
        sampler.take()
        for client in clients:
            client.join(options.timeout + 10)
        if injector is not None:
            injector.join(90)
    still_running = sum(1 for client in clients if client.is_alive())
    print(
        f"\ntraffic stopped at {end:.0f} s; clients done at {clock():.0f} s"
        + (f", {still_running} still waiting" if still_running else "")
    )
    pending, waited = drain(options.drain_seconds)
    return record, sampler, end, pending, waited


if __name__ == "__main__":
    main()
