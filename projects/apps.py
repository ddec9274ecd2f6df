from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    verbose_name = "Users, groups and projects"
    name = "projects"

    def ready(self) -> None:
        # `caching` connects the signals that drop cached tokens and decisions when their rows
        # change, in every process (an admin's revoke must reach the API at once); `tasks` the
        # one that forgets a deleted project's code, wherever it is deleted. `openapi`
        # registers how the OpenAPI schema describes the credentials `authentication` takes.
        from projects import caching, openapi, tasks  # noqa: F401
