"""What the chat endpoint accepts: checked by the view, described by `openapi.py`."""

from django.conf import settings

from codesuggest.api.params import Param, Schema

RESOURCE_TYPES = ("issue", "epic", "group", "project", "merge_request", "commit")
CONTEXT_CATEGORIES = ("file", "snippet", "merge_request", "issue", "dependency", "local_git")
CONTEXT_ITEM = Param(
    dict,
    fields={
        "category": Param(str, required=True, choices=CONTEXT_CATEGORIES),
        "id": Param(str, required=True, allow_blank=False, max_length=255),
        "content": Param(str, required=True, allow_blank=False),
        "metadata": Param(dict, default={}),
    },
)


def chat_schema() -> Schema:
    # Built per request: the content limit is a setting.
    return {
        "content": Param(
            str, required=True, allow_blank=False, max_length=settings.CHAT_MAX_CONTENT_LENGTH
        ),
        "resource_type": Param(str, choices=RESOURCE_TYPES),
        "resource_id": Param((str, int)),
        "referer_url": Param(str, max_length=1000),
        "client_subscription_id": Param(str, max_length=500),
        "with_clean_history": Param(bool, default=False),
        "project_id": Param(int),
        "additional_context": Param(list, items=CONTEXT_ITEM, default=[]),
    }
