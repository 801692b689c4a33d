"""The ``structkit`` command line: fetch, impact, sites."""

from __future__ import annotations

import argparse
import errno
import os
import shlex
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:  # pandas loads only when a command needs it (fast --help)
    import pandas as pd

EPILOG_IMPACT = """\
examples:
  structkit impact                              the built-in seed panel (HER2 and p53 hotspots)
  structkit impact T798M T798I L869R R248Q      gene inferred when only one target fits
  structkit impact ERBB2:p.S310F TP53:p.Arg248Gln --out table.xlsx
  structkit impact --input cohort.maf --out table.tsv      MAF/CSV/TSV, every row kept
  structkit impact R175H --structures 1TSR 2OCJ --cutoff 5
  structkit impact TP53:R248Q --structures my_p53.pdb --accession P04637    your own file

rows: every input item or row appears in the table with its 'input_row' (line of the file, or
position on the command line) and 'sample' (Tumor_Sample_Barcode or --sample-column). Each
distinct variant is computed once. Truncating changes (nonsense, frameshift, start lost) are
not placed on structures: status 'truncating' and a detail of the residues, domains and
binding-site residues lost; splice-site changes 'splice'; synonymous 'no protein change'.
Items that give no variant are rows too: 'gene not in catalog', 'rejected' (parse error or
reference mismatch, with the reason); --strict makes any such item an error instead.

exit status: 0 the table was made (unplaced rows included); 1 an input or output file or a
fetch failed; 2 bad usage or, with --strict, an input item that gives no variant; 3 an
unexpected error (one line; --debug shows the traceback); 130 interrupted.

numbering: positions are UniProt numbering (P04626 HER2, P04637 p53, P00533 EGFR); the table
gives each structure's author number next to it, and how it was mapped (DBREF or alignment).
HER2 variants are also placed on the EGFR kinase-drug complexes through the HER2-EGFR
alignment (column 'via'); --no-family turns that off.

secondary structure (column 'ss'): DSSP computed by structkit (same states as mkdssp 4.2);
$STRUCTKIT_DSSP=mkdssp runs the external program instead. Column 'ss_method' says which.
"""

EPILOG_FETCH = """\
examples:
  structkit fetch 1N8Z 1S78 --format cif
  structkit fetch --alphafold P04626
  structkit fetch --uniprot P04637
  structkit fetch --catalog --mirror ../shared/data --offline

Files go to the cache (--cache, $STRUCTKIT_CACHE, default ./structures). A mirror (--mirror,
$STRUCTKIT_MIRROR: a directory or base URL laid out as pdb/, alphafold/, uniprot/) is tried
before the network; --offline (or STRUCTKIT_OFFLINE=1) never touches the network.
Exit status 1 if anything asked for could not be obtained.
"""


def _add_source_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where files come from")
    g.add_argument("--cache", metavar="DIR",
                   help="cache directory (default $STRUCTKIT_CACHE or ./structures)")
    g.add_argument("--mirror", metavar="DIR|URL",
                   help="local mirror tried before the network ($STRUCTKIT_MIRROR)")
    g.add_argument("--offline", action="store_true", default=None,
                   help="never use the network ($STRUCTKIT_OFFLINE=1)")


def _fetcher(args):
    """The session of one command, from its arguments (never written to os.environ)."""
    from .session import Session

    if not hasattr(args, "_session"):  # one per command: the arguments do not change
        kw = {k: getattr(args, k) for k in ("cutoff", "metal_cutoff") if hasattr(args, k)}
        args._session = Session(cache_dir=args.cache, mirror=args.mirror, offline=args.offline, **kw)
    return args._session


def _distance(text: str) -> float:
    """argparse type: a positive, finite distance in A (``cutoffs.check_cutoff``)."""
    from .cutoffs import check_cutoff

    try:
        return check_cutoff(text, "a cut-off")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_cutoff_args(p: argparse.ArgumentParser) -> None:
    from .cutoffs import DEFAULT_CUTOFF, DEFAULT_METAL_CUTOFF

    p.add_argument("--cutoff", type=_distance, default=DEFAULT_CUTOFF,
                   help=f"contact cut-off between heavy atoms, A (default {DEFAULT_CUTOFF})")
    p.add_argument("--metal-cutoff", type=_distance, default=DEFAULT_METAL_CUTOFF,
                   help=f"metal coordination cut-off, A (default {DEFAULT_METAL_CUTOFF})")


def _add_input_args(p: argparse.ArgumentParser, strict: bool = True) -> None:
    p.add_argument("--input", metavar="FILE", help="MAF, CSV or TSV (optionally .gz) of variants")
    p.add_argument("--gene", help="gene for variants given without one (HER2/ERBB2, p53/TP53, EGFR)")
    p.add_argument("--sample-column", metavar="NAME",
                   help="column naming the sample (default: Tumor_Sample_Barcode or sample if present)")
    if strict:
        p.add_argument("--strict", action="store_true",
                       help="stop with exit status 2 if any input item gives no variant")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="structkit",
        description="Structural impact of HER2 (ERBB2) and p53 (TP53) variants: fetch structures, "
                    "map UniProt positions onto them, and measure distances to antibody epitopes, "
                    "drug pockets, DNA and zinc sites computed from the complexes.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"structkit {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    _parser_fetch(sub)
    _parser_impact(sub)
    _parser_therapies(sub)
    _parser_evidence(sub)
    _parser_sites(sub)
    _parser_cohort(sub)
    _parser_report(sub)
    _parser_view(sub)
    _parser_plot(sub)
    return parser


def _parser_fetch(sub) -> None:
    """The arguments of `structkit fetch`."""
    f = sub.add_parser("fetch", help="download PDB entries, AlphaFold models, UniProt records",
                       description="Fetch structures and sequences into the local cache.",
                       epilog=EPILOG_FETCH, formatter_class=argparse.RawDescriptionHelpFormatter)
    f.add_argument("ids", nargs="*", metavar="PDB_ID", help="PDB IDs such as 1N8Z")
    f.add_argument("--format", choices=["cif", "pdb"], default=None,
                   help="file format (default: mmCIF, or any format already in cache/mirror)")
    f.add_argument("--assembly", type=int, metavar="N", help="biological assembly N instead of the entry")
    f.add_argument("--alphafold", nargs="+", metavar="ACC", default=[], help="AlphaFold DB models")
    f.add_argument("--uniprot", nargs="+", metavar="ACC", default=[], help="UniProt records (FASTA and JSON)")
    f.add_argument("--catalog", action="store_true", help="everything the built-in catalog names")
    f.add_argument("--progress", action="store_true",
                   help="show a progress bar (default: only on a terminal)")
    _add_source_args(f)



def _parser_impact(sub) -> None:
    """The arguments of `structkit impact`."""
    i = sub.add_parser("impact", help="mutation-impact table (the main job)",
                       description="Place variants on structures and measure their distance to each "
                                   "binding site. With no variants, runs the built-in seed panel.",
                       epilog=EPILOG_IMPACT, formatter_class=argparse.RawDescriptionHelpFormatter)
    i.add_argument("variants", nargs="*", metavar="VARIANT",
                   help="T798M, p.Thr798Met, ERBB2:p.T798M, 'TP53 R248Q', ...")
    _add_input_args(i)
    i.add_argument("--structures", nargs="+", metavar="ID",
                   help="PDB IDs, AF-<acc>, or structure files (a path: has a / or a .pdb/.cif "
                        "suffix) (default: the catalog's)")
    i.add_argument("--accession", metavar="ACC",
                   help="UniProt accession of the target in --structures files the catalog does "
                        "not know (e.g. P04637)")
    _add_cutoff_args(i)
    i.add_argument("--no-family", action="store_true", help="do not place HER2 variants on EGFR complexes")
    i.add_argument("--no-damage", action="store_true",
                   help="skip the Missense3D-style damage columns (faster on large cohorts)")
    i.add_argument("--stability", choices=("auto", "shipped", "off"), default=None,
                   help="stability_score (ProteinMPNN log-ratio, nats, higher = more destabilising): "
                        "'auto' uses the scores shipped for the catalog's chains and scores other "
                        "chains when structkit[ml] (torch) is installed (about 20-60 s a chain); "
                        "'shipped' never scores on the fly; 'off' leaves it empty (default: "
                        "$STRUCTKIT_STABILITY, else auto)")
    i.add_argument("--out", metavar="FILE", help="write the full table (.csv .tsv .xlsx .parquet .md .html)")
    i.add_argument("--summary-out", metavar="FILE", help="write the one-row-per-variant summary too")
    i.add_argument("--log", metavar="FILE",
                   help="write a run log (text): input with SHA-256, settings, versions, input "
                        "items by best status, items that give no variant and why, time")
    i.add_argument("--genes", metavar="GENE", nargs="+",
                   help="keep only the variants of these genes (default: every catalog gene)")
    i.add_argument("--msa", metavar="FILE",
                   help="homolog alignment (A2M/A3M/Stockholm, query first) for the impact score; "
                        "default: the catalog's (msa/P04637.a2m for TP53)")
    i.add_argument("--progress", action="store_true", help="show a progress bar")
    i.add_argument("--wide", action="store_true",
                   help="print the summary without clipping (default: fits 120 columns)")
    _add_source_args(i)



def _parser_therapies(sub) -> None:
    """The arguments of `structkit therapies`."""
    th = sub.add_parser(
        "therapies", help="variant x therapy matrix: structural relation beside CIViC's known response",
        description="One row per variant x drug of the catalog's drug table (every approved HER2 "
                    "drug; p53: its DNA and zinc sites). Two kinds of columns, never merged:\n"
                    "  known_response   what CIViC (release 2024-08-01) says for this variant and "
                    "drug: sensitivity,\n                   resistance, 'does not support', with "
                    "level, EID, PMID and disease (known_evidence)\n"
                    "  relation         what the structures show: covalent anchor lost, contact / "
                    "epitope contact,\n                   conformational (alphaC helix, alphaC-beta4 "
                    "loop, activation loop), second shell\n                   (cut-off..8 A), "
                    "distant, outside the drug's domain, in-frame indel: structure cannot\n"
                    "                   judge, unobserved in the structure, no structure of the drug\n"
                    "The structure that speaks is the best-resolved complex of the variant's own "
                    "protein, then\nthe EGFR family stand-ins; conformation (alphaC-in/out, "
                    "DFG-in/out) is computed from it and\nany mutation it carries is in the note. "
                    "A relation is not a drug response.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  structkit therapies ERBB2:p.L755S ERBB2:p.T798M --out m.xlsx\n"
               "  structkit therapies ERBB2:p.C805S --drug neratinib --drug lapatinib\n"
               "  structkit therapies ERBB2:p.T798M --approved-only\n"
               "  structkit plot therapies --input m.tsv --out heat.png")
    th.add_argument("variants", nargs="*", metavar="VARIANT", help="ERBB2:p.T798M, TP53:p.R248Q, ...")
    _add_input_args(th)
    _add_cutoff_args(th)
    th.add_argument("--drug", action="append", metavar="NAME",
                    help="only this drug (name or synonym, e.g. Tykerb); repeat for several")
    th.add_argument("--approved-only", action="store_true",
                    help="only drugs with an approval (default: approved and investigational)")
    th.add_argument("--include-research", action="store_true",
                    help="add the research compounds of the structures (03Q, 70I, TAK-285, "
                         "compound 20a)")
    th.add_argument("--out", metavar="FILE",
                    help="write the matrix (.csv .tsv .xlsx .parquet .md .html); XLSX adds the "
                         "drug table and the provenance (CIViC release, cut-offs)")
    _add_source_args(th)



def _parser_evidence(sub) -> None:
    """The arguments of `structkit evidence`."""
    ev = sub.add_parser("evidence", help="known evidence (CIViC) for variants, apart from the structures",
                        description="One row per variant x CIViC evidence item (release "
                                    "2024-08-01 from evidence/ of the cache or mirror): items "
                                    "that name the variant (match 'variant') and, unless "
                                    "--variant-only, broader mutation profiles of its gene "
                                    "(match 'broader profile: ...'). The structural verdict never "
                                    "reads this layer.",
                        formatter_class=argparse.RawDescriptionHelpFormatter,
                        epilog="example:\n  structkit evidence ERBB2:p.L755S ERBB2:p.T798M --out civic.tsv")
    ev.add_argument("variants", nargs="*", metavar="VARIANT", help="ERBB2:p.L755S, TP53:p.R175H, ...")
    _add_input_args(ev)
    ev.add_argument("--variant-only", action="store_true",
                    help="leave out the items of broader profiles (Mutation, Kinase Domain Mutation ...)")
    ev.add_argument("--out", metavar="FILE", help="write the table (.csv .tsv .xlsx .parquet .md .html)")
    _add_source_args(ev)



def _parser_sites(sub) -> None:
    """The arguments of `structkit sites`."""
    s = sub.add_parser("sites", help="binding sites of a structure, computed from the complex",
                       description="List the residues of each site (UniProt and author numbering, "
                                   "nearest partner atom, distance).",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n  structkit sites 1TSR\n"
                              "  structkit sites ./my_p53.pdb --accession P04637\n\n"
                              "A structure file (a path: has a / or a .pdb/.cif suffix) is read as "
                              "given; its partners\n(ligands, DNA, zinc) are found by content. An "
                              "ID goes through the cache and mirror.")
    s.add_argument("structure", metavar="ID|FILE",
                   help="catalog structure (e.g. 1N8Z, 3POZ, 1TSR) or a structure file")
    s.add_argument("--accession", metavar="ACC",
                   help="UniProt accession of the target chain(s) (needed for a file the catalog "
                        "does not know; e.g. P04637)")
    _add_cutoff_args(s)
    s.add_argument("--out", metavar="FILE", help="write the table (.csv .tsv .xlsx .parquet .md .html)")
    _add_source_args(s)



def _parser_cohort(sub) -> None:
    """The arguments of `structkit cohort`."""
    co = sub.add_parser("cohort", help="per-sample, per-gene and per-position tables of a cohort",
                        description="Run the impact table on a cohort (MAF/CSV/TSV) and join the "
                                    "per-variant verdict back to its rows: samples with a DNA-contact, "
                                    "zinc-site, structural, epitope, drug-pocket, truncating or splice "
                                    "variant; per-gene counts; recurrence per position.",
                        formatter_class=argparse.RawDescriptionHelpFormatter,
                        epilog="examples:\n  structkit cohort --input tcga_laml.maf.gz --out laml.xlsx\n"
                               "  structkit cohort --input cohort.tsv --out laml.tsv   "
                               "(writes laml.samples.tsv, laml.genes.tsv, ...)")
    co.set_defaults(variants=[])  # a cohort is a file
    co.add_argument("--input", metavar="FILE", required=True,
                    help="MAF, CSV or TSV (optionally .gz) of variants")
    co.add_argument("--gene", help="gene for rows without one")
    co.add_argument("--sample-column", metavar="NAME",
                    help="column naming the sample (default: Tumor_Sample_Barcode or sample)")
    co.add_argument("--samples", metavar="FILE",
                    help="the cohort's samples, one name per line: samples without any mutation "
                         "are in no MAF, but count in the frequencies (default: every sample the "
                         "input names, all genes)")
    co.add_argument("--out", metavar="FILE",
                    help=".xlsx: one sheet per table; other suffixes: one file per table "
                         "(NAME.samples.tsv, NAME.genes.tsv, NAME.positions.tsv, NAME.variants.tsv, "
                         "NAME.unplaced.tsv)")
    _add_cutoff_args(co)
    _add_source_args(co)



def _parser_report(sub) -> None:
    """The arguments of `structkit report`."""
    rp = sub.add_parser("report", help="a review dossier: one self-contained HTML (and PDF)",
                        description="Summary table, a card per variant (residue in each structure, "
                                    "sites, damage, therapies, 3D view), figures, and methods and "
                                    "provenance (files with SHA-256, cut-offs, scoring benchmark, "
                                    "citations), in one HTML file that opens offline.",
                        formatter_class=argparse.RawDescriptionHelpFormatter,
                        epilog="examples:\n  structkit report --out seed.html            the seed panel\n"
                               "  structkit report ERBB2:p.T798M TP53:p.R248Q --out r.html --pdf r.pdf\n"
                               "  structkit report --input cohort.maf --out cohort.html\n\n"
                               "3D views embed a local 3Dmol.js ($STRUCTKIT_3DMOL_JS or the npm copy "
                               "under .js/);\n--pdf prints the page with headless Chromium.")
    rp.add_argument("variants", nargs="*", metavar="VARIANT", help="as for 'structkit impact'")
    _add_input_args(rp)
    rp.add_argument("--out", metavar="FILE.html", required=True, help="the HTML report")
    rp.add_argument("--pdf", metavar="FILE.pdf", help="also print it to PDF (needs Chromium)")
    rp.add_argument("--paper", choices=["A4", "Letter"], default="A4",
                    help="page size of the PDF (default A4)")
    rp.add_argument("--title", default="structkit report", help="report title")
    rp.add_argument("--max-cards", type=int, default=30, metavar="N",
                    help="variant cards, highest impact score first (default 30)")
    rp.add_argument("--max-views", type=int, default=10, metavar="N",
                    help="cards with a 3D view (default 10)")
    rp.add_argument("--png-views", action="store_true",
                    help="also a static picture of each 3D view, for print and no-JavaScript "
                         "readers (headless Chromium, a few seconds per view)")
    _add_cutoff_args(rp)
    _add_source_args(rp)



def _parser_view(sub) -> None:
    """The arguments of `structkit view`."""
    vw = sub.add_parser("view", help="a 3D view of variants on a structure (HTML and/or PNG)",
                        description="The complex with its partners, its sites and the variants "
                                    "(magenta, labelled in UniProt numbering), with a legend; as a "
                                    "standalone HTML page (3Dmol.js embedded) and/or a static PNG "
                                    "rendered by headless Chromium.",
                        formatter_class=argparse.RawDescriptionHelpFormatter,
                        epilog="examples:\n  structkit view 1TSR R248Q R273H --png p53.png\n"
                               "  structkit view 3POZ ERBB2:p.T798M --title 'T798M and TAK-285' "
                               "--html t798m.html --png t798m.png --width 1200 --height 900")
    vw.add_argument("structure", metavar="ID", help="catalog structure (e.g. 1TSR, 3POZ, 1N8Z)")
    vw.add_argument("variants", nargs="*", metavar="VARIANT", help="variants to show (UniProt numbering)")
    vw.add_argument("--site", help="show only this site's residues (default: every site)")
    vw.add_argument("--title", help="title above the legend")
    vw.add_argument("--orient", choices=["site", "variant", "whole"], default="site",
                    help="fit the view to the variants and sites (default), the variants only, "
                         "or the whole entry")
    vw.add_argument("--zoom", type=float, default=1.0,
                    help="closer (> 1) or farther (< 1) than the fitted view (0.1-10, default 1)")
    vw.add_argument("--width", type=int, default=800, help="pixels (default 800)")
    vw.add_argument("--height", type=int, default=600, help="pixels (default 600)")
    vw.add_argument("--html", metavar="FILE", help="standalone HTML page")
    vw.add_argument("--png", metavar="FILE", help="static PNG (needs Chromium and a local 3Dmol.js)")
    _add_source_args(vw)



def _parser_plot(sub) -> None:
    """The arguments of `structkit plot`."""
    pl = sub.add_parser("plot", help="figures: lollipop over the domain map, distance profile",
                        description="Write a figure; the format follows the --out suffix (.png .svg .pdf).")
    psub = pl.add_subparsers(dest="plot", metavar="FIGURE")
    lo = psub.add_parser("lollipop", help="variant counts per position over the domain map")
    lo.add_argument("--input", required=True, help="MAF/CSV/TSV of variants (e.g. a hotspot list)")
    lo.add_argument("--gene", required=True, help="TP53, ERBB2 (aliases accepted)")
    lo.add_argument("--counts-column", metavar="NAME",
                    help="a column of the input giving each row's count (automatic for the Cancer "
                         "Hotspots residue table: tumours per allele); without it a sample counts "
                         "once per change, or each row once")
    lo.add_argument("--sites-from", nargs="*", default=None, metavar="ID",
                    help="catalog structures whose sites are marked (default: the gene's complexes)")
    lo.add_argument("--out", required=True, help="output figure (.png .svg .pdf)")
    _add_source_args(lo)
    di = psub.add_parser("distances", help="distance of each variant to each site, with the cut-off")
    di.add_argument("--input", required=True, help="an impact table written by 'structkit impact --out'")
    di.add_argument("--out", required=True, help="output figure (.png .svg .pdf)")
    tp = psub.add_parser("therapies", help="heat map of a therapy matrix (variants x therapies)")
    tp.add_argument("--input", required=True, help="a matrix written by 'structkit therapies --out'")
    tp.add_argument("--out", required=True, help="output figure (.png .svg .pdf)")
    tp.add_argument("--all-drugs", action="store_true",
                    help="draw every therapy of the matrix (default: approved drugs only, "
                         "plus the functional sites of a target without drugs)")



def _cmd_fetch(args) -> int:
    import pandas as pd
    from tqdm.auto import tqdm

    from .catalog import catalog
    from .fetch import FetchError

    fetcher = _fetcher(args)
    jobs: list[tuple[str, str, object]] = []
    for pid in args.ids:
        jobs.append(("pdb", pid, lambda pid=pid: fetcher.pdb(pid, args.format, args.assembly)))
    for acc in args.alphafold:
        jobs.append(("alphafold", acc, lambda acc=acc: fetcher.alphafold(acc)))
    for acc in args.uniprot:
        jobs.append(("uniprot", acc, lambda acc=acc: fetcher.uniprot(acc, "fasta")))
    if args.catalog:
        cat = catalog()
        for s in cat.structures:
            if s.is_alphafold:
                jobs.append(("alphafold", s.id, lambda s=s: fetcher.alphafold(s.id[3:])))
            else:
                jobs.append(("pdb", s.id, lambda s=s: fetcher.pdb(s.id, args.format, s.assembly)))
        for t in cat.targets:
            jobs.append(("uniprot", t.accession,
                         lambda t=t: _uniprot_any(fetcher, t.accession)))
    if not jobs:
        print("structkit fetch: nothing to fetch; give PDB IDs, --alphafold, --uniprot or --catalog",
              file=sys.stderr)
        return 2
    rows = []
    bar = len(jobs) > 1 and (args.progress or sys.stderr.isatty())
    for kind, key, job in tqdm(jobs, desc="fetch", unit="file", disable=not bar, file=sys.stderr):
        try:
            res = job()
            rows.append({"kind": kind, "id": key, "source": res.source, "path": str(res.path)})
        except (FetchError, ValueError) as exc:
            from .fetch import NotAvailableOffline

            src = "not available offline" if isinstance(exc, NotAvailableOffline) else "failed"
            rows.append({"kind": kind, "id": key, "source": src, "path": str(exc)})
    df = pd.DataFrame(rows)
    print(_left(df))
    counts = df.source.value_counts().to_dict()
    print("\nsummary: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0 if df.source.isin(["cache", "mirror", "network"]).all() else 1


def _uniprot_any(fetcher, acc: str):
    from .fetch import FetchError

    last: Exception | None = None
    for fmt in ("fasta", "json", "txt"):
        try:
            return fetcher.uniprot(acc, fmt)
        except FetchError as exc:
            last = exc
    assert last is not None
    raise last


def _read_batch(args, command: str, default_panel: bool = False):
    """The variants of a command (file, command line or the seed panel), and where they came
    from; every item kept (unplaced ones too)."""
    from .catalog import catalog
    from .variants import parse_variants

    fetcher = _fetcher(args)
    sample_column = getattr(args, "sample_column", None)
    if args.input and args.variants:
        raise _Usage(f"structkit {command}: give variants or --input FILE, not both")
    genes = getattr(args, "genes", None)
    if args.input:
        batch = parse_variants(Path(args.input), gene=args.gene, fetcher=fetcher,
                               sample_column=sample_column, genes=genes)
        for note in batch.notes:
            print(f"structkit {command}: {note}", file=sys.stderr)
        return batch, args.input
    if args.variants:
        return (parse_variants(list(args.variants), gene=args.gene, fetcher=fetcher, genes=genes),
                "command line")
    if default_panel:
        panel = catalog().seed_panel
        return (parse_variants([(v["gene"], v["change"]) for v in panel], fetcher=fetcher,
                               genes=genes), "built-in seed panel")
    raise _Usage(f"structkit {command}: give variants or --input FILE")


class _Usage(Exception):
    """A usage error: message printed, exit status 2."""


def _strict_check(args, batch, command: str) -> None:
    bad = batch.unplaced
    if getattr(args, "strict", False) and len(bad):
        lines = [f"structkit {command}: row {r.row}: {r.status}: {r.reason}"
                 for r in bad.head(20).itertuples()]
        more = f"\n... and {len(bad) - 20} more" if len(bad) > 20 else ""
        raise _Usage("\n".join(lines) + more + f"\n{len(bad)} input items give no variant "
                     "(--strict); without --strict they become rows with their status")


_FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
COHORT_SHEETS = ("samples", "genes", "positions", "unplaced", "variants")  # cohort --out files


def _outputs(args) -> list[tuple[str, str]]:
    """(option, path) of every file the command will write; a cohort's text outputs expand to
    one file per sheet."""
    out = []
    for opt in ("out", "summary_out", "log", "pdf", "html", "png"):
        v = getattr(args, opt, None)
        if v is not None:
            out.append((f"--{opt.replace('_', '-')}", v))
    if args.command == "cohort" and getattr(args, "out", None) and \
            Path(args.out).suffix.lower() != ".xlsx":
        o = Path(args.out)
        out = [(o_, v) for o_, v in out if o_ != "--out"] + [
            ("--out", str(o.with_name(f"{o.stem}.{n}{o.suffix}"))) for n in COHORT_SHEETS]
    return out


def _inputs(args) -> list[tuple[str, str]]:
    out = [(f"--{o}", getattr(args, o)) for o in ("input", "msa", "samples") if getattr(args, o, None)]
    out += [("--structures", x) for x in getattr(args, "structures", None) or ()
            if ("/" in x or "." in x) and Path(x).exists()]
    st = getattr(args, "structure", None)
    if st and Path(st).exists():
        out.append(("structure", st))
    return out


def _same(a: str, b: str) -> bool:
    try:
        if Path(a).exists() and Path(b).exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _guard_paths(args) -> None:
    """Refuse, before any work, an output that would destroy data or lie about its format: an
    empty path (an unset shell variable), the same file as an input or as another output, a
    suffix that does not fit the option."""
    outs, ins = _outputs(args), _inputs(args)
    for opt, path in outs:
        if not str(path).strip():
            raise _Usage(f"{opt}: empty file name (an unset shell variable?)")
    for opt, path in outs:
        for iopt, ipath in ins:
            if _same(path, ipath):
                raise _Usage(f"{opt} {path} is the input given as {iopt}: refusing to overwrite it")
    for i, (o1, p1) in enumerate(outs):
        for o2, p2 in outs[i + 1:]:
            if _same(p1, p2):
                raise _Usage(f"{o1} and {o2} name the same file {p1}: give two file names")
    want = {"--pdf": (".pdf",), "--png": (".png",), "--html": (".html", ".htm")}
    if args.command == "plot":
        want["--out"] = _FIGURE_SUFFIXES
    for opt, path in outs:
        if opt in want and Path(path).suffix.lower() not in want[opt]:
            raise _Usage(f"{opt} {path}: expected a {' or '.join(want[opt])} file name")


def _check_out(path: str | None) -> None:
    """Refuse an output target before the computation: unknown suffix or a directory."""
    if not path:
        return
    from .tables import check_output

    try:
        check_output(path)
    except ValueError as exc:
        raise _Usage(str(exc)) from None


def _check_msa(path: str, batch, fetcher) -> dict:
    """--msa read before any work as an alignment of the batch's proteins: {accession: path}
    for the genes it fits (the others keep the catalog's alignment, said on stderr); exit 2
    naming why when it fits none (never a silent fallback)."""
    from .msa import cached_alignment
    from .uniprot import uniprot_record

    fits, why = {}, {}
    for acc, gene in dict.fromkeys((v.accession, v.gene) for v in batch.variants):
        try:  # read once: the weights it stores are what the score then reads back
            cached_alignment(path, uniprot_record(acc, fetcher).sequence,
                             cache_dir=fetcher.cache_dir)
            fits[acc] = path
        except ValueError as exc:
            why[gene] = str(exc)
    if not fits:
        reasons = "; ".join(f"{g}: {w}" for g, w in why.items()) or "no variant to score"
        raise _Usage(f"--msa {path}: not an alignment of the variants' proteins ({reasons})")
    for gene in why:
        print(f"structkit: --msa {path} is not an alignment of {gene}; {gene} keeps the catalog's",
              file=sys.stderr)
    return fits


def _structures_arg(args) -> list | None:
    """--structures as IDs and loaded user files (a path only when it looks like one)."""
    if not args.structures:
        return None
    from .ids import normalize_pdb_id
    from .resolve import is_path_like, load

    fetcher = _fetcher(args)
    out = []
    for s in args.structures:
        if not is_path_like(s) and not s.upper().startswith("AF-"):
            try:
                normalize_pdb_id(s)
            except ValueError as exc:
                raise _Usage(f"--structures {s!r}: {exc}; a file needs a / or a .pdb/.cif "
                             "suffix, and variants go before --structures") from None
        if is_path_like(s):
            st = load(Path(s), fetcher=fetcher)
            out.append((st, args.accession) if args.accession else st)
        else:
            out.append(s)
    return out


def _cmd_impact(args) -> int:
    from .impact import STREAM_SUFFIXES, impact_table, summarize, write_impact, write_table

    _check_out(args.out)
    _check_out(args.summary_out)
    t0 = time.perf_counter()
    fetcher = _fetcher(args)
    batch, source = _read_batch(args, "impact", default_panel=True)
    _strict_check(args, batch, "impact")
    if not batch.n_rows:
        print(f"structkit impact: no variants in {source}", file=sys.stderr)
        return 2
    if args.msa is not None:
        args.msa = _check_msa(args.msa, batch, fetcher)
    kw = {"structures": _structures_arg(args), "cutoff": args.cutoff,
          "metal_cutoff": args.metal_cutoff, "family": not args.no_family,
          "damage": not args.no_damage, "fetcher": fetcher, "stability": args.stability,
          "progress": args.progress or sys.stderr.isatty()}
    if args.out and Path(args.out).suffix.lower() in STREAM_SUFFIXES:
        # streamed in chunks of input rows: memory follows the distinct variants, not the rows
        # (the summary is computed from the distinct table while the file is written)
        table, summary = write_impact(batch, args.out, summary=True, msa=args.msa, **kw)
        print(f"wrote the table of {batch.n_rows} input items to {args.out}", file=sys.stderr)
    else:
        full = impact_table(batch, **kw)
        table = full[full.kind.notna()]
        summary = summarize(table, msa=args.msa, fetcher=fetcher)
        if args.out:
            write_table(full, args.out, sheets={"summary": summary})
            print(f"wrote {len(full)} rows to {args.out}"
                  + (" (sheets impact, summary, provenance)" if args.out.endswith(".xlsx") else ""),
                  file=sys.stderr)
    if args.summary_out:
        write_table(summary, args.summary_out)
    if args.log:
        _write_log(args, batch, source, table, summary, fetcher, time.perf_counter() - t0)
    print(f"# structkit {__version__} impact: {batch.n_rows} input items from {_clip(source, 50)} "
          f"({len(batch)} variants, {len(set(batch.variants))} distinct)")
    print(f"# cut-off {args.cutoff:g} A (metal {args.metal_cutoff:g} A); positions in UniProt "
          "numbering, 'nearest' in the structure's author numbering")
    print(_role_header(summary))
    if len(summary):
        print(_summary_text(summary, wide=args.wide))
    print(textwrap.fill("input items by best status: " + ", ".join(
        f"{k} {v}" for k, v in _best_status_counts(table, batch).items()), 120))
    if len(batch.unplaced):
        why = batch.unplaced.status.value_counts().to_dict()
        print(textwrap.fill(f"{len(batch.unplaced)} input items give no variant ("
                            + ", ".join(f"{k} {v}" for k, v in why.items()) + "): rows with that "
                            "status in the table" + ("" if args.out else " (--out to keep them)"),
                            120))
        for r in batch.unplaced.head(5).itertuples():
            print(_clip(f"  row {r.row}: {r.reason}", 120))
    return 0


def _write_log(args, batch, source: str, table, summary, fetcher, seconds: float) -> None:
    """``impact --log``: what a methods section needs to say how the table was made, written
    atomically (a failed run leaves no log that looks like a finished one)."""
    import platform

    import gemmi
    import numpy as np
    import pandas as pd

    from .files import atomic_write, sha256_file

    inp = (f"{source} (SHA-256 {sha256_file(source)})" if args.input else source)
    why = batch.unplaced.reason.value_counts().head(20) if len(batch.unplaced) else {}
    lines = [
        f"structkit impact run, {datetime.now(UTC).isoformat(timespec='seconds')}",
        "command: structkit " + " ".join(shlex.quote(str(a)) for a in args.argv),
        f"input: {inp}",
        f"genes kept: {', '.join(args.genes) if args.genes else 'every catalog gene'}",
        f"structures: {', '.join(args.structures) if args.structures else 'the catalog'}",
        f"cut-off: {args.cutoff:g} A (metal {args.metal_cutoff:g} A); family stand-ins: "
        f"{'no' if args.no_family else 'yes'}; damage columns: {'no' if args.no_damage else 'yes'}",
        f"mirror: {fetcher.mirror or '-'}; offline: {fetcher.offline}; cache: {fetcher.cache_dir}",
        f"versions: structkit {__version__}, python {platform.python_version()}, numpy "
        f"{np.__version__}, pandas {pd.__version__}, gemmi {gemmi.__version__}",
        f"input items: {batch.n_rows}; variants: {len(batch)} ({len(set(batch.variants))} "
        f"distinct); items that give no variant: {len(batch.unplaced)}",
        f"table: {args.out or '(not written)'}; summary rows: {len(summary)}"
        + (f" -> {args.summary_out}" if args.summary_out else ""),
        "input items by best status:",
        *[f"  {k}: {v}" for k, v in _best_status_counts(table, batch).items()],
        "items that give no variant, by reason:",
        *[f"  {v} x {k}" for k, v in (why.items() if len(why) else [])],
        f"time: {seconds:.1f} s",
    ]
    with atomic_write(args.log) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote the run log to {args.log}", file=sys.stderr)


def _best_status_counts(table: pd.DataFrame, batch) -> dict[str, int]:
    """Input items counted by their best status over structures (order of ``STATUSES``):
    ``table`` holds the variants' rows (all input rows, or one copy per distinct variant with
    ``n_rows``), ``batch.unplaced`` the items that give no variant."""
    import pandas as pd

    from .impact import STATUSES
    from .verdict import variant_keys

    order = {k: i for i, k in enumerate(STATUSES)}
    counts: dict[int, int] = {}
    if len(table):
        rank = table.status.astype(object).map(order).fillna(99).astype(int).to_numpy()
        if "n_rows" in table:
            key = variant_keys(table)
            best = pd.Series(rank).groupby(key).min()
            weight = pd.Series(table["n_rows"].to_numpy()).groupby(key).first()
        else:
            best = pd.Series(rank).groupby(table.input_row.to_numpy()).min()
            weight = pd.Series(1, index=best.index)
        for r, w in zip(best.to_numpy(), weight.to_numpy(), strict=True):
            counts[int(r)] = counts.get(int(r), 0) + int(w)
    for st, n in batch.unplaced.status.value_counts().items():
        counts[order.get(st, 99)] = counts.get(order.get(st, 99), 0) + int(n)
    return {STATUSES[i] if i < len(STATUSES) else "other": n for i, n in sorted(counts.items())}


def _cmd_view(args) -> int:
    from .analysis import analyze
    from .view import save_html, save_png, view_variants

    if not args.html and not args.png:
        raise _Usage("structkit view: give --html FILE and/or --png FILE")
    a = analyze(args.structure, fetcher=_fetcher(args))
    v = view_variants(a, args.variants, site=args.site, width=args.width, height=args.height,
                      title=args.title, orient=args.orient, zoom=args.zoom)
    if args.html:
        save_html(v, args.html, embed=True, title=args.title or f"structkit view {a.structure.id}")
        print(f"wrote {args.html}", file=sys.stderr)
    if args.png:
        save_png(v, args.png)
        print(f"wrote {args.png}", file=sys.stderr)
    return 0


def _cmd_report(args) -> int:
    from .dossier import report

    if Path(args.out).suffix.lower() not in (".html", ".htm"):
        raise _Usage(f"--out {args.out}: the report is an HTML file (.html)")
    batch, source = _read_batch(args, "report", default_panel=True)
    _strict_check(args, batch, "report")
    out = report(batch, args.out, title=args.title, cutoff=args.cutoff,
                 metal_cutoff=args.metal_cutoff, fetcher=_fetcher(args), pdf=args.pdf,
                 max_cards=args.max_cards, max_views=args.max_views, png_views=args.png_views,
                 paper=args.paper,
                 command="structkit " + " ".join(args.argv))
    print(f"wrote {out}" + (f" and {args.pdf}" if args.pdf else "") + f" ({source})",
          file=sys.stderr)
    return 0


def _cmd_cohort(args) -> int:
    from .cohort import cohort_tables
    from .impact import impact_table, summarize, write_table

    if args.out and Path(args.out).suffix.lower() != ".xlsx":
        _check_out(args.out)
    fetcher = _fetcher(args)
    batch, source = _read_batch(args, "cohort")
    # the distinct variants' table is enough: the input rows come from the batch
    distinct = impact_table(batch, cutoff=args.cutoff, metal_cutoff=args.metal_cutoff,
                            fetcher=fetcher, progress=sys.stderr.isatty(), distinct=True)
    summary = summarize(distinct, fetcher=fetcher)
    listed = None
    if args.samples:
        from .variants import read_text

        listed = [ln.strip() for ln in read_text(Path(args.samples)).splitlines()
                  if ln.strip() and not ln.startswith("#")]
    tables = cohort_tables(batch, summary, samples=listed)
    tables["variants"] = summary
    if args.out:
        out = Path(args.out)
        if out.suffix.lower() == ".xlsx":  # the same writer as every table: cells neutralised
            first, *rest = tables
            write_table(tables[first], out, sheet=first, sheets={k: tables[k] for k in rest})
            print(f"wrote {out} (sheets: {', '.join(tables)})", file=sys.stderr)
        else:  # one file per sheet, committed as a set: all new or all as they were
            from .files import atomic_write_many

            names = [n for n in COHORT_SHEETS if n in tables]
            with atomic_write_many(out.with_name(f"{out.stem}.{n}{out.suffix}") for n in names) as tmps:
                for name, tmp in zip(names, tmps, strict=True):
                    write_table(tables[name], tmp)
            print(f"wrote {', '.join(f'{out.stem}.{n}{out.suffix}' for n in tables)}",
                  file=sys.stderr)
    n_samples = tables["samples"].attrs.get("n_samples")
    carriers = int((tables["samples"].n_variants > 0).sum()) if n_samples else 0
    genes = tables["genes"]
    per_gene = ", ".join(f"{g} {n}" for g, n in zip(genes.gene, genes.n_rows, strict=True))
    print(f"# structkit {__version__} cohort: {batch.n_rows} rows from {source}"
          + (f", {n_samples} samples ({carriers} with a catalog-gene row)" if n_samples
             else ", no sample column") + "; "
          f"{int(genes.n_rows.sum())} rows of catalog genes ({per_gene}), "
          f"{len(tables['unplaced'])} others (unplaced sheet)")
    print(tables["genes"].to_string(index=False))
    print("\nmost recurrent positions (UniProt numbering):")
    print(tables["positions"].head(10).to_string(index=False, max_colwidth=50))
    return 0


def _variant_command(args, name: str):
    """(session, batch) of a command over variants, after the output and strict checks; batch
    None (exit 2) when no input item gives a variant. Rows that give none are said on stderr."""
    _check_out(args.out)
    fetcher = _fetcher(args)
    batch, _ = _read_batch(args, name)
    _strict_check(args, batch, name)
    for r in batch.unplaced.head(20).itertuples():
        print(f"structkit {name}: row {r.row}: {r.status}: {r.reason}", file=sys.stderr)
    if not len(batch):
        if batch.unplaced.status.isin(["not available offline", "fetch failed"]).any():
            raise OSError("no input item gives a variant: a UniProt record could not be read "
                          "(see the rows above)")  # a fetch failure: exit 1
        print(f"structkit {name}: no input item gives a variant", file=sys.stderr)
        return fetcher, None
    return fetcher, batch


def _cmd_therapies(args) -> int:
    from .catalog import catalog
    from .impact import write_table
    from .therapy import drug_table, therapy_matrix

    for name in args.drug or ():
        try:
            catalog().drug(name)
        except KeyError as exc:
            print(f"error: --drug: {exc.args[0]}", file=sys.stderr)
            return 2
    fetcher, batch = _variant_command(args, "therapies")
    if batch is None:
        return 2
    m = therapy_matrix(batch, cutoff=args.cutoff, metal_cutoff=args.metal_cutoff, fetcher=fetcher,
                       drugs=args.drug, approved_only=args.approved_only,
                       include_research=args.include_research)
    if args.out:
        drugs = drug_table()
        drugs = drugs[drugs.drug.isin(set(m.therapy))]
        write_table(m, args.out, sheet="therapies", sheets={"drugs": drugs})
        print(f"wrote {len(m)} rows to {args.out}", file=sys.stderr)
    shown = m[["variant", "therapy", "relation", "min_dist_A", "pdb_id", "known_response"]]
    print(shown.to_string(index=False, max_colwidth=40))
    print("relation: what the structures show; known_response: CIViC "
          f"({m.attrs.get('civic', '').split(';')[0]}); see --help", file=sys.stderr)
    return 0


def _cmd_evidence(args) -> int:
    from .evidence import known_evidence
    from .impact import write_table

    fetcher, batch = _variant_command(args, "evidence")
    if batch is None:
        return 2
    e = known_evidence(batch, fetcher, broader=not args.variant_only)
    if args.out:
        write_table(e, args.out)
        print(f"wrote {len(e)} rows to {args.out}", file=sys.stderr)
    print(f"# {e.attrs['civic']}; known evidence, not read by the structural verdict")
    shown = e[["gene", "variant", "match", "therapies", "significance", "evidence_level", "eid",
               "pmid", "disease"]]
    print(shown.to_string(index=False, max_colwidth=40))
    return 0


def _clip(text, width: int) -> str:
    text = "" if text is None or (isinstance(text, float) and text != text) else str(text)
    return text if len(text) <= width else text[: width - 3] + "..."


ROLE_READING = {"tumour suppressor": "probability of loss of function",
                "oncogene": "probability of an activating/resistance change (even prior)"}


def _role_header(summary: pd.DataFrame) -> str:
    """What the score means for each role among the summary's genes (the catalog's roles)."""
    by_role: dict[str, list[str]] = {}
    for g, r in zip(summary.gene, summary.role, strict=True):
        if r and g not in by_role.setdefault(r, []):
            by_role[r].append(g)
    lines = [f"# {r} ({', '.join(gs)}): score = {ROLE_READING.get(r, r)}" for r, gs in by_role.items()]
    return "\n".join(["# score by the gene's role, see README 'The verdict'; class says the reading",
                      *lines])


def _summary_text(summary: pd.DataFrame, wide: bool = False) -> str:
    """The printed summary: score, mechanism and the nearest site with its structure residue;
    a residue of a family stand-in is labelled with its protein (e.g. 'EGFR 790')."""
    import pandas as pd

    rows = []
    for r in summary.itertuples(index=False):
        near = ""
        if isinstance(r.nearest_site, str) and r.nearest_site:
            prot = f"{r.nearest_protein} " if r.nearest_protein != r.gene else ""
            num = "" if pd.isna(r.nearest_author_num) else f" {prot}{int(r.nearest_author_num)}"
            site = r.nearest_site if wide else _clip(r.nearest_site, 22)
            near = (f"{site} {r.nearest_dist_A:.2f} A "
                    f"({r.nearest_pdb_id} {r.nearest_chain}{num})")  # the residue is never clipped
        score = "" if pd.isna(r.impact_score) else f"{r.impact_score:.2f}"
        row = {"gene": r.gene, "variant": _clip(r.variant, 16), "score": score,
               "class": _clip(r.effect_class, 20), "mechanism": _clip(r.mechanism, 26),
               "nearest site": near}
        if wide:  # everything, unclipped: agreement over chains and the evidence too
            row.update(variant=r.variant, mechanism=r.mechanism, agreement=r.agreement,
                       stability="" if pd.isna(r.stability_score) else f"{r.stability_score:+.2f} nats",
                       **{"nearest site": near, "evidence": r.mechanism_evidence,
                          "known evidence": r.known_evidence})
        if (summary.n_rows > 1).any():
            row = {"rows": r.n_rows, **row}
        rows.append(row)
    return _left(pd.DataFrame(rows))


def _left(df: pd.DataFrame) -> str:
    """``df`` as text with text columns left-aligned (paths and names read from the left)."""
    def fmt(width: int):
        return ("{:<" + str(width) + "}").format

    text_cols = [c for c in df.columns if df[c].dtype == object or str(df[c].dtype) in ("str", "string")]
    return df.to_string(index=False, justify="left", formatters={
        c: fmt(max(len(str(c)), int(df[c].astype(str).str.len().max() or 0))) for c in text_cols})


def _cmd_sites(args) -> int:
    from .analysis import analyze
    from .impact import write_table
    from .resolve import is_path_like, load

    _check_out(args.out)
    fetcher = _fetcher(args)
    source = args.structure
    if is_path_like(source):
        source = load(Path(source), fetcher=fetcher)
    a = analyze(source, args.accession, cutoff=args.cutoff, metal_cutoff=args.metal_cutoff,
                fetcher=fetcher)
    table = a.site_table()
    st = a.structure
    print(f"# {st.id}: {a.entry.shows or st.title} ({st.method or 'method unknown'}"
          f"{'' if st.resolution is None else f', {st.resolution:.2f} A'}); target {a.accession}; "
          f"cut-off {args.cutoff} A (metal {args.metal_cutoff} A)")
    for ch, cd in a.chains.items():
        off = cd.numbering.offset
        rel = "" if off is None else f", UniProt = author {off:+d}"
        print(f"# chain {ch}: numbering {cd.numbering.method}{rel}")
    for note in a.notes:
        print(f"# note: {note}")
    if args.out:
        write_table(table, args.out)
    if len(table):
        print(table.drop(columns=["pdb_id", "cutoff_A", "numbering_method"]).to_string(index=False))
    else:
        print("no site residues (the catalog names no partners for this structure)")
    return 0


def _cmd_plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only: never a window
    from .catalog import catalog
    from .plots import distance_profile, lollipop

    if args.plot is None:
        print("structkit plot: choose a figure: lollipop or distances", file=sys.stderr)
        return 2
    if args.plot == "lollipop":
        fetcher = _fetcher(args)
        sites = args.sites_from
        if sites is None:  # the gene's complexes that have partners and are at hand
            acc = catalog().target(args.gene).accession
            sites = tuple(s.id for s in catalog().structures_for(acc)
                          if s.partners and not s.is_alphafold and _available(s, fetcher))[:3]
        fig = lollipop(Path(args.input), args.gene, sites_from=tuple(sites), fetcher=fetcher,
                       counts_column=args.counts_column)
    elif args.plot == "therapies":
        from .plots import therapy_heatmap

        fig = therapy_heatmap(args.input, approved_only=not args.all_drugs)
    else:
        fig = distance_profile(args.input)
    from .files import atomic_write

    out = Path(args.out)
    with atomic_write(out) as tmp:
        fig.savefig(tmp, dpi=200, format=out.suffix.lstrip(".").lower() or "png")
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _available(entry, fetcher) -> bool:
    from .fetch import FetchError

    try:
        fetcher.pdb(entry.id, assembly=entry.assembly)
        return True
    except FetchError:
        return False


def _terminate(signum, frame):  # noqa: ARG001 - the signal handler's signature
    """SIGTERM/SIGHUP as an interruption: every ``atomic_write`` removes its temporary file."""
    raise KeyboardInterrupt(signum)


def _trap_signals() -> dict:
    old = {}
    if threading.current_thread() is not threading.main_thread():
        return old
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            try:
                old[sig] = signal.signal(sig, _terminate)
            except (ValueError, OSError):
                pass
    return old


def _restore_signals(old: dict) -> None:
    for sig, handler in old.items():
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError, TypeError):
            pass


# control characters a terminal would act on (ESC sequences, bell, C1 controls), shown as
# escapes instead; newline, tab and carriage return (progress bars) pass
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0, 9), 11, 12, *range(14, 32), 127, *range(0x80, 0xA0)]}


class _SafeStream:
    """A text stream that writes input cells (sample names, reasons) to the terminal with their
    control characters escaped; everything else is the wrapped stream's."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(text.translate(_CONTROL))

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so that the interpreter's final flush
    does not print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    old = _trap_signals()
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _SafeStream(sys.stdout), _SafeStream(sys.stderr)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.command is None:
        parser.print_help()
        return 2
    from .fetch import FetchError

    try:
        _guard_paths(args)
        if getattr(args, "accession", None) is not None:
            from .ids import normalize_accession

            try:
                args.accession = normalize_accession(args.accession)
            except ValueError as exc:
                raise _Usage(f"--accession {args.accession!r}: {exc}") from None
        commands = {"fetch": _cmd_fetch, "impact": _cmd_impact, "sites": _cmd_sites,
                    "therapies": _cmd_therapies, "evidence": _cmd_evidence,
                    "cohort": _cmd_cohort, "report": _cmd_report,
                    "view": _cmd_view,
                    "plot": _cmd_plot}
        return commands[args.command](args)
    except BrokenPipeError:  # '| head': stop quietly, as Unix tools do
        _quiet_stdout()
        return 141
    except _Usage as exc:
        print(exc.args[0] if exc.args[0].startswith("structkit") else
              f"structkit {args.command}: {exc.args[0]}", file=sys.stderr)
        return 2
    except (FetchError, ValueError, KeyError, OSError) as exc:
        if args.debug:
            raise
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        if isinstance(exc, OSError) and exc.errno in (errno.EFBIG, errno.ENOSPC, errno.EDQUOT):
            msg = (f"could not write: {exc.strerror} (a file-size limit or a full disk); nothing "
                   "was replaced")
        print(f"structkit {args.command}: {msg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        sig = exc.args[0] if exc.args and isinstance(exc.args[0], int) else signal.SIGINT
        print(f"structkit {args.command}: interrupted ({signal.Signals(sig).name}); no output "
              "was left half-written", file=sys.stderr)
        return 128 + int(sig)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback, unless --debug
        if args.debug:
            raise
        print(f"structkit {args.command}: unexpected error: {type(exc).__name__}: {exc} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return 3
    finally:
        _restore_signals(old)
        sys.stdout, sys.stderr = streams


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
