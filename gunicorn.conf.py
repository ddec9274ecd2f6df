"""Gunicorn in production: `gunicorn -c gunicorn.conf.py codesuggest.asgi` (this file is read
from the working folder).

Every value can be changed from the environment (GUNICORN_*), so the same file serves a laptop,
a container and the benchmark (`bench/completions.py`).

Worker class: gunicorn's ASGI worker, serving codesuggest.asgi: the REST API through a pool of
threads (codesuggest/wsgi_bridge.py) and GitLab's ActionCable websocket at /-/cable, on one port.
A completion spends almost all its time waiting for the model server, so what matters is how
many upstream calls one core keeps in flight: the pool holds 256 per worker (codesuggest/asgi.py,
GUNICORN_THREADS). Against the gevent worker serving codesuggest.wsgi, five paired runs of
bench/completions.py on 2 busy cores (bench/README.md): p50 at 1 client within +0.2 ms in every
pair, requests/s at 16 clients 0.80-2.01 times gevent's.

GUNICORN_WORKER_CLASS=gevent with `codesuggest.wsgi` still serves the REST API alone (no
/-/cable): gevent's worker monkey-patches the standard library before Django is imported, which
makes `requests`, redis-py and psycopg 3 cooperative, and Django's database connections are then
per greenlet (the CONN_MAX_AGE note in bench/README.md). GUNICORN_WORKER_CLASS=gthread with
`codesuggest.wsgi` is plain threads.

Celery runs beside it, not in it: `celery -A codesuggest worker` and `celery -A codesuggest beat`
(see Procfile and docker-compose.yml).
"""

import gc
import multiprocessing
import os
import shutil
import sys
import tempfile


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value else default


# PORT is what platforms like Heroku hand out; GUNICORN_BIND wins when both are set.
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT') or 8000}"

# CODESUGGEST_EMBEDDED (see settings.py) keeps rate limits, token look-ups and instance settings
# in one process's memory: exactly one worker then.
embedded = os.environ.get("CODESUGGEST_EMBEDDED", "").lower() == "true"

worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "asgi")
# Two per core. Upstream waits cost no CPU, but with a hundred or more requests in flight a
# single event loop per core leaves the core idle while it switches between them:
# bench/completions.py on 2 cores (gevent workers), 256 clients against a 200 ms upstream, three
# paired runs, 4 workers 502/483/454 req/s vs 2 workers 455/357/414 (instant upstream about the
# same, 16 clients 547-634 vs 541-660). Each worker costs about 100-125 MB. One when embedded.
workers = _env_int("GUNICORN_WORKERS", 1 if embedded else 2 * multiprocessing.cpu_count())
# asgi and gevent: concurrent connections per worker (idle keep-alive connections included).
worker_connections = _env_int("GUNICORN_WORKER_CONNECTIONS", 1000)
# gthread: requests in flight per worker. The ASGI worker warns when it is set, and its threads
# are codesuggest/asgi.py's, from the same GUNICORN_THREADS.
if worker_class == "gthread":
    threads = _env_int("GUNICORN_THREADS", 32)

# A worker that has not reported to the arbiter for this long is killed and replaced. Only a
# blocked event loop (CPU-bound work, a non-cooperative C call under gevent) can cause that: a
# slow model server cannot, its calls end at COMPLETIONS_TIMEOUT (30 s) anyway.
timeout = _env_int("GUNICORN_TIMEOUT", 60)
# On SIGTERM / HUP, requests in flight get this long to finish: longer than a completion's
# upstream timeout, so a deploy does not cut answers off.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 35)
# Editors keep their connection open between keystrokes; the proxy in front reuses its own.
# Also how long a request's headers may take to arrive (gevent's keep-alive loop times them).
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
# Seconds a client may leave the connection silent while we read its body (or it does not read
# our answer). Gunicorn has no such limit: a client that declares 100 bytes and sends 2 held its
# connection open for as long as it liked, one of worker_connections each. Apache's
# mod_reqtimeout allows 20 s by default; nginx's client_body_timeout is 60 s. A stalled read then
# fails, and the request is answered 408 (codesuggest/api/errors.py) under gevent; the ASGI
# worker tells the application the body ended there.
client_read_timeout = _env_int("GUNICORN_CLIENT_READ_TIMEOUT", 20)
# Recycle workers now and then to bound slow leaks; jitter keeps them from restarting together.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 20_000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 2_000)

# The heartbeat file is touched on every loop: keep it in memory where there is a tmpfs (in a
# container /tmp may be an overlay filesystem, whose writes can stall).
SHARED_MEMORY = "/dev/shm"  # noqa: S108 - gunicorn creates its own unlinked files there
if os.path.isdir(SHARED_MEMORY):
    worker_tmp_dir = SHARED_MEMORY

# Gunicorn's control socket (gunicornc) defaults to one path per user: several servers on one
# machine (tests, the benchmark) would take it from each other, and a container needs none.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def pre_request(worker, req) -> None:
    # Per read, not per request: a 1 MB body on a slow link still arrives, a silent one does not.
    # The gevent and gthread workers read from the socket itself; the ASGI worker's requests have
    # none (see post_worker_init).
    sock = getattr(getattr(req, "unreader", None), "sock", None)
    if sock is not None:
        sock.settimeout(client_read_timeout)


def post_worker_init(worker) -> None:
    # The ASGI worker reads bodies on its event loop and waits for a silent one as long as its
    # `timeout` (gunicorn/asgi/protocol.py), the only setting it reads per request. Set in the
    # worker only: the arbiter still allows `timeout` before it kills a worker that stopped
    # reporting. No other worker reads `timeout` after it has started.
    worker.cfg.set("timeout", client_read_timeout)
    hide_server_software()
    # What the worker loaded to serve (Django, the URLconf and every module they import, 143,000
    # objects) lives as long as the process: left out of the garbage collector's full passes,
    # which took 200 ms with it and 3.4 ms without, once the local engine had answered 50
    # completions (bench/gc_pause.py); those pauses fell on requests.
    gc.freeze()


# The Server header names neither gunicorn nor its version. gunicorn has no setting for it, so
# each worker, once set up (after gevent has patched the standard library), replaces the token
# where it is written: gunicorn/http/wsgi.py for the gevent and gthread workers,
# gunicorn/asgi/protocol.py for the ASGI worker. tests/test_security_headers.py checks both.
SERVER_HEADER = "codesuggest"


def hide_server_software() -> None:
    from gunicorn.http import wsgi

    wsgi.SERVER = SERVER_HEADER
    protocol = sys.modules.get("gunicorn.asgi.protocol")  # imported by the ASGI worker only
    if protocol is not None:
        protocol._CACHED_SERVER_HEADER = f"Server: {SERVER_HEADER}\r\n".encode()


def on_starting(server) -> None:
    # Checked here, not above, so that a --workers on the command line is refused too.
    if embedded and server.cfg.workers != 1:
        raise SystemExit(
            f"CODESUGGEST_EMBEDDED=true runs one worker process, not {server.cfg.workers}: "
            "unset GUNICORN_WORKERS (or --workers), or set DATABASE_URL and REDIS_URL instead."
        )
    refuse_an_application_the_worker_cannot_run(server.app.app_uri, server.cfg.worker_class_str)
    prepare_metrics_folder()


# /-/metrics adds up what every worker wrote to its own files in PROMETHEUS_MULTIPROC_DIR
# (codesuggest/metrics.py). Emptied at start, so that a restart does not count the last run's
# requests again; without the variable, a folder of this server's own, in memory when possible.
def prepare_metrics_folder() -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        parent = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
        folder = tempfile.mkdtemp(prefix="codesuggest-metrics-", dir=parent)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        return
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):  # prometheus-client's files, and nothing else
            os.remove(os.path.join(folder, name))


def on_exit(server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if os.path.basename(folder).startswith("codesuggest-metrics-"):  # the one made above
        shutil.rmtree(folder, ignore_errors=True)


def child_exit(server, worker) -> None:
    # The worker's gauges (its database pool) stop counting; its counters still do.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# Which worker class each of the service's applications needs. A command from before the ASGI
# worker became the default (`gunicorn -c gunicorn.conf.py codesuggest.wsgi`) would otherwise
# start and answer every request 500.
APPLICATION_IS_ASGI = {"codesuggest.asgi": True, "codesuggest.wsgi": False}


def refuse_an_application_the_worker_cannot_run(app_uri: str, worker: str) -> None:
    if APPLICATION_IS_ASGI.get(app_uri, worker == "asgi") != (worker == "asgi"):
        raise SystemExit(
            f"The {worker} worker cannot serve {app_uri}. Serve codesuggest.asgi with the default "
            "worker (the API and /-/cable), or codesuggest.wsgi with "
            "GUNICORN_WORKER_CLASS=gevent (the API alone)."
        )


loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
errorlog = "-"
# Off unless asked for: the application logs one line per request itself, with its request id
# and route (codesuggest/observe.py), in LOG_FORMAT; this one would repeat it.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# Never the query string (%(r)s, %(q)s) nor the referer (%(f)s): a personal access token may be
# sent as `?private_token=`. %(U)s is the path alone; %(M)s the duration in milliseconds.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
