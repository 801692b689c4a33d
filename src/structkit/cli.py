"""The ``structkit`` command line: what each command does (``_cmd_*``) and ``main``, which
dispatches, maps errors to exit statuses (2 usage, 1 data not obtained, 130/143/129 on
signals, 141 on a closed pipe) and keeps terminal output safe. The grammar is in
``cli_args``, the checks of inputs and outputs in ``cli_io``.

Size: one short function per command; the grammar (``cli_args``) and the checks of inputs and
outputs (``cli_io``) are apart.
"""

from __future__ import annotations

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
from .cli_args import build_parser
from .cli_io import (
    COHORT_SHEETS,
    _check_msa,
    _check_out,
    _fetcher,
    _guard_paths,
    _read_batch,
    _strict_check,
    _structures_arg,
    _uniprot_any,
    _Usage,
)

if TYPE_CHECKING:  # pandas loads only when a command needs it (fast --help)
    import pandas as pd


def _cmd_fetch(args) -> int:
    import pandas as pd
    from tqdm.auto import tqdm

    from .catalog import catalog
    from .io.fetch import FetchError

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
            from .io.fetch import NotAvailableOffline

            src = "not available offline" if isinstance(exc, NotAvailableOffline) else "failed"
            rows.append({"kind": kind, "id": key, "source": src, "path": str(exc)})
    df = pd.DataFrame(rows)
    print(_left(df))
    counts = df.source.value_counts().to_dict()
    print("\nsummary: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0 if df.source.isin(["cache", "mirror", "network"]).all() else 1


def _cmd_cache(args) -> int:
    from .io.derived import DERIVED_FOLDER, inventory, prune

    cache = _fetcher(args).cache_dir
    rows = inventory(cache)
    mib = 1 << 20
    print(f"# derived data under {Path(cache) / DERIVED_FOLDER} (structkit {__version__})")
    if not rows:
        print("no derived data yet")
        return 0
    print(f"{'kind':<20} {'files':>7} {'MiB':>9} {'stale files':>12} {'stale MiB':>10}")
    for r in rows:
        note = "  (kept across versions)" if r["kept_across_versions"] else ""
        print(f"{r['kind']:<20} {r['files']:>7} {r['bytes'] / mib:>9.1f} {r['stale_files']:>12} "
              f"{r['stale_bytes'] / mib:>10.1f}{note}")
    if args.prune:
        n, size = prune(cache)
        print(f"removed {n} stale files ({size / mib:.1f} MiB)")
    elif any(r["stale_files"] for r in rows):
        print("stale: written by another structkit version or code, an older format, or damaged; "
              "--prune removes them")
    return 0


def _cmd_impact(args) -> int:
    from .outputs.impact import STREAM_SUFFIXES, impact_table, summarize, write_impact, write_table

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
          f"({len(batch)} variants, {batch.n_distinct} distinct)")
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

    from .io.files import atomic_write, sha256_file

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
        f"input items: {batch.n_rows}; variants: {len(batch)} ({batch.n_distinct} "
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

    from .judge.verdict import variant_keys
    from .outputs.impact import STATUSES

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
    from .analysis.structure_analysis import analyze
    from .outputs.view import save_html, save_png, view_variants

    if not args.html and not args.png:
        raise _Usage("structkit view: give --html FILE and/or --png FILE")
    a = analyze(args.structure, fetcher=_fetcher(args))
    v = view_variants(a, args.variants, site=args.site, width=args.width, height=args.height,
                      title=args.title, orient=args.orient, zoom=args.zoom)
    if args.html:
        save_html(v, args.html, embed=True, title=args.title or f"structkit view {a.structure.id}")
        print(f"wrote {args.html}", file=sys.stderr)
    if args.png:
        save_png(v, args.png, cache_dir=_fetcher(args).cache_dir, supersample=args.supersample)
        print(f"wrote {args.png}", file=sys.stderr)
    return 0


def _cmd_report(args) -> int:
    from .outputs.report import report

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
    from .outputs.cohort import cohort_tables
    from .outputs.impact import impact_table, summarize, write_table

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
        from .io.variants import read_text

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
            from .io.files import atomic_write_many

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
    from .judge.therapy import drug_table, therapy_matrix
    from .outputs.impact import write_table

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
    from .io.evidence import known_evidence
    from .outputs.impact import write_table

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
    from .analysis.structure_analysis import analyze
    from .io.resolve import is_path_like, load
    from .outputs.impact import write_table

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
    from .outputs.plots import distance_profile, lollipop

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
        from .outputs.plots import therapy_heatmap

        fig = therapy_heatmap(args.input, approved_only=not args.all_drugs)
    else:
        fig = distance_profile(args.input)
    from .io.files import atomic_write

    out = Path(args.out)
    with atomic_write(out) as tmp:
        fig.savefig(tmp, dpi=200, format=out.suffix.lstrip(".").lower() or "png")
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _available(entry, fetcher) -> bool:
    from .io.fetch import FetchError

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
    from .io.fetch import FetchError

    try:
        _guard_paths(args)
        if getattr(args, "accession", None) is not None:
            from .io.ids import normalize_accession

            try:
                args.accession = normalize_accession(args.accession)
            except ValueError as exc:
                raise _Usage(f"--accession {args.accession!r}: {exc}") from None
        commands = {"fetch": _cmd_fetch, "impact": _cmd_impact, "sites": _cmd_sites,
                    "therapies": _cmd_therapies, "evidence": _cmd_evidence,
                    "cohort": _cmd_cohort, "report": _cmd_report,
                    "view": _cmd_view,
                    "plot": _cmd_plot, "cache": _cmd_cache}
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


def run() -> None:
    """The ``structkit`` program: ``main()``, then exit with its status. Before exiting, the
    objects the command made are moved out of the cyclic collector's sight (``gc.freeze``):
    the interpreter's last collection would otherwise walk all of them only to exit (about
    70 ms of a one-off command; reference counting and atexit handlers work as usual). For
    calls from Python (tests, notebooks) use ``main()``, which leaves the collector alone."""
    import gc

    status = main()
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
