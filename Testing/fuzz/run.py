"""``make fuzz SEED=N``: the fuzz and fault suite with many generated cases, and its summary.

The same tests as in ``make test`` (Testing/fuzz), with Hypothesis drawing ``--examples`` cases
per property from ``--seed`` and ``--signals`` signals at random moments; the summary (cases per
kind, tests passed/failed/skipped with reasons, run time) is printed and written to
``OUT/summary-seed<N>.json``. Exit status: pytest's (0 = no failure).

Example:
    python -m Testing.fuzz.run --seed 1 --examples 300 --signals 40 --out out/fuzz
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


class _Results:
    """pytest plugin: the outcome of every test, and the first line of each failure."""

    def __init__(self):
        self.outcomes = {}
        self.failures = {}
        self.skipped = {}

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.outcome != "passed":
            self.outcomes[report.nodeid] = report.outcome
        if report.failed:
            self.failures[report.nodeid] = str(report.longrepr).strip().splitlines()[-1][:300]
        if report.skipped:
            self.skipped[report.nodeid] = str(report.longrepr[-1] if isinstance(report.longrepr, tuple)
                                              else report.longrepr)[:200]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--examples", type=int, default=300, help="cases per property test")
    parser.add_argument("--signals", type=int, default=40, help="runs stopped by a signal at a random moment")
    parser.add_argument("--out", default="out/fuzz")
    args = parser.parse_args(argv)
    os.environ.update(MEDRESTORE_FUZZ_SEED=str(args.seed), MEDRESTORE_FUZZ_EXAMPLES=str(args.examples),
                      MEDRESTORE_FUZZ_SIGNALS=str(args.signals))
    import pytest

    from Testing.fuzz.harness import CASES

    results = _Results()
    started = time.monotonic()
    status = pytest.main(["-q", "-p", "no:cacheprovider", str(Path(__file__).parent),
                          f"--hypothesis-seed={args.seed}"], plugins=[results])
    seconds = time.monotonic() - started
    counts = {kind: sum(1 for o in results.outcomes.values() if o == kind) for kind in ("passed", "failed", "skipped")}
    # Every case counts once; the ", status N" entries only break some kinds down by outcome.
    cases = sum(count for kind, count in CASES.items() if ", status" not in kind)
    summary = {"seed": args.seed, "examples_per_property": args.examples, "signal_runs": args.signals,
               "seconds": round(seconds, 1), "tests": counts, "cases": cases,
               "cases_by_kind": dict(sorted(CASES.items())), "failures": results.failures,
               "skipped": results.skipped, "exit_status": int(status)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"summary-seed{args.seed}.json").write_text(json.dumps(summary, indent=2))
    print(f"\nfuzz seed {args.seed}: {cases} cases (signal runs included) in {len(results.outcomes)} tests, "
          f"{counts['failed']} failed, {counts['skipped']} skipped; {seconds:.0f} s")
    for kind, count in sorted(CASES.items()):
        print(f"  {count:6d}  {kind}")
    print(f"summary: {out / f'summary-seed{args.seed}.json'}")
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
