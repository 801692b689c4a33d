"""The mutation-impact table: variants x structures x target chains x sites, as a tidy DataFrame.

Every row carries its provenance: PDB ID, model, chain, author residue number and insertion
code, the residue in the file, how the UniProt position was mapped (DBREF or alignment, and
``via`` the family alignment when a HER2 variant is placed on an EGFR complex), the cut-offs
used and the structkit version. Statuses:

- ``mapped``: the residue is in the structure and is the expected residue;
- ``reference mismatch``: the residue is there but differs (engineered or crystallised mutation;
  the detail says whether the structure already carries the variant); distances are given;
- ``unobserved``: inside the construct but not in the coordinates;
- ``not covered``: outside the construct (or no aligned residue in the family member);
- ``not available offline`` / ``fetch failed``: the structure could not be obtained;
- ``truncating`` (nonsense, frameshift, start lost): one row per variant, not placed on
  structures; ``detail`` lists the residues, domains and binding-site residues lost;
- ``splice`` (splice-site change), ``extension`` (stop lost), ``no protein change``
  (synonymous or non-coding): one row per variant, not placed;
- ``gene not in catalog``, ``gene not selected``, ``rejected`` (parse or reference error):
  the input row gave no variant (reason in ``detail``).

Every input row is accounted for: ``input_row`` (1-based line of a file or item index) and
``sample`` (when the input has a sample column) join the table back to the cohort. Each
distinct variant is placed and measured once; its rows are then repeated for every input row
that names it. Per-structure work is done once (``sites.analyze``); rows are built with array
lookups.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from itertools import repeat
from operator import attrgetter
from pathlib import Path

import numpy as np
import pandas as pd

from ._version import __version__
from .catalog import CatalogStructure, catalog
from .damage import AA20, context_matrix, interface_flags, substitution_flags
from .fetch import FetchError, NotAvailableOffline
from .numbering import family_map
from .sites import BURIED_RSA, DEFAULT_CUTOFF, DEFAULT_METAL_CUTOFF, analyze
from .structure import Structure
from .uniprot import uniprot_record
from .variants import (
    CONSEQUENCE,
    UNPLACED_COLUMNS,
    UNPLACED_STATUSES,
    Variant,
    VariantBatch,
    parse_variants,
)

__all__ = ["impact_table", "summarize", "write_table", "COLUMNS", "SUMMARY_COLUMNS", "STATUSES"]

STATUSES = ("mapped", "reference mismatch", "unobserved", "not covered",
            "not available offline", "fetch failed", "truncating", "extension") + UNPLACED_STATUSES
PLACED_KINDS = frozenset(k for k, c in CONSEQUENCE.items() if c in ("missense", "in-frame"))
_UNPLACED_STATUS = {"truncating": "truncating", "splice": "splice", "extension": "extension",
                    "synonymous": "no protein change"}

COLUMNS = [
    "input_row", "sample", "gene", "accession", "variant", "kind", "consequence", "position",
    "ref", "alt",
    "pdb_id", "structure", "method", "resolution_A", "model", "chain", "via", "structure_accession",
    "structure_position", "structure_uniprot_res", "author_num", "icode", "res_name",
    "numbering_method", "status", "detail",
    "site", "site_kind", "partner", "min_dist_A", "sidechain_dist_A", "ca_dist_A", "n_contacts",
    "nearest_partner_atom", "in_site", "covalent_bond", "effect",
    "damage", "damage_evidence", "context",
    "sasa_A2", "rsa", "buried", "ss", "ss_method", "bfactor", "bfactor_kind",
    "cutoff_A", "metal_cutoff_A", "structkit_version", "source_file",
]


def _as_variants(variants, fetcher=None) -> tuple[list[Variant], pd.DataFrame]:
    if isinstance(variants, VariantBatch):
        return list(variants.variants), variants.unplaced
    if isinstance(variants, Variant):
        return [variants], pd.DataFrame(columns=UNPLACED_COLUMNS)
    if isinstance(variants, (str, Path)):
        b = parse_variants(variants, fetcher=fetcher)
        return b.variants, b.unplaced
    items = list(variants)
    if all(map(isinstance, items, repeat(Variant))):
        return items, pd.DataFrame(columns=UNPLACED_COLUMNS)
    b = parse_variants(items, fetcher=fetcher)
    return b.variants, b.unplaced


def check_cutoff(value, name: str = "cutoff") -> float:
    """``value`` as a positive finite distance in A, or ``ValueError`` naming the parameter."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a distance in A, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive, finite distance in A, got {value!r}")
    return v


def _entries_for(acc: str, structures, family: bool) -> list[tuple[CatalogStructure | str, str]]:
    """(structure, how) pairs for a target: how = 'direct' or the family accession."""
    cat = catalog()
    target = cat.target(acc)
    out: list[tuple[CatalogStructure | str, str]] = []
    if structures is None:
        for s in cat.structures_for(acc):
            out.append((s, "direct"))
        if family and target.family_reference:
            for s in cat.structures_for(target.family_reference):
                if s.family_reference:
                    out.append((s, target.family_reference))
        return out
    for s in structures:
        if isinstance(s, tuple):  # (structure, accession of its target)
            entry, holds = s
            holds = cat.target(holds).accession if _is_target(holds) else holds
            if holds == acc:
                out.append((entry, "direct"))
            elif holds == target.family_reference:
                out.append((entry, holds))
            else:
                out.append((entry, f"other:{holds}"))
            continue
        entry = (cat.find(s) or s) if isinstance(s, str) else s
        if isinstance(entry, CatalogStructure) and entry.target != acc:
            if entry.target == target.family_reference:
                out.append((entry, entry.target))
            else:  # a structure of another protein: a 'not covered' row says so
                out.append((entry, f"other:{entry.target}"))
            continue
        out.append((entry, "direct"))
    return out


def _is_target(acc: str) -> bool:
    try:
        catalog().target(acc)
        return True
    except KeyError:
        return False


class _Cats:
    """Process-wide categories of one text column: each distinct value gets a code once.

    Rows carry int32 codes; ``_frame`` keeps the categories a table uses. Code 0 is None
    (missing), code 1 is ''.
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


_CATS: dict[str, _Cats] = {}


def _cats(column: str) -> _Cats:
    if column not in _CATS:
        _CATS[column] = _Cats()
    return _CATS[column]


class _Const:
    """A text column block that is one category code repeated ``n`` times."""

    __slots__ = ("code", "n")

    def __init__(self, code: int, n: int) -> None:
        self.code, self.n = code, n

    def __len__(self) -> int:
        return self.n


def _text(column: str, value, n: int) -> _Const:
    return _Const(_cats(column).code(value), n)


def _block(n: int, const: dict, arrays: dict) -> dict:
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
            out[k] = np.full(n, -1 if v is None else v, dtype=np.int64)
        elif k in _FLOAT_COLUMNS:
            out[k] = np.full(n, np.nan if v is None else v, dtype=np.float64)
        else:
            out[k] = _text(k, v, n)
    return out


def _sparse(column: str, n: int, texts: dict[int, str]) -> np.ndarray:
    """Codes of a text column that is '' except at a few rows (details, effects)."""
    codes = np.ones(n, dtype=np.int32)
    if texts:
        cats = _cats(column)
        rows = np.fromiter(texts.keys(), dtype=np.int64, count=len(texts))
        codes[rows] = cats.codes(list(texts.values()))
    return codes


class _Bool:
    """A nullable boolean column block: values and a mask of missing entries."""

    __slots__ = ("values", "missing")

    def __init__(self, values: np.ndarray, missing: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=bool)
        self.missing = np.asarray(missing, dtype=bool)

    def __len__(self) -> int:
        return len(self.values)


_BOOL_COLUMNS = ("in_site", "buried")
_INT_COLUMNS = ("input_row", "position", "structure_position", "author_num", "model", "n_contacts")
_FLOAT_COLUMNS = ("min_dist_A", "sidechain_dist_A", "ca_dist_A", "sasa_A2", "rsa", "bfactor",
                  "resolution_A", "cutoff_A", "metal_cutoff_A")


def _frame(blocks: list[dict]) -> pd.DataFrame:
    """One DataFrame from column blocks (one conversion per column, not per value).

    Integer columns use -1 internally for 'none' and become nullable Int64; text columns
    become categoricals holding just the categories used.
    """
    cols = {}
    for c in COLUMNS:
        parts = [b[c] for b in blocks]
        if c in _INT_COLUMNS:
            arr = np.concatenate(parts).astype(np.int64, copy=False)
            cols[c] = pd.arrays.IntegerArray(arr, arr < 0)
        elif c in _FLOAT_COLUMNS:
            cols[c] = np.concatenate(parts).astype(np.float64, copy=False)
        elif c in _BOOL_COLUMNS:
            cols[c] = pd.arrays.BooleanArray(np.concatenate([x.values for x in parts]),
                                             np.concatenate([x.missing for x in parts]))
        else:
            cols[c] = _categorical(_cats(c), parts)
    return pd.DataFrame(cols, copy=False)


def _categorical(cats: _Cats, parts: list) -> pd.Categorical:
    """A categorical of the parts' codes (constants or arrays, often the same array repeated)
    keeping just the categories used; per-row work is one count and one lookup."""
    values = cats.array()
    consts = [x.code for x in parts if isinstance(x, _Const)]
    arrays = {id(x): x for x in parts if not isinstance(x, _Const)}
    used = np.zeros(len(values), dtype=bool)
    used[consts] = True
    for x in arrays.values():
        used |= np.bincount(x, minlength=len(values)).astype(bool)
    used[0] = False  # None: missing
    n_used = int(used.sum())
    small = np.int8 if n_used < 127 else np.int16 if n_used < 32767 else np.int32
    remap = np.cumsum(used).astype(small) - 1
    remap[0] = -1
    if not arrays:  # constants only (provenance columns): one repeat
        codes = np.repeat(remap[consts], [x.n for x in parts])
    else:
        mapped = {k: np.take(remap, x) for k, x in arrays.items()}
        codes = np.concatenate([np.full(x.n, remap[x.code], dtype=small) if isinstance(x, _Const)
                                else mapped[id(x)] for x in parts])
    key = (id(cats), n_used, np.packbits(used).tobytes())
    dtype = _DTYPES.get(key)
    if dtype is None:
        if len(_DTYPES) > 512:
            _DTYPES.clear()
        dtype = _DTYPES[key] = _dtype(values[used])
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


_DTYPES: dict[tuple, pd.CategoricalDtype] = {}  # category sets seen before (dtypes are immutable)


def _dtype(categories: np.ndarray) -> pd.CategoricalDtype:
    """CategoricalDtype of categories unique by construction (interned), without pandas'
    uniqueness check (3 ms for 10,000 strings); the public constructor if the fast path is gone."""
    index = pd.Index(categories, dtype=object)
    fast = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    if fast is not None:
        try:
            return fast(index, False)
        except TypeError:
            pass
    return pd.CategoricalDtype(index)


def impact_table(variants, structures: Iterable[str | CatalogStructure] | None = None,
                 cutoff: float = DEFAULT_CUTOFF, *, metal_cutoff: float = DEFAULT_METAL_CUTOFF,
                 family: bool = True, damage: bool = True, fetcher=None,
                 progress: bool = False, distinct: bool = False) -> pd.DataFrame:
    """Tidy table: one row per input row x structure x target chain x site.

    ``variants``: Variant objects, strings (``'ERBB2:p.T798M'``), a VariantBatch or a file path.
    ``structures``: PDB IDs / catalog entries; None takes the catalog's structures of each
    variant's gene, plus (``family=True``) the family-reference complexes (EGFR kinase-drug
    complexes for HER2), placed through the UniProt-UniProt alignment and marked in ``via``.
    ``cutoff``: contact cut-off in A between heavy atoms (site membership, contact counts);
    ``metal_cutoff``: coordination cut-off for metal sites. Rows whose structure has no site
    have an empty ``site``; ``structure_position`` is the UniProt position in the structure's
    own protein (differs from ``position`` only for family placements). ``damage=False`` leaves
    the damage columns (``structkit.damage``) empty, for speed. ``distinct=True`` returns one
    copy per distinct variant instead (``input_row`` its first input row, ``sample`` empty,
    plus ``n_rows`` and ``n_samples``): the table ``summarize`` needs, without the repetition
    of large cohorts (``write_impact`` streams the full table to a file).
    """
    parts = _compute(variants, structures, cutoff, metal_cutoff, family, damage, fetcher, progress)
    return parts.distinct_frame() if distinct else parts.frame()


class _Parts:
    """The blocks of distinct variants and the input rows that name them: frames of all rows,
    of a range of input rows, or of the distinct variants, built on demand."""

    def __init__(self, blocks, vi, vs, unplaced, base) -> None:
        self.blocks, self.vi, self.unplaced, self.base = blocks, vi, unplaced, base
        try:
            self.rows = np.fromiter(map(attrgetter("row"), vs), dtype=np.int64, count=len(vs))
        except TypeError:  # Variant objects made without a row: their position in the list
            self.rows = np.fromiter((v.row if v.row is not None else i + 1
                                     for i, v in enumerate(vs)), dtype=np.int64, count=len(vs))
        samples = list(map(attrgetter("sample"), vs))
        self.samples = (_cats("sample").codes(samples) if any(samples)
                        else np.zeros(len(vs), dtype=np.int32))
        self.n_variants = len(vs)

    def _unplaced_block(self) -> dict:
        u = self.unplaced
        return _block(len(u), self.base, {
            "input_row": u.row.to_numpy(dtype=np.int64),
            "sample": _cats("sample").codes(_texts(u["sample"])),
            "gene": _cats("gene").codes(_texts(u["gene"])),
            "variant": _cats("variant").codes(u.input.astype(str).tolist()),
            "status": _cats("status").codes(u.status.astype(str).tolist()),
            "detail": _cats("detail").codes([f"row {r}: {why}" for r, why in
                                             zip(u.row, u.reason, strict=True)])})

    def _finish(self, blocks: list[dict]) -> pd.DataFrame:
        if not blocks:
            return pd.DataFrame(columns=COLUMNS)
        df = _frame(blocks)
        df.attrs.update({"cutoff_A": self.base["cutoff_A"],
                         "metal_cutoff_A": self.base["metal_cutoff_A"],
                         "structkit_version": __version__})
        return df

    def frame(self, lo: int = 0, hi: int | None = None, unplaced: bool = True) -> pd.DataFrame:
        """All rows of the variants ``lo:hi`` (input order), and the unplaced rows."""
        sel = slice(lo, self.n_variants if hi is None else hi)
        blocks = _expand(self.blocks, self.vi[sel], self.rows[sel], self.samples[sel]) \
            if self.blocks else []
        if unplaced and len(self.unplaced):
            blocks.append(self._unplaced_block())
        return self._finish(blocks)

    def chunks(self, size: int):
        """Frames of about ``size`` input rows each, the unplaced rows with the last."""
        n = self.n_variants
        starts = list(range(0, n, max(size, 1))) or [0]
        for k, lo in enumerate(starts):
            last = k == len(starts) - 1
            yield self.frame(lo, min(lo + size, n), unplaced=last)

    def distinct_frame(self) -> pd.DataFrame:
        """One copy of each distinct variant's rows, with its first input row, n_rows, n_samples."""
        vi, n = self.vi, (int(self.vi.max()) + 1 if len(self.vi) else 0)
        first = np.full(n, -1, dtype=np.int64)
        order = np.argsort(vi, kind="stable")
        uniq, pos = np.unique(vi[order], return_index=True)
        first[uniq] = order[pos]
        n_rows = np.bincount(vi, minlength=n)
        pairs = pd.DataFrame({"v": vi, "s": self.samples}).drop_duplicates()
        pairs = pairs[pairs.s != 0]  # code 0: no sample
        n_samples = np.bincount(pairs.v.to_numpy(), minlength=n)
        blocks = []
        for b in self.blocks:
            d = b["input_row"]
            nb = dict(b)
            nb["input_row"] = self.rows[first[d]]
            nb["sample"] = _Const(0, len(d))
            nb["_d"] = d
            blocks.append(nb)
        df = self._finish(blocks)
        if len(df):
            d = np.concatenate([b["_d"] for b in blocks])
            df["n_rows"] = n_rows[d]
            df["n_samples"] = n_samples[d]
        return df


def _compute(variants, structures, cutoff, metal_cutoff, family, damage, fetcher,
             progress) -> _Parts:
    cutoff = check_cutoff(cutoff, "cutoff")
    metal_cutoff = check_cutoff(metal_cutoff, "metal_cutoff")
    vs, unplaced = _as_variants(variants, fetcher)
    base = {"cutoff_A": cutoff, "metal_cutoff_A": metal_cutoff, "structkit_version": __version__}
    # each distinct variant once; input rows are mapped onto the distinct rows at the end
    distinct: dict[Variant, int] = {}
    vi = np.fromiter((distinct.setdefault(v, len(distinct)) for v in vs), dtype=np.int64,
                     count=len(vs))
    dv = list(distinct)
    by_acc: dict[str, list[Variant]] = {}
    index: dict[str, list[int]] = {}
    for i, v in enumerate(dv):
        if v.kind in PLACED_KINDS:
            by_acc.setdefault(v.accession, []).append(v)
            index.setdefault(v.accession, []).append(i)
    arrays = {acc: _variant_arrays(group, index[acc]) for acc, group in by_acc.items()}
    other = [v for v in dv if v.kind not in PLACED_KINDS]
    jobs = [(acc, e, how) for acc in by_acc for e, how in _entries_for(acc, structures, family)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="structures", unit="structure")
    blocks: list[dict] = []
    for acc, entry, how in jobs:
        blocks += _structure_rows(by_acc[acc], arrays[acc], entry, how, cutoff, metal_cutoff,
                                  fetcher, base, damage)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if other:
        blocks.append(_unplaced_variant_rows(other, distinct, structures, cutoff, metal_cutoff,
                                             fetcher, base))
    return _Parts(blocks, vi, vs, unplaced, base)


def _texts(col: pd.Series) -> list:
    """Text cells with missing values as None."""
    return [x if isinstance(x, str) else None for x in col.tolist()]


def _expand(blocks: list[dict], vi: np.ndarray, rows: np.ndarray,
            samples: np.ndarray) -> list[dict]:
    """Blocks of distinct variants (``input_row`` holding the distinct index) repeated for each
    input row (``vi`` its distinct index, ``rows`` its number, ``samples`` its sample code);
    distinct rows no input row names are left out."""
    n_distinct = max((int(b["input_row"].max()) + 1 for b in blocks if len(b["input_row"])),
                     default=0)
    counts = np.bincount(vi, minlength=n_distinct)
    order = np.argsort(vi, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    simple = bool((counts == 1).all())
    no_samples = not samples.any()
    out = []
    for b in blocks:
        d = b["input_row"]
        if simple:
            src = order[d]
            nb = dict(b)
            nb["input_row"] = rows[src]
            nb["sample"] = _Const(0, len(d)) if no_samples else samples[src]
            out.append(nb)
            continue
        c = counts[d]
        take = np.repeat(np.arange(len(d)), c)
        offs = np.arange(len(take)) - np.repeat(np.cumsum(c) - c, c)
        src = order[starts[d[take]] + offs]
        nb = {k: _take(v, take) for k, v in b.items()}
        nb["input_row"] = rows[src]
        nb["sample"] = _Const(0, len(src)) if no_samples else samples[src]
        out.append(nb)
    return out


def _take(col, take: np.ndarray):
    if isinstance(col, _Const):
        return _Const(col.code, len(take))
    if isinstance(col, _Bool):
        return _Bool(col.values[take], col.missing[take])
    return np.asarray(col)[take]


def _site_residues(acc: str, structures, cutoff: float, metal_cutoff: float,
                   fetcher) -> tuple[dict[str, dict[int, str]], list[str]]:
    """Binding-site residues of a protein over its own structures at hand: site kind ->
    {UniProt position: one-letter residue}, and the structures read."""
    out: dict[str, dict[int, str]] = {}
    used: list[str] = []
    for entry, how in _entries_for(acc, structures, False):
        if how != "direct":
            continue
        try:
            a = analyze(entry, acc, cutoff=cutoff, metal_cutoff=metal_cutoff, fetcher=fetcher)
        except (FetchError, LookupError, ValueError):
            continue
        if any(cd.sites for cd in a.chains.values()):
            used.append(a.structure.id)
        for cd in a.chains.values():
            pos = cd.numbering.uniprot_pos
            for site in cd.sites:
                label = _SITE_LABEL.get(site.kind, site.kind)
                if site.kind == "ligand":
                    label = f"{site.partner.drug or site.partner.name} pocket"
                elif site.kind == "epitope":
                    label = f"{site.partner.name} epitope"
                got = out.setdefault(label, {})
                for k in np.flatnonzero(site.in_site):
                    p = int(pos[k])
                    if 0 < p <= len(a.uniprot_seq):
                        got[p] = a.uniprot_seq[p - 1]
    return out, used


_SITE_LABEL = {"dna": "DNA contacts", "metal": "zinc ligands"}


def consequence_detail(v: Variant, length: int, regions, sites: dict[str, dict[int, str]],
                       from_structures: list[str]) -> str:
    """What a variant that is not placed on structures does to the protein (UniProt numbering):
    for a truncation, the residues, catalog regions and binding-site residues lost (and the
    sites kept); for a splice-site change, the same from its codon on, 'at risk'."""
    if v.kind == "synonymous":
        return f"synonymous: {v.ref}{v.position} unchanged"
    if v.kind == "stop_lost":
        return (f"stop codon {v.position} lost: the protein runs on past residue {length} "
                "(C-terminal extension); not placed on structures")
    first = 1 if v.kind == "start_lost" else v.position
    lost_n = length - first + 1
    verb = "at risk" if v.kind == "splice" else "lost"
    head = {"start_lost": "initiator Met lost: no protein from this start codon (residues "
                          f"1-{length} {verb})",
            "splice": f"splice-site change at codon {v.position}: protein effect not predicted "
                      f"(exon skipping or intron retention); residues {first}-{length} {verb} "
                      f"({lost_n} of {length} aa) if the reading frame is disrupted",
            }.get(v.kind, f"residues {first}-{length} {verb} ({lost_n} of {length} aa)")
    parts = [head]
    doms = []
    for r in regions:
        name, lo, hi = r["name"], int(r["start"]), int(r["end"])
        if hi < first:
            continue
        if lo >= first:
            doms.append(f"{name} {lo}-{hi}")
        else:
            doms.append(f"{name} {lo}-{hi} from {first} ({hi - first + 1} of {hi - lo + 1})")
    if doms:
        parts.append(f"domains {verb}: " + ", ".join(doms))
    for label, res in sorted(sites.items()):
        gone = sorted(p for p in res if p >= first)
        if gone:
            kept = len(res) - len(gone)
            parts.append(f"{label} {verb}: " + "/".join(f"{res[p]}{p}" for p in gone)
                         + (f" ({kept} of {len(res)} kept)" if kept else ""))
        elif len(res) > 6:
            parts.append(f"{label} kept (all {len(res)})")
        elif res:
            parts.append(f"{label} kept (" + "/".join(f"{res[p]}{p}" for p in sorted(res)) + ")")
    if sites:
        parts.append(f"sites from {', '.join(from_structures)}")
    elif v.kind != "synonymous":
        parts.append("no structure at hand to list binding-site residues")
    return "; ".join(parts)


def _unplaced_variant_rows(group: list[Variant], distinct: dict, structures, cutoff: float,
                           metal_cutoff: float, fetcher, base: dict) -> dict:
    """One row per distinct variant that is not placed on structures (truncating, splice,
    stop lost, synonymous): status and a detail of what is lost."""
    cat = catalog()
    details = []
    site_cache: dict[str, tuple] = {}
    for v in group:
        if v.kind != "synonymous" and v.accession not in site_cache:
            site_cache[v.accession] = _site_residues(v.accession, structures, cutoff,
                                                     metal_cutoff, fetcher)
        sites, used = site_cache.get(v.accession, ({}, []))
        length = len(uniprot_record(v.accession, fetcher).sequence)
        regions = cat.target(v.accession).regions
        details.append(consequence_detail(v, length, regions, sites, used))
    va = _variant_arrays(group, [distinct[v] for v in group])
    shared = {k: x for k, x in va.items() if not k.startswith("_")}
    shared["status"] = _cats("status").codes([_UNPLACED_STATUS[CONSEQUENCE[v.kind]]
                                              for v in group])
    shared["detail"] = _cats("detail").codes(details)
    return _block(len(group), base, shared)


def _variant_arrays(group: list[Variant], index: list[int]) -> dict:
    """Variant-level columns of one gene's distinct variants (text columns as category codes);
    ``input_row`` holds the distinct index until the rows are expanded to input rows."""
    names = ("gene", "accession", "variant", "kind", "ref", "alt")
    fields = list(zip(*map(attrgetter("gene", "accession", "hgvs", "kind", "ref", "alt", "position"),
                           group), strict=True))
    out: dict = {"position": np.fromiter(fields[6], dtype=np.int64, count=len(group)),
                 "input_row": np.asarray(index, dtype=np.int64)}
    for name, values in zip(names, fields, strict=False):
        out[name] = _cats(name).codes(values)
    kinds = _cats("kind").array()
    conseq = np.array([_cats("consequence").code(CONSEQUENCE.get(k, "")) if k else 0
                       for k in kinds], dtype=np.int32)
    out["consequence"] = conseq[out["kind"]]
    alt_cats = _cats("alt").array()
    to_aa20 = np.array([AA20.index(x) if isinstance(x, str) and len(x) == 1 and x in AA20 else -1
                        for x in alt_cats], dtype=np.int64)
    out["_alt_idx"] = to_aa20[out["alt"]]
    out["_missense"] = out["kind"] == _cats("kind").code("missense")
    out["_ref"] = _cats("ref").array()[out["ref"]]
    out["_alt"] = alt_cats[out["alt"]]
    out["_gene"] = _cats("gene").array()[out["gene"]]
    out["_inframe"] = out["consequence"] == _cats("consequence").code("in-frame")
    out["_end"] = out["position"]
    if out["_inframe"].any():  # ranges: the last residue affected
        out["_end"] = np.fromiter((v.end or v.position for v in group), dtype=np.int64,
                                  count=len(group))
    return out


def _structure_rows(group: list[Variant], va: dict, entry, how: str, cutoff: float,
                    metal_cutoff: float, fetcher, base: dict, damage: bool = True) -> list[dict]:
    n = len(group)
    sid = entry.id if isinstance(entry, (CatalogStructure, Structure)) else str(entry)
    if how.startswith("other:"):
        return [_block(n, {**base, "pdb_id": sid, "status": "not covered", "via": "direct",
                           "detail": f"{sid} holds {how[6:]}, not {group[0].accession}"}, va)]
    try:
        acc_struct = group[0].accession if how == "direct" else how
        a = analyze(entry, acc_struct, cutoff=cutoff, metal_cutoff=metal_cutoff, fetcher=fetcher)
    except NotAvailableOffline as exc:
        return [_block(n, {**base, "pdb_id": sid, "status": "not available offline",
                           "detail": str(exc), "via": how}, va)]
    except FetchError as exc:
        return [_block(n, {**base, "pdb_id": sid, "status": "fetch failed",
                           "detail": str(exc), "via": how}, va)]
    except ValueError as exc:  # the structure does not hold the protein
        return [_block(n, {**base, "pdb_id": sid, "status": "not covered",
                           "detail": str(exc), "via": how}, va)]
    st = a.structure
    pos = va["position"]
    useq = a.uniprot_seq
    if how == "direct":
        spos = pos
        via = "direct"
    else:
        src = uniprot_record(group[0].accession, fetcher).sequence
        arr = np.full(len(src) + 2, -1, dtype=np.int64)
        for p, q in family_map(src, useq).items():
            arr[p] = q
        spos = np.where((pos >= 1) & (pos <= len(src)), arr[np.clip(pos, 0, len(src) + 1)], -1)
        via = f"family alignment {group[0].accession}->{a.accession}"
    ok_pos = (spos >= 1) & (spos <= len(useq))
    upos = np.where(ok_pos, spos - 1, len(useq))  # index into the UniProt sequence, or past it
    useq_arr = np.array(list(useq) + [""], dtype=object)
    s_ures = useq_arr[upos]
    const = {**base, "pdb_id": st.id, "structure": a.entry.shows or st.title,
             "method": st.method, "resolution_A": st.resolution, "via": via,
             "structure_accession": a.accession, "bfactor_kind": st.bfactor_label,
             "source_file": st.path}
    filler = _block(n, const, {})  # every column's constant or empty value, shared by the blocks
    ref_arr = va["_ref"]
    expected = ref_arr if how == "direct" else s_ures
    alt_idx, missense = va["_alt_idx"], va["_missense"]
    shared = {k: v for k, v in va.items() if not k.startswith("_")}
    shared["structure_position"] = np.where(ok_pos, spos, -1)
    shared["structure_uniprot_res"] = _cats("structure_uniprot_res").codes(s_ures.tolist())
    blocks = []
    for ch, cd in a.chains.items():
        num = cd.numbering
        res = _chain_rows(cd, st)
        k = np.where(ok_pos, cd.pos_to_k[np.clip(spos, 0, len(cd.pos_to_k) - 1)], -1)
        have = k >= 0
        kk = np.where(have, k, res.n)  # the sentinel row holds the 'absent' values
        file_aa = res.aa[kk]
        lo, hi = num.construct
        unobserved = ok_pos & (spos >= lo) & (spos <= hi)
        differs = have & (file_aa != expected)
        detail: dict[int, str] = {}
        family_diff = have & (s_ures != ref_arr) if how != "direct" else differs & False
        for i in np.flatnonzero(differs | family_diff):
            detail[i] = "; ".join(_mismatch_notes(i, group[i], va, a, st, num, spos, s_ures,
                                                  file_aa, expected, res.ri[kk[i]], how))
        for i in np.flatnonzero(va["_inframe"] & ok_pos).tolist():
            note = _inframe_note(group[i], cd, int(spos[i]), int(spos[i] + va["_end"][i] - pos[i]),
                                 a.uniprot_seq)
            detail[i] = note + ("; " + detail[i] if i in detail else "")
        detail_codes = _sparse("detail", n, detail)
        miss = np.flatnonzero(~have)
        if len(miss):
            detail_codes[miss] = res.absent_details(how, group[0].gene, pos[miss], spos[miss],
                                                    ok_pos[miss], unobserved[miss], a.accession,
                                                    (lo, hi))
        status = np.where(have, np.where(differs, 1, 0), np.where(unobserved, 2, 3))
        chain_cols = {
            **shared,
            "model": np.ones(n, dtype=np.int64), "chain": _text("chain", ch, n),
            "author_num": res.author_num[kk], "icode": res.icode[kk], "res_name": res.res_name[kk],
            "numbering_method": _text("numbering_method", num.method, n),
            "status": _status_codes()[status], "detail": detail_codes,
            "sasa_A2": res.sasa[kk], "rsa": res.rsa[kk],
            "buried": _Bool(res.buried[kk], ~have), "ss": res.ss[kk],
            "ss_method": _text("ss_method", cd.ss_method, n),
            "bfactor": res.bfactor[kk],
        }
        assess = have & missense & (alt_idx >= 0) if damage else np.zeros(n, dtype=bool)
        alt_safe = np.where(assess, alt_idx, 0)
        if assess.any():
            chain_cols["context"] = np.where(assess, res.context()[kk, alt_safe], 1)
        else:
            chain_cols["context"] = _Const(1, n)
        for site in cd.sites or [None]:
            cols = dict(chain_cols)
            if site is None:
                cols["site"] = _Const(1, n)  # '': the structure has no site here
            else:
                cols.update(_site_cols(res.site(site, st.id), va, have, kk, file_aa, n))
            dn = de = _Const(1, n)  # '' where not assessed
            if assess.any():
                dn, de = np.ones(n, dtype=np.int32), np.ones(n, dtype=np.int32)
                names, evidence = res.damage(site, kk[assess], st)
                dn[assess] = names[kk[assess], alt_safe[assess]]
                de[assess] = evidence[kk[assess], alt_safe[assess]]
            cols["damage"], cols["damage_evidence"] = dn, de
            blocks.append({**filler, **cols})
    return blocks


def _inframe_note(v: Variant, cd, first: int, last: int, useq: str) -> str:
    """The residues an in-frame change affects (structure's UniProt numbering) and the site
    residues among them in this chain."""
    what = {"inframe_deletion": "deletes", "duplication": "duplicates", "delins": "replaces",
            "inframe_insertion": "inserts between"}[v.kind]
    span = f"{useq[first - 1]}{first}" + (f"-{useq[last - 1]}{last}" if last != first else "")
    if v.kind == "inframe_insertion":
        span = f"{useq[first - 1]}{first} and {useq[last - 1]}{last}"
    note = f"in-frame: {what} {span} ({last - first + 1} aa)" if v.kind != "inframe_insertion" \
        else f"in-frame: {what} {span}"
    hits = []
    for site in cd.sites:
        ks = cd.pos_to_k[first:last + 1]
        ks = ks[ks >= 0]
        inside = [int(k) for k in ks if site.in_site[k]]
        if inside:
            res = "/".join(f"{useq[int(cd.numbering.uniprot_pos[k]) - 1]}"
                           f"{int(cd.numbering.uniprot_pos[k])}" for k in inside)
            hits.append(f"{res} in {site.name}")
    return note + ("; site residues affected: " + ", ".join(hits) if hits else
                   "; no site residue in the range")


@cache
def _status_codes() -> np.ndarray:
    """Codes of the four statuses a present-or-absent residue can have, in that order."""
    return _cats("status").codes(["mapped", "reference mismatch", "unobserved", "not covered"])


def _mismatch_notes(i, v, va, a, st, num, spos, s_ures, file_aa, expected, ri: int,
                    how) -> list[str]:
    """Why row ``i`` differs: the family member's residue, or the file's (structure residue ``ri``)."""
    notes = []
    ref, alt = va["_ref"], va["_alt"]
    if how != "direct" and s_ures[i] != ref[i]:
        notes.append(f"{a.accession} has {s_ures[i]}{spos[i]} where {v.gene} has "
                     f"{ref[i]}{va['position'][i]}")
    if file_aa[i] != expected[i]:
        seqadv = num.lookup(int(spos[i])).difference
        resname = st.res_resname[ri]
        if alt[i] and file_aa[i] == alt[i]:
            carries = "the variant" if how == "direct" else (
                f"the analogous variant p.{s_ures[i]}{spos[i]}{alt[i]}")
            notes.append(f"file has {resname} ({file_aa[i]}), not {expected[i]}: the structure "
                         f"carries {carries}; {seqadv}")
        else:
            notes.append(f"file has {resname} ({file_aa[i]}), expected {expected[i]}; {seqadv}")
    return notes


class _ChainRows:
    """Per-residue column values of one analysed chain, computed once and looked up by row.

    Arrays have one extra row (index ``n``) holding the values of an absent residue; text
    values are category codes. Damage and context codes are (residue x 20 alts) tables filled
    the first time a residue is asked for, for all 20 alts at once.
    """

    def __init__(self, cd, st) -> None:
        self.n = len(cd.aa)
        self.cd = cd
        ri = self.ri = cd.numbering.residue_indices  # no sentinel: only for present residues
        self.aa = np.r_[cd.aa, np.array([""], dtype=object)]
        nan = np.array([np.nan])
        self.author_num = np.r_[st.res_num[ri].astype(np.int64), -1]
        self.icode = np.r_[_cats("icode").codes(st.res_icode[ri].tolist()), 1].astype(np.int32)
        self.res_name = np.r_[_cats("res_name").codes(st.res_resname[ri].tolist()), 1].astype(np.int32)
        self.sasa = np.r_[cd.sasa, nan].round(1)
        self.rsa = np.r_[cd.rsa, nan].round(3)
        self.buried = np.r_[cd.rsa < BURIED_RSA, False]
        self.ss = np.r_[_cats("ss").codes(cd.ss.tolist()), 1].astype(np.int32)
        self.bfactor = np.r_[cd.bfactor, nan].round(2)
        self._sites: dict = {}
        self._context: np.ndarray | None = None
        self._damage: dict = {}
        self.absent: dict = {}

    def absent_details(self, how: str, gene: str, pos: np.ndarray, spos: np.ndarray,
                       inside: np.ndarray, unobserved: np.ndarray, accession: str,
                       construct: tuple[int, int]) -> np.ndarray:
        """Detail codes of rows whose residue is absent (depend on the position only)."""
        table = self.absent.get((how, gene))
        top = int(pos.max()) + 1
        if table is None or len(table) < top:
            grown = np.full(max(top, 1024), -1, dtype=np.int32)
            if table is not None:
                grown[:len(table)] = table
            table = self.absent[how, gene] = grown
        codes = table[pos]
        lo, hi = construct
        for j in np.flatnonzero(codes < 0).tolist():
            p, sp = int(pos[j]), int(spos[j])
            if table[p] >= 0:
                codes[j] = table[p]
                continue
            if not inside[j]:
                text = (f"no residue of {accession} aligned to {gene} {p}" if how != "direct"
                        else f"position {p} outside the sequence")
            elif unobserved[j]:
                text = f"{accession} {sp} lies in the construct ({lo}-{hi}) but has no coordinates"
            else:
                text = f"construct covers {accession} {lo}-{hi}"
            codes[j] = table[p] = _cats("detail").code(text)
        return codes

    def context(self) -> np.ndarray:
        if self._context is None:
            cd = self.cd
            text = context_matrix(cd.aa, cd.rsa)
            codes = _cats("context").codes(text.ravel().tolist()).reshape(self.n, 20)
            self._context = np.vstack([codes, np.ones((1, 20), dtype=np.int32)])
        return self._context

    def site(self, site, sid: str) -> dict:
        key = id(site)
        if key not in self._sites:
            d = site.dist
            nan = np.array([np.nan])
            md = np.r_[d["min_dist"], nan].round(2)
            within = np.r_[site.in_site, False]
            cov = np.r_[site.covalent_text, np.array([""], dtype=object)]
            drug = site.partner.drug or site.partner.name
            in_site = f"in {site.name} ({sid} chain {site.chain})"
            anchor = [f"removes the covalent anchor of {drug} ({c}; {sid} chain {site.chain})" if c
                      else in_site for c in cov]
            self._sites[key] = {
                "site": _cats("site").code(site.name),
                "site_kind": _cats("site_kind").code(site.kind),
                "partner": _cats("partner").code(site.partner_label),
                "min_dist_A": md, "within": within,
                "sidechain_dist_A": np.r_[d["sc_dist"], nan].round(2),
                "ca_dist_A": np.r_[d["ca_dist"], nan].round(2),
                "n_contacts": np.r_[d["n_contacts"], -1].astype(np.int64),
                "nearest_partner_atom": np.r_[_cats("nearest_partner_atom").codes(
                    site.nearest_label.tolist()), 1].astype(np.int32),
                "covalent_bond": _cats("covalent_bond").codes(cov.tolist()),
                "has_cov": cov != "",
                "effect_in": np.where(within, _cats("effect").code(in_site), 1).astype(np.int32),
                "effect_cov": np.where(within, _cats("effect").codes(anchor), 1).astype(np.int32),
                "cutoff_A": site.cutoff,
            }
        return self._sites[key]

    def damage(self, site, need: np.ndarray, st) -> tuple[np.ndarray, np.ndarray]:
        """(names, evidence) code tables with rows ``need`` filled: structural features, plus
        the site's interface features for residues within reach of the site."""
        cd = self.cd
        key = id(site) if site is not None else None
        if key not in self._damage:
            near = np.zeros(self.n + 1, dtype=bool)
            if site is not None:
                near[:-1] = site.dist["min_dist"] <= site.cutoff  # every interface rule's reach
            self._damage[key] = (np.full((self.n + 1, 20), -1, dtype=np.int32),
                                 np.full((self.n + 1, 20), -1, dtype=np.int32), near)
        names, evidence, near = self._damage[key]
        missing = names[need, 0] < 0
        if not missing.any():
            return names, evidence
        todo = np.unique(need[missing])
        far, close = todo[~near[todo]], todo[near[todo]]
        if site is not None and len(far):  # out of the site's reach: the chain's structural codes
            s_names, s_evidence = self.damage(None, far, st)
            names[far], evidence[far] = s_names[far], s_evidence[far]
        if len(close) or (site is None and len(far)):
            ks = close if site is not None else far
            flags = substitution_flags(cd.env, ks, cd.aa[ks], cd.rsa[ks], cd.sasa[ks], cd.ss[ks],
                                       cd.ss_method)
            if site is not None:
                flags = flags + interface_flags(st, site, ks, self.ri[ks], cd.aa[ks])
            n_text, e_text = flags.render()
            names[ks] = _cats("damage").codes(n_text.ravel().tolist()).reshape(-1, 20)
            evidence[ks] = _cats("damage_evidence").codes(e_text.ravel().tolist()).reshape(-1, 20)
        return names, evidence


def _chain_rows(cd, st) -> _ChainRows:
    if "impact" not in cd.tables:
        cd.tables["impact"] = _ChainRows(cd, st)
    return cd.tables["impact"]


def _site_cols(sc: dict, va, have, kk, file_aa, n) -> dict:
    within = sc["within"][kk]
    cov_rows = within & sc["has_cov"][kk]
    if cov_rows.any():  # a missense change of a covalently bonded residue removes the anchor
        i = np.flatnonzero(cov_rows)
        cov_rows[i] = va["_missense"][i] & (va["_alt"][i] != file_aa[i]) & (va["_alt"][i] != "")
    return {
        "site": _Const(sc["site"], n),
        "site_kind": _Const(sc["site_kind"], n),
        "partner": _Const(sc["partner"], n),
        "min_dist_A": sc["min_dist_A"][kk],
        "sidechain_dist_A": sc["sidechain_dist_A"][kk],
        "ca_dist_A": sc["ca_dist_A"][kk],
        "n_contacts": sc["n_contacts"][kk],
        "nearest_partner_atom": sc["nearest_partner_atom"][kk],
        "in_site": _Bool(within, ~have),
        "covalent_bond": sc["covalent_bond"][kk],
        "effect": np.where(cov_rows, sc["effect_cov"][kk], sc["effect_in"][kk]),
        "cutoff_A": np.full(n, sc["cutoff_A"]),
    }


SUMMARY_COLUMNS = [
    "gene", "variant", "consequence", "n_rows", "n_samples", "status", "impact_score", "mechanism",
    "mechanism_evidence", "agreement",
    "evolution", "nearest_site", "nearest_dist_A", "nearest_pdb_id", "nearest_chain",
    "nearest_author_num", "nearest_protein", "nearest_via", "sites_within_cutoff", "effects", "covered_by",
    "unobserved_in", "not_available", "damage", "score_model"]


def summarize(table: pd.DataFrame, *, verdict: bool = True, fetcher=None,
              msa: str | Path | None = None) -> pd.DataFrame:
    """One row per variant: the verdict, the nearest site over all structures and where it was.

    Columns: gene, variant, status (best over structures); ``impact_score`` (0..1, >= 0.5 likely
    damaging), ``mechanism``, ``mechanism_evidence``, ``agreement`` (over the chains that have
    the partner) and ``evolution`` from ``structkit.verdict`` (``verdict=False`` leaves them
    empty; ``msa`` a path to a homolog alignment replacing the catalog's); nearest_site,
    nearest_dist_A, nearest_pdb_id, nearest_chain, nearest_author_num, nearest_via (direct
    structures of the variant's own protein are preferred to family stand-ins, whose author
    number is then of the family member: ``nearest_via`` says so), sites_within_cutoff, effects,
    covered_by (structures where the residue is present), unobserved_in, not_available
    (structures that could not be obtained), damage (each feature with the number of chains
    showing it over the chains assessed; interface features over the chains that have that
    partner), score_model. Variants keep their order of first appearance; grouped operations
    only.
    """
    cols = SUMMARY_COLUMNS
    table = table[table.kind.notna()]  # rows that gave no variant are not summarised
    if table.empty:
        return pd.DataFrame(columns=cols)
    from .verdict import variant_keys

    key = variant_keys(table)
    n_rows, n_samples = _row_counts(table, key)
    if "input_row" in table and "n_rows" not in table and int(n_rows.sum()) != len(n_rows):
        # one variant's rows are repeated per input row: keep the first input row's copy
        ir = table["input_row"].to_numpy(dtype=np.int64, na_value=-1)
        first_row = pd.Series(ir).groupby(key).transform("min").to_numpy()
        keep = ir == first_row
        table, key = table[keep], key[keep]

    t = pd.DataFrame({c: table[c].astype(object) for c in (
        "gene", "variant", "status", "site", "site_kind", "pdb_id", "chain", "via", "effect",
        "damage", "structure_accession")})
    t["min_dist_A"] = table["min_dist_A"].to_numpy(dtype=float)
    t["author_num"] = table["author_num"]
    t["in_site"] = table["in_site"].fillna(False).to_numpy(dtype=bool)
    t["key"] = key
    first = np.unique(key, return_index=True)[1]
    out = pd.DataFrame({"gene": t.gene.to_numpy()[first], "variant": t.variant.to_numpy()[first],
                        "consequence": table["consequence"].astype(object).to_numpy()[first],
                        "n_rows": n_rows, "n_samples": n_samples})
    order = {st: i for i, st in enumerate(STATUSES)}
    rank = t.status.map(order).fillna(99).astype(int).to_numpy()
    best_rank = pd.Series(rank).groupby(key).min()
    by_rank = np.array(list(STATUSES) + [None] * (100 - len(STATUSES)), dtype=object)
    out["status"] = by_rank[best_rank.to_numpy()]
    present = t[t.status.isin(["mapped", "reference mismatch"])]
    measured = present[present.min_dist_A.notna()]
    # direct structures first: a family stand-in is nearest only where no direct one measures
    measured = measured.assign(_fam=(measured.via != "direct").astype(int))
    best = measured.sort_values(["key", "_fam", "min_dist_A"], kind="stable")
    nearest = best.drop_duplicates("key").set_index("key")
    for c in ("site", "dist_A", "pdb_id", "chain", "author_num", "via"):
        src = nearest["min_dist_A" if c == "dist_A" else c]
        out[f"nearest_{c}"] = src.reindex(range(len(out))).to_numpy(dtype=object)
    out["nearest_dist_A"] = out["nearest_dist_A"].astype(float)
    genes = {t_.accession: t_.gene for t_ in catalog().targets}
    acc = nearest["structure_accession"].reindex(range(len(out)))
    out["nearest_protein"] = [genes.get(a, a) if isinstance(a, str) else None for a in acc]
    within = present[present.in_site]
    out["sites_within_cutoff"] = _joined(within.key, within.site + " (" + within.pdb_id + ")",
                                         "; ", len(out))
    eff = present[present.effect.notna() & (present.effect != "")]
    out["effects"] = _joined(eff.key, eff.effect, "; ", len(out))
    out["covered_by"] = _joined(present.key, present.pdb_id, ", ", len(out))
    unobs = t[t.status == "unobserved"]
    out["unobserved_in"] = _joined(unobs.key, unobs.pdb_id, ", ", len(out))
    lost = t[t.status.isin(["not available offline", "fetch failed"])]
    out["not_available"] = _joined(lost.key, lost.pdb_id, ", ", len(out))
    out["damage"] = _damage_consensus(present, len(out))
    if verdict:
        from .verdict import variant_features
        from .verdict import verdict as judge

        v = judge(variant_features(table.assign(key=key), len(out), fetcher, msa))
        for c in ("impact_score", "mechanism", "mechanism_evidence", "agreement", "evolution"):
            out[c] = v[c].to_numpy()
        out["score_model"] = v["model"].to_numpy()
        told = out.status.isin(["truncating", "splice", "extension", "no protein change"]).to_numpy()
        if told.any():  # what is lost, from the table's own detail
            detail = table["detail"].astype(object).to_numpy()[first]
            out.loc[told, "mechanism_evidence"] = detail[told]
    else:
        for c in ("impact_score",):
            out[c] = np.nan
        for c in ("mechanism", "mechanism_evidence", "agreement", "evolution", "score_model"):
            out[c] = ""
    return out[cols]


def _row_counts(table: pd.DataFrame, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per variant key: distinct input rows and distinct samples (0 when there is no sample)."""
    n = int(key.max()) + 1
    if "n_rows" in table:  # a distinct table (impact_table(distinct=True)) carries them
        first = np.unique(key, return_index=True)[1]
        return (table["n_rows"].to_numpy(dtype=np.int64)[first],
                table["n_samples"].to_numpy(dtype=np.int64)[first])
    if "input_row" not in table:
        return np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    rows = pd.DataFrame({"k": key, "r": table["input_row"].to_numpy(dtype=np.int64, na_value=-1),
                         "s": table["sample"].astype(object).to_numpy()
                         if "sample" in table else None}).drop_duplicates(["k", "r"])
    n_rows = rows.groupby("k").size().reindex(range(n), fill_value=0).to_numpy()
    n_samples = rows.dropna(subset=["s"]).groupby("k").s.nunique().reindex(
        range(n), fill_value=0).to_numpy()
    return n_rows, n_samples


def _joined(key: pd.Series, values: pd.Series, sep: str, n: int) -> np.ndarray:
    """Per group 0..n-1: the sorted distinct values joined by ``sep`` ('' for none)."""
    out = np.full(n, "", dtype=object)
    if len(key):
        pairs = pd.DataFrame({"k": key.to_numpy(), "v": values.astype(str).to_numpy()})
        pairs = pairs.drop_duplicates().sort_values(["k", "v"], kind="stable")
        _join_sorted(out, pairs.k.to_numpy(), pairs.v.tolist(), sep)
    return out


def _join_sorted(out: np.ndarray, keys: np.ndarray, texts: list, sep: str) -> None:
    """out[k] = texts of key k joined by ``sep``; ``keys`` sorted."""
    starts = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]
    stops = np.r_[starts[1:], len(keys)]
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        out[keys[a]] = sep.join(texts[a:b])


_WITH = {"dna": "with DNA", "metal": "with zinc", "ligand": "with a ligand",
         "epitope": "with an antibody"}


def _damage_consensus(rows: pd.DataFrame, n: int) -> np.ndarray:
    """Per group: each damage feature with the number of structure chains showing it. A
    structural feature counts over the chains assessed (``'(3/15 chains)'``), an interface
    feature over the chains that have that partner (``'(9/10 chains with DNA)'``);
    ``'none (N chains)'`` if none fires; '' if nothing was assessed."""
    from .damage import INTERFACE_FEATURES

    out = np.full(n, "", dtype=object)
    assessed = rows[rows.damage.astype(str) != ""]
    if assessed.empty:
        return out
    unit = assessed.pdb_id.astype(str) + "\0" + assessed.chain.astype(str)
    kind = assessed.site_kind.astype(str).to_numpy()
    total = pd.DataFrame({"k": assessed.key, "u": unit}).drop_duplicates().groupby("k").size()
    out[total.index.to_numpy()] = [f"none ({m} chains)" for m in total.to_numpy()]
    with_partner = pd.DataFrame({"k": assessed.key.to_numpy(), "u": unit.to_numpy(), "s": kind})
    with_partner = with_partner.drop_duplicates().groupby(["k", "s"]).size()
    d_codes, d_uniq = pd.factorize(assessed.damage.astype(str))
    listed = pd.DataFrame({"k": assessed.key.to_numpy(), "u": unit.to_numpy(), "d": d_codes,
                           "s": kind})
    listed = listed.drop_duplicates()
    features = pd.Series([[f for f in d.split("; ") if f and f != "none"] for d in d_uniq])
    listed["f"] = features.to_numpy()[listed.d.to_numpy()]
    feats = listed.explode("f").dropna(subset=["f"])
    if feats.empty:
        return out
    inter = feats.f.isin(INTERFACE_FEATURES).to_numpy()
    feats = feats.assign(s=np.where(inter, feats.s, ""))[["k", "u", "f", "s"]].drop_duplicates()
    counts = feats.groupby(["k", "f", "s"]).size().rename("c").reset_index()
    is_int = counts.s != ""
    counts["total"] = total.reindex(counts.k).to_numpy()
    if is_int.any():
        idx = pd.MultiIndex.from_arrays([counts.k[is_int], counts.s[is_int]])
        counts.loc[is_int, "total"] = with_partner.reindex(idx).to_numpy()
    counts = counts.sort_values(["k", "c", "f"], ascending=[True, False, True], kind="stable")
    suffix = counts.s.map(_WITH).fillna("")
    counts["text"] = (counts.f + " (" + counts.c.astype(str) + "/" + counts.total.astype(int).astype(str)
                      + " chains" + np.where(suffix != "", " " + suffix, "") + ")")
    _join_sorted(out, counts.k.to_numpy(), counts.text.tolist(), "; ")
    return out


_FORMULA = re.compile(r"^[=+@\t\r]|^-(?![0-9.]+$).")  # what spreadsheets may run as a formula
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if df[c].dtype == object or isinstance(df[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(df[c].dtype)]


def neutralise_cells(df: pd.DataFrame, xml: bool = False) -> pd.DataFrame:
    """A copy whose text cells cannot run in a spreadsheet: a cell starting with ``=``, ``+``,
    ``@``, a tab or CR, or ``-`` followed by something other than a number, gets a leading
    apostrophe (OWASP CSV-injection advice); with ``xml`` the characters XML forbids (control
    characters) are removed. Numbers and other cells are unchanged. Categorical columns are
    fixed through their categories (one check per distinct value)."""

    def fix(v):
        if not isinstance(v, str):
            return v
        if xml:
            v = _XML_ILLEGAL.sub("", v)
        return "'" + v if _FORMULA.match(v) else v

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


def write_impact(variants, path: str | Path, structures=None, cutoff: float = DEFAULT_CUTOFF, *,
                 metal_cutoff: float = DEFAULT_METAL_CUTOFF, family: bool = True,
                 damage: bool = True, fetcher=None, progress: bool = False,
                 chunk_rows: int = 50_000) -> pd.DataFrame:
    """Compute the impact table and stream it to ``path`` (.parquet, .csv, .tsv) in chunks of
    ``chunk_rows`` input rows, so memory is bounded by the distinct variants, not by rows x
    structures; returns the distinct table (``impact_table(..., distinct=True)``) for
    ``summarize``. The file holds exactly what ``write_table(impact_table(...))`` would (Parquet
    row groups per chunk; CSV/TSV through pyarrow's writer, cells neutralised), written
    atomically."""
    from .files import atomic_write

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in STREAM_SUFFIXES:
        raise ValueError(f"output {p}: streaming writes {', '.join(STREAM_SUFFIXES)}, not {suffix!r}")
    parts = _compute(variants, structures, cutoff, metal_cutoff, family, damage, fetcher, progress)
    schema = None
    with atomic_write(p) as tmp:
        writer = None
        try:
            for chunk in parts.chunks(chunk_rows):
                if suffix != ".parquet":
                    chunk = neutralise_cells(chunk)
                tbl = _arrow(chunk)
                if writer is None:
                    schema = tbl.schema
                    if suffix == ".parquet":
                        import pyarrow.parquet as pq

                        writer = pq.ParquetWriter(tmp, schema)
                    else:
                        import pyarrow.csv as pacsv

                        opts = pacsv.WriteOptions(delimiter="\t" if suffix == ".tsv" else ",",
                                                  quoting_style="needed")
                        writer = pacsv.CSVWriter(tmp, schema, write_options=opts)
                writer.write_table(tbl.cast(schema) if tbl.schema != schema else tbl)
        finally:
            if writer is not None:
                writer.close()
        if schema is None:  # nothing at all: an empty table with the columns
            write_table(pd.DataFrame(columns=COLUMNS), tmp)
    return parts.distinct_frame()


def _arrow(df: pd.DataFrame):
    """A pyarrow table with one type per column whatever the chunk holds: categoricals as
    dictionary<int32, string> (pyarrow's CSV writer writes their values), nullable ints as
    int64, booleans."""
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
        elif pd.api.types.is_float_dtype(s.dtype):
            arr = pa.array(s.to_numpy(dtype=np.float64), type=pa.float64())
        else:
            arr = pa.array([x if isinstance(x, str) else None for x in s.astype(object)],
                           type=pa.string())
        cols.append(arr)
        fields.append(pa.field(c, arr.type))
    return pa.Table.from_arrays(cols, schema=pa.schema(fields))


def provenance(df: pd.DataFrame) -> pd.DataFrame:
    """Key/value rows saying how a table was made: structkit and package versions, cut-offs,
    methods, the command line, and every structure file the table used with its SHA-256."""
    import hashlib
    import platform
    import sys

    rows = [("structkit_version", __version__), ("python", platform.python_version()),
            ("pandas", pd.__version__), ("numpy", np.__version__),
            ("command", " ".join(sys.argv) if sys.argv and sys.argv[0] else ""),
            ("positions", "UniProt numbering; author_num as in each structure file"),
            ("distances", "minimum heavy-atom distances in A; sites from the complexes"),
            ("secondary structure", "DSSP 8-state (structkit.dssp; Kabsch and Sander 1983)"),
            ("accessibility", "Shrake-Rupley SASA; RSA on the Tien et al. 2013 scale; buried < 9 %")]
    rows += [(k, v) for k, v in sorted(df.attrs.items())]
    if "source_file" in df.columns:
        files = df[["pdb_id", "source_file"]].dropna().drop_duplicates("source_file")
        for pid, path in zip(files.pdb_id.astype(str), files.source_file.astype(str), strict=True):
            try:
                h = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            except OSError:
                h = "file no longer readable"
            rows.append((f"structure {pid}", f"{path} sha256:{h}"))
    return pd.DataFrame([(k, str(v)) for k, v in rows], columns=["key", "value"])


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
    """
    from .files import atomic_write

    p = Path(path)
    suffix = p.suffix.lower()
    writers = {".csv", ".tsv", ".xlsx", ".parquet", ".md", ".html"}
    if suffix not in writers:
        raise ValueError(f"output {p}: unknown suffix {suffix!r}; expected one of "
                         f"{', '.join(sorted(writers))}")
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
            with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
                for name, frame in {sheet: df, **extra}.items():
                    frame.to_excel(xl, sheet_name=name[:31], index=False)
                    _dress_sheet(xl.sheets[name[:31]], frame)
                prov = provenance(df)
                prov.to_excel(xl, sheet_name="provenance", index=False)
                _dress_sheet(xl.sheets["provenance"], prov)
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
