"""How long post-processing takes on a 400,000-character file, by hand:

    .venv/bin/python bench/postprocessing.py

For Python, JavaScript, Go and Java it prints p50/p95/p99 of `postprocess_completion` with the
cursor half-way through the file ("block"), and of `postprocess_generation` for a generation
that echoes a function from above the cursor ("echo"), in milliseconds and as a ratio of the
baseline: parsing the whole file once with tree-sitter, which post-processing must not do.
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tree_sitter_language_pack import get_parser

from completions.languages import detect_language
from completions.postprocessing import (
    postprocess_completion,
    postprocess_generation,
)

FILE_CHARS = 400_000
RUNS = 300

# (file name, file header, one function repeated to fill the file, cursor text, suggestion)
CASES = (
    (
        "big.py",
        "import os\n\n\n",
        "def handler_{n}(request, items):\n    total = 0\n    for item in items:\n"
        "        if item.enabled:\n            total += item.price * {n}\n"
        "    return total\n\n\n",
        "def current(request, items):\n    if items:\n        ",
        "return len(items)\n    return 0\n\n\ndef other():\n    pass\n",
    ),
    (
        "big.js",
        "const fs = require('fs');\n\n",
        "function handler{n}(request, items) {\n  let total = 0;\n  for (const item of items) {\n"
        "    if (item.enabled) {\n      total += item.price * {n};\n    }\n  }\n"
        "  return total;\n}\n\n",
        "function current(request, items) {\n  if (items) {\n    ",
        "return items.length;\n  }\n  return 0;\n}\n\nfunction other() {}\n",
    ),
    (
        "big.go",
        'package main\n\nimport "fmt"\n\n',
        "func handler{n}(items []Item) int {\n\ttotal := 0\n\tfor _, item := range items {\n"
        "\t\tif item.Enabled {\n\t\t\ttotal += item.Price * {n}\n\t\t}\n\t}\n"
        "\treturn total\n}\n\n",
        "func current(items []Item) int {\n\tif len(items) > 0 {\n\t\t",
        "return len(items)\n\t}\n\treturn 0\n}\n\nfunc other() {}\n",
    ),
    (
        "Big.java",
        "package big;\n\npublic class Big {\n",
        "  public int handler{n}(List<Item> items) {\n    int total = 0;\n"
        "    for (Item item : items) {\n      if (item.enabled) {\n"
        "        total += item.price * {n};\n      }\n    }\n    return total;\n  }\n\n",
        "  public int current(List<Item> items) {\n    if (!items.isEmpty()) {\n      ",
        "return items.size();\n    }\n    return 0;\n  }\n\n  public void other() {}\n",
    ),
)


def build_file(header: str, function: str) -> str:
    parts = [header]
    size, number = len(header), 0
    while size < FILE_CHARS:
        parts.append(function.replace("{n}", str(number)))
        size += len(parts[-1])
        number += 1
    return "".join(parts)[:FILE_CHARS]


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench(
    file_name: str, header: str, function: str, cursor_text: str, suggestion: str, kind: str
) -> None:
    language = detect_language(file_name)
    assert language is not None
    body = build_file(header, function)
    middle = body.rfind("\n", 0, len(body) // 2) + 1
    prefix = body[:middle] + cursor_text
    closing = "}\n" if file_name.endswith(".java") else ""
    suffix = "\n" + body[middle:] + closing

    parser = get_parser(language.id)  # type: ignore[arg-type]
    whole_file = (prefix + suffix).encode()
    baseline_samples = []
    for _ in range(20):
        started = time.perf_counter()
        parser.parse(whole_file)
        baseline_samples.append(time.perf_counter() - started)
    baseline = statistics.median(baseline_samples)

    samples = []
    result = ""
    for _ in range(RUNS):
        started = time.perf_counter()
        if kind == "block":
            result = postprocess_completion(
                prefix=prefix,
                suffix=suffix,
                suggestion=suggestion,
                language=language,
                hit_token_limit=False,
            )
        else:
            result = postprocess_generation(prefix=prefix, suggestion=suggestion, language=language)
        samples.append(time.perf_counter() - started)

    p50, p95, p99 = (percentile(samples, share) for share in (0.50, 0.95, 0.99))
    print(
        f"{language.name:<7} {kind:<6} {len(prefix) + len(suffix):>8} chars  "
        f"full parse {baseline * 1000:7.2f} ms  "
        f"p50 {p50 * 1000:6.2f} ms ({p50 / baseline:5.3f}x)  "
        f"p95 {p95 * 1000:6.2f} ms ({p95 / baseline:5.3f}x)  "
        f"p99 {p99 * 1000:6.2f} ms ({p99 / baseline:5.3f}x)  "
        f"-> {result[:40]!r}"
    )


def main() -> None:
    print(f"postprocess_completion, {RUNS} runs each; ratios are to one full parse of the file")
    for file_name, header, function, cursor_text, suggestion in CASES:
        bench(file_name, header, function, cursor_text, suggestion, "block")
        # A generation echoing a function above the cursor: step 4 scans the whole prefix.
        echo = suggestion + function.replace("{n}", "7")
        bench(file_name, header, function, cursor_text, echo, "echo")


if __name__ == "__main__":
    main()
