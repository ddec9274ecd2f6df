"""Context exclusion: the files of a project that are never indexed, retrieved or sent to a model.

A project's rules are its own and those of every group above it, each group's and its own read
as one .gitignore (so a "!" line re-includes only what its own list excluded): a path is excluded
when any of them excludes it, so that a group's rule cannot be undone by a subgroup or project.
"""

import functools
from dataclasses import dataclass

import pathspec

from codesuggest.request_memo import once_per_request
from projects.caching import remembered_for_namespaces
from projects.models import Group, Project


@dataclass(frozen=True)
class ContextExclusions:
    # One tuple of gitignore lines per group or project that has rules, topmost first.
    rule_sets: tuple[tuple[str, ...], ...] = ()

    def excludes(self, path: str) -> bool:
        """Whether the file at `path` (relative to the repository's root) must stay out of
        every prompt, index and retrieval."""
        relative = _relative(path)
        return any(_compiled(rules).match_file(relative) for rules in self.rule_sets)


NOTHING_EXCLUDED = ContextExclusions()


def context_exclusions(project: Project | None) -> ContextExclusions:
    """The project's context exclusions (none without a project): what completions, chat,
    indexing and retrieval ask. Remembered until a group or project changes, and read
    once a request."""
    if project is None:
        return NOTHING_EXCLUDED
    key = _key(project)
    return once_per_request(
        key, lambda: remembered_for_namespaces(key, lambda: _exclusions_of(project))
    )


def context_exclusions_read_with(project: Project, exclusions: ContextExclusions) -> None:
    """Lets this request's context_exclusions(project) answer `exclusions`, which came with
    another cached decision as fresh as their own entry, without asking the cache again."""
    once_per_request(_key(project), lambda: exclusions)


def _key(project: Project) -> str:
    return f"context-exclusions:{project.pk}"


def _exclusions_of(project: Project) -> ContextExclusions:
    owners: list[Group | Project] = [*project.group.lineage(), project]
    return ContextExclusions(
        tuple(
            tuple(owner.context_exclusions.splitlines())
            for owner in owners
            if owner.context_exclusions.strip()
        )
    )


def _relative(path: str) -> str:
    """An editor's file name as the rules read it: "/" between directories, no leading "/" or
    "./" (editors on Windows send backslashes; some send a path from the root)."""
    path = path.replace("\\", "/")
    while path.startswith(("/", "./")):
        path = path.removeprefix(".").lstrip("/")
    return path


@functools.lru_cache(maxsize=1024)
def _compiled(rules: tuple[str, ...]) -> pathspec.PathSpec:
    return pathspec.GitIgnoreSpec.from_lines(rules)
