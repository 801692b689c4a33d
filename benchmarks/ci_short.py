"""The benchmarks in a short mode for CI: figures recorded, never a pass or a fail.

Run:  python benchmarks/ci_short.py [--out benchmarks/results/ci.tsv] [--mirror ../shared/data]

Runs, each in its own process and offline on the mirror:
- bench_saturation.py with 1 process per kind (warm/baseline ratio, cold table, summarize);
- bench_first_answer.py with 1 repeat (fresh-process wall time of the one-off commands);
- bench_cohort.py at 1,000 and 10,000 rows (Parquet; CSV at 1,000; `cohort` at 10,000).
Their printed lines go to ``--out`` as a TSV (benchmark, line), with the date and versions, and
to standard output, so every CI log shows each optimisation's figure. The machines are shared:
read ratios from one run, not wall times across runs. Exit status 0 unless a benchmark itself
failed to run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

RUNS = [
    ("saturation", ["bench_saturation.py", "--repeats", "1", "--baseline-variants", "100"]),
    ("first_answer", ["bench_first_answer.py", "--repeats", "1"]),
    ("cohort", ["bench_cohort.py", "--sizes", "1000", "10000", "--csv-up-to", "1000",
                "--cohort-at", "10000", "--repeats", "1"]),
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "results" / "ci.tsv"))
    ap.add_argument("--mirror", default=str(HERE.parent.parent / "shared" / "data"))
    args = ap.parse_args(argv)
    rows = [("run", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))]
    status = 0
    for name, cmd in RUNS:
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, str(HERE / cmd[0]), *cmd[1:], "--mirror", args.mirror],
                           capture_output=True, text=True, cwd=HERE.parent)
        lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
        if r.returncode != 0:
            status = 1
            lines.append(f"failed (exit {r.returncode}): {r.stderr.strip()[-300:]}")
        lines.append(f"benchmark wall time {time.perf_counter() - t0:.0f} s")
        rows += [(name, ln) for ln in lines]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "benchmark\tline\n" + "".join(f"{a}\t{b.replace(chr(9), ' ')}\n" for a, b in rows)
    out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
