"""Context exclusion: the files of a project that are never indexed, retrieved or sent to a model.

A project's rules are its own and those of every group above it, each group's and its own read
as one .gitignore (so a "!" line re-includes only what its own list excluded): a path is excluded
when any of them excludes it, so that a group's rule cannot be undone by a subgroup or project.
"""

import functools
import posixpath
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pathspec

from codesuggest.request_memo import once_per_request
from projects.caching import remembered_for_namespaces
from projects.models import Group, Project


@dataclass(frozen=True)
class ContextExclusions:
    # One tuple of gitignore lines per group or project that has rules, topmost first.
    rule_sets: tuple[tuple[str, ...], ...] = ()

    def excludes(self, path: str) -> bool:
        """Whether the file at `path` (relative to the repository's root, or as an editor names
        it: see repository_paths) must stay out of every prompt, index and retrieval."""
        if len(path) > MAX_NAME_CHARS:
            return bool(self.rule_sets)  # names no file, and is not read: see repository_paths
        paths = repository_paths(path)
        return any(_compiled(rules).match_file(p) for rules in self.rule_sets for p in paths)


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


def group_context_exclusions(group: Group) -> ContextExclusions:
    """The rules of the group and of the groups above it, which every project below it obeys:
    what the files of a question about the group are held to."""
    return _exclusions_of_owners(group.lineage())


def _exclusions_of(project: Project) -> ContextExclusions:
    return _exclusions_of_owners([*project.group.lineage(), project])


def _exclusions_of_owners(owners: Sequence[Group | Project]) -> ContextExclusions:
    return ContextExclusions(
        tuple(
            tuple(owner.context_exclusions.splitlines())
            for owner in owners
            if owner.context_exclusions.strip()
        )
    )


# Longer than any path a system takes (Linux's PATH_MAX): a name that no file has.
MAX_NAME_CHARS = 4096
# A URI's scheme ("file:/", "file://", "vscode-remote://ssh-remote%2Bhost", "git:/"); a letter
# and a colon alone are a Windows drive.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")
_DRIVE = re.compile(r"[A-Za-z]:")
# Whitespace and dots ending a part of a name (not a "." or ".." part), which Windows drops, and
# the name of a file's main data stream, which Windows reads as the file.
_PART_END = re.compile(r"(?<=[^/\\.\s])[\s.]+(?=[/\\]|$)")
_DATA_STREAM = re.compile(r"::?\$DATA$", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)  # retrieval asks it of each candidate snippet's path
def repository_paths(file_name: str) -> frozenset[str]:
    """The paths in the repository that a client's `file_name` may stand for: the name as given
    and as Windows or a Unicode-folding client reads it (_folded), a URI's path once decoded
    read both ways too, each with "/" between parts and "//", "." and ".." resolved. A name from
    an unknown root (absolute, a drive, a home, a URI, or climbing above its start) stands for
    each of its tails at a "/", as the checkout may start at any of them: for exclusion,
    matching too many is safe, too few a leak."""
    if len(file_name) > MAX_NAME_CHARS:
        return frozenset()  # its tails alone would take the square of its length to write
    paths: set[str] = set()
    for name in {file_name, _folded(file_name)}:
        path, rooted = _path_and_root(name)
        for reading in {path, _folded(path)}:
            paths.update(_paths_of(reading, rooted=rooted))
    return frozenset(paths)


def _folded(name: str) -> str:
    """`name` with full-width and other compatibility characters as their plain forms (NFKC),
    without invisible format characters (zero-width spaces and joiners, byte order marks), and
    without the whitespace and dots around it or ending its parts."""
    name = unicodedata.normalize("NFKC", name)
    name = "".join(character for character in name if unicodedata.category(character) != "Cf")
    return _PART_END.sub("", _DATA_STREAM.sub("", name.strip()))


def _paths_of(path: str, *, rooted: bool) -> list[str]:
    path = posixpath.normpath(path)
    climbs = path == ".." or path.startswith("../")
    parts = [part for part in path.split("/") if part not in ("", ".", "..")]
    if rooted or climbs:
        return ["/".join(parts[start:]) for start in range(len(parts))]
    return ["/".join(parts)] if parts else []


def _path_and_root(name: str) -> tuple[str, bool]:
    """`name`'s path with "/" between its parts (a URI's decoded), and whether it starts at a
    root the rules cannot know (a URI's, a drive's, a home's or "/")."""
    if _URI.match(name):
        return unquote(urlsplit(name).path).replace("\\", "/"), True
    path = name.replace("\\", "/")
    if _DRIVE.match(path):
        return path[2:], True
    return path, path.startswith(("/", "~/"))


@functools.lru_cache(maxsize=1024)
def _compiled(rules: tuple[str, ...]) -> pathspec.PathSpec:
    return pathspec.GitIgnoreSpec.from_lines(rules)
