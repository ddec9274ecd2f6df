"""The one way an API request fails: an `ApiError` carrying GitLab's exact status and body.

Views raise the helpers below, and services the application errors of `codesuggest/errors.py`;
`exception_handler` (DRF) and `error_response` (plain Django views and middleware) turn them, and
every other exception, into responses.
"""

import logging
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from rest_framework import exceptions as drf
from rest_framework.response import Response

from codesuggest import errors as application
from codesuggest.outages import DATABASE
from codesuggest.providers import ProviderError

logger = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def unauthorized() -> ApiError:
    return ApiError(401, {"message": "401 Unauthorized"})


def invalid_token(description: str) -> ApiError:
    challenge = f'Bearer realm="The API", error="invalid_token", error_description="{description}"'
    return ApiError(
        401,
        {"error": "invalid_token", "error_description": description},
        # The header's name in any case is the same header.
        {"WWW-Authenticate": challenge},  # pragma: no mutate
    )


def token_expired() -> ApiError:
    return invalid_token("Token is expired. You can either do re-authorization or token refresh.")


def token_revoked() -> ApiError:
    return invalid_token("Token was revoked. You have to re-authorize from the user.")


def insufficient_scope(scopes: tuple[str, ...]) -> ApiError:
    return ApiError(
        403,
        {
            "error": "insufficient_scope",
            "error_description": "The request requires higher privileges than provided by "
            "the access token.",
            "scope": " ".join(scopes),
        },
    )


def user_blocked() -> ApiError:
    return ApiError(403, {"message": "403 Forbidden - Your account has been blocked."})


def forbidden() -> ApiError:
    return ApiError(403, {"message": "403 Forbidden"})


def not_found() -> ApiError:
    return ApiError(404, {"message": "404 Not Found"})


def record_not_found() -> ApiError:
    """A referenced record does not exist (GitLab spells this one with a lower-case f)."""
    return ApiError(404, {"message": "404 Not found"})


def route_not_found() -> ApiError:
    return ApiError(404, {"error": "404 Not Found"})


def bad_request(message: str) -> ApiError:
    return ApiError(400, {"error": message})


def bad_request_message(message: str) -> ApiError:
    return ApiError(400, {"message": f"400 Bad request - {message}"})


def invalid_argument(message: str) -> ApiError:
    """Google's answer to a bad request, on Vertex AI's paths (completions/vertex_predict.py)."""
    return ApiError(400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})


def payload_too_large() -> ApiError:
    return ApiError(413, {"message": "413 Request Entity Too Large"})


def request_timeout() -> ApiError:
    """The client stopped sending its body (gunicorn.conf.py, client_read_timeout)."""
    return ApiError(408, {"message": "408 Request Timeout"})


def rate_limited(retry_after: int) -> ApiError:
    return ApiError(
        429,
        {"message": {"error": "This endpoint has been requested too many times. Try again later."}},
        {"Retry-After": str(retry_after)},
    )


def service_unavailable(what: str) -> ApiError:
    return ApiError(503, {"message": f"503 Service Unavailable - {what}"}, {"Retry-After": "5"})


def server_error() -> ApiError:
    return ApiError(500, {"message": "500 Internal Server Error"})


def as_api_error(exc: Exception) -> ApiError:
    """Map any exception to the error GitLab would answer with."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, application.ApplicationError):
        return from_application_error(exc)
    if isinstance(exc, ProviderError):
        return ApiError(exc.status, {"message": str(exc)})
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is down or restarting: logged once per outage, not once per request.
        DATABASE.failed(exc)
        return service_unavailable("the database cannot be reached")
    if isinstance(exc, UnreadablePostError):  # the body stalled or was cut short: no incident
        return request_timeout()
    if isinstance(exc, drf.ParseError):
        return bad_request(str(exc.detail))
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return unauthorized()
    if isinstance(exc, drf.PermissionDenied):
        return forbidden()
    if isinstance(exc, drf.NotFound | Http404):
        return not_found()
    if isinstance(exc, drf.MethodNotAllowed):
        return ApiError(405, {"error": "405 Not Allowed"})
    if isinstance(exc, drf.UnsupportedMediaType):
        return ApiError(415, {"error": "415 Unsupported Media Type"})
    if isinstance(exc, drf.NotAcceptable):
        return ApiError(406, {"error": "406 Not Acceptable"})
    logger.exception("Unhandled error while answering an API request", exc_info=exc)
    return server_error()


def from_application_error(exc: application.ApplicationError) -> ApiError:
    if isinstance(exc, application.RecordNotFound):
        return record_not_found()
    if isinstance(exc, application.RateLimited):
        return rate_limited(exc.retry_after)
    if isinstance(exc, application.Unavailable):
        return service_unavailable(exc.what)
    logger.exception("An application error with no API answer", exc_info=exc)
    return server_error()


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    error = as_api_error(exc)
    return Response(error.body, status=error.status, headers=error.headers)


def error_response(error: ApiError) -> HttpResponse:
    # safe=False only matters for a body that is not an object, and every error body is one.
    response = JsonResponse(error.body, status=error.status, safe=False)  # pragma: no mutate
    for name, value in error.headers.items():
        response[name] = value
    return response


def handle_server_error(request: HttpRequest) -> HttpResponse:
    return error_response(server_error())


def handle_not_found(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return error_response(not_found())


def handle_route_not_found(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    return error_response(route_not_found())
