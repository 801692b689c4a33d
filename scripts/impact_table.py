#!/usr/bin/env python
"""Run a MAF or hotspot list through the structkit impact table and write it with a run log.

Usage:
    python scripts/impact_table.py INPUT --out table.tsv [--genes TP53 ERBB2] [--cutoff 4.0]
        [--structures 1TSR 2OCJ] [--mirror ../shared/data] [--offline]

INPUT is a MAF (Hugo_Symbol + HGVSp_Short or Protein_Change), a CSV/TSV with gene and protein
change columns, or the headerless cancer-hotspots TSV; ``.gz`` is fine. The table goes to
``--out`` (suffix picks the format: .csv .tsv .xlsx .parquet .md .html), the one-row-per-variant
summary next to it (``<out>.summary.<suffix>``), and the run log to ``<out>.log.txt``: inputs,
versions, counts by status, rows rejected and why.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="MAF/CSV/TSV of variants (optionally .gz)")
    ap.add_argument("--out", required=True, help="output table (.csv .tsv .xlsx .parquet .md .html)")
    ap.add_argument("--genes", nargs="+", default=None,
                    help="keep only these genes (default: every catalog gene)")
    ap.add_argument("--structures", nargs="+", default=None, help="PDB IDs (default: the catalog)")
    ap.add_argument("--cutoff", type=float, default=4.0, help="contact cut-off, A (default 4.0)")
    ap.add_argument("--metal-cutoff", type=float, default=3.0, help="metal cut-off, A (default 3.0)")
    ap.add_argument("--mirror", help="local mirror directory or URL")
    ap.add_argument("--offline", action="store_true", default=None, help="never use the network")
    args = ap.parse_args(argv)

    import gemmi
    import pandas as pd

    import structkit
    from structkit.impact import write_table

    # one session from the arguments (environment variables fill what is not given)
    session = structkit.Session(mirror=args.mirror, offline=args.offline, cutoff=args.cutoff,
                                metal_cutoff=args.metal_cutoff)
    t0 = time.perf_counter()
    batch = session.parse_variants(args.input, genes=args.genes)
    table = session.impact_table(batch, structures=args.structures, progress=True)
    summary = session.summarize(table)
    out = Path(args.out)
    write_table(table, out)
    summary_path = out.with_name(out.stem + ".summary" + out.suffix)
    write_table(summary, summary_path)
    log = out.with_name(out.stem + ".log.txt")
    counts = table.status.value_counts()
    rejected = batch.rejected
    lines = [
        f"structkit impact run, {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
        f"input: {Path(args.input).resolve()}",
        f"genes: {', '.join(args.genes) if args.genes else 'all catalog genes'}",
        f"structures: {', '.join(args.structures) if args.structures else 'catalog'}",
        f"cut-off: {args.cutoff} A (metal {args.metal_cutoff} A)",
        f"mirror: {session.mirror or '-'}; offline: {session.offline}; cache: {session.cache_dir}",
        f"versions: structkit {structkit.__version__}, python {platform.python_version()}, "
        f"pandas {pd.__version__}, gemmi {gemmi.__version__}",
        f"variants parsed: {len(batch)}; rows rejected: {len(rejected)}",
        f"table rows: {len(table)} -> {out}",
        f"summary rows: {len(summary)} -> {summary_path}",
        "rows by status:",
        *[f"  {k}: {v}" for k, v in counts.items()],
        "rejected rows by reason:",
        *[f"  {v} x {k}" for k, v in rejected.reason.value_counts().head(20).items()],
        f"time: {time.perf_counter() - t0:.1f} s",
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
