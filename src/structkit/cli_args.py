"""The grammar of the ``structkit`` command line: every subcommand's arguments, help texts and
epilogs (``build_parser``). Standard library only, so that ``structkit --help`` answers before
any science package loads."""

from __future__ import annotations

import argparse

from ._version import __version__

__all__ = ["build_parser"]


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
    _parser_cache(sub)
    return parser


def _parser_cache(sub) -> None:
    """The arguments of `structkit cache`."""
    c = sub.add_parser(
        "cache", help="what the cache's derived data holds; --prune removes what no longer reads",
        description="Derived data (parsed structures, surfaces, numbering, distances, alignment "
                    "weights, pictures) kept under <cache>/derived/ so that a fresh process does "
                    "not compute them again. Entries are keyed by structkit's version and code: "
                    "after an upgrade the old ones are never read, only kept until pruned.",
        epilog="examples:\n  structkit cache                 entries, size and stale part per kind\n"
               "  structkit cache --prune         remove the stale entries (never the ProteinMPNN "
               "scores, which\n                                  are keyed by the model, not by "
               "structkit's code)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--prune", action="store_true",
                   help="remove entries this version cannot read (other versions, older format, "
                        "damaged)")
    _add_source_args(c)


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
                         "readers (headless Chromium, a few seconds per view; kept in the "
                         "cache, so a view drawn before is not drawn again)")
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
    vw.add_argument("--supersample", action="store_true",
                    help="draw the PNG at twice the resolution and scale it down: finer thin "
                         "sticks and outlines, about 2.5x the time (default: multisampled edges)")
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
