"""Reading the variant files users give: MAF, CSV or TSV (optionally gzipped), with or without
a header, UTF-8 (a byte-order mark dropped) or Latin-1 (said), cells and rows capped, decompressed
as a stream with a size cap. Each data row becomes an ``InputRow`` (row, gene, change, sample,
classification); what a change means is ``structkit.io.variants``' business. ``VariantError`` (a
variant or an input that cannot be read) lives here, the floor below ``variants``."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path

from .integrity import IntegrityError, gunzip_if_needed

__all__ = ["VariantError", "InputRow", "read_text", "read_variant_file", "iter_variant_file",
           "raw_batches", "file_cells", "file_sample",
           "MAX_INPUT_BYTES", "MAX_INPUT_ROWS", "MAX_CELL"]


MAX_CELL = 1 << 20  # characters of one CSV/TSV cell


MAX_INPUT_ROWS = 5_000_000  # rows of one input file: memory stays bounded (about 1 GB parsed)


class VariantError(ValueError):
    """A variant string could not be parsed or does not fit its protein."""


_CHANGE_COLS = ("hgvsp_short", "protein_change", "hgvsp", "amino_acid_change", "aachange",
                "variant", "mutation", "change", "protein")


_GENE_COLS = ("hugo_symbol", "gene", "gene_symbol", "symbol")


_SAMPLE_COLS = ("tumor_sample_barcode", "sample", "sample_id", "sample_barcode", "patient")


_CLASS_COLS = ("variant_classification", "consequence_class")


_GENOMIC_COLS = ("chromosome", "chrom", "start_position", "reference_allele", "tumor_seq_allele2",
                 "pos", "ref", "alt")


_CHANGE_LIKE = re.compile(r"^(p\.)?[A-Z*][a-z]{0,2}[0-9]+")


MAX_INPUT_BYTES = 1 << 30  # 1 GiB of (decompressed) text: larger inputs are refused, not read


# MAF Variant_Classification -> what the row is, when the protein change alone cannot say
_NONCODING = {"intron", "igr", "5'flank", "3'flank", "5'utr", "3'utr", "rna", "lincrna",
              "targeted_region", "silent_intron"}


class InputRow(tuple):
    """(row, gene, change, sample, classification) of one input row."""

    __slots__ = ()

    def __new__(cls, row: int, gene: str | None, change: str, sample: str | None = None,
                classification: str | None = None):
        return super().__new__(cls, (row, gene, change, sample, classification))

    row = property(lambda self: self[0])
    gene = property(lambda self: self[1])
    change = property(lambda self: self[2])
    sample = property(lambda self: self[3])
    classification = property(lambda self: self[4])


def read_text(path: str | Path, limit: int = MAX_INPUT_BYTES, notes: list | None = None) -> str:
    """The text of an input file (plain or gzip), decompressed as a stream with a size cap:
    UTF-8 (a byte-order mark dropped), else Latin-1, said in ``notes``.

    Raises ``FileNotFoundError`` for a missing path, ``VariantError`` naming the file for a
    directory, a binary file, a truncated gzip stream or text beyond ``limit`` bytes.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"input file {p} does not exist")
    if not p.is_file():
        raise VariantError(f"input {p} is not a regular file")
    if p.stat().st_size > limit:
        raise VariantError(f"input {p}: more than {limit >> 20} MiB; split the file")
    try:  # the one gzip reader of the package: streamed, capped, damage named
        raw = gunzip_if_needed(p.read_bytes(), f"input {p}", limit)
    except IntegrityError as exc:
        raise VariantError(f"{exc}; split or repair the file") from None
    if b"\x00" in raw[:65536]:
        raise VariantError(f"input {p}: binary content (NUL bytes); expected a MAF, CSV or TSV "
                           "text table, optionally gzipped")
    try:  # UTF-8, with or without a byte-order mark
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if notes is not None:
            notes.append(f"input {p}: not UTF-8 (byte {exc.start + 1}); read as Latin-1")
        return raw.decode("latin-1")


def read_variant_file(path: str | Path, sample_column: str | None = None,
                      notes: list | None = None, max_rows: int = MAX_INPUT_ROWS) -> list[InputRow]:
    """Rows (``row``, ``gene``, ``change``, ``sample``, ``classification``) of a CSV/TSV/MAF.

    ``row`` is the 1-based line where the row starts (quoted fields may hold newlines; only
    ``\n``/``\r`` end a line). Recognised columns: gene from Hugo_Symbol/gene/symbol; change from
    HGVSp_Short, Protein_Change, HGVSp, variant, mutation or change; sample from
    Tumor_Sample_Barcode/sample (or ``sample_column``); MAF Variant_Classification. Headerless
    tables (such as the cancer-hotspots TSV) are read by finding the column of gene symbols and
    the column of protein changes. Rows starting with ``#`` and empty lines are skipped; a row
    of empty fields is kept (and rejected later); more than ``max_rows`` rows is an error (split
    the file: memory stays bounded). In a file with a gene column, an empty gene
    cell is ``''`` (never a gene to infer). Malformed CSV (a quote never closed, a cell over
    ``MAX_CELL`` characters) is a ``VariantError`` naming the line.
    """
    return list(iter_variant_file(path, sample_column, notes, max_rows))


HEAD_ROWS = 200  # rows read ahead to find the columns of a headerless table


def iter_variant_file(path: str | Path, sample_column: str | None = None,
                      notes: list | None = None,
                      max_rows: int = MAX_INPUT_ROWS) -> Iterator[InputRow]:
    """``read_variant_file`` as a stream: the rows are made one at a time, each distinct cell
    text held once (a 1M-row cohort repeats a few thousand genes and changes), so a large file
    never holds its parsed cells at once (1M rows: about 0.5 GB less). A bad file raises as
    soon as its columns are known; a malformed row further on raises when it is reached."""
    (gcol, ccol, scol, kcol), batches = raw_batches(path, sample_column, notes, max_rows)
    held: dict[str, str] = {}

    def hold(v):  # one string object per distinct text
        return held.setdefault(v, v) if v else v

    for lines, rows in batches:
        for i, r in zip(lines, rows, strict=True):
            g, c, k = file_cells(None if gcol is None else r[gcol], r[ccol],
                                 None if kcol is None else r[kcol])
            s = None if scol is None else file_sample(r[scol])
            yield InputRow(i, hold(g), hold(c), hold(s), hold(k))


def file_cells(gene: str | None, change: str, classification: str | None
               ) -> tuple[str | None, str, str | None]:
    """What a file row's cells mean, from the cells as read (None: the file has no such
    column): stripped; a gene column's empty cell is '' (never a gene to infer), an empty
    classification None."""
    return (None if gene is None else gene.strip(), change.strip(),
            (classification.strip() or None) if classification is not None else None)


def file_sample(cell: str | None) -> str | None:
    """A file's sample cell, stripped; None when there is none or it is empty."""
    return (cell.strip() or None) if cell is not None else None


def raw_batches(path: str | Path, sample_column: str | None = None, notes: list | None = None,
                max_rows: int = MAX_INPUT_ROWS
                ) -> tuple[tuple[int | None, int, int | None, int | None],
                           Iterator[tuple[Sequence[int], list[list[str]]]]]:
    """The columns of a variant file (gene, change, sample, classification; None for one it
    lacks) and its data rows as they are in the file (cells not stripped), a few thousand at a
    time as (lines, rows): each row at least as long as the columns need ('' added). What
    ``iter_variant_file`` reads, and ``parse_variants``, which strips and parses each distinct
    cell once (per row only the csv module and list-wide steps run). A bad file raises here,
    as soon as its columns are known; a malformed row further on when it is reached."""
    p = Path(path)
    batches = _csv_batches(p, read_text(p, notes=notes), max_rows)
    head_lines: list[int] = []
    head: list[list[str]] = []  # the header and enough rows to find columns
    for lines, rows in batches:
        head_lines += lines
        head += rows
        if len(head) > HEAD_ROWS:
            break
    if not head:
        return (None, 0, None, None), iter(())
    header = [h.strip().lower() for h in head[0]]

    def col(names) -> int | None:
        return next((header.index(c) for c in names if c in header), None)

    gcol, ccol = col(_GENE_COLS), col(_CHANGE_COLS)
    scol = col((sample_column.lower(),) if sample_column else _SAMPLE_COLS)
    if sample_column and scol is None:
        raise VariantError(f"{p}: no column {sample_column!r}; columns are {', '.join(head[0])}")
    kcol = col(_CLASS_COLS)
    if ccol is None and len(header) == 1:  # a plain list, one variant per line
        return (None, 0, None, None), chain([(head_lines, head)], batches)
    if ccol is None and gcol is not None and any(c in header for c in _GENOMIC_COLS):
        raise VariantError(
            f"{p}: no column of protein changes; found {', '.join(head[0])} (genomic "
            "coordinates only). structkit places protein changes: annotate the file first (e.g. "
            "Ensembl VEP with --hgvs and vcf2maf, or maftools/ANNOVAR) to add HGVSp_Short or "
            "Protein_Change")
    if ccol is None:  # headerless: find the columns by their content
        gcol, ccol, kcol = _columns_by_content(p, head)
        body = chain([(head_lines, head)], batches)
    else:
        body = chain([(head_lines[1:], head[1:])], batches)
    cols = (gcol, ccol, scol, kcol)
    return cols, _padded(body, max(c for c in cols if c is not None) + 1)


def _padded(batches, need: int) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
    """``batches`` with each row at least ``need`` cells long (short rows get '')."""
    for lines, rows in batches:
        if rows and min(map(len, rows)) < need:
            rows = [r if len(r) >= need else r + [""] * (need - len(r)) for r in rows]
        if rows:
            yield lines, rows


def _csv_batches(p: Path, text: str, max_rows: int
                 ) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
    """(lines where the rows start, rows of cells) of the table ``text``, a few thousand rows
    at a time: delimiter from the first non-comment line, comment lines and empty rows
    skipped, at most the header and ``max_rows`` rows (a ``VariantError`` naming the first
    line over), cells of at most ``MAX_CELL`` characters."""
    lines = (m.group() for m in re.finditer(r"[^\r\n]+", text))  # lazily: only the first is needed
    first = next((ln for ln in lines if ln.strip() and not ln.startswith("#")), None)
    if first is None:
        return
    delim = "\t" if "\t" in first else ","
    simple = '"' not in text  # no quoted cell: each row is one line
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    del text, lines  # the reader holds its own copy
    n = 0  # rows kept so far, the header included
    for starts, rows in _limited(reader, p, simple):
        if n == 0:  # before the header, any row whose first cell starts with '#' is a comment
            k = 0
            while k < len(rows) and (not rows[k] or rows[k][0].startswith("#")):
                k += 1
            starts, rows = starts[k:], rows[k:]
        if rows and min(map(len, rows)) < 2:  # empty rows, one-cell comment rows: dropped
            keep = [k for k, r in enumerate(rows)
                    if r and not (len(r) == 1 and r[0].startswith("#"))]
            starts, rows = [starts[k] for k in keep], [rows[k] for k in keep]
        room = max_rows + 1 - n
        if len(rows) > room:
            if room:
                yield starts[:room], rows[:room]
            raise VariantError(f"input {p}: more than {max_rows:,} rows (line {starts[room]}); "
                               "split the file")
        n += len(rows)
        if rows:
            yield starts, rows


READ_BATCH = 4096  # rows the csv module reads at a time (each read with the cell limit set)


def _limited(reader, p: Path, simple: bool = False, batch: int | None = None
             ) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
    """(lines where the rows start, rows) of ``reader``, at most ``batch`` rows at a time, each
    batch read with the cell limit ``MAX_CELL`` in force (the csv module's limit is
    process-wide: set around each read, never while this generator is suspended). ``simple``:
    the text has no quote, so each row is one line (the lines are counted, not asked per row).
    A malformed table is a ``VariantError`` naming the line where the bad row starts, after
    the good rows before it."""
    batch = batch or READ_BATCH
    start = 1
    while True:
        rows: list[list[str]] = []
        starts: list[int] = []
        limit = csv.field_size_limit(MAX_CELL)
        try:
            if simple:
                for r in reader:
                    rows.append(r)
                    if len(rows) == batch:
                        break
            else:
                for r in reader:
                    rows.append(r)
                    starts.append(start)
                    start = reader.line_num + 1
                    if len(rows) == batch:
                        break
        except csv.Error as exc:
            bad = start + len(rows) if simple else start
            error = VariantError(f"input {p}, line {bad}: {exc} (a quote never closed, or a "
                                 f"cell over {MAX_CELL} characters?)")
        else:
            error = None
        finally:
            csv.field_size_limit(limit)
        if simple:
            lines: Sequence[int] = range(start, start + len(rows))
            start += len(rows)
        else:
            lines = starts
        if rows:
            yield lines, rows
        if error is not None:
            raise error from None
        if len(rows) < batch:
            return


def _columns_by_content(p: Path, rows) -> tuple[int | None, int, int | None]:
    """(gene, change, classification) columns of a headerless table, from the first 200 rows'
    cells: the column most of whose cells look like protein changes (at least half), of gene
    symbols (at least half) and of MAF classifications (at least 80 %)."""
    sample = rows[:200]
    ncol = max(len(r) for r in sample)

    def frac(j: int, pat: re.Pattern) -> float:
        vals = [r[j].strip() for r in sample if len(r) > j]
        return sum(bool(pat.match(v)) for v in vals) / max(len(vals), 1)

    scores = [frac(j, _CHANGE_LIKE) for j in range(ncol)]
    ccol = max(range(ncol), key=lambda j: scores[j])
    if scores[ccol] < 0.5:
        raise VariantError(f"{p}: no column of protein changes found; expected a header with "
                           "HGVSp_Short, Protein_Change or variant (first row: "
                           f"{', '.join(rows[0])[:200]})")
    sym = re.compile(r"^[A-Z][A-Z0-9-]{1,15}$")
    gscores = [frac(j, sym) if j != ccol else 0 for j in range(ncol)]
    gcol = max(range(ncol), key=lambda j: gscores[j]) if max(gscores) >= 0.5 else None
    kinds = re.compile(r"^[A-Z][a-z]+(?:_[A-Za-z]+)+$|^(?:Silent|Intron|IGR|RNA|DEL|INS)$")
    kscores = [frac(j, kinds) if j not in (ccol, gcol) else 0 for j in range(ncol)]
    kcol = max(range(ncol), key=lambda j: kscores[j]) if max(kscores) >= 0.8 else None
    return gcol, ccol, kcol
