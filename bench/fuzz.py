"""Decoder fuzz, the long run: thousands of mutated WAV/FLAC/OGG/MP3 files through the decode path of
`info` and `predict` (tests/fuzzing.py; tests/core/test_fuzz_decode.py runs a few hundred).

    .venv/bin/python bench/fuzz.py [--per-seed 1000] [--seed 0] [--keep DIR]

Prints the count of each outcome, overall and per format, the time taken and the slowest file, and
every finding (a crash other than StudioError, a hang past 10 s, a numpy RuntimeWarning), whose
file is kept under --keep. Exits 1 if there was any finding.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fuzzing import SEED_FORMATS, max_rss_mib, run  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-seed", type=int, default=1000, help="mutants per seed file (5 seed files)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", metavar="DIR", help="keep findings here (default: a temporary folder)")
    args = parser.parse_args(argv)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="studio-fuzz-"))
    total = args.per_seed * len(SEED_FORMATS)

    def progress(done, n):
        if done % 500 == 0 or done == n:
            print(f"  {done:,} of {n:,}", file=sys.stderr, flush=True)

    report = run(folder, per_seed=args.per_seed, seed=args.seed, progress=progress)
    print(f"{report.files:,} mutated files ({total:,} asked) in {report.seconds:.1f} s "
          f"({report.files / report.seconds:.0f} files/s); peak memory {max_rss_mib():.0f} MiB; "
          f"slowest {report.slowest[0]:.2f} s ({report.slowest[1]})")
    outcomes = sorted({o for c in report.by_format.values() for o in c})
    width = max(len(o) for o in outcomes)
    print(f"{'outcome':<{width}}  " + "  ".join(f"{fmt:>6}" for fmt in report.by_format) + "   total")
    for outcome in outcomes:
        row = "  ".join(f"{report.by_format[fmt][outcome]:>6}" for fmt in report.by_format)
        print(f"{outcome:<{width}}  {row}   {report.outcomes[outcome]:>5}")
    for path, outcome, detail in report.findings:
        print(f"FINDING {outcome}: {path}: {detail}")
    print(f"{len(report.findings)} findings")
    return 1 if report.findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
