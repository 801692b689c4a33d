"""First-answer benchmark (issue 28): how long a user waits for a one-off command.

Run:  python benchmarks/bench_first_answer.py [--mirror ../shared/data] [--repeats 3]

Each case runs in a fresh process, offline on the mirror, with a warm cache (one unmeasured run
first fills it): the seed panel (`structkit impact`, the README's main job), one p53 variant,
one HER2 variant, `--help`, and the seed-panel report without 3D views. The script prints the
median and the best wall time of ``--repeats`` runs per case, the peak RSS (os.wait4) and the
package versions. The cache is a temporary directory, never the project's. Wall times on the
shared 2-core machines are noisy: compare medians of the same run, not across days.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CASES = [
    ("--help", ["--help"]),
    ("seed panel impact", ["impact"]),
    ("one p53 variant", ["impact", "TP53:p.R248Q"]),
    ("one HER2 variant", ["impact", "ERBB2:p.T798M"]),
    ("seed panel report (no 3D views)", ["report", "--out", "{tmp}/seed.html", "--max-views", "0"]),
]


def run(args: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one fresh ``structkit`` process."""
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "structkit.cli", *args], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"structkit {' '.join(args)} failed: {err[-500:]}")
    return wall, usage.ru_maxrss / 1024


def versions() -> str:
    import numpy
    import pandas

    import structkit

    return (f"python {sys.version.split()[0]}, structkit {structkit.__version__}, numpy "
            f"{numpy.__version__}, pandas {pandas.__version__}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="structkit-first-") as tmp:
        env = {**os.environ, "STRUCTKIT_MIRROR": args.mirror, "STRUCTKIT_OFFLINE": "1",
               "STRUCTKIT_CACHE": str(Path(tmp) / "cache")}
        print(f"# first answer, fresh process, warm cache; {versions()}")
        print(f"{'case':<34} {'median s':>9} {'best s':>8} {'peak MiB':>9}")
        for name, case in CASES:
            argv_ = [a.replace("{tmp}", tmp) for a in case]
            run(argv_, env)  # fills the cache (structures, UniProt, derived data)
            walls, rss = [], []
            for _ in range(args.repeats):
                w, m = run(argv_, env)
                walls.append(w)
                rss.append(m)
            print(f"{name:<34} {statistics.median(walls):>9.2f} {min(walls):>8.2f} "
                  f"{max(rss):>9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
