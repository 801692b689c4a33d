"""The column engine of the impact table: text columns as category codes kept by a
``Codebook``, built block by block and turned into a DataFrame once.

Why: a cohort table repeats a few thousand distinct texts (structure titles, site names,
details) over up to millions of rows. Each distinct text gets an integer code once; a block of
rows holds codes (arrays, or ``_Const`` for a value repeated over the block); ``Codebook.frame``
makes each column once: a pandas Categorical holding just the categories that table uses.
Integer columns use -1 for missing (``INT_NA`` for author numbers, which may be negative) and
become nullable Int64; booleans carry a missing mask.

Where the codes live: one ``Codebook`` per session (``codebook(session)``, kept in the
session's store), because the per-chain row tables (``structkit.analysis.rows``) are built once per
structure analysis, which the session keeps, and hold codes that every later table of that
session reuses. Codes are meaningless outside their codebook; nothing is shared between
sessions and nothing is kept at module level.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = [
    "input_row", "sample", "gene", "accession", "variant", "kind", "consequence", "position",
    "ref", "alt", "region", "hotspot_tumours", "hotspot_allele_tumours",
    "pdb_id", "structure", "method", "resolution_A", "model", "chain", "via", "structure_accession",
    "structure_position", "structure_uniprot_res", "author_num", "icode", "res_name",
    "numbering_method", "status", "detail",
    "site", "site_kind", "partner", "min_dist_A", "sidechain_dist_A", "ca_dist_A", "n_contacts",
    "nearest_partner_atom", "in_site", "covalent_bond", "effect",
    "damage", "damage_evidence", "context", "stability_score", "stability_model",
    "sasa_A2", "rsa", "buried", "ss", "ss_method", "bfactor", "bfactor_kind",
    "cutoff_A", "metal_cutoff_A", "structkit_version", "source_file",
]



class _Cats:
    """Categories of one text column: each distinct value gets a code once.

    Rows carry int32 codes; ``Codebook.frame`` keeps the categories a table uses. Code 0 is
    None (missing), code 1 is ''.
    """

    __slots__ = ("index", "values", "_array")

    def __init__(self) -> None:
        self.index: dict = {None: 0, "": 1}
        self.values: list = [None, ""]
        self._array: np.ndarray | None = None

    def code(self, value) -> int:
        c = self.index.get(value)
        if c is None:
            c = self.index[value] = len(self.values)
            self.values.append(value)
        return c

    def codes(self, values) -> np.ndarray:
        try:
            return np.fromiter(map(self.index.__getitem__, values), dtype=np.int32, count=len(values))
        except KeyError:
            index, known = self.index, self.values
            for v in values:
                if v not in index:
                    index[v] = len(known)
                    known.append(v)
            return np.fromiter(map(index.__getitem__, values), dtype=np.int32, count=len(values))

    def array(self) -> np.ndarray:
        """The values as an object array (rebuilt when values were added since)."""
        if self._array is None or len(self._array) != len(self.values):
            self._array = np.empty(len(self.values), dtype=object)
            self._array[:] = self.values
        return self._array


class _Const:
    """A text column block that is one category code repeated ``n`` times."""

    __slots__ = ("code", "n")

    def __init__(self, code: int, n: int) -> None:
        self.code, self.n = code, n

    def __len__(self) -> int:
        return self.n


class _Bool:
    """A nullable boolean column block: values and a mask of missing entries."""

    __slots__ = ("values", "missing")

    def __init__(self, values: np.ndarray, missing: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=bool)
        self.missing = np.asarray(missing, dtype=bool)

    def __len__(self) -> int:
        return len(self.values)


_BOOL_COLUMNS = ("in_site", "buried")
_INT_COLUMNS = ("input_row", "position", "structure_position", "author_num", "model", "n_contacts",
                "hotspot_tumours", "hotspot_allele_tumours")
# integer columns whose values may be negative (author residue numbers of renumbered entries):
# missing is INT_NA there, not -1
_SIGNED_COLUMNS = ("author_num",)
INT_NA = np.iinfo(np.int64).min
_FLOAT_COLUMNS = ("min_dist_A", "sidechain_dist_A", "ca_dist_A", "sasa_A2", "rsa", "bfactor",
                  "stability_score",
                  "resolution_A", "cutoff_A", "metal_cutoff_A")
_NOT_TEXT = frozenset(_BOOL_COLUMNS + _INT_COLUMNS + _FLOAT_COLUMNS)
MAX_DTYPES = 512  # category sets a codebook remembers; beyond, the memo starts again


class Codebook:
    """The category codes of one session's tables (see the module docstring).

    ``book[column]`` is the column's categories (created on first use); ``const``, ``block``
    and ``sparse`` make column blocks; ``frame`` turns blocks into a DataFrame.
    """

    def __init__(self) -> None:
        self._cats: dict[str, _Cats] = {}
        # category sets seen before -> their CategoricalDtype (immutable, so safe to share
        # between tables): a warm table skips pandas' uniqueness check of its categories
        self._dtypes: dict[tuple, pd.CategoricalDtype] = {}
        self._fixed: dict[tuple, np.ndarray] = {}

    def __getitem__(self, column: str) -> _Cats:
        cats = self._cats.get(column)
        if cats is None:
            cats = self._cats[column] = _Cats()
        return cats

    def fixed(self, column: str, values: tuple) -> np.ndarray:
        """Codes of a fixed tuple of values (statuses and the like), computed once."""
        key = (column, values)
        out = self._fixed.get(key)
        if out is None:
            out = self._fixed[key] = self[column].codes(list(values))
        return out

    def const(self, column: str, value, n: int) -> _Const:
        """A block of ``n`` rows of one text value."""
        return _Const(self[column].code(value), n)

    def block(self, n: int, const: dict, arrays: dict) -> dict:
        """Columns of ``n`` rows: arrays as given (text columns as codes), constants broadcast."""
        out = {}
        for k in COLUMNS:
            if k in arrays:
                out[k] = arrays[k]
                continue
            v = const.get(k)
            if k in _BOOL_COLUMNS:
                out[k] = _Bool(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
            elif k in _INT_COLUMNS:
                none = INT_NA if k in _SIGNED_COLUMNS else -1
                out[k] = np.full(n, none if v is None else v, dtype=np.int64)
            elif k in _FLOAT_COLUMNS:
                out[k] = np.full(n, np.nan if v is None else v, dtype=np.float64)
            else:
                out[k] = self.const(k, v, n)
        return out

    def sparse(self, column: str, n: int, texts: dict[int, str]) -> np.ndarray:
        """Codes of a text column that is '' except at a few rows (details, effects)."""
        codes = np.ones(n, dtype=np.int32)
        if texts:
            rows = np.fromiter(texts.keys(), dtype=np.int64, count=len(texts))
            codes[rows] = self[column].codes(list(texts.values()))
        return codes

    def frame(self, blocks: list[dict]) -> pd.DataFrame:
        """One DataFrame from column blocks (one conversion per column, not per value).

        Integer columns use -1 internally for 'none' and become nullable Int64; text columns
        become categoricals holding just the categories used. Every column is a view of one
        arena (a single allocation, about 180 bytes per row): numpy asks the kernel for huge
        pages for allocations over 4 MB, so a fresh 104k-row table costs a few hundred page
        faults instead of 3,500 (8 ms of a 30 ms table when its memory is new to the process).
        """
        n = sum(len(b["position"]) for b in blocks)
        plans = {c: self._plan(c, [b[c] for b in blocks]) for c in COLUMNS if c not in _NOT_TEXT}
        layout = ([("f", c, np.float64) for c in _FLOAT_COLUMNS]
                  + [("i", c, np.int64) for c in _INT_COLUMNS]
                  + [("m", c, np.bool_) for c in _INT_COLUMNS]
                  + [(k, c, np.bool_) for c in _BOOL_COLUMNS for k in ("b", "bm")]
                  + [("t", c, plans[c][2]) for c in plans])
        sizes = [-(-n * np.dtype(t).itemsize // 64) * 64 for _, _, t in layout]  # 64-byte aligned
        arena = np.empty(max(sum(sizes), 1), dtype=np.uint8)
        views, off = {}, 0
        for (kind, c, t), size in zip(layout, sizes, strict=True):
            views[kind, c] = arena[off:off + n * np.dtype(t).itemsize].view(t)
            off += size
        cols = {}
        for c in COLUMNS:
            parts = [b[c] for b in blocks]
            if c in _INT_COLUMNS:
                data = np.concatenate(parts, out=views["i", c])
                missing = (np.equal(data, INT_NA, out=views["m", c]) if c in _SIGNED_COLUMNS
                           else np.less(data, 0, out=views["m", c]))
                cols[c] = pd.arrays.IntegerArray(data, missing)
            elif c in _FLOAT_COLUMNS:
                cols[c] = np.concatenate(parts, out=views["f", c])
            elif c in _BOOL_COLUMNS:
                cols[c] = pd.arrays.BooleanArray(
                    np.concatenate([x.values for x in parts], out=views["b", c]),
                    np.concatenate([x.missing for x in parts], out=views["bm", c]))
            else:
                cols[c] = self._categorical(c, parts, plans[c], views["t", c])
        return pd.DataFrame(cols, copy=False)

    def _plan(self, column: str, parts: list) -> tuple:
        """(used categories, old code -> new code, code dtype) of a text column's parts."""
        values = self[column].array()
        used = np.zeros(len(values), dtype=bool)
        used[[x.code for x in parts if isinstance(x, _Const)]] = True
        for x in {id(x): x for x in parts if not isinstance(x, _Const)}.values():  # once each
            used |= np.bincount(x, minlength=len(values)).astype(bool)
        used[0] = False  # None: missing
        n_used = int(used.sum())
        small = (np.int8 if n_used < np.iinfo(np.int8).max else np.int16
                 if n_used < np.iinfo(np.int16).max else np.int32)  # codes fit the smallest type
        remap = np.cumsum(used).astype(small) - 1
        remap[0] = -1
        return used, remap, small

    def _categorical(self, column: str, parts: list, plan: tuple, out: np.ndarray) -> pd.Categorical:
        """A categorical of the parts' codes (constants or arrays, often the same array
        repeated), written into ``out``; per-row work is one lookup."""
        used, remap, small = plan
        off = 0
        for x in parts:
            if isinstance(x, _Const):
                out[off:off + x.n] = remap[x.code]
            else:
                np.take(remap, x, out=out[off:off + len(x)])
            off += len(x)
        key = (column, int(used.sum()), np.packbits(used).tobytes())
        dtype = self._dtypes.get(key)
        if dtype is None:
            if len(self._dtypes) > MAX_DTYPES:
                self._dtypes.clear()
            values = self[column].array()
            dtype = self._dtypes[key] = pd.CategoricalDtype(pd.Index(values[used], dtype=object))
        return pd.Categorical.from_codes(out, dtype=dtype, validate=False)


def codebook(fetcher=None) -> Codebook:
    """The codebook of ``fetcher``'s session (the default session's without one)."""
    if fetcher is None:
        from ..io.store import session_of

        fetcher = session_of(None)
    book = fetcher.cache("columns").get("codebook")
    if book is None:
        book = fetcher.cache("columns")["codebook"] = Codebook()
    return book


def _take(col, take: np.ndarray):
    if isinstance(col, _Const):
        return _Const(col.code, len(take))
    if isinstance(col, _Bool):
        return _Bool(col.values[take], col.missing[take])
    return np.asarray(col)[take]

