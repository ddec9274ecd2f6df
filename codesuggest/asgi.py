"""The ASGI application: HTTP (Django, as codesuggest.wsgi serves it) and the websockets at
/-/cable (codesuggest/cable.py), on one port."""

import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codesuggest.settings")

# Django first: the consumer's imports need the apps loaded.
http_application = get_asgi_application()

from codesuggest.cable import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {"http": http_application, "websocket": URLRouter(websocket_urlpatterns)}
)
