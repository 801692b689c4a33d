#!/usr/bin/env python
"""Run a MAF or hotspot list through the structkit impact table and write it with a run log.

Usage:
    python scripts/impact_table.py INPUT --out table.tsv [--genes TP53 ERBB2] [--cutoff 4.0]
        [--structures 1TSR 2OCJ] [--mirror ../shared/data] [--offline]

INPUT is a MAF (Hugo_Symbol + HGVSp_Short or Protein_Change), a CSV/TSV with gene and protein
change columns, or the headerless cancer-hotspots TSV; ``.gz`` is fine. The table goes to
``--out`` (suffix picks the format: .csv .tsv .xlsx .parquet .md .html), the one-row-per-variant
summary next to it (``<out>.summary.<suffix>``), and the run log to ``<out>.log.txt``: input
with SHA-256, settings, versions, input items by best status, items that give no variant and
why.

This is ``structkit impact --input INPUT --out OUT --summary-out ... --log ...``: the same code
path as the command line (checks of the cut-offs and of every output path, streamed writing,
atomic files), with the companion file names derived from ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="MAF/CSV/TSV of variants (optionally .gz)")
    ap.add_argument("--out", required=True, help="output table (.csv .tsv .xlsx .parquet .md .html)")
    ap.add_argument("--genes", nargs="+", default=None,
                    help="keep only these genes (default: every catalog gene)")
    ap.add_argument("--structures", nargs="+", default=None, help="PDB IDs (default: the catalog)")
    ap.add_argument("--cutoff", default="4.0", help="contact cut-off, A (default 4.0)")
    ap.add_argument("--metal-cutoff", default="3.0", help="metal cut-off, A (default 3.0)")
    ap.add_argument("--mirror", help="local mirror directory or URL")
    ap.add_argument("--offline", action="store_true", help="never use the network")
    args = ap.parse_args(argv)

    from structkit.cli import main as structkit

    out = Path(args.out)
    cmd = ["impact", "--input", args.input, "--out", str(out),
           "--summary-out", str(out.with_name(out.stem + ".summary" + out.suffix)),
           "--log", str(out.with_name(out.stem + ".log.txt")),
           "--cutoff", args.cutoff, "--metal-cutoff", args.metal_cutoff, "--progress"]
    if args.genes:
        cmd += ["--genes", *args.genes]
    if args.structures:
        cmd += ["--structures", *args.structures]
    if args.mirror:
        cmd += ["--mirror", args.mirror]
    if args.offline:
        cmd.append("--offline")
    return structkit(cmd)


if __name__ == "__main__":
    sys.exit(main())
