"""Writing tables: CSV/TSV/XLSX/Parquet/Markdown/HTML (``write_table``), the impact table
streamed in chunks of input rows (``write_impact``), spreadsheet-safe cells
(``neutralise_cells``) and the provenance sheet. Every file goes through ``files.atomic_write``.

Size: the writers share the neutralisation of cells and the column types (``_arrow``);
streaming, which is most of the module, only makes sense beside them.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._version import __version__
from ..analysis.columns import COLUMNS
from ..analysis.table import _compute
from ..keywords import accepts_session

if TYPE_CHECKING:
    from ..io.fetch import Fetcher

__all__ = ["write_table", "write_impact", "neutralise_cells", "provenance", "STREAM_SUFFIXES"]

_FORMULA = re.compile(r"^[=+@\t\r]|^-(?![0-9.]+$).")  # what spreadsheets may run as a formula
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if df[c].dtype == object or isinstance(df[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(df[c].dtype)]


def _neutral(v: str) -> str:
    """``v`` with a leading apostrophe when a spreadsheet could run it as a formula."""
    return "'" + v if _FORMULA.match(v) else v


def neutralise_cells(df: pd.DataFrame, xml: bool = False) -> pd.DataFrame:
    """A copy whose text cells cannot run in a spreadsheet: a cell starting with ``=``, ``+``,
    ``@``, a tab or CR, or ``-`` followed by something other than a number, gets a leading
    apostrophe (OWASP CSV-injection advice); with ``xml`` the characters XML forbids (control
    characters) are removed. Column names are treated the same way. Numbers and other cells are
    unchanged. Categorical columns are
    fixed through their categories (one check per distinct value)."""

    def fix(v):
        if not isinstance(v, str):
            return v
        if xml:
            v = _XML_ILLEGAL.sub("", v)
        return _neutral(v)

    def bad(v) -> bool:
        return isinstance(v, str) and (bool(_FORMULA.match(v)) or (xml and bool(_XML_ILLEGAL.search(v))))

    out = df.copy()
    out.attrs = dict(df.attrs)
    for c in _text_columns(df):
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = list(s.cat.categories)
            if any(map(bad, cats)):
                new = [fix(v) for v in cats]
                if len(set(new)) == len(new):
                    out[c] = s.cat.rename_categories(new)
                else:  # two categories became one: rebuild the column
                    out[c] = s.astype(object).map(fix)
            continue
        vals = s.astype(object).to_numpy()
        if any(map(bad, vals)):
            out[c] = [fix(v) for v in vals]
    names = [fix(c) if isinstance(c, str) else c for c in out.columns]  # headers are cells too
    if names != list(out.columns) and len(set(names)) == len(names):
        out.columns = names
    return out


def _markdown_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells with Markdown/HTML specials escaped (``|``, ``<``, ``>``, ``&``, backticks,
    newlines), so a label cannot break the table or inject HTML."""
    out = df.copy()
    for c in _text_columns(df):
        out[c] = [(v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                   .replace("|", "\\|").replace("`", "\\`").replace("\r", " ").replace("\n", " "))
                  if isinstance(v, str) else v for v in df[c].astype(object)]
    return out


STREAM_SUFFIXES = (".parquet", ".csv", ".tsv")


@accepts_session
def write_impact(variants, path: str | Path, structures=None, cutoff: float | None = None, *,
                 metal_cutoff: float | None = None, family: bool = True,
                 damage: bool = True, fetcher: Fetcher | None = None, progress: bool = False,
                 chunk_rows: int = 50_000, summary: bool = False, msa=None,
                 stability: str | None = None):
    """Compute the impact table and stream it to a file, in chunks of input rows.

    Memory is bounded by the distinct variants, not by rows x structures. The file holds
    exactly what ``write_table(impact_table(...))`` would, written atomically: Parquet as one
    row group per ``chunk_rows`` input rows; CSV/TSV by pyarrow's CSV writer, as ``write_table``
    writes the neutralised table, chunk by chunk (the distinct rows taken per input row).

    Parameters
    ----------
    variants, structures, cutoff, metal_cutoff, family, damage, fetcher, progress, stability
        As for ``impact_table``.
    path : str or Path
        The output: ``.parquet``, ``.csv`` or ``.tsv``.
    chunk_rows : int
        Input rows per chunk.
    summary : bool
        Also return ``summarize(distinct, msa=msa, fetcher=fetcher)``, computed while the
        file is being written (the writing runs in a second thread, mostly outside the GIL).
    msa : str or Path, optional
        For the summary, as in ``summarize``.

    Returns
    -------
    pandas.DataFrame or (DataFrame, DataFrame)
        The distinct table (``impact_table(..., distinct=True)``, what ``summarize`` needs),
        and with ``summary=True`` the summary too.
    """
    from ..io.store import session_of

    fetcher = session_of(fetcher)
    with fetcher.lock:  # threads sharing a session take turns (see Fetcher.lock)
        return _write_impact(variants, path, structures, cutoff, metal_cutoff, family, damage,
                             fetcher, progress, chunk_rows, summary, msa, stability)


def _write_impact(variants, path, structures, cutoff, metal_cutoff, family, damage, fetcher,
                  progress, chunk_rows, summary, msa, stability=None):
    from concurrent.futures import ThreadPoolExecutor

    from ..io.files import atomic_write

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in STREAM_SUFFIXES:
        raise ValueError(f"output {p}: streaming writes {', '.join(STREAM_SUFFIXES)}, not {suffix!r}")
    parts = _compute(variants, structures, cutoff, metal_cutoff, family, damage, fetcher, progress,
                     stability)
    distinct = parts.distinct_frame()
    if suffix == ".parquet":
        job = (_write_parquet_rows, _ArrowRows(parts, distinct), chunk_rows)
    else:  # everything that touches the session's codebook is done here, in this thread
        job = (_write_text_rows, _TextRows(parts, distinct, "\t" if suffix == ".tsv" else ","),
               chunk_rows)
    result = None
    stop = threading.Event()  # set when this thread fails or is interrupted: the writer stops
    with atomic_write(p) as tmp, ThreadPoolExecutor(1, thread_name_prefix="structkit") as pool:
        done = pool.submit(job[0], job[1], tmp, job[2], stop)
        try:
            if summary:
                from ..judge.summary import summarize

                result = summarize(distinct, msa=msa, fetcher=fetcher)
            done.result()
        except BaseException:
            stop.set()  # the writer ends at its next chunk; the temporary file is removed
            raise
    return (distinct, result) if summary else distinct


class _Stopped(Exception):
    """The writer was told to stop (the caller failed or was interrupted)."""


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise _Stopped("stopped")


STAT_COLUMNS = ("gene", "pdb_id", "chain", "status", "site_kind")


class _ArrowRows:
    """What Parquet streaming needs, built once: the distinct rows as a pyarrow table (types as
    ``_arrow`` gives them for the full table), the samples as a dictionary, the unplaced rows."""

    def __init__(self, parts, distinct: pd.DataFrame, neutralise: bool = False) -> None:
        import pyarrow as pa

        self.parts = parts
        self.distinct = _arrow(distinct[COLUMNS]) if len(distinct) else None
        # pandas' own description of the columns (what to_parquet keeps): nullable integers
        # and booleans read back as Int64 and boolean, not float64 and object
        self.pandas_metadata = pa.Schema.from_pandas(distinct[COLUMNS].iloc[:0],
                                                     preserve_index=False).metadata
        # code 0 (None) becomes a missing value, code c >= 1 index c - 1 of unique values
        samples = parts.book["sample"].values[1:]
        self.sample_values = pa.array([v if v is None else _neutral(v) for v in samples]
                                      if neutralise else samples, type=pa.string())
        unplaced = parts.unplaced_frame()
        if neutralise and len(unplaced):
            unplaced = neutralise_cells(unplaced)
        self.unplaced = _arrow(unplaced) if len(unplaced) else None

    def expand(self, lo: int, hi: int):
        """The table of the variants ``lo:hi``: distinct rows taken per output row."""
        return self.take(*self.parts.expanded_index(lo, hi))

    def slices(self, lo: int, hi: int, max_rows: int):
        """``expand(lo, hi)`` in the same row order, as tables of at most ``max_rows`` rows
        (so that a chunk of a large cohort is never held whole: 1.1M rows x 56 columns are
        about 320 MB)."""
        rows, codes, d = self.parts.expanded_index(lo, hi)
        for a in range(0, len(rows), max(max_rows, 1)):
            z = slice(a, a + max_rows)
            yield self.take(rows[z], codes[z], d[z])

    def take(self, rows, codes, d):
        """The output rows whose input rows, sample codes and distinct rows are given."""
        import pyarrow as pa

        runs = _runs(d)  # a distinct row is repeated for every input row that names it
        take = pa.array(d) if runs is None else None
        cols = []
        for f in self.distinct.schema:
            if f.name == "input_row":
                cols.append(pa.array(rows, type=pa.int64()))
            elif f.name == "sample":  # the rows' own samples: a dictionary Parquet keeps
                used = np.bincount(codes, minlength=len(self.sample_values) + 1) > 0
                used[0] = False
                remap = (np.cumsum(used) - 1).astype(np.int32)
                cols.append(pa.DictionaryArray.from_arrays(
                    pa.array(remap[codes], type=pa.int32(), mask=codes == 0),
                    self.sample_values.take(pa.array(np.flatnonzero(used[1:])))))
            elif runs is None:
                cols.append(self.distinct.column(f.name).take(take))
            else:
                cols.append(_repeated(self.distinct.column(f.name), *runs))
        return pa.Table.from_arrays(cols, schema=self.distinct.schema)


def _runs(d: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(first value, length) of each run of equal values of ``d``, or None when runs are too
    short to pay (fewer than 4 values a run on average)."""
    if len(d) < 2:
        return None
    starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
    if len(starts) * 4 > len(d):
        return None
    return d[starts], np.diff(np.r_[starts, len(d)])


def _repeated(col, at: np.ndarray, counts: np.ndarray):
    """``col.take`` of ``at`` with each value repeated ``counts`` times (the same array, made
    by NumPy repeats of the taken values: a third less time than a take of every row)."""
    import pyarrow as pa

    small = col.take(pa.array(at))
    if isinstance(small, pa.ChunkedArray):
        small = small.combine_chunks()
    mask = np.repeat(small.is_null().to_numpy(zero_copy_only=False), counts) \
        if small.null_count else None
    if pa.types.is_dictionary(small.type):
        idx = np.repeat(small.indices.fill_null(0).to_numpy(), counts)
        return pa.DictionaryArray.from_arrays(pa.array(idx, type=small.indices.type, mask=mask),
                                              small.dictionary, safe=False)
    if mask is not None:
        small = small.fill_null(False if pa.types.is_boolean(small.type) else 0)
    return pa.array(np.repeat(small.to_numpy(zero_copy_only=False), counts), type=small.type,
                    mask=mask)


PARQUET_GROUP_ROWS = 1 << 18  # output rows per row group (a 1M-row cohort: 22.7M rows, 87 groups)


def _write_parquet_rows(rows: _ArrowRows, path, chunk_rows: int,
                        stop: threading.Event | None = None) -> None:
    """Parquet: one row group per chunk of input rows, then the unplaced rows; each chunk is
    the distinct rows taken per input row (pyarrow), never a pandas frame."""
    import pyarrow.parquet as pq

    first = rows.distinct if rows.distinct is not None else rows.unplaced
    if first is None:  # nothing at all: an empty table with the columns
        write_table(pd.DataFrame(columns=COLUMNS), path)
        return
    import pyarrow as pa

    schema = first.schema.with_metadata(rows.pandas_metadata)
    # min/max statistics (what DuckDB or Polars use to skip row groups) for the numbers and
    # the key columns a query filters on; on every text column they would double the time
    stats = [f.name for f in schema if not pa.types.is_dictionary(f.type)] + list(STAT_COLUMNS)
    # mini-batches of 16,384 values (1,024 by default): fewer calls per column chunk
    with pq.ParquetWriter(path, schema, write_statistics=stats, write_batch_size=1 << 14) as writer:
        if rows.distinct is not None:
            n = rows.parts.n_variants
            parts = (part for lo in range(0, n, max(chunk_rows, 1))
                     for part in rows.slices(lo, min(lo + chunk_rows, n), PARQUET_GROUP_ROWS))
            for part in _ahead(parts):
                _check(stop)
                writer.write_table(part)
        if rows.unplaced is not None:
            tbl = rows.unplaced
            writer.write_table(tbl.cast(schema) if tbl.schema != schema else tbl)


def _ahead(items):
    """``items`` in order, the next one made by a second thread while the caller works on
    the current one. For Parquet slices: pyarrow's take (about 4 s of a 1M-row cohort) runs
    beside the encoding (about 9 s), both outside the GIL, holding one more slice (~80 MB)."""
    from concurrent.futures import ThreadPoolExecutor

    end = object()
    with ThreadPoolExecutor(1, thread_name_prefix="structkit-take") as pool:
        nxt = pool.submit(next, items, end)
        while True:
            item = nxt.result()
            if item is end:
                return
            nxt = pool.submit(next, items, end)
            yield item


TEXT_BATCH_LINES = 1 << 18  # lines joined per write (about 100 MB of impact-table text)


class _TextRows(_ArrowRows):
    """What CSV/TSV streaming needs: ``_ArrowRows`` over the neutralised distinct rows and
    samples (no cell a spreadsheet could run), the delimiter, the header line, and, when no
    cell holds a line break, each distinct row's text after ``input_row`` and ``sample``
    (``rest``) and each sample's cell (``cells``), rendered once by pyarrow's CSV writer."""

    def __init__(self, parts, distinct: pd.DataFrame, delimiter: str) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        assert COLUMNS[:2] == ["input_row", "sample"]
        super().__init__(parts, neutralise_cells(distinct) if len(distinct) else distinct,
                         neutralise=True)
        self.delimiter = delimiter
        head = pa.BufferOutputStream()
        pacsv.write_csv(pa.schema([pa.field(c, pa.string()) for c in COLUMNS]).empty_table(),
                        head, write_options=pacsv.WriteOptions(delimiter=delimiter))
        self.header = head.getvalue().to_pybytes()
        self.rest = self.cells = None
        if self.distinct is not None:
            self.rest = _lines(self.distinct.drop_columns(["input_row", "sample"]), delimiter)
            samples = pa.table({"s": pa.concat_arrays([pa.nulls(1, pa.string()),
                                                       self.sample_values])})
            lines = _lines(samples, delimiter)
            self.cells = None if lines is None else _strip_newline(lines)


def _strip_newline(lines):
    """``lines`` without their final newline."""
    import pyarrow.compute as pc

    return pc.utf8_slice_codeunits(lines, 0, -1)


def _csv_options(delimiter: str, header: bool = False):
    import pyarrow.csv as pacsv

    return pacsv.WriteOptions(delimiter=delimiter, quoting_style="needed", include_header=header)


def _lines(tbl, delimiter: str):
    """Each row of ``tbl`` as pyarrow's CSV writer renders it (newline included), or None when
    a cell holds a line break (then rows cannot be told apart in the text)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    buf = pa.BufferOutputStream()
    pacsv.write_csv(tbl, buf, write_options=_csv_options(delimiter))
    parts = pc.split_pattern(pa.array([buf.getvalue().to_pybytes()], pa.binary()), b"\n")
    pieces = parts.flatten()
    if len(pieces) != tbl.num_rows + 1:
        return None
    return pc.binary_join_element_wise(pieces.slice(0, tbl.num_rows).cast(pa.string()), "\n", "")


def _write_text_rows(rows: _TextRows, path, chunk_rows: int,
                     stop: threading.Event | None = None) -> None:
    """Write the expanded table as CSV/TSV, what pyarrow's CSV writer (``quoting_style=
    'needed'``, as ``write_table`` uses it) writes for the neutralised table, chunk by chunk
    of input rows and never as a pandas frame. Each distinct row and each sample is rendered
    once by pyarrow and the lines are joined per input row (half the CPU of rendering every
    row: 100k rows of benchmarks/bench_cohort.py, 1.4 GB, 4.4-5.6 s user CPU against 9.9 s);
    when a cell holds a line break, pyarrow renders every row. Each batch is written by a
    second thread while the next is joined."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    first = rows.distinct if rows.distinct is not None else rows.unplaced
    pending = None  # the previous batch's write, done by a second thread (outside the GIL)
    with open(path, "wb") as fh, ThreadPoolExecutor(1, thread_name_prefix="structkit-w") as io:
        fh.write(rows.header)
        if rows.distinct is not None:
            n = rows.parts.n_variants
            joined = rows.rest is not None and rows.cells is not None
            writer = None if joined else pacsv.CSVWriter(fh, first.schema,
                                                         write_options=_csv_options(rows.delimiter))
            for lo in range(0, n, max(chunk_rows, 1)):
                _check(stop)
                if writer is not None:
                    writer.write_table(rows.expand(lo, min(lo + chunk_rows, n)))
                    continue
                input_rows, codes, d = rows.parts.expanded_index(lo, min(lo + chunk_rows, n))
                for a in range(0, len(input_rows), TEXT_BATCH_LINES):  # < 2 GB per string array
                    z = slice(a, a + TEXT_BATCH_LINES)
                    text = pc.binary_join_element_wise(
                        pc.cast(pa.array(input_rows[z]), pa.string()),
                        rows.cells.take(pa.array(codes[z])), rows.rest.take(pa.array(d[z])),
                        rows.delimiter)
                    whole = pa.ListArray.from_arrays(pa.array([0, len(text)], pa.int32()), text)
                    buf = pc.binary_join(whole, "")[0].as_buffer()  # one string, one write
                    if pending is not None:
                        pending.result()
                    pending = io.submit(fh.write, buf)
            if pending is not None:
                pending.result()
            if writer is not None:
                writer.close()
        if rows.unplaced is not None:
            tbl = rows.unplaced
            pacsv.write_csv(tbl.cast(first.schema) if tbl.schema != first.schema else tbl, fh,
                            write_options=_csv_options(rows.delimiter))


def _arrow(df: pd.DataFrame):
    """A pyarrow table with one type per column whatever the chunk holds: categoricals as
    dictionary<int32, string> (pyarrow's CSV writer writes their values), nullable ints as
    int64, booleans, floats with NaN as null (an empty cell in CSV/TSV, like missing text)."""
    import pyarrow as pa

    cols, fields = [], []
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes = s.cat.codes.to_numpy().astype(np.int32)
            cats = pa.array(s.cat.categories.astype(str).tolist(), type=pa.string())
            arr = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), cats)
        elif pd.api.types.is_integer_dtype(s.dtype):
            arr = pa.array(s.to_numpy(dtype=np.int64, na_value=0), type=pa.int64(),
                           mask=s.isna().to_numpy())
        elif pd.api.types.is_bool_dtype(s.dtype):
            arr = pa.array(s.to_numpy(dtype=bool, na_value=False), type=pa.bool_(),
                           mask=s.isna().to_numpy())
        elif pd.api.types.is_float_dtype(s.dtype):  # NaN is missing: an empty cell, as for text
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            arr = pa.array(v, type=pa.float64(), mask=np.isnan(v))
        else:
            arr = pa.array([x if isinstance(x, str) else None for x in s.astype(object)],
                           type=pa.string())
        cols.append(arr)
        fields.append(pa.field(c, arr.type))
    return pa.Table.from_arrays(cols, schema=pa.schema(fields))


def provenance(df: pd.DataFrame, *others: pd.DataFrame) -> pd.DataFrame:
    """Key/value rows saying how a table was made: structkit and package versions, cut-offs,
    methods, the command line, the data releases (``attrs`` of ``df`` and of the ``others``
    written beside it: Cancer Hotspots, CIViC) and every structure file the table used with its
    SHA-256."""
    import platform
    import sys

    from ..io.files import sha256_file

    rows = [("structkit_version", __version__), ("python", platform.python_version()),
            ("pandas", pd.__version__), ("numpy", np.__version__),
            ("command", " ".join(sys.argv) if sys.argv and sys.argv[0] else ""),
            ("positions", "UniProt numbering; author_num as in each structure file"),
            ("distances", "minimum heavy-atom distances in A; sites from the complexes"),
            ("secondary structure", "DSSP 8-state (structkit.analysis.dssp; Kabsch and Sander 1983)"),
            ("accessibility", "Shrake-Rupley SASA; RSA on the Tien et al. 2013 scale; buried < 9 %")]
    attrs = {k: v for o in others for k, v in o.attrs.items()}
    attrs.update(df.attrs)
    rows += [(k, v) for k, v in sorted(attrs.items())]
    if "source_file" in df.columns:
        files = df[["pdb_id", "source_file"]].dropna().drop_duplicates("source_file")
        for pid, path in zip(files.pdb_id.astype(str), files.source_file.astype(str), strict=True):
            try:
                h = sha256_file(path)
            except OSError:
                h = "file no longer readable"
            rows.append((f"structure {pid}", f"{path} sha256:{h}"))
    return pd.DataFrame([(k, str(v)) for k, v in rows], columns=["key", "value"])


def _release_quietly(exc: BaseException) -> None:
    """Drop the frames of a failed XLSX write from ``exc`` and collect them now: openpyxl's
    half-written zip and sheet streams then close without their destructors printing
    'Exception ignored ... Traceback' after the one-line error."""
    import gc
    import sys

    e: BaseException | None = exc
    while e is not None:
        e.__traceback__ = None
        e = e.__context__
    hook, sys.unraisablehook = sys.unraisablehook, lambda unraisable: None
    try:
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _dress_sheet(ws, frame: pd.DataFrame) -> None:
    """Frozen header row, filters, and column widths from the content (at most 60)."""
    from openpyxl.utils import get_column_letter

    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions
    for j, c in enumerate(frame.columns, start=1):
        sample = frame[c].astype(object).head(200).map(lambda x: len(str(x)) if x is not None else 0)
        width = max([len(str(c))] + sample.tolist()) + 2
        ws.column_dimensions[get_column_letter(j)].width = min(60, max(8, width))


TABLE_SUFFIXES = (".csv", ".html", ".md", ".parquet", ".tsv", ".xlsx")


def check_output(path: str | Path) -> str:
    """The suffix of an output table path (``TABLE_SUFFIXES``), or ``ValueError`` naming the
    path: an unknown suffix or a directory. Called before any work, and by ``write_table``."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(f"output {p}: unknown suffix {p.suffix!r}; expected one of "
                         f"{', '.join(TABLE_SUFFIXES)}")
    if p.is_dir():
        raise ValueError(f"output {p} is a directory; give a file name")
    return suffix


def write_table(df: pd.DataFrame, path: str | Path, *, sheets: dict | None = None,
                sheet: str = "impact") -> Path:
    """Write a table by suffix (.csv .tsv .xlsx .parquet .md .html), atomically.

    The file is written to a temporary name in the same directory and renamed, so a failure
    never leaves a half-written table. CSV/TSV/XLSX text cells that a spreadsheet could run as a
    formula are neutralised with a leading apostrophe (``neutralise_cells``); Markdown cells are
    escaped; HTML is escaped. XLSX: the table in sheet ``sheet``, ``sheets`` (name -> frame,
    e.g. the summary) after it, and a ``provenance`` sheet (versions, cut-offs, methods,
    command, structure files with SHA-256); every sheet with a frozen header, filters and
    column widths.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (an impact table, a summary, any frame).
    path : str or Path
        The output; its suffix chooses the format.
    sheets : dict of str to DataFrame, optional
        Further XLSX sheets.
    sheet : str
        The XLSX sheet name of ``df``.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> out = Path(tempfile.mkdtemp()) / "cells.csv"
    >>> write_table(pd.DataFrame({"variant": ["p.R248Q", "=1+1"]}), out).name
    'cells.csv'
    >>> pd.read_csv(out).variant.tolist()  # a formula is written as text
    ['p.R248Q', "'=1+1"]
    """
    from ..io.files import atomic_write

    p = Path(path)
    suffix = check_output(p)
    if suffix in (".csv", ".tsv", ".xlsx"):
        df = neutralise_cells(df, xml=suffix == ".xlsx")
    with atomic_write(p) as tmp:
        if suffix in (".csv", ".tsv"):  # pyarrow's writer: several times faster than pandas'
            import pyarrow.csv as pacsv

            opts = pacsv.WriteOptions(delimiter="\t" if suffix == ".tsv" else ",",
                                      quoting_style="needed")
            pacsv.write_csv(_arrow(df), tmp, write_options=opts)
        elif suffix == ".xlsx":
            extra = {k: neutralise_cells(v, xml=True) for k, v in (sheets or {}).items()}
            try:
                with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
                    for name, frame in {sheet: df, **extra}.items():
                        frame.to_excel(xl, sheet_name=name[:31], index=False)
                        _dress_sheet(xl.sheets[name[:31]], frame)
                    prov = provenance(df, *(sheets or {}).values())
                    prov.to_excel(xl, sheet_name="provenance", index=False)
                    _dress_sheet(xl.sheets["provenance"], prov)
            except OSError as exc:  # a full disk or a file-size limit
                _release_quietly(exc)
                raise
        elif suffix == ".parquet":
            out = df.copy()
            for c in out.columns:
                if out[c].dtype == object:
                    out[c] = out[c].astype("string")
            out.attrs = {}
            out.to_parquet(tmp, index=False)
        elif suffix == ".md":
            tmp.write_text(_markdown_safe(df).to_markdown(index=False) + "\n", encoding="utf-8")
        elif suffix == ".html":
            tmp.write_text(df.to_html(index=False, escape=True), encoding="utf-8")
    return p

