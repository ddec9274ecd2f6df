"""The ASGI application: HTTP (Django's WSGI application, codesuggest/wsgi_bridge.py) and the
websockets at /-/cable (codesuggest/cable.py), on one port."""

import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codesuggest.settings")

# Django first (codesuggest.wsgi sets it up): the consumer's imports need the apps loaded.
from codesuggest.wsgi import application as wsgi_application  # isort: skip
from codesuggest.cable import websocket_urlpatterns
from codesuggest.wsgi_bridge import WsgiBridge

# Requests in flight per worker process, each holding a thread while it waits for its model
# server: up to COMPLETIONS_TIMEOUT for a completion, CHAT_TIMEOUT (60 s) for a chat question
# asked over REST or an answer followed over Server-Sent Events. A waiting thread costs no CPU
# and little memory, so the pool is sized for those waits rather than for the cores: 256 keeps
# the 200 ms benchmark's 256 clients (bench/README.md) in flight on a single worker with room
# for a hundred chat waits; beyond it, requests queue for a thread.
THREADS = int(os.environ.get("GUNICORN_THREADS") or 256)

http_application = WsgiBridge(
    wsgi_application, threads=THREADS, max_body_bytes=settings.MAX_REQUEST_BODY_BYTES
)

application = ProtocolTypeRouter(
    {"http": http_application, "websocket": URLRouter(websocket_urlpatterns)}
)
