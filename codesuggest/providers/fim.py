"""Fill-in-the-middle prompt templates, chosen by model name (docs/pipeline.md#fim-templates)."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from .base import CompletionRequest


@dataclass(frozen=True)
class FimTemplate:
    family: str
    prompt: str  # str.format template over {prefix} {suffix} {file_name} {language}
    stop: tuple[str, ...]

    def render(self, request: CompletionRequest) -> str:
        # format_map over a fixed mapping: braces inside the code itself are never interpreted,
        # because only the template is parsed, not the substituted values.
        return self.prompt.format_map(
            {
                "prefix": request.prefix,
                "suffix": request.suffix,
                "file_name": request.file_name,
                "language": request.language,
            }
        )

    def stops_for(self, request: CompletionRequest) -> tuple[str, ...]:
        """The family's stop tokens; a blank line only ends a single-line completion."""
        if request.multiline:
            return tuple(stop for stop in self.stop if stop.strip())
        return self.stop


# Order matters: the first pattern found in the lower-cased model name wins.
FAMILIES: tuple[tuple[re.Pattern[str], FimTemplate], ...] = (
    (
        re.compile(r"codestral"),
        FimTemplate(
            "codestral",
            "[SUFFIX]{suffix}[PREFIX]{prefix}",
            ("[PREFIX]", "[SUFFIX]", "[MIDDLE]", "\n\n"),
        ),
    ),
    (
        re.compile(r"qwen.*coder|codegemma"),
        FimTemplate(
            "qwen-coder",
            "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
            (
                "<|fim_prefix|>",
                "<|fim_suffix|>",
                "<|fim_middle|>",
                "<|file_sep|>",
                "<|endoftext|>",
                "\n\n",
            ),
        ),
    ),
    (
        re.compile(r"code-?llama"),
        FimTemplate(
            "codellama",
            "<PRE> {prefix} <SUF>{suffix} <MID>",
            ("<PRE>", "<SUF>", "<MID>", "<EOT>"),
        ),
    ),
    (
        re.compile(r"starcoder"),
        FimTemplate(
            "starcoder",
            "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
            ("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<|endoftext|>", "<file_sep>"),
        ),
    ),
    (
        re.compile(r"deepseek.*coder"),
        # DeepSeek's tokens really use the full-width bar and the lower block character.
        FimTemplate(
            "deepseek-coder",
            "<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>",  # noqa: RUF001
            ("<｜end▁of▁sentence｜>",),  # noqa: RUF001
        ),
    ),
)

CUSTOM_FIELDS = frozenset({"prefix", "suffix", "file_name", "language"})


def validate_custom_template(template: str) -> None:
    """Raise ValueError unless `template` is usable: known fields only, {prefix} present."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"The template is not valid: {exc}") from None
    unknown = fields - CUSTOM_FIELDS
    if unknown:
        raise ValueError(f"The template uses unknown fields: {', '.join(sorted(unknown))}")
    if "prefix" not in fields:
        raise ValueError("The template must contain {prefix}")


def template_for(model: str, custom_template: str = "") -> FimTemplate | None:
    """The FIM template for `model`, or None: the server takes a native `suffix` instead.

    An admin's custom template wins; it carries no stop tokens of its own (the caller's
    stop sequences still apply).
    """
    if custom_template:
        validate_custom_template(custom_template)
        return FimTemplate("custom", custom_template, ())
    name = model.lower()
    for pattern, template in FAMILIES:
        if pattern.search(name):
            return template
    return None
