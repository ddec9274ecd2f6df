from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from codesuggest import health, pages
from codesuggest.api.docs import ApiDocsView, SchemaView
from codesuggest.api.errors import handle_route_not_found
from codesuggest.api.graphql import GraphQLView
from codesuggest.api.throttling import login_throttled
from codesuggest.graphql import schema
from completions import pages as usage_page
from completions.admin import analytics
from projects import pages as user_pages

urlpatterns = [
    path("", pages.home, name="home"),
    # The admin's own login view, throttled against password guessing; before admin.site.urls,
    # so that this path resolves here.
    path("admin/login/", login_throttled(admin.site.login)),
    path("admin/analytics/", admin.site.admin_view(analytics), name="admin-analytics"),
    path("admin/", admin.site.urls),
    path("api/v4/", include("projects.urls")),
    path("api/v4/", include("completions.urls")),
    path("api/v4/", include("chat.urls")),
    path("api/schema", SchemaView.as_view(), name="schema"),
    path("api/docs", ApiDocsView.as_view(), name="api_docs"),
    # GitLab's GraphQL endpoint sits beside /api/v4, not under it.
    path("api/graphql", GraphQLView.as_view(graphql_schema=schema), name="graphql"),
    # GitLab's health-check and metrics paths, for load balancers, orchestrators and Prometheus:
    # no credential, but only from HEALTH_CHECK_ALLOWED_IPS.
    path("-/health", health.health, name="health"),
    path("-/liveness", health.liveness, name="liveness"),
    path("-/readiness", health.readiness, name="readiness"),
    path("-/metrics", health.prometheus_metrics, name="metrics"),
    # A user's own pages, at GitLab's paths.
    path("users/sign_in", user_pages.sign_in, name="sign_in"),
    path("users/sign_out", user_pages.sign_out, name="sign_out"),
    path(
        "-/user_settings/personal_access_tokens",
        user_pages.personal_access_tokens,
        name="personal_access_tokens",
    ),
    path(
        "-/user_settings/personal_access_tokens/<int:token_id>/revoke",
        user_pages.revoke_personal_access_token,
        name="revoke_personal_access_token",
    ),
    path("-/user_settings/usage", usage_page.usage, name="usage"),
    # Anything else under the API answers as GitLab does, whatever the method.
    re_path(r"^api/v4(?:/|$)", csrf_exempt(handle_route_not_found)),
    path("", include("completions.vertex_predict_urls")),
]

handler500 = "codesuggest.api.errors.handle_server_error"
