"""What the projects endpoints accept: checked by the views, described by `openapi.py`."""

from codesuggest.api.params import Param

ENABLED_PARAMS = {"project_path": Param(str, required=True)}
