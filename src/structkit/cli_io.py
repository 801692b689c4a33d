"""What a ``structkit`` command reads and writes, checked before any work: the session built
from its arguments (never from ``os.environ`` writes), its variants (file, command line or the
seed panel, every item kept), the alignment given with ``--msa``, the structures, and the guards
on output paths (never an input, never two outputs in one file, a suffix that fits).
``_Usage`` is a usage error: its message is printed and the exit status is 2."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__: list[str] = []


def _fetcher(args):
    """The session of one command, from its arguments (never written to os.environ)."""
    from .session import Session

    if not hasattr(args, "_session"):  # one per command: the arguments do not change
        kw = {k: getattr(args, k) for k in ("cutoff", "metal_cutoff") if hasattr(args, k)}
        args._session = Session(cache_dir=args.cache, mirror=args.mirror, offline=args.offline, **kw)
    return args._session


def _uniprot_any(fetcher, acc: str):
    from .io.fetch import FetchError

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
    from .io.variants import parse_variants

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
    from .outputs.writers import check_output

    try:
        check_output(path)
    except ValueError as exc:
        raise _Usage(str(exc)) from None


def _check_msa(path: str, batch, fetcher) -> dict:
    """--msa read before any work as an alignment of the batch's proteins: {accession: path}
    for the genes it fits (the others keep the catalog's alignment, said on stderr); exit 2
    naming why when it fits none (never a silent fallback)."""
    from .io.msa import cached_alignment
    from .io.uniprot import uniprot_record

    fits, why = {}, {}
    for acc, gene in dict.fromkeys((v.accession, v.gene) for v in batch.columns().protos):
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
    from .io.ids import normalize_pdb_id
    from .io.resolve import is_path_like, load

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
