from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView

from codesuggest import health
from codesuggest.api.errors import handle_route_not_found
from codesuggest.api.graphql import GraphQLView
from codesuggest.api.throttling import login_throttled
from codesuggest.graphql import schema
from completions.admin import analytics

urlpatterns = [
    # The admin's own login view, throttled against password guessing; before admin.site.urls,
    # so that this path resolves here.
    path("admin/login/", login_throttled(admin.site.login)),
    path("admin/analytics/", admin.site.admin_view(analytics), name="admin-analytics"),
    path("admin/", admin.site.urls),
    path("api/v4/", include("projects.urls")),
    path("api/v4/", include("completions.urls")),
    path("api/v4/", include("chat.urls")),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    # GitLab's GraphQL endpoint sits beside /api/v4, not under it.
    path("api/graphql", GraphQLView.as_view(graphql_schema=schema), name="graphql"),
    # GitLab's health-check paths, for load balancers and orchestrators: no credential, but
    # only from HEALTH_CHECK_ALLOWED_IPS.
    path("-/health", health.health, name="health"),
    path("-/liveness", health.liveness, name="liveness"),
    path("-/readiness", health.readiness, name="readiness"),
    # Anything else under the API answers as GitLab does, whatever the method.
    re_path(r"^api/v4(?:/|$)", csrf_exempt(handle_route_not_found)),
    path("", include("completions.vertex_urls")),
]

handler500 = "codesuggest.api.errors.handle_server_error"
