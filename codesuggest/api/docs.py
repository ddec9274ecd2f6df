"""The API's description for people: GET /api/schema shown in a browser, and Swagger UI at
/api/docs, served from this service (drf-spectacular-sidecar), nothing from a CDN."""

from typing import Any

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.request import Request
from rest_framework.response import Response


class SchemaView(SpectacularAPIView):
    """The OpenAPI description, YAML unless JSON is asked for. A browser asks for a page, and
    would download `application/vnd.oai.openapi`: it gets the same YAML as text, shown inline.
    Clients that ask for the OpenAPI types, or for anything, get them as before."""

    def finalize_response(
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        asks_for_a_page = "text/html" in request.META.get("HTTP_ACCEPT", "")
        yaml = response.status_code == 200 and request.accepted_renderer.format == "yaml"
        if asks_for_a_page and yaml:
            response.content_type = "text/plain; charset=utf-8"
        return response


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI, its start-up script a file of its own: the page's Content-Security-Policy
    allows no inline script or style."""

    template_name = "api_docs.html"
