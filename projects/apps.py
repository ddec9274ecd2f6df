from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    verbose_name = "Users, groups and projects"
    name = "projects"
