"""What every domain command shares: failures as one clear line on stderr and exit 1."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from projects.models import User
from projects.services import NotFoundError


def fails_clearly(handle: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(handle)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handle(*args, **kwargs)
        except ValidationError as exc:
            raise CommandError("; ".join(_messages(exc))) from None
        except (NotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from None

    return wrapper


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()]
    return list(exc.messages)


def existing_user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user named {username}")
    return user


def on_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise CommandError(f"Expected on or off, not {value!r}")
    return value == "on"
