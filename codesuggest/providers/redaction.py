"""Secrets masked out of every text a model provider is sent.

detect-secrets (Yelp's detector) finds them: its plugins for API keys and tokens (AWS, Azure,
GitHub, GitLab, Slack, Stripe, Twilio...), basic-auth URLs, JSON web tokens, private keys,
secret-sounding assignments (`password = "..."`) and quoted high-entropy strings. Only the
secret's value is replaced, by MARKER, so that the model still reads the code around it; a
private key is masked whole, from its BEGIN line through its END line; a line too long to scan
(minified code), whole too.

The registry wraps every provider that sends text out of the process (`provider_for`), so that
completions, generations, streams, Vertex AI's predict and chat cannot forget it.

Cost: the plugins' own patterns take about 40 µs a line of code (half a second for a
400,000-character file), too much for every keystroke. So each plugin runs only on the lines
holding a cheap pattern that all its findings contain (TRIGGERS: one pass over the text each),
and lines found clean are remembered, so that the next keystroke's copy of a file scans only the
lines that changed. bench/redaction.py measures both.
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import cast

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters import heuristic
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector
from detect_secrets.util.filetype import FileType, determine_file_type

from .base import Candidate, ChatMessage, ChatRequest, CompletionRequest, Provider, References

MARKER = "[REDACTED]"

# A public IPv4 address is not a credential, and masking one would hide what the code means.
LEFT_OUT = frozenset({"Public IP (ipv4)"})
# A longer line is masked whole, unread: minified code or data, of little use to a model, on
# which the plugins cost up to 3 µs a character, again at each keystroke as the line changes.
LONGEST_LINE_SCANNED = 5_000
# Lines known to hold no secret, by file type (which selects the keyword plugin's patterns): a
# file comes back on every keystroke with one line changed. Cleared when full; a line holding a
# secret is never kept.
CLEAN_LINES_KEPT = 100_000
# `.env` files, which detect-secrets does not know, are configuration files.
DOTENV = re.compile(r"(^|/)\.env(\.[\w-]+)?$|\.env$")
CONFIGURATION_FILE = "settings.cfg"  # a name detect-secrets reads as a configuration file's
# In text of no file (a chat question, the conversation), each bare assignment to a name holding
# one of detect-secrets' keywords or "token" (`DB_PASSWORD=…`, `export GITLAB_TOKEN=…`,
# `password: …`, a Makefile's `:=`) is masked when its value looks like a credential: 8
# characters or more, letters and digits among them, not a dotted name (`settings.SECRET_KEY_2`).
# Code in the same text keeps `password: str` and `password: raise ValueError(...`.
# Possessive (`++`), so that a long line is read in one pass: with backtracking, a line of
# "token" repeated took minutes.
_BARE_ASSIGNMENT = re.compile(
    r"""(?<![\w.-])([\w.-]++)['"]?\s*+(?:[:?]?=|:)\s*+['"]?([^\s'"`,;()\[\]{}<>]++)"""
)
_SECRET_NAME = re.compile("|".join([*DENYLIST, "token"]), re.IGNORECASE)
_CREDENTIAL_LIKE = re.compile(r"(?!\w+(?:\.\w+)+$)(?=.*\d)(?=.*[^\W\d_]).{8,}")

# detect-secrets' keywords (`api_?key`, `password`...) each hold "pass", "pwd", "secret" or
# "contrase", or end in "key" after one of its prefixes, which this looks behind the "key" for.
_KEY_PREFIXES = [word.removesuffix("_?key") for word in DENYLIST if word.endswith("_?key")]
_KEYWORD_KEY = re.compile(
    "key(?:" + "|".join(f"(?<={p}_key)|(?<={p}key)" for p in _KEY_PREFIXES) + ")"
)

# For each plugin (by its secret type), what every line it flags holds, found in the lowercased
# text so that one spelling serves every case: its fixed prefix, the keywords of its assignments,
# the shortest run of its alphabet. A string is looked for as it is (str.find, faster than a
# pattern). tests/providers/test_redaction.py masks a secret of every type, which fails if one
# here misses it; bench/redaction.py --check-triggers compares with every plugin on every line.
Trigger = str | re.Pattern[str]
TRIGGERS: dict[str, tuple[Trigger, ...]] = {
    "Artifactory Credentials": ("akc", re.compile(r"ap[\da-f]")),
    "AWS Access Key": ("a3t", "abia", "acca", "akia", "asia", "aws"),
    "Azure Storage Account access key": ("accountkey=",),
    "Basic Auth Credentials": (re.compile(r"://[^\s/@:]*:[^\s/@:]+@"),),
    "Bearer Token": ("bearer", "authorization"),
    "Cloudant Credentials": (
        "cloudant",
        re.compile(r"cl(?:oudant|ou)?[-_]?(?:api)?(?:key|pw|pass|token)"),
    ),
    "Discord Bot Token": (re.compile(r"\.[\w-]{6}\."),),
    "GitHub Token": (re.compile(r"gh[pousr]_"),),
    "GitLab Token": (re.compile(r"gl[a-z]+-"), "gr1348941"),
    "IBM Cloud IAM Key": ("key", "pwd", "pass", "token"),
    "IBM COS HMAC Credentials": ("secret",),
    "JSON Web Token": ("eyj",),
    "Mailchimp Access Key": (re.compile(r"-us\d"),),
    "NPM tokens": ("_authtoken",),
    "OpenAI Token": ("t3blbkfj",),
    "Private Key": ("private key", "putty-user-key-file"),
    "PyPI Token": ("pypi-",),
    "Secret Keyword": (_KEYWORD_KEY, "pass", "pwd", "secret", "contrase"),
    "SendGrid API Key": ("sg.",),
    "Slack Token": ("xox", "hooks.slack.com"),
    "SoftLayer Credentials": (
        "softlayer",
        re.compile(r"sl[-_]?(?:api)?(?:key|pwd|pass|token)"),
    ),
    "Square OAuth Secret": ("sq0csp-",),
    "Stripe Access Key": ("k_live_",),
    "Telegram Bot Token": (re.compile(r":[\w-]{35}"),),
    "Twilio API Key": (re.compile(r"ac[a-z0-9]{32}"), re.compile(r"sk[a-z0-9]{32}")),
}

# What is masked around a plugin's finding: the rest of the token it is part of, as a plugin may
# find only part of it (GitLab's the `glpat` of `glpat-...`, JSON web tokens' all but the
# signature). Before it, not past a `/` or `.`, which may end a URL's path before a token.
_AROUND_A_FINDING = r"[\w-]*(?:{secrets})[\w+/.~=-]*"

_PRIVATE_KEY_BEGIN = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|PuTTY-User-Key-File-\d+:[^\n]*"
)
_PRIVATE_KEY_END = re.compile(r"-----END[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|Private-MAC:[^\n]*")
# What surrounds a key's lines in code: indentation, quotes, escaped line ends, concatenation.
_DECORATION = r"""\\[nr]|[\s"'`,+]"""
_CONTENT = re.compile(f"(?:{_DECORATION})*(.*?)(?:{_DECORATION})*", re.DOTALL)
# A line of a key once its decoration is left out: base64 (with the escaped line ends of a key
# written in one string), or a header (`Proc-Type: 4,...`, PuTTY's `Private-Lines: 14`).
_KEY_MATERIAL = re.compile(r"(?:[A-Za-z0-9+/=]|\\[nr])*|[A-Z][A-Za-z0-9-]*:.*")


class _BasicAuthDetector(BasicAuthDetector):
    """detect-secrets' plugin for a URL's credentials, which also finds a password given with no
    user name, as Redis URLs give it (`redis://:password@host`)."""

    denylist = [re.compile(r"://[^:/?#\[\]@!$&'()*+,;=\s]*:([^:/?#\[\]@!$&'()*+,;=\s]+)@")]


class _BearerTokenDetector(RegexBasedDetector):
    """A token sent as `Authorization: Bearer ...` (or a user and password as `Authorization:
    Basic ...`), which no plugin of detect-secrets finds unless its issuer's prefix gives it
    away."""

    secret_type = "Bearer Token"  # noqa: S105 (a kind of secret, not one)
    denylist = [
        re.compile(r"\b[Bb]earer\s+([\w~+/.-]{16,}=*)"),
        re.compile(r"""(?i)authorization['"]?\s*[:=,]\s*['"]?basic\s+([\w+/.-]{8,}=*)"""),
    ]


# Plugins of this service's, beside (or instead of, for the same type) detect-secrets' own.
OWN_PLUGINS: tuple[type[BasePlugin], ...] = (_BasicAuthDetector, _BearerTokenDetector)


def _plugins() -> list[BasePlugin]:
    """detect-secrets' plugins with their defaults, as its own `default_settings` has them, and
    this service's. None verifies what it finds (which would send the secret to its issuer):
    detect-secrets verifies only when its settings ask, which they never do here."""
    # Annotated with an unbound TypeVar, which mypy reads as a class of nothing.
    classes = cast(dict[str, type[BasePlugin]], get_mapping_from_secret_type_to_class())
    plugins = [cls() for cls in [*classes.values(), *OWN_PLUGINS]]
    # The last of a type wins: this service's.
    by_type = {plugin.secret_type: plugin for plugin in plugins}
    return [plugin for kind, plugin in sorted(by_type.items()) if kind not in LEFT_OUT]


def _triggers(plugin: BasePlugin) -> tuple[Trigger, ...]:
    if isinstance(plugin, HighEntropyStringsPlugin):
        # A string of n characters has at most log2(n) bits of entropy, so one the plugin flags
        # is longer than 2 ** limit; and it is quoted.
        shortest = int(2**plugin.entropy_limit) + 1
        charset = re.escape("".join(dict.fromkeys(plugin.charset.lower())))
        return (re.compile(rf"""['"][{charset}]{{{shortest},}}['"]"""),)
    # A KeyError here, at start-up, is a plugin a new detect-secrets brought: give it a trigger.
    return TRIGGERS[plugin.secret_type]


PLUGINS = [(plugin, _triggers(plugin)) for plugin in _plugins()]
# By file type, and whether the text was of no file (read as configuration too).
_clean_lines: dict[tuple[FileType, bool], set[str]] = {}
_clean_lock = threading.Lock()


def redact_text(text: str, *, file_name: str = "") -> str:
    """`text` with each secret's value replaced by MARKER. `file_name` chooses, as in
    detect-secrets, the keyword plugin's patterns: in configuration files and YAML a bare
    `password: value` is a secret; in code the value must be quoted. Text of no file (a chat
    question, the conversation) is read as both: it may quote either."""
    if "PRIVATE KEY" in text or "PuTTY-User-Key-File" in text:
        text = _mask_private_keys(text)
    prose = not file_name.strip()
    # As Windows reads a name (`.env.` is `.env`), with its extension in any case (`DB.YML`).
    file_name = file_name.strip().rstrip(". ").replace("\\", "/").lower()
    if DOTENV.search(file_name):
        file_name = CONFIGURATION_FILE
    kind = (determine_file_type(file_name), prose)
    lines = text.split("\n")
    unknown = set(lines).difference(_clean_lines.get(kind, ()))
    if not unknown:
        return text
    scanned = [line for line in unknown if len(line) <= LONGEST_LINE_SCANNED]
    found = _secrets_by_line(scanned, file_name, prose=prose)
    _remember_clean(kind, set(scanned).difference(found))
    if len(scanned) == len(unknown) and not found:
        return text
    return "\n".join(_redacted_line(line, found) for line in lines)


def redact_completion(request: CompletionRequest) -> CompletionRequest:
    # The other files' code and the file's own are masked apart (each ends a line), so that
    # context_chars still says where the file begins once a mask has changed their lengths.
    other_files = redact_text(request.prefix[: request.context_chars], file_name=request.file_name)
    return replace(
        request,
        prefix=other_files
        + redact_text(request.prefix[request.context_chars :], file_name=request.file_name),
        suffix=redact_text(request.suffix, file_name=request.file_name),
        context_chars=len(other_files),
    )


def redact_chat(request: ChatRequest) -> ChatRequest:
    messages = tuple(ChatMessage(m.role, redact_text(m.content)) for m in request.messages)
    documents = tuple((name, redact_text(text)) for name, text in request.references.documents)
    references = References(request.references.project_key, documents)
    return replace(request, messages=messages, references=references)


class RedactingProvider:
    """A provider that is sent every request with its secrets masked."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.default_model = provider.default_model
        self.follows_instructions = provider.follows_instructions

    def complete(self, request: CompletionRequest) -> list[Candidate]:
        return self.provider.complete(redact_completion(request))

    def chat(self, request: ChatRequest) -> Candidate:
        return self.provider.chat(redact_chat(request))

    def stream_chat(self, request: ChatRequest) -> Generator[str]:
        # Masked now rather than at the first chunk, so that the stream's time to its first
        # chunk is the model's alone.
        return self.provider.stream_chat(redact_chat(request))


def _secrets_by_line(lines: Sequence[str], file_name: str, *, prose: bool) -> dict[str, set[str]]:
    """The secrets of each of `lines` that holds any."""
    lowered = "\n".join(lines).lower()
    # Where each line starts in `lowered`: lowering may lengthen a line (U+0130 becomes two).
    starts = list(itertools.accumulate((len(line) + 1 for line in lowered.split("\n")), initial=0))
    lines_with: dict[Trigger, set[int]] = {}

    def lines_holding(trigger: Trigger) -> set[int]:
        if trigger not in lines_with:
            found = _positions(trigger, lowered)
            lines_with[trigger] = {bisect.bisect(starts, position) - 1 for position in found}
        return lines_with[trigger]

    plugins_by_line: dict[int, list[BasePlugin]] = {}
    for plugin, triggers in PLUGINS:
        for number in set().union(*map(lines_holding, triggers)):
            plugins_by_line.setdefault(number, []).append(plugin)
    found = {
        lines[number]: _secrets_in_line(lines[number], plugins, file_name, prose=prose)
        for number, plugins in plugins_by_line.items()
    }
    return {line: secrets for line, secrets in found.items() if secrets}


def _positions(trigger: Trigger, text: str) -> Iterator[int]:
    if isinstance(trigger, re.Pattern):
        yield from (match.start() for match in trigger.finditer(text))
        return
    position = text.find(trigger)
    while position >= 0:
        yield position
        position = text.find(trigger, position + 1)


def _secrets_in_line(
    line: str, plugins: Iterable[BasePlugin], file_name: str, *, prose: bool
) -> set[str]:
    found = {secret for plugin in plugins for secret in _findings(plugin, line, file_name)}
    if prose:
        values = (
            value.rstrip(".:!?")  # the sentence's, not the value's
            for name, value in _BARE_ASSIGNMENT.findall(line)
            if _SECRET_NAME.search(name)
        )
        found.update(value for value in values if _CREDENTIAL_LIKE.fullmatch(value))
    return found


def _findings(plugin: BasePlugin, line: str, file_name: str) -> Iterator[str]:
    for potential in plugin.analyze_line(filename=file_name, line=line):
        value = potential.secret_value or ""
        # Some plugins' findings include the space, quote, `=` or `:` around the value.
        secret = value.strip().strip("\"'").lstrip("=:")
        if secret and not _false_positive(value, line, plugin):
            yield secret


def _false_positive(secret: str, line: str, plugin: BasePlugin) -> bool:
    """detect-secrets' default filters of what its plugins find (those that read no file name),
    but for one: it drops every finding on a line that calls a function (`x = f(...)`), which
    would let `Gitlab(url, private_token="glpat-...")` through; here only the keyword plugin's,
    which it was written for (`secret = get_secret()`). Nor is a `pragma: allowlist secret`
    comment obeyed: it says a value may be committed, not that it may be sent away."""
    return (
        heuristic.is_sequential_string(secret)
        or heuristic.is_potential_uuid(secret)
        or heuristic.is_likely_id_string(secret, line, plugin)
        or heuristic.is_templated_secret(secret)
        or heuristic.is_prefixed_with_dollar_sign(secret)
        or heuristic.is_not_alphanumeric_string(secret)
        or (isinstance(plugin, KeywordDetector) and heuristic.is_indirect_reference(line))
    )


def _redacted_line(line: str, found: dict[str, set[str]]) -> str:
    if len(line) > LONGEST_LINE_SCANNED:
        return MARKER
    if line not in found:
        return line
    # Longest first, so that a secret holding another is masked whole.
    secrets = "|".join(map(re.escape, sorted(found[line], key=len, reverse=True)))
    return re.sub(_AROUND_A_FINDING.format(secrets=secrets), MARKER, line)


def _remember_clean(kind: tuple[FileType, bool], lines: Iterable[str]) -> None:
    with _clean_lock:
        if sum(map(len, _clean_lines.values())) > CLEAN_LINES_KEPT:
            _clean_lines.clear()
        _clean_lines.setdefault(kind, set()).update(lines)


# Private keys ---------------------------------------------------------------------------------


def _mask_private_keys(text: str) -> str:
    """Each private key masked whole: from its BEGIN line through its END line, or through the
    last line of key material when the text ends first (the prompt was cut, or the cursor is in
    the key). An END whose BEGIN is not in the text (the text after the cursor) is masked with
    the key material before it."""
    spans = []
    position = 0
    while begin := _PRIVATE_KEY_BEGIN.search(text, position):
        position = _key_end(text, begin.end())
        spans.append((begin.start(), position))
    ends = [end for end in _PRIVATE_KEY_END.finditer(text) if not _inside(end.start(), spans)]
    spans += [(_key_start(text, end.start()), end.end()) for end in ends]
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + MARKER + text[end:]
    return text


def _key_end(text: str, position: int) -> int:
    """Where the key whose BEGIN ends at `position` ends."""
    end = position
    for line_start, line in _lines_from(text, position):
        closing = _PRIVATE_KEY_END.search(line)
        material = line[: closing.start()] if closing else line
        if not _is_key_material(material):
            return end
        if closing:
            return line_start + closing.end()
        content_start, content_end = _content(material)
        if content_end > content_start:
            end = line_start + content_end
    return end


def _key_start(text: str, position: int) -> int:
    """Where the key whose END starts at `position` starts, its BEGIN not being in the text."""
    start = position
    line_start = text.rfind("\n", 0, position) + 1
    line_end = position
    while _is_key_material(material := text[line_start:line_end]):
        content_start, content_end = _content(material)
        if content_end > content_start:
            start = line_start + content_start
        if line_start == 0:
            break
        line_end = line_start - 1
        line_start = text.rfind("\n", 0, line_end) + 1
    return start


def _lines_from(text: str, position: int) -> Iterable[tuple[int, str]]:
    """(start, text) of the rest of the line at `position`, then of each line after it."""
    while position <= len(text):
        end = text.find("\n", position)
        end = len(text) if end == -1 else end
        yield position, text[position:end]
        position = end + 1


def _is_key_material(line: str) -> bool:
    start, end = _content(line)
    return _KEY_MATERIAL.fullmatch(line, start, end) is not None


def _content(line: str) -> tuple[int, int]:
    """Where `line`'s key material starts and ends, its decoration left out."""
    match = _CONTENT.fullmatch(line)
    return match.span(1) if match else (0, len(line))


def _inside(position: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)
