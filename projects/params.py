"""What the projects endpoints accept: checked by the views, described by `openapi.py`."""

from codesuggest.api.params import Param
from projects.models import FULL_PATH_MAX_LENGTH

ENABLED_PARAMS = {"project_path": Param(str, required=True, max_length=FULL_PATH_MAX_LENGTH)}
