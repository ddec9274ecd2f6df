import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codesuggest.settings")

application = get_wsgi_application()

# Django imports the URLconf, and with it every view and the GraphQL schemas, on the first
# request: a fresh worker (after every deploy, and every GUNICORN_MAX_REQUESTS) answered its first
# request in over a second, the next in 10 ms. Imported here, before the worker takes traffic.
import_module(settings.ROOT_URLCONF)
