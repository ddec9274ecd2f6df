from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    verbose_name = "Users, groups and projects"
    name = "projects"

    def ready(self) -> None:
        # `caching` connects the signals that drop cached tokens and decisions when their rows
        # change, in every process (an admin's revoke must reach the API at once). `schema`
        # registers how the OpenAPI schema describes the API's credentials.
        from codesuggest.api import schema  # noqa: F401
        from projects import caching  # noqa: F401
