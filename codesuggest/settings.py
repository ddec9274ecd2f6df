"""Every setting comes from the environment; see the README for the list.

The defaults serve the embedded run (SQLite, an in-process cache, in-process chat tasks, the
built-in local engine). Values that production must provide fail loudly at start-up.
"""

import ipaddress
import os
from collections.abc import Collection
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

# The providers' names are the registry's: a new provider is named there alone. The package
# imports nothing of Django's (tests/providers/test_registry.py), so reading it here is safe.
from codesuggest.providers import PROVIDERS

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    # Empty counts as unset, as for every helper here: docker-compose passes each setting it
    # lists, empty when the operator left it out.
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    # Only the two words the README documents: a typo must not quietly mean "off".
    if value.lower() == "true":
        return True
    if value.lower() == "false":
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_choice(name: str, default: str, choices: Collection[str]) -> str:
    value = env_str(name, default) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_networks(name: str, default: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(item, strict=False) for item in env_list(name, default)]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must list IP addresses or networks: {exc}") from None


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off")
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 - only ever used with DEBUG

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
if SECURE_SSL_REDIRECT:
    # Redirecting to HTTPS means TLS ends at the proxy in front, which says so in this header.
    # Without such a proxy a client could send the header itself, so it is not trusted then.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = SECURE_SSL_REDIRECT
CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT
# Behind TLS, browsers keep to HTTPS here for a year once they have seen it (HSTS).
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if SECURE_SSL_REDIRECT else 0
# GitLab's, on every API response (docs/api.md#response-headers); the admin needs no more.
X_FRAME_OPTIONS = "SAMEORIGIN"
SECURE_CONTENT_TYPE_NOSNIFF = True
# What `manage.py check --deploy` would otherwise warn about, on purpose: X_FRAME_OPTIONS is
# GitLab's SAMEORIGIN, not DENY (W019); HSTS for every subdomain (W005) and in browsers' preload
# lists (W021) bind the whole domain, which is its owner's decision, not this service's.
SILENCED_SYSTEM_CHECKS = ["security.W019", "security.W005", "security.W021"]
# Every page may load scripts, styles, images and fonts from this service only, and nothing
# inline: the admin, the only HTML served, needs nothing else (tests/test_security_headers.py).
# API responses carry it too, harmlessly.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

CODESUGGEST_URL = env_str("CODESUGGEST_URL", "http://localhost:8000").rstrip("/")
# The GitLab release reported to editors, which turns their features on by version: the highest
# at which every call GitLab's language server makes is served here (README, "Scopes").
CODESUGGEST_VERSION = "17.6.0"
CODESUGGEST_REVISION = env_str("CODESUGGEST_REVISION", "development")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's files, served from here (/api/docs): no CDN.
    "drf_spectacular_sidecar",
    "projects",
    "completions",
    "chat",
]

MIDDLEWARE = [
    # First: a request's time, request id, metrics and log line cover every other layer.
    "codesuggest.observe.ObserveRequestsMiddleware",
    "codesuggest.request_memo.RequestMemoMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Outside CommonMiddleware, so that a path it redirects to add a slash is not a 404 here.
    "codesuggest.pages.NotFoundPageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that their early answers still pass through the security headers above.
    "codesuggest.api.middleware.RequestBodyLimitMiddleware",
    "codesuggest.api.middleware.NullByteMiddleware",
]

ROOT_URLCONF = "codesuggest.urls"
WSGI_APPLICATION = "codesuggest.wsgi.application"
# HTTP and the websockets at /-/cable (GitLab's ActionCable), as gunicorn.conf.py serves them.
ASGI_APPLICATION = "codesuggest.asgi.application"
AUTH_USER_MODEL = "projects.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A pool per process, not a connection per thread: under gevent every greenlet is a thread
    # to Django, and hundreds of requests in flight would each hold a PostgreSQL connection
    # (bench/completions.py ran PostgreSQL out of connections that way). Requests borrow one for
    # the moment they need it; a new connection per request would cost milliseconds.
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": env_int("DATABASE_POOL_SIZE", 10, minimum=1),
            "timeout": 10,
            # The pool's own reconnection backs off exponentially without a cap: after a
            # minute-long outage its next try could come minutes after the database is back.
            # Giving up after a few seconds leaves reconnecting to the next request that needs
            # a connection, which tries at once.
            "reconnect_timeout": 5,
        }
    }
    # With a pool, Django passes this on as the pool's check: a connection broken while it sat
    # in the pool (a database restart, a terminated backend) is replaced before it is lent,
    # instead of failing the request that got it. One round trip per borrow; requests on the
    # completions hot path rarely borrow at all.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that the worker and server processes the tests start share it;
    # one per test run, so that runs side by side do not trip over each other.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")}

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "codesuggest.cache.PooledRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "codesuggest",
            # Short: the cache can do without Redis (codesuggest/cache.py), and a Redis that
            # stopped answering must not hold every request for long before it does.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Production runs several processes (gunicorn workers, Celery workers). On SQLite and a
# per-process cache each would keep its own rate limits, token look-ups (a revoked token still
# working elsewhere) and instance settings. Without DEBUG that needs both shared services, or
# CODESUGGEST_EMBEDDED: one process on purpose (gunicorn.conf.py then runs one worker).
CODESUGGEST_EMBEDDED = env_bool("CODESUGGEST_EMBEDDED", False)
_missing_services = [name for name in ("DATABASE_URL", "REDIS_URL") if not env_str(name)]
if not DEBUG and not CODESUGGEST_EMBEDDED and _missing_services:
    raise ImproperlyConfigured(
        f"{' and '.join(_missing_services)} {'is' if len(_missing_services) == 1 else 'are'} "
        "not set: with DJANGO_DEBUG off, several processes would each keep their own database "
        "file or cache. Set DATABASE_URL and REDIS_URL, or set CODESUGGEST_EMBEDDED=true to run "
        "a single process (gunicorn then starts one worker)."
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# The pages' own styles and scripts, beside templates/.
STATICFILES_DIRS = [BASE_DIR / "static"]
LOGIN_URL = "admin:login"

# The whole request body is capped; a larger one is refused before it is read.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 1_000_000, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "projects.authentication.PersonalAccessTokenAuthentication",
        "projects.authentication.BrowserSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # GitLab's API takes parameters as JSON or as a form (`private_token`, docs/api.md#credentials).
    "DEFAULT_PARSER_CLASSES": [
        "codesuggest.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "codesuggest.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "codesuggest",
    "DESCRIPTION": "GitLab-compatible Code Suggestions and Duo Chat API",
    "VERSION": CODESUGGEST_VERSION,
    # The schema describes the API, not the endpoint serving it.
    "SERVE_INCLUDE_SCHEMA": False,
    # Operation ids from the path after GitLab's prefix (Vertex AI's operations name their own).
    "SCHEMA_PATH_PREFIX": "/api/v4",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

CODE_SUGGESTIONS_TOKEN_LIFETIME_SECONDS = 3600
SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUDIENCE": "gitlab-code-suggestions",
    "ISSUER": CODESUGGEST_URL,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "JTI_CLAIM": "jti",
    "TOKEN_TYPE_CLAIM": "token_type",
    "LEEWAY": 5,
}

CODE_SUGGESTIONS_RATE_LIMIT = env_int("CODE_SUGGESTIONS_RATE_LIMIT", 60)
# While Redis, which counts requests, is unavailable: `open` serves without counting, `closed`
# answers 503. Open by default: an outage of the counter should not become one of the service.
RATE_LIMIT_WITHOUT_REDIS = env_choice("RATE_LIMIT_WITHOUT_REDIS", "open", ("open", "closed"))
# Limits against guessing and abuse (codesuggest/api/throttling.py), each GitLab's own; 0 disables.
# Admin sign-in attempts per client address per minute: GitLab's protected paths (sign-in).
LOGIN_RATE_LIMIT = env_int("LOGIN_RATE_LIMIT", 10)
# Failed sign-ins per username per 10 minutes: GitLab locks a user for 10 minutes after 10.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
# Unknown credentials per client address per 3 minutes: GitLab's failed-authentication ban.
AUTH_FAILURE_LIMIT = env_int("AUTH_FAILURE_LIMIT", 30)
# Chat questions per user per 8 hours: GitLab's limit on AI actions (`ai_action`), the same
# budget for the REST endpoint and GraphQL's aiAction.
CHAT_RATE_LIMIT = env_int("CHAT_RATE_LIMIT", 160)
# django-ratelimit counts those in the default cache. It is used as a library, not an installed
# app: its system check knows only memcached and django-redis by name, and would refuse the
# in-process cache, which the one process of the embedded run shares with itself.
RATELIMIT_FAIL_OPEN = RATE_LIMIT_WITHOUT_REDIS == "open"

COMPLETIONS_PROVIDER = env_choice("COMPLETIONS_PROVIDER", "local", PROVIDERS)
COMPLETIONS_MODEL = env_str("COMPLETIONS_MODEL")
COMPLETIONS_BASE_URL = env_str("COMPLETIONS_BASE_URL")
COMPLETIONS_API_KEY = env_str("COMPLETIONS_API_KEY")
COMPLETIONS_TIMEOUT = env_float("COMPLETIONS_TIMEOUT", 30.0, minimum=0.1)

GENERATIONS_PROVIDER = env_choice("GENERATIONS_PROVIDER", COMPLETIONS_PROVIDER, PROVIDERS)
GENERATIONS_MODEL = env_str("GENERATIONS_MODEL", COMPLETIONS_MODEL)
GENERATIONS_BASE_URL = env_str("GENERATIONS_BASE_URL", COMPLETIONS_BASE_URL)
GENERATIONS_API_KEY = env_str("GENERATIONS_API_KEY", COMPLETIONS_API_KEY)
GENERATIONS_TIMEOUT = env_float("GENERATIONS_TIMEOUT", COMPLETIONS_TIMEOUT, minimum=0.1)

CHAT_PROVIDER = env_choice("CHAT_PROVIDER", "local", PROVIDERS)
CHAT_MODEL = env_str("CHAT_MODEL")
CHAT_BASE_URL = env_str("CHAT_BASE_URL")
CHAT_API_KEY = env_str("CHAT_API_KEY")
CHAT_TIMEOUT = env_float("CHAT_TIMEOUT", 60.0, minimum=0.1)
CHAT_MAX_CONTENT_LENGTH = env_int("CHAT_MAX_CONTENT_LENGTH", 1000, minimum=1)
CHAT_HISTORY_RETENTION_DAYS = env_int("CHAT_HISTORY_RETENTION_DAYS", 90)
# Raw usage and suggestion events older than this are deleted (0 keeps them); the analytics
# page reads their daily roll-up, which stays. 90 days, as chat history: enough to recompute a
# quarter's roll-up, and per-request records of who did what are not kept longer than needed.
USAGE_RETENTION_DAYS = env_int("USAGE_RETENTION_DAYS", 90)
# How often beat rolls the usage events up: how stale the analytics page may be.
ANALYTICS_ROLLUP_SECONDS = env_int("ANALYTICS_ROLLUP_SECONDS", 300, minimum=10)

# Mask secrets (keys, tokens, passwords, private keys) in whatever is sent to a model provider
# other than the local engine (codesuggest/providers/redaction.py).
REDACT_SECRETS = env_bool("REDACT_SECRETS", True)

# The providers' own settings, each read by its provider (`options_from` in its module).
VERTEX_PROJECT = env_str("VERTEX_PROJECT")
VERTEX_LOCATION = env_str("VERTEX_LOCATION", "us-central1")
VERTEX_API_ENDPOINT = env_str("VERTEX_API_ENDPOINT")

LOCAL_ENGINE_DIR = Path(env_str("LOCAL_ENGINE_DIR") or BASE_DIR / "var" / "local_engine")
# How often beat indexes every project with a Git source again (projects/indexing.py): a
# commit is searchable at most this long after it is pushed. A run that finds no new commit
# costs a fetch.
INDEX_REFRESH_SECONDS = env_int("INDEX_REFRESH_SECONDS", 3600, minimum=60)
# file:// Git sources read repositories on this machine: off unless the operator wants them.
INDEX_ALLOW_FILE_URLS = env_bool("INDEX_ALLOW_FILE_URLS", False)
# A first index of a large repository: the clone (at most 600 s, projects/git.py), then every
# file read and made searchable. The soft limit lets the run record why it stopped.
INDEX_TASK_SOFT_TIME_LIMIT = 3600
INDEX_TASK_TIME_LIMIT = INDEX_TASK_SOFT_TIME_LIMIT + 60
# None lets the engine use the threshold its benchmark chose.
LOCAL_ENGINE_MIN_CONFIDENCE = (
    env_float("LOCAL_ENGINE_MIN_CONFIDENCE", 0.0)
    if env_str("LOCAL_ENGINE_MIN_CONFIDENCE")
    else None
)

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")

# Who may read /-/health, /-/liveness, /-/readiness and /-/metrics (GitLab's monitoring IP
# allowlist); any other address gets 404, as from GitLab. Behind the TLS proxy, the address the
# proxy forwarded (codesuggest/api/throttling.py, client_address).
HEALTH_CHECK_ALLOWED_IPS = env_networks("HEALTH_CHECK_ALLOWED_IPS", "127.0.0.0/8,::1")

# json: one object per line, for a log collector (production); plain: for a person reading a
# terminal, so `make run` (DJANGO_DEBUG=true) stays readable.
LOG_FORMAT = env_choice("LOG_FORMAT", "plain" if DEBUG else "json", ("json", "plain"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "codesuggest.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "codesuggest.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # The pool logs every failed connection attempt; codesuggest.outages logs the outage once.
    "loggers": {"psycopg.pool": {"level": "ERROR"}},
}

# Celery ------------------------------------------------------------------------------------
# Chat questions are answered by Celery workers. With no broker, tasks run in-process (eager) so
# that the embedded default still answers; chat then waits and streams through the local cache.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Not propagated: run eagerly, a retry is then run at once instead of raised to the caller.
# (Tasks record their own failures: chat tells the waiting request through the relay.)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Answers travel through the database and Redis, never through a result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker waits for its broker however long it is away (Celery's default gives up, and the
# worker exits, after about 46 minutes).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Tasks acknowledged late must not be hoarded by one worker while others are idle.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
# A chat answer: the model call (CHAT_TIMEOUT, plus the provider's own quick retries) and the
# bookkeeping around it. The soft limit lets the task record the failure; the hard one kills it.
CHAT_TASK_SOFT_TIME_LIMIT = int(CHAT_TIMEOUT * 2) + 15
CHAT_TASK_TIME_LIMIT = CHAT_TASK_SOFT_TIME_LIMIT + 15
# Transient provider failures, and database or Redis errors, are retried this many times,
# waiting 2, 4, 8… seconds.
CHAT_TASK_MAX_RETRIES = 3
# The longest a question can legitimately stay pending: every attempt running to its hard
# limit, and the waits between them. The sweep fails a question still pending after this.
CHAT_QUESTION_DEADLINE = CHAT_TASK_TIME_LIMIT * (CHAT_TASK_MAX_RETRIES + 1) + sum(
    2**attempt for attempt in range(1, CHAT_TASK_MAX_RETRIES + 1)
)
# A worker holds a lease on the question it answers, renewed every third of this; a lapsed
# lease means its worker died, and the sweep (every CHAT_SWEEP_SECONDS) dispatches the question
# again once it was last dispatched twice this long ago (see chat/leases.py). Shorter recovers
# sooner; a worker frozen for longer than this (a stalled machine) may then see its question
# answered by another, the model asked twice, one answer kept.
CHAT_LEASE_SECONDS = env_int("CHAT_LEASE_SECONDS", 15, minimum=1)
CHAT_SWEEP_SECONDS = env_int("CHAT_SWEEP_SECONDS", 10, minimum=1)
# A message taken by a worker that died unannounced (SIGKILL, lost machine) goes back to the
# queue after this many seconds. Longer than any task may run, so a slow answer is not redone.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int(
        "CELERY_BROKER_VISIBILITY_TIMEOUT", CHAT_TASK_TIME_LIMIT + 60, minimum=1
    ),
}
# Where workers signal answers and publish streamed chunks, so that any web process can read
# them. None: the local cache, which only works in one process (the embedded default).
CHAT_REDIS_URL = REDIS_URL or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
if CELERY_BROKER_URL and not CHAT_REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is required when CELERY_BROKER_URL is not Redis")
# Seconds a chat stream stays readable after its last chunk, for a client that connects late.
CHAT_STREAM_TTL = 600
# Django Channels' layer, through which a process can reach a socket another process holds. The
# answers themselves reach the sockets through the chat streams above.
CHANNEL_LAYERS = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # A socket's listener blocks on Redis for 5 s at a time (channels_redis' BRPOP);
            # redis-py's own 5 s read timeout would end it first, and the websocket with it.
            "CONFIG": {"hosts": [{"address": CHAT_REDIS_URL, "socket_timeout": 30}]},
        }
        if CHAT_REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}
CELERY_BEAT_SCHEDULE = {
    "roll-up-usage": {
        "task": "completions.tasks.roll_up_usage",
        "schedule": float(ANALYTICS_ROLLUP_SECONDS),
        "options": {"expires": float(ANALYTICS_ROLLUP_SECONDS)},
    },
    "purge-usage-events": {
        "task": "completions.tasks.purge_usage_events",
        "schedule": 3600.0,
    },
    "purge-chat-history": {
        "task": "chat.tasks.purge_chat_history",
        "schedule": 3600.0,
    },
    "refresh-git-indexes": {
        "task": "projects.tasks.refresh_git_indexes",
        "schedule": float(INDEX_REFRESH_SECONDS),
        "options": {"expires": float(INDEX_REFRESH_SECONDS)},
    },
    "sweep-pending-questions": {
        "task": "chat.tasks.sweep_pending_questions",
        "schedule": float(CHAT_SWEEP_SECONDS),
        # A sweep that waited longer than the next one is worth nothing.
        "options": {"expires": float(CHAT_SWEEP_SECONDS)},
    },
}
