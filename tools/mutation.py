"""Mutation testing of the API (`codesuggest/api`, with `projects/authentication.py` and
`projects/tokens.py`), the models' rules (`projects/models.py`) and chat's services
(`chat/services.py`) with mutmut; prints each module's score and its survivors.

    .venv/bin/python tools/mutation.py                       # all of them
    .venv/bin/python tools/mutation.py chat/services.py      # one of them
    .venv/bin/python tools/mutation.py --again               # only what the last run left alive
    .venv/bin/python tools/mutation.py --report              # the last run's score, nothing run

What is copied, mutated and tested is in pyproject.toml, [tool.mutmut]: the test selection there
leaves out the tests whose service runs in another process (gunicorn, Celery workers, manage.py,
make), which mutmut cannot attribute to a function and which take seconds each to start. Each
mutant is tested by the tests that called its function during a first, recorded run of that
selection (mutants/mutmut-stats.json); a mutant of a function no test calls is "no tests".

The work directory is mutants/ (ignored by git, and outside pytest's testpaths); a run keeps what
it recorded there and tests every mutant of the modules it is given again. `rm -rf mutants` starts
from nothing. `.venv/bin/mutmut show NAME` prints a mutant's change.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

ROOT = Path(__file__).resolve().parent.parent
# Module → the glob of its mutants' names (mutmut names them after the dotted module path).
MODULES = {
    "codesuggest/api": "codesuggest.api.*",
    "projects/authentication.py": "projects.authentication.*",
    "projects/tokens.py": "projects.tokens.*",
    "projects/models.py": "projects.models.*",
    "chat/services.py": "chat.services.*",
}
# A timeout is a mutant the tests caught by hanging: killed, as mutmut's own score counts it.
KILLED = ("killed", "timeout")


def run(mutants: list[str], max_children: int) -> int:
    # The suite's own environment (Makefile, `make test`), on SQLite and the in-process cache as
    # CI's first pass: every forked test run gets a database file of its own
    # (tools/mutation_plugin.py), where a shared PostgreSQL or Redis would be one for all.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-long-enough-for-hs256")
    env["CODESUGGEST_EMBEDDED"] = "true"
    # Settings put the test database under BASE_DIR/var, and BASE_DIR is mutants/ there. Each
    # mutant's tests start from a copy of this one, migrated once (tools/mutation_plugin.py).
    template = ROOT / "mutants" / "var" / "test-template.sqlite3"
    template.parent.mkdir(parents=True, exist_ok=True)
    template.unlink(missing_ok=True)
    migrate = [sys.executable, "manage.py", "migrate", "--no-input", "--verbosity", "0"]
    subprocess.run(
        migrate, cwd=ROOT, env={**env, "DATABASE_URL": f"sqlite:///{template}"}, check=True
    )
    mutmut = Path(sys.executable).parent / "mutmut"
    command = ["nice", "-n", "10", str(mutmut), "run", "--max-children", str(max_children)]
    return subprocess.run(command + mutants, cwd=ROOT, env=env).returncode


def statuses(module: str) -> dict[str, str]:
    """Each mutant's status, by name, from the metadata mutmut keeps beside the mutated copy."""
    path = ROOT / "mutants" / module
    metas = sorted(path.glob("*.py.meta")) if path.is_dir() else [Path(f"{path}.meta")]
    found: dict[str, str] = {}
    for meta in metas:
        if meta.exists():
            exit_codes = json.loads(meta.read_text())["exit_code_by_key"]
            found.update({name: status_by_exit_code[code] for name, code in exit_codes.items()})
    return found


def report(modules: list[str]) -> None:
    survivors: list[tuple[str, str]] = []
    print(f"\n{'module':<22}{'killed':>8}{'total':>8}{'score':>8}   not killed")
    for module in modules:
        found = statuses(module)
        counts = Counter(found.values())
        total = len(found) - counts["skipped"]
        killed = sum(counts[status] for status in KILLED)
        score = f"{100 * killed / total:.1f}%" if total else "-"
        rest = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in KILLED)
        print(f"{module:<22}{killed:>8}{total:>8}{score:>8}   {rest or '-'}")
        survivors += sorted(
            (name, status) for name, status in found.items() if status not in (*KILLED, "skipped")
        )
    if survivors:
        print("\nNot killed (see one with `.venv/bin/mutmut show NAME`):")
        for name, status in survivors:
            print(f"  {status:<12} {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=", ".join(MODULES))
    parser.add_argument("--report", action="store_true", help="print the last run's score only")
    parser.add_argument(
        "--again",
        action="store_true",
        help="test again only the mutants the last run did not kill (after adding tests)",
    )
    parser.add_argument(
        "--max-children", type=int, default=2, help="mutants tested at once (default 2)"
    )
    args = parser.parse_args()
    modules = args.modules or list(MODULES)
    if unknown := set(modules) - set(MODULES):
        parser.error(f"not a module mutated here: {', '.join(sorted(unknown))}")
    os.chdir(ROOT)  # mutmut reads pyproject.toml and writes mutants/ here
    if not args.report:
        started = time.monotonic()
        if args.again:
            mutants = [name for m in modules for name, s in statuses(m).items() if s not in KILLED]
        else:
            mutants = [MODULES[m] for m in modules]
        code = run(mutants, args.max_children) if mutants else 0
        print(f"\nmutmut ran for {(time.monotonic() - started) / 60:.1f} minutes")
        if code != 0:
            return code
    report(modules)
    return 0


if __name__ == "__main__":
    sys.exit(main())
