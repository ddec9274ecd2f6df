import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date

import pathspec
from django.contrib.auth.models import AbstractUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from codesuggest.providers import PROVIDERS
from codesuggest.providers.fim import validate_custom_template
from codesuggest.request_memo import once_per_request
from projects.git import validate_git_branch, validate_git_url

# GitLab's path rule: letters, digits, "_", "-" and "."; no special character at either end and
# none twice in a row; never ending in ".git" or ".atom" (those would clash with Git URLs).
PATH_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|[_.-](?=[A-Za-z0-9]))*$")
RESERVED_SUFFIXES = (".git", ".atom")
# The longest full path (group/subgroup/project) a group or project may have: a longer one names
# none, and is refused before the database is asked (SQLite fails a LIKE pattern past 50 kB).
FULL_PATH_MAX_LENGTH = 2048


def validate_path(path: str) -> None:
    if not PATH_PATTERN.match(path) or path.lower().endswith(RESERVED_SUFFIXES):
        raise ValidationError(
            f"{path!r} is not a valid path: use letters, digits, '_', '-' and '.', "
            "starting and ending with a letter or digit",
            code="invalid_path",
        )


# Context exclusion: gitignore patterns, one a line, of files that never reach a model.
CONTEXT_EXCLUSIONS_HELP = (
    "Files never indexed, retrieved or sent to a model: one gitignore pattern a line, e.g. "
    "*.env, secrets/, /config/credentials.yml or !example.env (kept after all). "
    "The rules of every group above apply as well, and cannot be undone below."
)


def validate_context_exclusions(text: str) -> None:
    """Each line a gitignore pattern; blank lines and # comments are allowed."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            # A pattern pathspec compiles to nothing (an unclosed "[") would match no file.
            valid = all(
                pattern.include is not None
                for pattern in pathspec.GitIgnoreSpec.from_lines([line]).patterns
            )
        except (ValueError, re.error):
            valid = False
        if not valid:
            raise ValidationError(
                f"Line {number} ({line!r}) is not a gitignore pattern.",
                code="invalid_context_exclusion",
            )


class User(AbstractUser):
    """A person who signs in. `is_active=False` is GitLab's "blocked"."""

    code_suggestions_access = models.BooleanField(
        default=True, help_text="Withdraw to stop this user from getting code suggestions."
    )
    chat_access = models.BooleanField(
        default=True, help_text="Withdraw to stop this user from using chat."
    )

    @property
    def is_admin(self) -> bool:
        return self.is_superuser


class GroupQuerySet(models.QuerySet):
    def lineage_of(self, full_path: str) -> "GroupQuerySet":
        """The group at `full_path` and every group above it, topmost first."""
        return (
            self.annotate(lower_path=Lower("full_path"))
            .filter(lower_path__in=ancestor_paths(full_path.lower()))
            .order_by("full_path")
        )


class Group(models.Model):
    name = models.CharField(max_length=255)
    path = models.CharField(max_length=255, validators=[validate_path])
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="subgroups"
    )
    full_path = models.CharField(max_length=FULL_PATH_MAX_LENGTH, editable=False)
    code_suggestions = models.BooleanField(
        default=True, help_text="Namespace setting: code suggestions for this group's projects."
    )
    lock_code_suggestions = models.BooleanField(
        default=False, help_text="Impose this group's setting on every subgroup and project."
    )
    context_exclusions = models.TextField(
        blank=True, validators=[validate_context_exclusions], help_text=CONTEXT_EXCLUSIONS_HELP
    )

    objects = GroupQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("full_path"), name="group_full_path_unique_ci"),
        ]
        ordering = ["full_path"]

    def __str__(self) -> str:
        return self.full_path

    def clean(self) -> None:
        full_path = self.computed_full_path()
        if self.parent is not None and self.pk and self.pk in {g.pk for g in self.parent.lineage()}:
            raise ValidationError({"parent": "A group cannot be its own ancestor."})
        clash = Group.objects.filter(full_path__iexact=full_path).exclude(pk=self.pk).exists()
        if clash or Project.objects.filter(full_path__iexact=full_path).exists():
            raise ValidationError({"path": f"{full_path} is already taken."})

    def computed_full_path(self) -> str:
        return f"{self.parent.full_path}/{self.path}" if self.parent else self.path

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():
            old_full_path = self.full_path
            self.full_path = self.computed_full_path()
            super().save(*args, **kwargs)
            if old_full_path and old_full_path != self.full_path:
                self._rename_descendants()

    def _rename_descendants(self) -> None:
        # Full paths are stored so that a look-up by path is one indexed query; a move or rename
        # rewrites them below this group.
        for subgroup in self.subgroups.all():
            subgroup.save()
        for project in self.projects.all():
            project.save()

    def is_visible_to(self, user: "User") -> bool:
        """Admins, members of the group, of a group above or of anything below it see the group;
        so does anyone who may see a project in it (a GitLab group is at least as visible as its
        projects, and an internal or public project is visible to every signed-in user)."""
        if not user.is_active:
            return False
        if user.is_admin:
            return True
        below = f"{self.full_path}/"
        in_or_below = (
            models.Q(group__in=Group.objects.lineage_of(self.full_path))
            | models.Q(group__full_path__istartswith=below)
            | models.Q(project__full_path__istartswith=below)
        )
        if Membership.objects.filter(user=user).filter(in_or_below).exists():
            return True
        return (
            Project.objects.filter(full_path__istartswith=below)
            .exclude(visibility=Visibility.PRIVATE)
            .exists()
        )

    def lineage(self) -> list["Group"]:
        """This group and its ancestors, topmost first, in one query."""
        return list(Group.objects.lineage_of(self.full_path))


def ancestor_paths(full_path: str) -> list[str]:
    """'a/b/c' → ['a', 'a/b', 'a/b/c']."""
    parts = full_path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class Visibility(models.TextChoices):
    PRIVATE = "private"
    INTERNAL = "internal"
    PUBLIC = "public"


class ProjectQuerySet(models.QuerySet):
    def by_full_path(self, full_path: str) -> "Project | None":
        if len(full_path) > FULL_PATH_MAX_LENGTH:
            return None
        return self.select_related("group").filter(full_path__iexact=full_path).first()

    def visible_to(
        self, user: "User", *, full_path: str | None = None, pk: int | None = None
    ) -> "Project | None":
        """The project at `full_path` (any case), or with id `pk`, if `user` may see it. A
        missing project and a private one the user is not in are alike: None, so that nothing
        tells which private projects exist."""
        if full_path is not None:
            project = self.by_full_path(full_path)
        else:
            project = self.select_related("group").filter(pk=pk).first()
        return project if project is not None and project.is_visible_to(user) else None


class Project(models.Model):
    name = models.CharField(max_length=255)
    path = models.CharField(max_length=255, validators=[validate_path])
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="projects")
    full_path = models.CharField(max_length=FULL_PATH_MAX_LENGTH, editable=False)
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    code_suggestions = models.BooleanField(default=True)
    context_exclusions = models.TextField(
        blank=True, validators=[validate_context_exclusions], help_text=CONTEXT_EXCLUSIONS_HELP
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("full_path"), name="project_full_path_unique_ci"),
        ]
        ordering = ["full_path"]

    def __str__(self) -> str:
        return self.full_path

    def clean(self) -> None:
        if not self.group_id:
            return
        full_path = self.computed_full_path()
        clash = Project.objects.filter(full_path__iexact=full_path).exclude(pk=self.pk).exists()
        if clash or Group.objects.filter(full_path__iexact=full_path).exists():
            raise ValidationError({"path": f"{full_path} is already taken."})

    def computed_full_path(self) -> str:
        return f"{self.group.full_path}/{self.path}"

    def save(self, *args, **kwargs) -> None:
        self.full_path = self.computed_full_path()
        super().save(*args, **kwargs)

    @property
    def index_key(self) -> str:
        """The name of the project's code index in the local engine and in retrieval: its id,
        not its path, so that a project renamed or moved keeps its code, and a project made
        later at its old path, or at a deleted project's, is never served that code."""
        return f"project-{self.pk}"

    def is_visible_to(self, user: User) -> bool:
        if self.visibility == Visibility.PUBLIC:
            return True
        if not user.is_authenticated or not user.is_active:
            return False
        if self.visibility == Visibility.INTERNAL or user.is_admin:
            return True
        return self.has_member(user)

    def has_member(self, user: User) -> bool:
        """Membership of the project, or of its group or any group above it."""
        groups = Group.objects.lineage_of(self.group.full_path)
        return (
            Membership.objects.filter(user=user)
            .filter(models.Q(project=self) | models.Q(group__in=groups))
            .exists()
        )


class IndexState(models.TextChoices):
    NEVER = "", "Never indexed"
    FETCHING = "fetching", "Fetching from Git"
    READING = "reading", "Reading files"
    SEARCHABLE = "searchable", "Making the files searchable"
    DONE = "done", "Indexed"
    FAILED = "failed", "Failed"


class ProjectIndex(models.Model):
    """A project's code index: where its code comes from when that is a Git repository, and how
    the last indexing went (`projects.indexing` writes it, progress included, as it runs)."""

    project = models.OneToOneField(
        Project, primary_key=True, on_delete=models.CASCADE, related_name="code_index"
    )
    git_url = models.CharField(
        "Git URL",
        max_length=2048,
        blank=True,
        validators=[validate_git_url],
        help_text="Cloned and indexed again on a schedule: https://, http://, ssh:// or "
        "git@host:path. Credentials in it (https://user:token@…) are never shown again.",
    )
    git_branch = models.CharField(
        "Git branch",
        max_length=255,
        blank=True,
        validators=[validate_git_branch],
        help_text="Empty: the repository's default branch.",
    )
    state = models.CharField(max_length=16, choices=IndexState.choices, blank=True, default="")
    files_done = models.PositiveIntegerField(default=0)
    files_total = models.PositiveIntegerField(default=0)
    files = models.PositiveIntegerField("indexed files", default=0)
    chunks = models.PositiveIntegerField(
        "retrieval chunks", default=0, help_text="The windows of code retrieval searches."
    )
    # The last run's counts: files new or changed (read), skipped (ignored, excluded, vendored,
    # generated, binary, huge) and gone since the run before. Unchanged files cost a stat.
    files_read = models.PositiveIntegerField(default=0)
    files_skipped = models.PositiveIntegerField(default=0)
    files_removed = models.PositiveIntegerField(default=0)
    commit = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    indexed_at = models.DateTimeField("last indexed", null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = "code index"
        verbose_name_plural = "code index"

    def __str__(self) -> str:
        return str(self.project)  # the inline's heading: "Code index: acme/tools"


class AccessLevel(models.IntegerChoices):
    GUEST = 10
    REPORTER = 20
    DEVELOPER = 30
    MAINTAINER = 40
    OWNER = 50


class Membership(models.Model):
    """A user's membership of a group (and so of everything below it) or of one project."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    access_level = models.IntegerField(choices=AccessLevel.choices, default=AccessLevel.DEVELOPER)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(group__isnull=True, project__isnull=False)
                | models.Q(group__isnull=False, project__isnull=True),
                name="membership_of_a_group_or_a_project",
            ),
            models.UniqueConstraint(fields=["user", "group"], name="one_membership_per_group"),
            models.UniqueConstraint(fields=["user", "project"], name="one_membership_per_project"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group or self.project}"


class CodeSuggestionsOverride(models.TextChoices):
    NONE = "", "Follow groups and projects"
    ON = "on", "On everywhere"
    OFF = "off", "Off everywhere"


def provider_choices() -> list[tuple[str, str]]:
    """The registry's providers, read whenever a form asks: the migrations hold this function,
    not the list, so that a new provider needs no migration."""
    return [("", "As configured in the environment")] + [(name, name) for name in PROVIDERS]


class InstanceSettings(models.Model):
    """The instance-wide settings an admin may change without a restart (a single row).

    Provider keys are not here: they stay in the environment.
    """

    code_suggestions = models.CharField(
        max_length=3, blank=True, choices=CodeSuggestionsOverride.choices, default=""
    )
    completions_provider = models.CharField(max_length=16, blank=True, choices=provider_choices)
    completions_model = models.CharField(max_length=255, blank=True)
    generations_provider = models.CharField(max_length=16, blank=True, choices=provider_choices)
    generations_model = models.CharField(max_length=255, blank=True)
    chat_provider = models.CharField(max_length=16, blank=True, choices=provider_choices)
    chat_model = models.CharField(max_length=255, blank=True)
    fim_template = models.TextField(
        blank=True,
        help_text="Custom fill-in-the-middle prompt with {prefix}, {suffix}, {file_name} and "
        "{language}; empty chooses the template from the model's name.",
    )

    CACHE_KEY = "instance-settings"

    class Meta:
        verbose_name_plural = "instance settings"

    def __str__(self) -> str:
        return "Instance settings"

    def clean(self) -> None:
        if self.fim_template:
            try:
                validate_custom_template(self.fim_template)
            except ValueError as exc:
                raise ValidationError({"fim_template": str(exc)}) from None

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)
        cache.delete(self.CACHE_KEY)

    @classmethod
    def load(cls) -> "InstanceSettings":
        """The settings, from the shared cache (every request reads them, admins rarely write),
        fetched once per request however many checks read them."""
        return once_per_request(cls.CACHE_KEY, cls._load_shared)

    @classmethod
    def _load_shared(cls) -> "InstanceSettings":
        instance = cache.get(cls.CACHE_KEY)
        if instance is None:
            instance, _ = cls.objects.get_or_create(pk=1)
            cache.set(cls.CACHE_KEY, instance, timeout=None)
        return instance


@dataclass(frozen=True)
class Decision:
    enabled: bool
    reason: str


def code_suggestions_decision(project: Project) -> Decision:
    """Whether code suggestions are on for a project, and which rule decided it."""
    forced = InstanceSettings.load().code_suggestions
    if forced:
        return Decision(forced == CodeSuggestionsOverride.ON, "forced by the instance setting")
    lineage = project.group.lineage()
    locking = next((group for group in lineage if group.lock_code_suggestions), None)
    if locking is not None:
        return Decision(locking.code_suggestions, f"locked by group {locking.full_path}")
    if project.code_suggestions:
        return Decision(True, "on in the project")
    enabling = next((group for group in reversed(lineage) if group.code_suggestions), None)
    if enabling is not None:
        return Decision(True, f"on in group {enabling.full_path}")
    return Decision(False, "off in the project and all its groups")


def code_suggestions_enabled(project: Project) -> bool:
    return code_suggestions_decision(project).enabled


class Scope(models.TextChoices):
    # Labelled as GitLab names them, not "Api" or "Ai Features".
    API = "api", "api"
    READ_API = "read_api", "read_api"
    READ_USER = "read_user", "read_user"
    AI_FEATURES = "ai_features", "ai_features"


TOKEN_PREFIX = "glpat-"  # noqa: S105 - a public prefix that secret scanners look for


def token_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


class PersonalAccessToken(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=255)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "personal access token"

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @classmethod
    def create(
        cls,
        *,
        user: User,
        name: str,
        scopes: list[str],
        expires_at: date | None = None,
    ) -> tuple["PersonalAccessToken", str]:
        """Create a token; the plaintext is returned here and never again."""
        plaintext = TOKEN_PREFIX + secrets.token_urlsafe(20)  # 160 random bits
        token = cls.objects.create(
            user=user,
            name=name,
            digest=token_digest(plaintext),
            scopes=scopes,
            expires_at=expires_at,
        )
        return token, plaintext

    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.localdate()

    @property
    def status(self) -> str:
        if self.revoked:
            return "revoked"
        return "expired" if self.is_expired() else "active"

    def is_active(self) -> bool:
        return not self.revoked and not self.is_expired()

    def has_any_scope(self, scopes: tuple[str, ...]) -> bool:
        return any(scope in self.scopes for scope in scopes)

    def mark_used(self) -> None:
        now = timezone.now()
        PersonalAccessToken.objects.filter(pk=self.pk).update(last_used_at=now)
        self.last_used_at = now
