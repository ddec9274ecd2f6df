"""The garbage collector's full pass in a serving process, with and without `gc.freeze()` of what
the process loaded to serve (run by hand; prints numbers).

    .venv/bin/python bench/gc_pause.py [--engine-dir DIR] [--completions N]

Two fresh processes load what a gunicorn worker loads (Django and the URLconf), one of them then
freezing it as gunicorn.conf.py's post_worker_init does; each has the local engine answer N
completions in a large file (the base models under DIR are used when built), then times
gc.collect().
"""

import argparse
import gc
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLE_FILE = "django/db/models/query.py"


def serving_process(engine_dir: str, completions: int, freeze: bool) -> dict:
    """In a fresh process: what it tracked and how long its full passes took."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codesuggest.settings")
    os.environ["CODESUGGEST_EMBEDDED"] = "true"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-long-enough-for-hs256")
    import django

    django.setup()
    import codesuggest.urls  # noqa: F401  (what a worker imports at start-up)
    from codesuggest.providers.local_engine import LocalEngine

    if freeze:
        gc.freeze()
    engine = LocalEngine(pathlib.Path(engine_dir))
    source = (pathlib.Path(django.__file__).parent.parent / SAMPLE_FILE).read_text()
    step = max(1, len(source) // completions)
    for cursor in range(0, len(source), step):
        engine.complete(
            prefix=source[:cursor],
            suffix=source[cursor:],
            language="python",
            project_key=None,
            max_tokens=32,
        )
    pauses = []
    for _ in range(5):
        started = time.perf_counter()
        gc.collect()
        pauses.append((time.perf_counter() - started) * 1000)
    return {
        "tracked": len(gc.get_objects()),
        "frozen": gc.get_freeze_count(),
        "pause_ms": statistics.median(pauses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine-dir", default=str(ROOT / "var" / "local_engine"))
    parser.add_argument("--completions", type=int, default=50)
    parser.add_argument("--child", choices=["plain", "frozen"], help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        result = serving_process(
            options.engine_dir, options.completions, freeze=options.child == "frozen"
        )
        print(json.dumps(result))
        return
    results = {}
    for kind in ("plain", "frozen"):
        command = [sys.executable, __file__, "--child", kind, "--engine-dir", options.engine_dir]
        command += ["--completions", str(options.completions)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        results[kind] = json.loads(output.splitlines()[-1])
    plain, frozen = results["plain"], results["frozen"]
    print(f"{'':>10} {'tracked':>9} {'frozen':>8} {'full pass, median of 5':>24}")
    for kind, result in results.items():
        print(
            f"{kind:>10} {result['tracked']:>9,} {result['frozen']:>8,} "
            f"{result['pause_ms']:>21.1f} ms"
        )
    print(f"frozen / plain: {frozen['pause_ms'] / plain['pause_ms']:.3f}")


if __name__ == "__main__":
    main()
