"""Vertex AI's paths, outside /api/v4, where Google's SDK and code-gecko tools look for them."""

from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from codesuggest.api.errors import handle_not_found
from completions import vertex_predict

urlpatterns = [
    re_path(
        r"^v1/projects/(?P<project>.+)/locations/(?P<location>[^/]+)"
        r"/publishers/google/models/(?P<model>[^/:]+):predict$",
        vertex_predict.PredictView.as_view(),
    ),
    re_path(
        r"^v1/publishers/google/models/(?P<model>[^/]+)$",
        vertex_predict.PublisherModelView.as_view(),
    ),
    # Any other path under Vertex AI's prefix answers JSON, as the API does, not an HTML page.
    re_path(r"^v1/", csrf_exempt(handle_not_found)),
]
