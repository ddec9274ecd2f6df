"""The ways a service refuses a request, in its own terms: no status codes, no bodies.

Services raise these; the API turns each into GitLab's answer in one place
(`codesuggest/api/errors.py`, `as_api_error`), so a service can be called from a view, a task or a
command alike.
"""


class ApplicationError(Exception):
    """A request the service's rules refuse."""


class RecordNotFound(ApplicationError):
    """A record the request names does not exist, or the caller may not see it: the two look
    alike, so no one learns which private ids exist."""


class RateLimited(ApplicationError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Rate limited for {retry_after}s")
        self.retry_after = retry_after


class Unavailable(ApplicationError):
    """Something the service depends on cannot be reached; `what` says what, for the caller."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what
