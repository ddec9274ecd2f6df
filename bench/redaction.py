"""What masking secrets costs a request, and what it masks in code that holds none, by hand:

    .venv/bin/python bench/redaction.py [--check-triggers]

For prompts of 2, 20, 200 and 400 thousand characters of real code (Django's sources), it prints
the median time of `redact_text` on a file seen for the first time ("first sight") and on the
next keystroke's copy of it, one line changed ("keystroke"), in milliseconds and as a ratio of
the baseline: `json.loads` of a completion request body holding the same text, which every
request pays already.

Then the false positives: what it masks in the sources of Django and requests, by detect-secrets
plugin, with examples. With --check-triggers it also runs every plugin on every line of those
sources, as if there were no triggers, to show that the triggers miss nothing there.
"""

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

from codesuggest.providers import redaction

SITE_PACKAGES = Path(django.__file__).resolve().parent.parent
CORPUS = ("django", "requests")
SIZES = (2_000, 20_000, 200_000, 400_000)
RUNS = {2_000: 200, 20_000: 50, 200_000: 20, 400_000: 20}


def corpus_files() -> list[Path]:
    return sorted(path for package in CORPUS for path in (SITE_PACKAGES / package).rglob("*.py"))


def real_code(size: int) -> str:
    """The first `size` characters of Django's sources, whole lines."""
    text = "".join(path.read_text() for path in corpus_files())[:size]
    return text[: text.rfind("\n") + 1]


def medians_ms(runs: int, **measured: Callable[[int], object]) -> dict[str, float]:
    """The median CPU time of each (so that other processes on a busy machine do not count),
    their runs taking turns."""
    samples: defaultdict[str, list[float]] = defaultdict(list)
    for number in range(runs):
        for name, run in measured.items():
            started = time.process_time()
            run(number)
            samples[name].append((time.process_time() - started) * 1000)
    return {name: statistics.median(times) for name, times in samples.items()}


def json_parse(body: str) -> Callable[[int], object]:
    return lambda _: json.loads(body)


def first_sight(text: str) -> Callable[[int], object]:
    def run(number: int) -> object:
        redaction._clean_lines.clear()  # as in a process that has not seen this file
        return redaction.redact_text(text, file_name="models.py")

    return run


def keystroke(text: str) -> Callable[[int], object]:
    """The same file with one more character typed in the middle at each run."""
    cursor = text.find("\n", len(text) // 2)
    redaction.redact_text(text, file_name="models.py")

    def run(number: int) -> object:
        typed = text[:cursor] + "x" * (number + 1) + text[cursor:]
        return redaction.redact_text(typed, file_name="models.py")

    return run


def every_plugin_on_every_line(text: str) -> Callable[[int], object]:
    """What the triggers spare: detect-secrets' plugins run on each line of the text."""
    plugins = [plugin for plugin, _ in redaction.PLUGINS]

    def run(number: int) -> object:
        return [
            redaction._secrets_in_line(line, plugins, "models.py", prose=False)
            for line in text.split("\n")
        ]

    return run


def costs() -> None:
    print("characters  baseline   first sight         keystroke          no triggers")
    for size in SIZES:
        text = real_code(size)
        body = json.dumps({"current_file": {"file_name": "models.py", "content": text}})
        measured = {
            "baseline": json_parse(body),
            "first sight": first_sight(text),
            "keystroke": keystroke(text),
        }
        if size <= 20_000:
            measured["no triggers"] = every_plugin_on_every_line(text)
        times = medians_ms(RUNS[size], **measured)
        baseline = times.pop("baseline")
        cells = (f"{ms:8.2f} ms {ms / baseline:6.1f}x" for ms in times.values())
        print(f"{len(text):>10,}  {baseline:5.2f} ms  " + "  ".join(cells))


def false_positives(check_triggers: bool) -> None:
    lines = masked_lines = missed = 0
    by_type: Counter[str] = Counter()
    examples: defaultdict[str, list[str]] = defaultdict(list)
    for path in corpus_files():
        original = path.read_text().split("\n")
        redacted = redaction.redact_text("\n".join(original), file_name=path.name).split("\n")
        lines += len(original)
        for before, after in zip(original, redacted, strict=True):
            if before != after:
                masked_lines += 1
                for kind in types_found(before, path.name):
                    by_type[kind] += 1
                    examples[kind].append(f"{path.relative_to(SITE_PACKAGES)}: {before.strip()}")
            elif check_triggers and types_found(before, path.name):
                missed += 1
    print(f"\n{lines:,} lines of {', '.join(CORPUS)}: {masked_lines} masked")
    for kind, count in by_type.most_common():
        print(f"  {kind}: {count}")
        for example in examples[kind][:5]:
            print(f"      {example[:110]}")
    if check_triggers:
        print(f"lines every plugin on every line would mask and the triggers missed: {missed}")


def types_found(line: str, file_name: str) -> list[str]:
    return [
        plugin.secret_type
        for plugin, _ in redaction.PLUGINS
        if redaction._secrets_in_line(line, [plugin], file_name, prose=False)
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check-triggers", action="store_true")
    arguments = parser.parse_args()
    costs()
    false_positives(arguments.check_triggers)
