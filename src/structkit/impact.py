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
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .catalog import CatalogStructure, catalog
from .damage import ZINC_REGION, context, describe, interface_damage, substitution_damage
from .fetch import FetchError, NotAvailableOffline
from .numbering import family_map
from .sites import BURIED_RSA, DEFAULT_CUTOFF, DEFAULT_METAL_CUTOFF, analyze
from .uniprot import uniprot_record
from .variants import Variant, VariantBatch, parse_variants

__all__ = ["impact_table", "summarize", "write_table", "COLUMNS", "STATUSES"]

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
    if all(isinstance(v, Variant) for v in items):
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


def _block(n: int, const: dict, arrays: dict) -> dict:
    """Columns of ``n`` rows: arrays as given, constants broadcast, the rest empty."""
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
            out[k] = _const(n, v)
    return out


class _Coded:
    """Column values as integer codes into a small array of categories (no per-row objects).

    Constants are one category repeated; residue-level values are codes into the chain's
    per-residue arrays. ``_frame`` merges the categories of all blocks once.
    """

    __slots__ = ("codes", "categories")

    def __init__(self, codes: np.ndarray, categories) -> None:
        self.codes = np.asarray(codes, dtype=np.int64)
        self.categories = np.asarray(categories, dtype=object)

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i):
        return self.categories[self.codes[i]]

    def expand(self) -> np.ndarray:
        return self.categories[self.codes]


def _const(n: int, value) -> _Coded:
    cats = np.empty(1, dtype=object)
    cats[0] = value
    return _Coded(np.zeros(n, dtype=np.int64), cats)


def _coded(values: np.ndarray, idx: np.ndarray, have: np.ndarray, missing="") -> _Coded:
    """``values[idx]`` where ``have``, else ``missing``, as codes into ``values`` + [missing]."""
    cats = np.empty(len(values) + 1, dtype=object)
    cats[:-1] = values
    cats[-1] = missing
    return _Coded(np.where(have, idx, len(values)), cats)


def _sparse(n: int, texts: dict[int, str]) -> _Coded:
    """A text column that is '' except at a few rows (details, effects)."""
    codes = np.zeros(n, dtype=np.int64)
    if not texts:
        return _Coded(codes, np.array([""], dtype=object))
    rows = np.fromiter(texts.keys(), dtype=np.int64, count=len(texts))
    found, cats = pd.factorize(np.array(list(texts.values()), dtype=object))
    codes[rows] = found + 1
    return _Coded(codes, np.concatenate([np.array([""], dtype=object), np.asarray(cats, dtype=object)]))


def _status(have, unobserved, mismatch) -> _Coded:
    codes = np.where(have, np.where(mismatch, 1, 0), np.where(unobserved, 2, 3))
    return _Coded(codes, np.array(["mapped", "reference mismatch", "unobserved", "not covered"],
                                  dtype=object))


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
    become categoricals whose categories are merged across blocks.
    """
    cols = {}
    for c in COLUMNS:
        parts = [b[c] for b in blocks]
        if c in _INT_COLUMNS:
            arr = np.concatenate([np.asarray(x, dtype=np.int64) for x in parts])
            cols[c] = pd.arrays.IntegerArray(arr, arr < 0)
        elif c in _FLOAT_COLUMNS:
            cols[c] = np.concatenate([np.asarray(x, dtype=np.float64) for x in parts])
        elif c in _BOOL_COLUMNS:
            cols[c] = pd.arrays.BooleanArray(np.concatenate([x.values for x in parts]),
                                             np.concatenate([x.missing for x in parts]))
        else:
            coded = [x if isinstance(x, _Coded) else _Coded(*_factor(x)) for x in parts]
            n_cats = sum(len(x.categories) for x in coded)
            if n_cats * 5 > sum(len(x) for x in coded):  # mostly distinct text: plain objects
                cols[c] = pd.Series(np.concatenate([x.expand() for x in coded]), dtype=object,
                                    copy=False)
                continue
            offsets = np.cumsum([0] + [len(x.categories) for x in coded[:-1]])
            allcats = np.concatenate([x.categories for x in coded])
            uniq_codes, uniq = pd.factorize(allcats, use_na_sentinel=True)
            codes = np.concatenate([
                np.full(len(x), uniq_codes[o], dtype=np.int32) if len(x.categories) == 1
                else uniq_codes[o + x.codes].astype(np.int32)
                for o, x in zip(offsets, coded, strict=True)])
            cols[c] = pd.Categorical.from_codes(codes, categories=pd.Index(uniq, dtype=object),
                                                validate=False)
    return pd.DataFrame(cols, copy=False)


def _factor(values) -> tuple[np.ndarray, np.ndarray]:
    codes, cats = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    return codes, np.asarray(cats, dtype=object)


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
    by_acc: dict[str, list[Variant]] = {}
    for v in vs:
        by_acc.setdefault(v.accession, []).append(v)
    arrays = {acc: _variant_arrays(group) for acc, group in by_acc.items()}
    jobs = [(acc, e, how) for acc in by_acc for e, how in _entries_for(acc, structures, family)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="structures", unit="structure")
    # analyse every structure first: their DSSP runs overlap with the Python work
    for acc, entry, how in jobs:
        try:
            analyze(entry, acc if how == "direct" else how, cutoff=cutoff,
                    metal_cutoff=metal_cutoff, fetcher=fetcher, wait_dssp=False)
        except (FetchError, ValueError):
            pass  # reported per row below
    for acc, entry, how in jobs:
        blocks += _structure_rows(by_acc[acc], arrays[acc], entry, how, cutoff, metal_cutoff,
                                  fetcher, base, damage)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if len(rejected):
        blocks.append(_block(len(rejected), {**base, "status": "rejected"}, {
            "variant": rejected.input.to_numpy(dtype=object),
            "detail": np.array([f"row {r}: {why}" for r, why in
                                zip(rejected.row, rejected.reason, strict=True)], dtype=object)}))
    if not blocks:
        return pd.DataFrame(columns=COLUMNS)
    df = _frame(blocks)
    df.attrs.update({"cutoff_A": cutoff, "metal_cutoff_A": metal_cutoff,
                     "structkit_version": __version__})
    return df


def _variant_arrays(group: list[Variant]) -> dict:
    """Variant-level columns of one gene's variants (text columns as codes into categories)."""
    out: dict = {"position": np.array([v.position for v in group], dtype=np.int64),
                 "_alt_idx": np.array([_AA_INDEX.get(v.alt, -1) if v.alt else -1 for v in group]),
                 "_missense": np.array([v.kind == "missense" for v in group])}
    for name, values in (("gene", [v.gene for v in group]),
                         ("accession", [v.accession for v in group]),
                         ("variant", [v.hgvs for v in group]),
                         ("kind", [v.kind for v in group]),
                         ("ref", [v.ref for v in group]),
                         ("alt", [v.alt for v in group])):
        out[name] = _Coded(*_factor(values))
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
    a.ensure_ss()
    st = a.structure
    pos = va["position"]
    useq = a.uniprot_seq
    if how == "direct":
        spos = pos.copy()
        via = "direct"
    else:
        src = uniprot_record(group[0].accession, fetcher).sequence
        arr = np.full(len(src) + 2, -1, dtype=np.int64)
        for p, q in family_map(src, useq).items():
            arr[p] = q
        spos = np.where((pos >= 1) & (pos <= len(src)), arr[np.clip(pos, 0, len(src) + 1)], -1)
        via = f"family alignment {group[0].accession}->{a.accession}"
    ok_pos = (spos >= 1) & (spos <= len(useq))
    useq_arr = np.array(list(useq) + [""], dtype=object)
    s_ures = useq_arr[np.where(ok_pos, spos - 1, len(useq))]
    const = {**base, "pdb_id": st.id, "structure": a.entry.shows or st.title,
             "method": st.method, "resolution_A": st.resolution, "via": via,
             "structure_accession": a.accession, "bfactor_kind": st.bfactor_label,
             "source_file": st.path}
    ref_arr = va["ref"].expand()
    expected = ref_arr if how == "direct" else s_ures
    alts = va["alt"].expand()
    alt_idx, missense = va["_alt_idx"], va["_missense"]
    blocks = []
    for ch, cd in a.chains.items():
        num = cd.numbering
        k = np.where(ok_pos, cd.pos_to_k[np.clip(spos, 0, len(cd.pos_to_k) - 1)], -1)
        have = k >= 0
        kk = np.where(have, k, 0)
        ri = num.residue_indices[kk]
        file_aa = cd.aa[kk]
        lo, hi = num.construct
        unobserved = ok_pos & (spos >= lo) & (spos <= hi)
        detail: dict[int, str] = {}
        differs = have & (file_aa != expected)
        family_diff = have & (s_ures != ref_arr) if how != "direct" else np.zeros(n, bool)
        for i in np.flatnonzero(differs | family_diff):
            detail[i] = "; ".join(_mismatch_notes(i, group[i], va, a, st, num, spos, s_ures,
                                                  file_aa, expected, ri, how))
        for i in np.flatnonzero(~have):
            if not ok_pos[i]:
                detail[i] = (f"no residue of {a.accession} aligned to {group[i].gene} {pos[i]}"
                             if how != "direct" else f"position {pos[i]} outside the sequence")
            elif unobserved[i]:
                detail[i] = (f"{a.accession} {spos[i]} lies in the construct ({lo}-{hi}) but has "
                             "no coordinates")
            else:
                detail[i] = f"construct covers {a.accession} {lo}-{hi}"
        nan = np.full(n, np.nan)
        chain_cols = {
            "model": np.full(n, 1), "chain": _const(n, ch),
            "structure_position": np.where(ok_pos, spos, -1),
            "structure_uniprot_res": _Coded(np.where(ok_pos, spos - 1, len(useq)), useq_arr),
            "author_num": np.where(have, st.res_num[ri], -1),
            "icode": _coded(st.res_icode[num.residue_indices].astype(object), kk, have),
            "res_name": _coded(st.res_resname[num.residue_indices].astype(object), kk, have),
            "numbering_method": _const(n, num.method),
            "status": _status(have, unobserved, differs), "detail": _sparse(n, detail),
            "sasa_A2": np.where(have, cd.sasa[kk], nan).round(1),
            "rsa": np.where(have, cd.rsa[kk], nan).round(3),
            "buried": _Bool(cd.rsa[kk] < BURIED_RSA, ~have),
            "ss": _coded(cd.ss.astype(object), kk, have),
            "bfactor": np.where(have, cd.bfactor[kk], nan).round(2),
            "site": _const(n, ""),
        }
        chain_cols["ss_method"] = _const(n, cd.ss_method)
        assess = np.flatnonzero(have & missense & (alt_idx >= 0)) if damage else np.zeros(0, int)
        chain_cols["context"] = _context_col(cd, kk, assess, alts, alt_idx, n)
        for site in cd.sites or [None]:
            cols = dict(chain_cols)
            if site is not None:
                cols.update(_site_cols(site, va, have, kk, file_aa, st.id, ch, n))
            cols.update(_damage_cols(st, cd, site, kk, assess, alts, alt_idx, n))
            blocks.append(_block(n, const, {**va, **cols}))
    return blocks


def _mismatch_notes(i, v, va, a, st, num, spos, s_ures, file_aa, expected, ri, how) -> list[str]:
    notes = []
    if how != "direct" and s_ures[i] != va["ref"][i]:
        notes.append(f"{a.accession} has {s_ures[i]}{spos[i]} where {v.gene} has "
                     f"{va['ref'][i]}{va['position'][i]}")
    if file_aa[i] != expected[i]:
        seqadv = num.lookup(int(spos[i])).difference
        resname = st.res_resname[ri[i]]
        if va["alt"][i] and file_aa[i] == va["alt"][i]:
            carries = "the variant" if how == "direct" else (
                f"the analogous variant p.{s_ures[i]}{spos[i]}{va['alt'][i]}")
            notes.append(f"file has {resname} ({file_aa[i]}), not {expected[i]}: the structure "
                         f"carries {carries}; {seqadv}")
        else:
            notes.append(f"file has {resname} ({file_aa[i]}), expected {expected[i]}; {seqadv}")
    return notes


_AA20 = "ACDEFGHIKLMNPQRSTVWY"
_AA_INDEX = {a: i for i, a in enumerate(_AA20)}


class _DamageTable:
    """Lazily filled (residue k x alt) -> (damage, evidence) codes for one chain and site."""

    def __init__(self, n_res: int) -> None:
        self.codes = np.full((n_res, len(_AA20)), -1, dtype=np.int64)
        self.names: list[str] = []
        self.evidence: list[str] = []
        self._index: dict[tuple[str, str], int] = {}

    def code(self, names: str, evidence: str) -> int:
        key = (names, evidence)
        if key not in self._index:
            self._index[key] = len(self.names)
            self.names.append(names)
            self.evidence.append(evidence)
        return self._index[key]


def _context_col(cd, kk, assess, alts, alt_idx, n) -> _Coded:
    """'context' (burial, kind and size of the change) per row, from a per-chain lazy table."""
    tables = cd.env.cache.setdefault("tables", {})
    if "context" not in tables:
        tables["context"] = _DamageTable(len(cd.aa))
    table = tables["context"]
    codes = np.full(n, -1, dtype=np.int64)
    if len(assess):
        got = table.codes[kk[assess], alt_idx[assess]]
        for i in assess[got < 0]:
            k = int(kk[i])
            if table.codes[k, alt_idx[i]] < 0:
                table.codes[k, alt_idx[i]] = table.code(context(cd.aa[k], alts[i], cd.rsa[k]), "")
        codes[assess] = table.codes[kk[assess], alt_idx[assess]]
    return _compact(np.where(codes < 0, len(table.names), codes), table.names + [""])


def _fill(table: _DamageTable, rows: np.ndarray, kk, alt_idx, alts, compute) -> np.ndarray:
    """Codes of ``rows`` in ``table``, computing missing (residue, alt) entries with ``compute``."""
    got = table.codes[kk[rows], alt_idx[rows]]
    for i in rows[got < 0]:
        k, a = int(kk[i]), int(alt_idx[i])
        if table.codes[k, a] < 0:
            table.codes[k, a] = table.code(*describe(compute(k, alts[i])))
    return table.codes[kk[rows], alt_idx[rows]]


def _damage_cols(st, cd, site, kk, assess, alts, alt_idx, n) -> dict:
    """'damage' and 'damage_evidence' for missense rows (structural + this site's interface).

    Structural features come from one table per chain; rows within reach of the site (its
    cut-off, or the zinc region) get a per-site table that adds the interface features. Each
    (residue, alt) is computed once, then looked up as array codes.
    """
    env = cd.env
    tables = env.cache.setdefault("tables", {})
    if "structural" not in tables:
        tables["structural"] = _DamageTable(len(cd.aa))

    def structural(k: int, alt: str) -> list:
        if (k, alt) not in env.cache:
            env.cache[(k, alt)] = substitution_damage(env, k, cd.aa[k], alt, float(cd.rsa[k]),
                                                      float(cd.sasa[k]), str(cd.ss[k]), cd.ss_method)
        return env.cache[(k, alt)]

    base = tables["structural"]
    codes = np.full(n, -1, dtype=np.int64)
    near = np.zeros(0, dtype=np.int64)
    if site is not None:  # interface features need the residue within reach of the site
        reach = max(site.cutoff, ZINC_REGION)
        near = assess[site.dist["min_dist"][kk[assess]] <= reach]
    far = np.setdiff1d(assess, near, assume_unique=True)
    if len(far):
        codes[far] = _fill(base, far, kk, alt_idx, alts, structural)
    names, evidence = list(base.names), list(base.evidence)
    if len(near):
        key = id(site)
        if key not in tables:
            tables[key] = _DamageTable(len(cd.aa))
        ri = cd.numbering.residue_indices
        codes[near] = len(names) + _fill(
            tables[key], near, kk, alt_idx, alts,
            lambda k, alt: structural(k, alt) + interface_damage(st, site, k, int(ri[k]),
                                                                 cd.aa[k], alt))
        names += tables[key].names
        evidence += tables[key].evidence
    codes = np.where(codes < 0, len(names), codes)
    return {"damage": _compact(codes, names + [""]),
            "damage_evidence": _compact(codes, evidence + [""])}


def _compact(codes: np.ndarray, categories: list) -> _Coded:
    """Keep only the categories these rows use (the lazy tables grow across calls)."""
    used, inverse = np.unique(codes, return_inverse=True)
    return _Coded(inverse.reshape(-1), np.array([categories[u] for u in used], dtype=object))


def _site_cols(site, va, have, kk, file_aa, sid, ch, n) -> dict:
    dist = site.dist
    nan = np.full(n, np.nan)
    md = np.where(have, dist["min_dist"][kk], nan)
    within = have & (md <= site.cutoff)
    cov = _coded(site.covalent_text, kk, have)
    effect: dict[int, str] = {}
    for i in np.flatnonzero(within):
        effect[i] = f"in {site.name} ({sid} chain {ch})"
        alt = va["alt"][i]
        if cov[i] and alt and alt != file_aa[i] and va["kind"][i] == "missense":
            drug = site.partner.drug or site.partner.name
            effect[i] = f"removes the covalent anchor of {drug} ({cov[i]}; {sid} chain {ch})"
    return {
        "site": _const(n, site.name),
        "site_kind": _const(n, site.kind),
        "partner": _const(n, site.partner_label),
        "min_dist_A": md.round(2),
        "sidechain_dist_A": np.where(have, dist["sc_dist"][kk], nan).round(2),
        "ca_dist_A": np.where(have, dist["ca_dist"][kk], nan).round(2),
        "n_contacts": np.where(have, dist["n_contacts"][kk], -1),
        "nearest_partner_atom": _coded(site.nearest_label, kk, have),
        "in_site": _Bool(within, ~have),
        "covalent_bond": cov, "effect": _sparse(n, effect),
        "cutoff_A": np.full(n, site.cutoff),
    }


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """One row per variant: nearest site over all structures and where it came from.

    Columns: gene, variant, status (best over structures), nearest_site, nearest_dist_A,
    nearest_pdb_id, nearest_chain, nearest_author_num, nearest_via, sites_within_cutoff,
    effects, covered_by (structures where the residue is present), unobserved_in,
    not_available (structures that could not be obtained), damage (each feature with the number
    of structure chains showing it over those assessed, so disagreement stays visible).
    """
    rows = []
    order = {s: i for i, s in enumerate(STATUSES)}
    for (gene, variant), g in table.groupby(["gene", "variant"], sort=False, dropna=False):
        present = g[g.status.isin(["mapped", "reference mismatch"])]
        best = present.dropna(subset=["min_dist_A"])
        near = best.loc[best.min_dist_A.idxmin()] if len(best) else None
        within = present[present.in_site.fillna(False).astype(bool)]
        rows.append({
            "gene": gene, "variant": variant,
            "status": min(g.status, key=lambda s: order.get(s, 99)),
            "nearest_site": None if near is None else near.site,
            "nearest_dist_A": None if near is None else near.min_dist_A,
            "nearest_pdb_id": None if near is None else near.pdb_id,
            "nearest_chain": None if near is None else near.chain,
            "nearest_author_num": None if near is None else near.author_num,
            "nearest_via": None if near is None else near.via,
            "sites_within_cutoff": "; ".join(sorted({f"{r.site} ({r.pdb_id})"
                                                     for r in within.itertuples()})),
            "effects": "; ".join(sorted({e for e in present.effect.dropna() if e})),
            "covered_by": ", ".join(sorted(set(present.pdb_id))),
            "unobserved_in": ", ".join(sorted(set(g[g.status == "unobserved"].pdb_id))),
            "not_available": ", ".join(sorted(set(g[g.status.isin(
                ["not available offline", "fetch failed"])].pdb_id))),
            "damage": _damage_consensus(present),
        })
    return pd.DataFrame(rows)


def _damage_consensus(rows: pd.DataFrame) -> str:
    """Each damage feature with the number of structure chains showing it, over those assessed."""
    assessed = rows[rows.damage.astype(str) != ""]
    if assessed.empty:
        return ""
    chains: dict[str, set] = {}
    units = set()
    for r in assessed.itertuples():
        unit = (r.pdb_id, r.chain)
        units.add(unit)
        for f in str(r.damage).split("; "):
            if f and f != "none":
                chains.setdefault(f, set()).add(unit)
    if not chains:
        return f"none ({len(units)} chains)"
    order = sorted(chains, key=lambda f: (-len(chains[f]), f))
    return "; ".join(f"{f} ({len(chains[f])}/{len(units)} chains)" for f in order)


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
