"""Benchmarks: `make bench` (or `python -m bench [name ...] [--quick]`).

Each benchmark runs on a fresh throw-away database (test_<name> on DATABASE_URL, or a
temporary SQLite file by default), prints a table and writes var/bench/<name>.json.
Figures are ratios measured in one run against a baseline, never lone absolute times.
"""

import argparse
import json
import os
import sys
from pathlib import Path

BENCHMARKS = ["audit", "beds", "records"]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    args.names = args.names or BENCHMARKS
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital.settings.test")
    # Tasks are queued as in production (to an in-process broker nobody consumes) instead of
    # running inside the measured request, as they would with no broker configured.
    os.environ.setdefault("CELERY_BROKER_URL", "memory://localhost/")
    if "sqlite" in os.environ.get("DATABASE_URL", "sqlite"):
        # A file, not memory: the numbers must include real I/O.
        out = Path(__file__).resolve().parent.parent / "var" / "bench"
        out.mkdir(parents=True, exist_ok=True)
        # One file per run, so two runs at once never share (or delete) each other's database.
        os.environ["DATABASE_URL"] = f"sqlite:///{out / f'bench-{os.getpid()}.sqlite3'}"
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_test_environment

    from bench import harness

    setup_test_environment()
    out_dir = Path(settings.BASE_DIR) / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    unmet = []
    for name in args.names:
        module = __import__(f"bench.{name}", fromlist=["run"])
        with harness.fresh_database():
            result = module.run(quick=args.quick)
        (out_dir / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))
        harness.print_table(name, result)
        if not result.get("targets_met", True):
            unmet.append(name)
    sys.stdout.write(
        f"\nTargets met: {'all' if not unmet else 'not for ' + ', '.join(unmet) + ' (see the tables above)'}.\n"
    )
    # Exit 0 either way: a benchmark reports figures; the tables and var/bench/*.json say which targets hold.
    return 0


if __name__ == "__main__":
    sys.exit(main())
