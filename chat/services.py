"""Duo Chat: asking (web process), answering (Celery worker), history and its purge."""

import codecs
import logging
import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import KombuError
from redis import RedisError

from chat import leases, relay
from chat.models import RESET, Message, Role, State
from chat.params import CONTEXT_CATEGORIES
from chat.prompts import ANSWER_TOKENS, Exchange, build_messages, is_selection
from codesuggest.api.params import INT_MAX
from codesuggest.api.throttling import enforce_chat_rate_limit
from codesuggest.errors import RecordNotFound, Unavailable
from codesuggest.providers import (
    ChatRequest,
    ProviderError,
    ProviderTimeout,
    References,
    masks_secrets,
    provider_for,
    redact_text,
)
from projects import retrieval
from projects.exclusions import (
    NOTHING_EXCLUDED,
    ContextExclusions,
    context_exclusions,
    group_context_exclusions,
)
from projects.features import provider_config
from projects.models import Group, Project, User

logger = logging.getLogger(__name__)

# The model sees at most this many of the most recent messages since the last /reset.
HISTORY_MESSAGES = 50
COMMIT_SHA = re.compile(r"[0-9a-fA-F]{7,64}")
# What GitLab's chat takes as "delete my history".
CLEAR_COMMANDS = ("/clear", "/clean")
# What stops a question from reaching the broker: it is down, or unreachable.
DISPATCH_ERRORS = (KombuError, RedisError, OSError)


def chat_features_available(user: User) -> list[str]:
    """GitLab's names of the chat features the user may use (its language server turns its
    context providers on by them): every category of additional context chat accepts."""
    if not user.chat_access:
        return []
    return [f"include_{category}_context" for category in CONTEXT_CATEGORIES]


# Resources ------------------------------------------------------------------------------------

# The additional-context categories that carry a file's text, named by its path in `id` or in
# the metadata's `relativePath` (where GitLab's language server puts it).
FILE_CATEGORIES = ("file", "snippet")
# Git's output from the user's checkout (a diff, a log). A diff's sections are each about a file,
# which their headers name: `--- a/path` and `+++ b/path` (any prefix, or none; in git's C-style
# quotes when the name is not ASCII), a rename's or a copy's lines.
GIT_CATEGORY = "local_git"
_DIFF_FILE = re.compile(r"(?m)^(?=diff )")
_UNIFIED_DIFF_FILE = re.compile(r"(?m)^(?=--- [^\n]*\n\+\+\+ )")
_DIFF_PATH = re.compile(
    r'(?m)^(?:---|\+\+\+|rename from|rename to|copy from|copy to) ("(?:[^"\\]|\\.)*"|[^\t\n]+)'
)


@dataclass(frozen=True)
class Resource:
    type: str = ""
    id: str = ""
    project_id: int | None = None
    description: str = ""


def resource_resolve(
    *, user: User, resource_type: str | None, resource_id: Any, project_id: int | None
) -> Resource:
    """The resource the question is about, resolved to this service's groups and projects.

    Raises RecordNotFound for one that does not exist, one the user may not see and one of a
    type this service does not store, alike: no one learns which private ids exist."""
    if resource_type is None or resource_id is None:
        return Resource()  # GitLab ignores one without the other
    key = str(resource_id)
    if resource_type == "group":
        group = Group.objects.filter(pk=record_id(key)).first()
        if group is None or not group.is_visible_to(user):
            raise RecordNotFound()
        return Resource("group", key, None, f'the group "{group.name}" ({group.full_path})')
    if resource_type == "project":
        project = _visible_project(user, record_id(key))
        return Resource(
            "project", key, project.pk, f'the project "{project.name}" ({project.full_path})'
        )
    if resource_type == "commit":
        if project_id is None:
            raise RecordNotFound()
        project = _visible_project(user, project_id)
        if not COMMIT_SHA.fullmatch(key):
            raise RecordNotFound()
        return Resource(
            "commit", key, project.pk, f"the commit {key} in the project {project.full_path}"
        )
    # issue, epic, merge_request: records this service does not keep.
    raise RecordNotFound()


def record_id(value: str) -> int:
    """A record's id as the API takes it; RecordNotFound for anything else."""
    # ASCII digits only ("²" is a digit to str.isdigit, but no id), and no more than a bigint
    # holds (checked before int(), which raises ValueError past 4,300 digits).
    if value.isascii() and value.isdigit() and len(value) <= 19 and int(value) <= INT_MAX:
        return int(value)
    raise RecordNotFound()


def _visible_project(user: User, project_id: int) -> Project:
    project = Project.objects.visible_to(user, pk=project_id)
    if project is None:
        raise RecordNotFound()
    return project


def context_not_excluded(
    user: User, resource: Resource, additional_context: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The additional context less the files that their project excludes: the resource's, and
    the project each file names (`metadata.project`, as GitLab's language server sends it) if
    the user may see it."""
    resource_rules = _resource_exclusions(resource)
    named_projects = {
        path: Project.objects.visible_to(user, full_path=path)
        for path in {_named_project(item) for item in additional_context} - {""}
    }
    allowed = [
        _within_rules(
            item, resource_rules, context_exclusions(named_projects.get(_named_project(item)))
        )
        for item in additional_context
    ]
    return [item for item in allowed if item is not None]


def _resource_exclusions(resource: Resource) -> ContextExclusions:
    """The rules of the project, or the group, a question is about."""
    if resource.project_id is not None:
        project = Project.objects.select_related("group").filter(pk=resource.project_id).first()
        return context_exclusions(project)
    group = (
        Group.objects.filter(pk=record_id(resource.id)).first()
        if resource.type == "group"
        else None
    )
    return group_context_exclusions(group) if group is not None else NOTHING_EXCLUDED


def project_of_context(
    user: User, resource: Resource, additional_context: Sequence[dict[str, Any]]
) -> Resource:
    """The resource; for a question about none, the project that all its files name, if the
    user may see it, so that its index answers as for a question about the project."""
    if resource.type:
        return resource
    named = {_named_project(item) for item in additional_context} - {""}
    project = Project.objects.visible_to(user, full_path=named.pop()) if len(named) == 1 else None
    return Resource(project_id=project.pk) if project is not None else resource


def _within_rules(item: dict[str, Any], *rule_sets: ContextExclusions) -> dict[str, Any] | None:
    """The item as the rules let it reach the model: a file they exclude not at all, a Git diff
    without the sections about the files they exclude."""

    def excluded(path: str) -> bool:
        return any(rules.excludes(path) for rules in rule_sets)

    if any(map(excluded, _file_paths(item))):
        return None
    if item["category"] == GIT_CATEGORY:
        sections = _diff_sections(item["content"])
        kept = "".join(s for s in sections if not any(map(excluded, _diff_paths(s))))
        return {**item, "content": kept} if kept.strip() else None
    return item


def _named_project(item: dict[str, Any]) -> str:
    """The project path an item names (GitLab's language server writes it from the Git
    remote), as a full path: without the slashes, spaces or `.git` around it."""
    project = (item.get("metadata") or {}).get("project")
    if item["category"] not in (*FILE_CATEGORIES, GIT_CATEGORY) or not isinstance(project, str):
        return ""
    return project.strip().strip("/").removesuffix(".git")


def _diff_sections(diff: str) -> Iterator[str]:
    """The diff cut before each file's header: `diff --git …`, or in a plain `diff -u` (none of
    those) its `---` and `+++` lines."""
    for part in _DIFF_FILE.split(diff):
        yield from [part] if part.startswith("diff ") else _UNIFIED_DIFF_FILE.split(part)


def _diff_paths(section: str) -> list[str]:
    """The paths a diff section's header names, each also without its first part (git's `a/`,
    `b/`, `i/`, `w/` or any --src-prefix): matching one too many is safe, too few a leak."""
    paths = [_unquoted(name.strip()) for name in _DIFF_PATH.findall(section)]
    named = [path for path in paths if path != "/dev/null"]
    return [*named, *(path.split("/", 1)[1] for path in named if "/" in path)]


def _unquoted(name: str) -> str:
    """A name as git writes it, in C-style quotes with octal escapes when it is not ASCII."""
    if len(name) < 2 or not (name.startswith('"') and name.endswith('"')):
        return name
    return codecs.escape_decode(name[1:-1].encode())[0].decode("utf-8", errors="replace")


def _file_paths(item: dict[str, Any]) -> list[str]:
    if item["category"] not in FILE_CATEGORIES:
        return []
    relative_path = (item.get("metadata") or {}).get("relativePath")
    return [item["id"], *([relative_path] if isinstance(relative_path, str) else [])]


# Asking (the web process) ---------------------------------------------------------------------


def question_submit(
    *,
    user: User,
    content: str,
    resource: Resource,
    additional_context: Sequence[dict[str, Any]],
    referer_url: str | None,
    client_subscription_id: str | None,
    with_clean_history: bool = False,
) -> Message:
    """Store the question and hand it to the workers; the stored question.

    Raises 429 past the user's chat limit (nothing is stored then), and 503 when the question
    cannot reach a worker (it is then stored as failed, unless a worker answered it first)."""
    # Here, so that the REST endpoint and GraphQL's aiAction share one budget, counted after
    # their checks (a refused question costs nothing) and before anything is stored.
    enforce_chat_rate_limit(user_id=user.pk)
    resource = project_of_context(user, resource, additional_context)
    if client_subscription_id:
        with relay_required("nothing was asked"):
            relay.stream_reset(user.pk, client_subscription_id)
    with transaction.atomic():
        if with_clean_history:
            Message.objects.create(user=user, role=Role.RESET, content=RESET)
        question = Message.objects.create(
            user=user,
            role=Role.USER,
            content=content,
            state=State.PENDING,
            resource_type=resource.type,
            resource_id=resource.id,
            project_id=resource.project_id,
            resource_description=resource.description,
            additional_context=context_not_excluded(user, resource, additional_context),
            referer_url=referer_url or "",
            client_subscription_id=client_subscription_id or "",
            with_clean_history=with_clean_history,
        )
    try:
        question_dispatch(question.pk)
    except DISPATCH_ERRORS as exc:
        logger.error(
            "Chat question %s could not be queued: %s: %s", question.pk, type(exc).__name__, exc
        )
        # The task may have gone out before the error (a Redis broker whose connection dropped
        # before it replied) and a worker answered it already: then the question stands.
        if question_fail(question_id=question.pk, error="The question could not be queued"):
            raise Unavailable("chat cannot queue questions right now") from None
    return question


def answer_wait(question: Message) -> str:
    """The answer to a submitted question, once a worker has given it.

    Raises ProviderError (503) when the model failed, and ProviderTimeout (504) when no answer
    came within CHAT_TIMEOUT; that answer is still stored in the history when it comes. Raises
    503 when the answer cannot reach this process."""
    release_database_connection()
    timeout = settings.CHAT_TIMEOUT
    with relay_required("the answer will be kept in the chat history when it comes"):
        outcome = relay.wait_for_answer(str(question.request_id), timeout)
    if outcome is None:
        raise ProviderTimeout(
            f"The chat model did not answer within {timeout:g}s; "
            "the answer will be kept in the chat history when it comes"
        )
    if outcome["state"] == State.FAILED:
        raise ProviderError(outcome["error"])
    return outcome["content"]


def message_submit(
    *,
    user: User,
    content: str,
    resource: Resource,
    additional_context: Sequence[dict[str, Any]],
    client_subscription_id: str | None,
) -> Message:
    """A message typed into GitLab's chat: `/reset` starts a new conversation, `/clear` (or
    `/clean`) deletes the user's history, as GitLab's chat does; anything else is a question,
    submitted without waiting. The stored message (a reset marker for the two commands)."""
    command = content.strip()
    if command == RESET:
        return Message.objects.create(user=user, role=Role.RESET, content=RESET)
    if command in CLEAR_COMMANDS:
        with transaction.atomic():
            Message.objects.filter(user=user).delete()
            # A marker as well: the client gets a request id, and nothing is left before it.
            return Message.objects.create(user=user, role=Role.RESET, content=RESET)
    return question_submit(
        user=user,
        content=content,
        resource=resource,
        additional_context=additional_context,
        referer_url=None,
        client_subscription_id=client_subscription_id,
    )


@contextmanager
def relay_required(consequence: str) -> Iterator[None]:
    try:
        yield
    except relay.RelayUnavailable:
        raise Unavailable(f"chat cannot reach its answer relay (Redis); {consequence}") from None


def question_dispatch(question_id: int) -> None:
    """Hand the question to the workers, or to a thread of this process when there is no
    broker (the embedded mode)."""
    from chat.tasks import answer_question  # the task module imports this one

    Message.objects.filter(pk=question_id).update(dispatched_at=timezone.now())
    if answer_question.app.conf.task_always_eager:
        # Not in the request itself: the asker must have its request id before the answer
        # streams, as with a worker. GitLab's language server drops the chunks of a request
        # whose id aiAction has not given it yet, and then waits for ever.
        threading.Thread(target=_answer_here, args=(answer_question, question_id)).start()
    else:
        answer_question.delay(question_id)


def _answer_here(task: Any, question_id: int) -> None:
    try:
        task.apply(args=(question_id,))
    finally:
        connection.close()


def release_database_connection() -> None:
    """Give the connection back before a long wait: a web process waiting for many answers at
    once must not hold as many database connections. Inside a transaction (a test's) it stays."""
    if not connection.in_atomic_block:
        connection.close()


# Answering (the Celery worker) ----------------------------------------------------------------


def question_answer(*, question_id: int, attempt: int = 1) -> None:
    """Answer a pending question; do nothing for one already answered (or failed, or purged).

    Raises ProviderError for the caller to retry or give up (`question_fail`)."""
    with leases.answering(question_id) as ours:
        if ours:  # otherwise another worker is answering it right now
            _answer(question_id, attempt)


def _answer(question_id: int, attempt: int) -> None:
    question = Message.objects.filter(pk=question_id, role=Role.USER).first()
    if question is None or question.state != State.PENDING:
        return
    project = (
        Project.objects.select_related("group").filter(pk=question.project_id).first()
        if question.project_id
        else None
    )
    config = provider_config("chat")
    # The user's context first: it is what they chose, and has the budget first.
    context = [*question.additional_context, *retrieved_context(question, project)]
    if masks_secrets(config):
        context = [_with_secrets_masked(item) for item in context]
    messages = build_messages(
        question=question.content,
        resource_description=question.resource_description,
        additional_context=context,
        history=history_for(question),
    )
    provider = provider_for(config)
    request = ChatRequest(
        tuple(messages), max_tokens=ANSWER_TOKENS, references=references_of(question, project)
    )
    subscription = question.client_subscription_id
    if subscription:
        # A retry or a redelivered task streams the answer again from the start.
        relay.stream_publish(question.user_id, subscription, "start", {"attempt": attempt})
        parts = []
        for chunk in provider.stream_chat(request):
            parts.append(chunk)
            relay.stream_publish(question.user_id, subscription, "chunk", {"content": chunk})
        text = "".join(parts)
    else:
        text = provider.chat(request).text
    if not text.strip():
        # Nothing to show and nothing worth keeping in the history: a failure, not an answer.
        raise ProviderError("The chat model returned an empty answer")
    _finish(question_id, answer=text)


def _with_secrets_masked(item: dict[str, Any]) -> dict[str, Any]:
    """The item with its content's secrets masked as its file's type says: a bare `password: x`
    is one in YAML and `.env` files; a Git diff's sections each as their own file's. The
    provider is sent the whole prompt masked again, but under no file's name."""
    if item["category"] == GIT_CATEGORY:
        sections = _diff_sections(item["content"])
        return {**item, "content": "".join(_masked(s, _diff_paths(s)) for s in sections)}
    metadata = item.get("metadata") or {}
    names = [name for name in (item["id"], metadata.get("relativePath")) if isinstance(name, str)]
    return {**item, "content": _masked(item["content"], names)}


def _masked(text: str, file_names: Sequence[str]) -> str:
    for file_name in file_names or [""]:
        text = redact_text(text, file_name=file_name)
    return text


def retrieved_context(question: Message, project: Project | None) -> list[dict[str, Any]]:
    """The snippets of the project's indexed code most like the question and the code the
    user selected, as additional context; none without a project or its index."""
    if project is None:
        return []
    exclusions = context_exclusions(project)
    sent = {path for item in question.additional_context for path in _file_paths(item)}
    selected = [item["content"] for item in question.additional_context if is_selection(item)]
    snippets = retrieval.snippets_like(
        project_key=project.index_key,
        code="\n".join([*selected, question.content]),
        leave_out=lambda path: (
            any(retrieval.is_named(path, name) for name in sent) or exclusions.excludes(path)
        ),
    )
    return [
        {
            "category": "snippet",
            "id": f"{s.path}:{s.first_line}",
            "content": s.text,
            "metadata": {"relativePath": s.path},
        }
        for s in snippets
    ]


def references_of(question: Message, project: Project | None) -> References:
    """The question's project (for its indexed code) and attached documents."""
    return References(
        project_key=project.index_key if project else None,
        documents=tuple((item["id"], item["content"]) for item in question.additional_context),
        excluded=context_exclusions(project).excludes,
    )


def question_fail(*, question_id: int, error: str) -> bool:
    """Fail a pending question; False when it was answered or failed already."""
    return _finish(question_id, error=error)


def _finish(question_id: int, *, answer: str | None = None, error: str = "") -> bool:
    with transaction.atomic():
        question = Message.objects.select_for_update().filter(pk=question_id).first()
        if question is None or question.state != State.PENDING:
            return False  # another run of the task got there first
        if answer is not None:
            stored = Message.objects.create(
                user_id=question.user_id,
                role=Role.ASSISTANT,
                content=answer,
                question=question,
                request_id=question.request_id,
                resource_type=question.resource_type,
                resource_id=question.resource_id,
                project_id=question.project_id,
            )
            answer = stored.content
        question.state = State.DONE if answer is not None else State.FAILED
        question.error = error[:500]
        question.save(update_fields=["state", "error", "updated_at"])
        if question.with_clean_history:
            Message.objects.create(user_id=question.user_id, role=Role.RESET, content=RESET)
    if answer is not None:
        outcome = {"state": State.DONE, "content": answer}
        event, data = "done", {"content": answer, "request_id": str(question.request_id)}
    else:
        outcome = {"state": State.FAILED, "error": error}
        event, data = "error", {"message": error, "request_id": str(question.request_id)}
    relay.signal_answer(str(question.request_id), outcome)
    if question.client_subscription_id:
        relay.stream_publish(question.user_id, question.client_subscription_id, event, data)
    return True


def questions_sweep() -> tuple[int, int]:
    """Make sure every question ends: fail those pending past CHAT_QUESTION_DEADLINE, and
    dispatch again those that nobody is answering (their worker died, or the broker lost them).
    (failed, dispatched again)."""
    now = timezone.now()
    pending = Message.objects.filter(role=Role.USER, state=State.PENDING)
    deadline = now - timedelta(seconds=settings.CHAT_QUESTION_DEADLINE)
    expired = list(pending.filter(created_at__lt=deadline).values_list("pk", flat=True))
    for question_id in expired:
        question_fail(question_id=question_id, error="The chat model did not answer in time")
    # Twice the lease: a question just dispatched has not been picked up yet.
    quiet_since = now - timedelta(seconds=2 * settings.CHAT_LEASE_SECONDS)
    orphaned = [
        question_id
        for question_id in pending.filter(dispatched_at__lt=quiet_since)
        .exclude(pk__in=expired)
        .values_list("pk", flat=True)
        if not leases.held(question_id)
    ]
    for question_id in orphaned:
        question_dispatch(question_id)
    if expired or orphaned:
        logger.warning(
            "Chat sweep: %d questions failed past their deadline, %d dispatched again",
            len(expired),
            len(orphaned),
        )
    return len(expired), len(orphaned)


def history_for(question: Message) -> list[Exchange]:
    """The user's earlier questions and their answers since the last /reset, oldest first,
    from the 50 most recent messages. Questions without an answer are left out."""
    earlier = Message.objects.filter(user_id=question.user_id, pk__lt=question.pk)
    last_reset = earlier.filter(role=Role.RESET).order_by("-pk").values_list("pk", flat=True)
    since = earlier.filter(pk__gt=last_reset.first() or 0)
    recent = list(since.exclude(role=Role.RESET).order_by("-pk")[:HISTORY_MESSAGES])
    questions = [m for m in reversed(recent) if m.role == Role.USER]
    # An answer may have come after later questions (it timed out): it still belongs to its own.
    answers = {
        m.question_id: m.content
        for m in Message.objects.filter(role=Role.ASSISTANT, question__in=questions)
    }
    return [Exchange(q.content, answers[q.pk]) for q in questions if q.pk in answers]


@dataclass(frozen=True)
class ChatRecord:
    """One message of a user's conversation as a client reads it back."""

    id: int | None  # None for the failure of a question, which is not stored as a message
    request_id: str
    role: str  # Role.USER or Role.ASSISTANT
    content: str
    error: str  # why the question failed; "" for every other record
    created_at: datetime


def chat_records(
    *, user: User, request_ids: Sequence[str] | None, roles: Sequence[str] | None
) -> list[ChatRecord]:
    """The user's questions and answers, oldest first: those of `request_ids` (all of the most
    recent HISTORY_MESSAGES when None), of `roles` (any when None). A question still pending has
    no answer yet; a failed one has an assistant record carrying the error instead."""
    messages = Message.objects.filter(user=user, role__in=(Role.USER, Role.ASSISTANT))
    if request_ids is not None:
        messages = messages.filter(request_id__in=_uuids(request_ids))
    else:
        messages = messages.order_by("-pk")[:HISTORY_MESSAGES]
    records = []
    for message in sorted(messages, key=lambda m: m.pk):
        request_id = str(message.request_id)
        records.append(
            ChatRecord(
                message.pk, request_id, message.role, message.content, "", message.created_at
            )
        )
        if message.role == Role.USER and message.state == State.FAILED:
            error = message.error or "The question could not be answered"
            records.append(
                ChatRecord(None, request_id, Role.ASSISTANT, error, error, message.updated_at)
            )
    return [record for record in records if roles is None or record.role in roles]


def _uuids(values: Sequence[str]) -> list[uuid.UUID]:
    """The values that are request ids; any other value matches nothing."""
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return found


def history_purge_expired() -> int:
    """Delete history older than CHAT_HISTORY_RETENTION_DAYS (0 keeps it for ever); the number
    of messages deleted."""
    days = settings.CHAT_HISTORY_RETENTION_DAYS
    if days == 0:
        return 0
    count, _ = Message.objects.older_than(timezone.now() - timedelta(days=days)).delete()
    return count


# Streaming to the client ----------------------------------------------------------------------


def subscription_events(
    *, user: User, subscription_id: str
) -> Iterator[tuple[str, dict[str, Any]] | None]:
    """The events published for this user's subscription, as (event, data), ending with `done` or
    `error`; None whenever a while has passed without one (time for a keep-alive)."""
    # Long enough for a reader that connects before the question is asked.
    timeout = settings.CHAT_TIMEOUT * 2
    try:
        for item in relay.stream_read(user.pk, subscription_id, timeout=timeout):
            yield item
            if item is not None and item[0] in ("done", "error"):
                return
    except relay.RelayUnavailable:
        yield "error", {"message": "Chat cannot reach its answer relay (Redis)"}
        return
    yield "error", {"message": "No answer was published in time"}
