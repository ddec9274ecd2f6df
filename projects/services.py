"""Creating and changing the domain, shared by the management commands and the quickstart."""

from typing import TypeVar

from django.db import transaction

from projects.models import Group, Membership, Project, User, Visibility

Saved = TypeVar("Saved", Group, Project)


class NotFoundError(Exception):
    pass


def namespace_by_full_path(full_path: str) -> Group | Project:
    group = Group.objects.filter(full_path__iexact=full_path).first()
    if group is not None:
        return group
    project = Project.objects.by_full_path(full_path)
    if project is None:
        raise NotFoundError(f"No group or project at {full_path}")
    return project


@transaction.atomic
def group_create(
    *,
    full_path: str,
    name: str = "",
    code_suggestions: bool = True,
    lock: bool = False,
) -> Group:
    """Create the group at `full_path` and any missing groups above it."""
    *parent_paths, path = full_path.strip("/").split("/")
    parent = None
    for depth in range(len(parent_paths)):
        ancestor_path = "/".join(parent_paths[: depth + 1])
        found = Group.objects.filter(full_path__iexact=ancestor_path).first()
        parent = found or _save(
            Group(name=parent_paths[depth], path=parent_paths[depth], parent=parent)
        )
    return _save(
        Group(
            name=name or path,
            path=path,
            parent=parent,
            code_suggestions=code_suggestions,
            lock_code_suggestions=lock,
        )
    )


def project_create(
    *,
    full_path: str,
    visibility: str = Visibility.PRIVATE,
    code_suggestions: bool = True,
    name: str = "",
) -> Project:
    group_path, _, path = full_path.strip("/").rpartition("/")
    group = Group.objects.filter(full_path__iexact=group_path).first() if group_path else None
    if group is None:
        raise NotFoundError(f"No group at {group_path or '(none)'}: a project lives in a group")
    return _save(
        Project(
            name=name or path,
            path=path,
            group=group,
            visibility=visibility,
            code_suggestions=code_suggestions,
        )
    )


def member_add(*, full_path: str, user: User) -> Membership:
    namespace = namespace_by_full_path(full_path)
    target = {"group": namespace} if isinstance(namespace, Group) else {"project": namespace}
    membership, _ = Membership.objects.get_or_create(user=user, **target)
    return membership


def code_suggestions_set(*, full_path: str, enabled: bool, lock: bool = False) -> Group | Project:
    namespace = namespace_by_full_path(full_path)
    namespace.code_suggestions = enabled
    if isinstance(namespace, Group):
        namespace.lock_code_suggestions = lock
    elif lock:
        raise ValueError("Only a group's setting can be locked")
    namespace.save()
    return namespace


def _save(obj: Saved) -> Saved:
    obj.full_clean()
    obj.save()
    return obj
