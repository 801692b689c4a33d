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
from .fetch import FetchError, NotAvailableOffline
from .numbering import family_map
from .sites import BURIED_RSA, DEFAULT_CUTOFF, DEFAULT_METAL_CUTOFF, StructureAnalysis, analyze
from .structure import one_letter
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
    "sasa_A2", "rsa", "buried", "ss", "bfactor", "bfactor_kind",
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
        entry = s
        if isinstance(s, str):
            try:
                entry = cat.structure(s)
            except KeyError:
                entry = s
        if isinstance(entry, CatalogStructure) and entry.target != acc:
            if entry.target == target.family_reference:
                out.append((entry, entry.target))
            continue  # a structure of another protein: nothing to place there
        out.append((entry, "direct"))
    return out


def _block(n: int, const: dict, arrays: dict) -> dict:
    cols = {k: np.full(n, v, dtype=object) for k, v in const.items()}
    cols.update(arrays)
    return cols


def impact_table(variants, structures: Iterable[str | CatalogStructure] | None = None,
                 cutoff: float = DEFAULT_CUTOFF, *, metal_cutoff: float = DEFAULT_METAL_CUTOFF,
                 family: bool = True, fetcher=None, progress: bool = False) -> pd.DataFrame:
    """Tidy table: one row per variant x structure x target chain x site.

    ``variants``: Variant objects, strings (``'ERBB2:p.T798M'``), a VariantBatch or a file path.
    ``structures``: PDB IDs / catalog entries; None takes the catalog's structures of each
    variant's gene, plus (``family=True``) the family-reference complexes (EGFR kinase-drug
    complexes for HER2), placed through the UniProt-UniProt alignment and marked in ``via``.
    ``cutoff``: contact cut-off in A between heavy atoms (site membership, contact counts);
    ``metal_cutoff``: coordination cut-off for metal sites.
    """
    vs, rejected = _as_variants(variants)
    blocks: list[dict] = []
    base = {"cutoff_A": float(cutoff), "metal_cutoff_A": float(metal_cutoff),
            "structkit_version": __version__}
    by_acc: dict[str, list[Variant]] = {}
    for v in vs:
        by_acc.setdefault(v.accession, []).append(v)
    jobs = [(acc, e, how) for acc, group in by_acc.items()
            for e, how in _entries_for(acc, structures, family)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="structures", unit="structure")
    for acc, entry, how in jobs:
        group = by_acc[acc]
        blocks += _structure_rows(group, entry, how, cutoff, metal_cutoff, fetcher, base)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    for r in rejected.itertuples():
        blocks.append(_block(1, {**base, "variant": r.input, "status": "rejected",
                                 "detail": f"row {r.row}: {r.reason}"}, {}))
    if not blocks:
        return pd.DataFrame(columns=COLUMNS)
    frames = [pd.DataFrame(b) for b in blocks]
    df = pd.concat(frames, ignore_index=True)
    df = df.reindex(columns=COLUMNS)
    for c in ("min_dist_A", "sidechain_dist_A", "ca_dist_A", "sasa_A2", "rsa", "bfactor",
              "resolution_A", "cutoff_A", "metal_cutoff_A"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    df.attrs.update({"cutoff_A": cutoff, "metal_cutoff_A": metal_cutoff,
                     "structkit_version": __version__})
    return df


def _variant_arrays(group: list[Variant]) -> dict[str, np.ndarray]:
    return {
        "gene": np.array([v.gene for v in group], dtype=object),
        "accession": np.array([v.accession for v in group], dtype=object),
        "variant": np.array([v.hgvs for v in group], dtype=object),
        "kind": np.array([v.kind for v in group], dtype=object),
        "position": np.array([v.position for v in group], dtype=np.int64),
        "ref": np.array([v.ref for v in group], dtype=object),
        "alt": np.array([v.alt for v in group], dtype=object),
    }


def _structure_rows(group: list[Variant], entry, how: str, cutoff: float, metal_cutoff: float,
                    fetcher, base: dict) -> list[dict]:
    va = _variant_arrays(group)
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
    if how == "direct":
        spos = pos.copy()
        via = "direct"
    else:
        src = uniprot_record(group[0].accession, fetcher).sequence
        fmap = family_map(src, a.uniprot_seq)
        arr = np.full(len(src) + 2, -1, dtype=np.int64)
        for p, q in fmap.items():
            arr[p] = q
        spos = np.where((pos >= 1) & (pos <= len(src)), arr[np.clip(pos, 0, len(src) + 1)], -1)
        via = f"family alignment {group[0].accession}->{a.accession}"
    useq = a.uniprot_seq
    ok_pos = (spos >= 1) & (spos <= len(useq))
    s_ures = np.array([useq[p - 1] if ok else "" for p, ok in zip(spos, ok_pos, strict=True)],
                      dtype=object)
    const = {**base, "pdb_id": st.id, "structure": a.entry.shows or st.title,
             "method": st.method, "resolution_A": st.resolution, "via": via,
             "structure_accession": a.accession, "bfactor_kind": st.bfactor_label,
             "source_file": st.path}
    blocks = []
    for ch, cd in a.chains.items():
        num = cd.numbering
        k = np.where(ok_pos, cd.pos_to_k[np.clip(spos, 0, len(cd.pos_to_k) - 1)], -1)
        have = k >= 0
        kk = np.where(have, k, 0)
        ri = num.residue_indices[kk]
        file_aa = np.array([one_letter(str(x)) for x in st.res_resname[ri]], dtype=object)
        lo, hi = num.construct
        status = np.where(have, "mapped",
                          np.where(ok_pos & (spos >= lo) & (spos <= hi), "unobserved", "not covered"))
        status = status.astype(object)
        detail = np.full(n, "", dtype=object)
        expected = va["ref"] if how == "direct" else s_ures
        for i in np.flatnonzero(have):
            notes = []
            if how != "direct" and s_ures[i] != va["ref"][i]:
                notes.append(f"{a.accession} has {s_ures[i]}{spos[i]} where "
                             f"{group[i].gene} has {va['ref'][i]}{pos[i]}")
            if file_aa[i] != expected[i]:
                status[i] = "reference mismatch"
                seqadv = num.lookup(int(spos[i])).difference
                if va["alt"][i] and file_aa[i] == va["alt"][i]:
                    carries = "the variant" if how == "direct" else (
                        f"the analogous variant p.{s_ures[i]}{spos[i]}{va['alt'][i]}")
                    notes.append(f"file has {st.res_resname[ri[i]]} ({file_aa[i]}), not "
                                 f"{expected[i]}: the structure carries {carries} ({seqadv})")
                else:
                    notes.append(f"file has {st.res_resname[ri[i]]} ({file_aa[i]}), expected "
                                 f"{expected[i]} ({seqadv})")
            detail[i] = "; ".join(notes)
        for i in np.flatnonzero(~have):
            if not ok_pos[i]:
                detail[i] = (f"no residue of {a.accession} aligned to {group[i].gene} {pos[i]}"
                             if how != "direct" else f"position {pos[i]} outside the sequence")
            elif status[i] == "unobserved":
                detail[i] = f"{a.accession} {spos[i]} lies in the construct ({lo}-{hi}) but has no coordinates"
            else:
                detail[i] = f"construct covers {a.accession} {lo}-{hi}"
        nan = np.full(n, np.nan)
        chain_cols = {
            "model": np.full(n, 1), "chain": np.full(n, ch, dtype=object),
            "structure_position": np.where(ok_pos, spos, -1),
            "structure_uniprot_res": s_ures,
            "author_num": np.where(have, st.res_num[ri], -1),
            "icode": np.where(have, st.res_icode[ri].astype(object), ""),
            "res_name": np.where(have, st.res_resname[ri].astype(object), ""),
            "numbering_method": np.full(n, num.method, dtype=object),
            "status": status, "detail": detail,
            "sasa_A2": np.where(have, cd.sasa[kk], nan).round(1),
            "rsa": np.where(have, cd.rsa[kk], nan).round(3),
            "buried": np.where(have, cd.rsa[kk] < BURIED_RSA, None),
            "ss": np.where(have, cd.ss[kk].astype(object), ""),
            "bfactor": np.where(have, cd.bfactor[kk], nan).round(2),
        }
        chain_cols["author_num"] = pd.array(np.where(have, chain_cols["author_num"], 0),
                                            dtype="Int64")
        chain_cols["author_num"][~have] = pd.NA
        chain_cols["structure_position"] = pd.array(chain_cols["structure_position"], dtype="Int64")
        chain_cols["structure_position"][~ok_pos] = pd.NA
        sites = cd.sites or [None]
        for site in sites:
            cols = dict(chain_cols)
            if site is None:
                cols.update({"site": np.full(n, "", dtype=object)})
            else:
                dist = site.dist
                md = np.where(have, dist["min_dist"][kk], nan)
                insite = np.where(have, md <= site.cutoff, None)
                cov = np.array([site.covalent.get(int(x), "") if h else ""
                                for x, h in zip(kk, have, strict=True)], dtype=object)
                effect = np.full(n, "", dtype=object)
                for i in np.flatnonzero(have & (md <= site.cutoff)):
                    effect[i] = f"in {site.name} ({st.id} chain {ch})"
                    alt = va["alt"][i]
                    if cov[i] and alt and alt != file_aa[i] and va["kind"][i] == "missense":
                        drug = site.partner.drug or site.partner.name
                        effect[i] = (f"removes the covalent anchor of {drug} "
                                     f"({cov[i]}; {st.id} chain {ch})")
                near = np.array([_atom_label(st, int(x)) if h else "" for x, h in
                                 zip(dist["nearest_atom"][kk], have, strict=True)], dtype=object)
                cols.update({
                    "site": np.full(n, site.name, dtype=object),
                    "site_kind": np.full(n, site.kind, dtype=object),
                    "partner": np.full(n, site.partner_label, dtype=object),
                    "min_dist_A": md.round(2),
                    "sidechain_dist_A": np.where(have, dist["sc_dist"][kk], nan).round(2),
                    "ca_dist_A": np.where(have, dist["ca_dist"][kk], nan).round(2),
                    "n_contacts": pd.array(np.where(have, dist["n_contacts"][kk], 0), dtype="Int64"),
                    "nearest_partner_atom": near, "in_site": insite,
                    "covalent_bond": cov, "effect": effect,
                    "cutoff_A": np.full(n, site.cutoff),
                })
                if not have.all():
                    cols["n_contacts"][~have] = pd.NA
            blocks.append(_block(n, {k: v for k, v in const.items() if k not in cols},
                                 {**va, **cols}))
    return blocks


def _atom_label(st, i: int) -> str:
    from .sites import atom_label

    return atom_label(st, i)


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """One row per variant: nearest site over all structures and where it came from.

    Columns: gene, variant, status (best over structures), nearest_site, nearest_dist_A,
    nearest_pdb_id, nearest_chain, nearest_author_num, nearest_via, sites_within_cutoff,
    effects, covered_by (structures where the residue is present), unobserved_in,
    not_available (structures that could not be obtained).
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
        })
    return pd.DataFrame(rows)


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
