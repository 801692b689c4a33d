"""First-answer benchmark (issue 28): how long a user waits for a one-off command.

Run:  python benchmarks/bench_first_answer.py [--mirror ../shared/data] [--repeats 3] [--readme]

Each case runs in a fresh process, offline on the mirror, with a warm cache (one unmeasured run
first fills it): the seed panel (`structkit impact`, the README's main job), one p53 variant,
one HER2 variant, `--help`, the seed-panel report without 3D views and with their static
pictures (``--png-views``; needs Chromium and a local 3Dmol.js, else skipped), once with the
pictures kept from before and once with them drawn (the kept pictures removed before each run:
the report as a user gets it the first time). Byte code is
compiled by the unmeasured run into the temporary directory (PYTHONPYCACHEPREFIX), as pip
compiles it for an installed package; without it every run would compile structkit's ~50
modules again (about 0.15 s). The script prints the
median and the best wall time of ``--repeats`` runs per case, the peak RSS (os.wait4) and the
package versions (``--readme`` writes the table into README.md). The cache is a temporary
directory, never the project's. Wall times on the
shared 2-core machines are noisy: compare medians of the same run, not across days.
"""

from __future__ import annotations

import argparse
import os
import shutil
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
    ("seed panel report (--png-views)", ["report", "--out", "{tmp}/seed_v.html", "--png-views"]),
    ("seed panel report (--png-views, drawn)",
     ["report", "--out", "{tmp}/seed_d.html", "--png-views"]),
]
# skipped without Chromium and 3Dmol.js
NEEDS_BROWSER = {"seed panel report (--png-views)", "seed panel report (--png-views, drawn)"}
# the kept pictures are removed before each run: the report as it is the first time (its ten
# static pictures drawn by Chromium), everything else from the warm cache
DRAWN = {"seed panel report (--png-views, drawn)"}


def browser_ready() -> bool:
    import shutil

    from structkit.outputs.view import local_3dmol

    return shutil.which("chromium") is not None and local_3dmol() is not None


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
    ap.add_argument("--readme", action="store_true",
                    help="write this run's table into README.md between this script's markers")
    args = ap.parse_args(argv)
    from structkit.io.derived import DERIVED_FOLDER

    rows = []
    with tempfile.TemporaryDirectory(prefix="structkit-first-") as tmp:
        env = {**os.environ, "STRUCTKIT_MIRROR": args.mirror, "STRUCTKIT_OFFLINE": "1",
               "STRUCTKIT_CACHE": str(Path(tmp) / "cache"),
               # byte code as an installed package has it (pip compiles at install; this
               # machine sets PYTHONDONTWRITEBYTECODE): kept in the temporary directory
               "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        print(f"# first answer, fresh process, warm cache; {versions()}")
        print(f"{'case':<34} {'median s':>9} {'best s':>8} {'peak MiB':>9}")
        for name, case in CASES:
            if name in NEEDS_BROWSER and not browser_ready():
                print(f"{name:<34} skipped: no Chromium or no local 3Dmol.js")
                continue
            argv_ = [a.replace("{tmp}", tmp) for a in case]
            run(argv_, env)  # fills the cache (structures, UniProt, derived data)
            walls, rss = [], []
            for _ in range(args.repeats):
                if name in DRAWN:
                    shutil.rmtree(Path(tmp) / "cache" / DERIVED_FOLDER / "view_png",
                                  ignore_errors=True)
                w, m = run(argv_, env)
                walls.append(w)
                rss.append(m)
            rows.append((name, statistics.median(walls), min(walls), max(rss)))
            print(f"{name:<34} {rows[-1][1]:>9.2f} {rows[-1][2]:>8.2f} {rows[-1][3]:>9.0f}")
    if args.readme:
        from validity import readme_output  # the README block writer of the benchmarks

        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        block = "\n".join([
            f"Run of {when}, {args.repeats} repeats, {os.cpu_count()} CPUs; {versions()}:", "",
            "| case | median s | best s | peak MiB |", "|---|---|---|---|",
            *(f"| {README_NAMES.get(n, n)} | {m:.2f} | {b:.2f} | {r:.0f} |"
              for n, m, b, r in rows)])
        return readme_output(block, args, "bench_first_answer.py")
    return 0


README_NAMES = {"--help": "`--help`", "seed panel impact": "seed panel `structkit impact`"}


if __name__ == "__main__":
    sys.exit(main())
