"""Vertex AI's paths, outside /api/v4, where Google's SDK and code-gecko tools look for them."""

from django.urls import re_path

from completions import vertex

urlpatterns = [
    re_path(
        r"^v1/projects/(?P<project>.+)/locations/(?P<location>[^/]+)"
        r"/publishers/google/models/(?P<model>[^/:]+):predict$",
        vertex.PredictView.as_view(),
    ),
    re_path(r"^v1/publishers/google/models/(?P<model>[^/]+)$", vertex.PublisherModelView.as_view()),
]
