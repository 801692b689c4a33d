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
- ``rejected``: the input row could not be parsed or checked (reason in ``detail``).

Per-structure work is done once (``sites.analyze``); rows are built with array lookups.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from itertools import repeat
from operator import attrgetter
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .catalog import CatalogStructure, catalog
from .damage import AA20, context_matrix, interface_flags, substitution_flags
from .fetch import FetchError, NotAvailableOffline
from .numbering import family_map
from .sites import BURIED_RSA, DEFAULT_CUTOFF, DEFAULT_METAL_CUTOFF, analyze
from .uniprot import uniprot_record
from .variants import Variant, VariantBatch, parse_variants

__all__ = ["impact_table", "summarize", "write_table", "COLUMNS", "SUMMARY_COLUMNS", "STATUSES"]

STATUSES = ("mapped", "reference mismatch", "unobserved", "not covered",
            "not available offline", "fetch failed", "rejected")

COLUMNS = [
    "gene", "accession", "variant", "kind", "position", "ref", "alt",
    "pdb_id", "structure", "method", "resolution_A", "model", "chain", "via", "structure_accession",
    "structure_position", "structure_uniprot_res", "author_num", "icode", "res_name",
    "numbering_method", "status", "detail",
    "site", "site_kind", "partner", "min_dist_A", "sidechain_dist_A", "ca_dist_A", "n_contacts",
    "nearest_partner_atom", "in_site", "covalent_bond", "effect",
    "damage", "damage_evidence", "context",
    "sasa_A2", "rsa", "buried", "ss", "ss_method", "bfactor", "bfactor_kind",
    "cutoff_A", "metal_cutoff_A", "structkit_version", "source_file",
]


def _as_variants(variants) -> tuple[list[Variant], pd.DataFrame]:
    if isinstance(variants, VariantBatch):
        return list(variants.variants), variants.rejected
    if isinstance(variants, Variant):
        return [variants], pd.DataFrame(columns=["row", "input", "reason"])
    if isinstance(variants, (str, Path)):
        b = parse_variants(variants)
        return b.variants, b.rejected
    items = list(variants)
    if all(map(isinstance, items, repeat(Variant))):
        return items, pd.DataFrame(columns=["row", "input", "reason"])
    b = parse_variants([v.raw if isinstance(v, Variant) else v for v in items])
    return b.variants, b.rejected


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
        entry = (cat.find(s) or s) if isinstance(s, str) else s
        if isinstance(entry, CatalogStructure) and entry.target != acc:
            if entry.target == target.family_reference:
                out.append((entry, entry.target))
            continue  # a structure of another protein: nothing to place there
        out.append((entry, "direct"))
    return out


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
_INT_COLUMNS = ("position", "structure_position", "author_num", "model", "n_contacts")
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
                 progress: bool = False) -> pd.DataFrame:
    """Tidy table: one row per variant x structure x target chain x site.

    ``variants``: Variant objects, strings (``'ERBB2:p.T798M'``), a VariantBatch or a file path.
    ``structures``: PDB IDs / catalog entries; None takes the catalog's structures of each
    variant's gene, plus (``family=True``) the family-reference complexes (EGFR kinase-drug
    complexes for HER2), placed through the UniProt-UniProt alignment and marked in ``via``.
    ``cutoff``: contact cut-off in A between heavy atoms (site membership, contact counts);
    ``metal_cutoff``: coordination cut-off for metal sites. Rows whose structure has no site
    have an empty ``site``; ``structure_position`` is the UniProt position in the structure's
    own protein (differs from ``position`` only for family placements). ``damage=False`` leaves
    the damage columns (``structkit.damage``) empty, for speed.
    """
    vs, rejected = _as_variants(variants)
    blocks: list[dict] = []
    base = {"cutoff_A": float(cutoff), "metal_cutoff_A": float(metal_cutoff),
            "structkit_version": __version__}
    accs = list(map(attrgetter("accession"), vs))
    by_acc: dict[str, list[Variant]] = {}
    if len(set(accs)) == 1:
        by_acc[accs[0]] = vs
    else:
        for acc, v in zip(accs, vs, strict=True):
            by_acc.setdefault(acc, []).append(v)
    arrays = {acc: _variant_arrays(group) for acc, group in by_acc.items()}
    jobs = [(acc, e, how) for acc in by_acc for e, how in _entries_for(acc, structures, family)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="structures", unit="structure")
    for acc, entry, how in jobs:
        blocks += _structure_rows(by_acc[acc], arrays[acc], entry, how, cutoff, metal_cutoff,
                                  fetcher, base, damage)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if len(rejected):
        blocks.append(_block(len(rejected), {**base, "status": "rejected"}, {
            "variant": _cats("variant").codes(rejected.input.tolist()),
            "detail": _cats("detail").codes([f"row {r}: {why}" for r, why in
                                             zip(rejected.row, rejected.reason, strict=True)])}))
    if not blocks:
        return pd.DataFrame(columns=COLUMNS)
    df = _frame(blocks)
    df.attrs.update({"cutoff_A": cutoff, "metal_cutoff_A": metal_cutoff,
                     "structkit_version": __version__})
    return df


def _variant_arrays(group: list[Variant]) -> dict:
    """Variant-level columns of one gene's variants (text columns as category codes)."""
    names = ("gene", "accession", "variant", "kind", "ref", "alt")
    fields = list(zip(*map(attrgetter("gene", "accession", "hgvs", "kind", "ref", "alt", "position"),
                           group), strict=True))
    out: dict = {"position": np.fromiter(fields[6], dtype=np.int64, count=len(group))}
    for name, values in zip(names, fields, strict=False):
        out[name] = _cats(name).codes(values)
    alt_cats = _cats("alt").array()
    to_aa20 = np.array([AA20.index(x) if isinstance(x, str) and len(x) == 1 and x in AA20 else -1
                        for x in alt_cats], dtype=np.int64)
    out["_alt_idx"] = to_aa20[out["alt"]]
    out["_missense"] = out["kind"] == _cats("kind").code("missense")
    out["_ref"] = _cats("ref").array()[out["ref"]]
    out["_alt"] = alt_cats[out["alt"]]
    out["_gene"] = _cats("gene").array()[out["gene"]]
    return out


def _structure_rows(group: list[Variant], va: dict, entry, how: str, cutoff: float,
                    metal_cutoff: float, fetcher, base: dict, damage: bool = True) -> list[dict]:
    n = len(group)
    sid = entry.id if isinstance(entry, CatalogStructure) else str(entry)
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
    "gene", "variant", "status", "impact_score", "mechanism", "mechanism_evidence", "agreement",
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
    if table.empty:
        return pd.DataFrame(columns=cols)
    from .verdict import variant_keys

    t = pd.DataFrame({c: table[c].astype(object) for c in (
        "gene", "variant", "status", "site", "site_kind", "pdb_id", "chain", "via", "effect",
        "damage", "structure_accession")})
    t["min_dist_A"] = table["min_dist_A"].to_numpy(dtype=float)
    t["author_num"] = table["author_num"]
    t["in_site"] = table["in_site"].fillna(False).to_numpy(dtype=bool)
    key = variant_keys(table)
    t["key"] = key
    first = np.unique(key, return_index=True)[1]
    out = pd.DataFrame({"gene": t.gene.to_numpy()[first], "variant": t.variant.to_numpy()[first]})
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
    else:
        for c in ("impact_score",):
            out[c] = np.nan
        for c in ("mechanism", "mechanism_evidence", "agreement", "evolution", "score_model"):
            out[c] = ""
    return out[cols]


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


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table by suffix (.csv .tsv .xlsx .parquet .md .html), atomically.

    The file is written to a temporary name in the same directory and renamed, so a failure
    never leaves a half-written table.
    """
    import os
    import tempfile

    p = Path(path)
    suffix = p.suffix.lower()
    writers = {".csv", ".tsv", ".xlsx", ".parquet", ".md", ".html"}
    if suffix not in writers:
        raise ValueError(f"output {p}: unknown suffix {suffix!r}; expected one of "
                         f"{', '.join(sorted(writers))}")
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=suffix, dir=p.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            df.to_csv(tmp, index=False)
        elif suffix == ".tsv":
            df.to_csv(tmp, sep="\t", index=False)
        elif suffix == ".xlsx":
            with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
                df.to_excel(xl, sheet_name="impact", index=False)
                prov = pd.DataFrame(sorted(df.attrs.items()), columns=["key", "value"])
                prov.to_excel(xl, sheet_name="provenance", index=False)
        elif suffix == ".parquet":
            out = df.copy()
            for c in out.columns:
                if out[c].dtype == object:
                    out[c] = out[c].astype("string")
            out.attrs = {}
            out.to_parquet(tmp, index=False)
        elif suffix == ".md":
            Path(tmp).write_text(df.to_markdown(index=False) + "\n", encoding="utf-8")
        elif suffix == ".html":
            Path(tmp).write_text(df.to_html(index=False, escape=True), encoding="utf-8")
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
