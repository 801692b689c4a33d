"""The variant x therapy matrix: how each variant relates to each drug's binding site.

One row per variant x therapy. Therapies come from the catalog's partners: antibodies
(trastuzumab, pertuzumab; conjugates built on one, such as T-DM1 and T-DXd, share its epitope:
``shares_site`` in the catalog), ligands (ATP-site inhibitors; ``covalent inhibitor`` where a
structure shows the drug bonded to a residue), and for targets without a drug complex their
functional partners (DNA, zinc) with modality ``functional site``, so one matrix serves HER2
and p53.

``relation``, from the nearest heavy atom of the variant residue to the partner:

- ``covalent anchor lost``: the residue is covalently bonded to the drug and the variant changes it;
- ``contact``: within the contact cut-off (default 4.0 A; metal sites 3.0 A);
- ``second shell``: beyond the cut-off and within ``SECOND_SHELL_A`` (8.0 A);
- ``distant``: further away;
- ``not covered``: no structure with that partner has the residue (or no structure could be read);
- ``protein truncated`` (nonsense, frameshift, start lost), ``splice site``, ``extension`` (stop
  lost), ``no protein change`` (synonymous): the variant is not placed on structures; one row per
  therapy of the protein, ``evidence_level`` ``sequence``, ``note`` the residues lost.

``evidence_level`` says where the number comes from: ``<GENE> structure`` (the variant's own
protein, e.g. ``ERBB2 structure``) is preferred; otherwise ``<GENE> family stand-in`` (an EGFR
complex through the family alignment; ``structure_residue`` then names the EGFR residue).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .catalog import catalog
from .sites import DEFAULT_CUTOFF, DEFAULT_METAL_CUTOFF

if TYPE_CHECKING:
    from .fetch import Fetcher

__all__ = ["therapy_matrix", "RELATIONS", "SECOND_SHELL_A", "THERAPY_COLUMNS"]

SECOND_SHELL_A = 8.0
RELATIONS = ("covalent anchor lost", "contact", "second shell", "distant", "not covered",
             "protein truncated", "splice site", "extension", "no protein change")
_NOT_PLACED = {"truncating": "protein truncated", "splice": "splice site", "extension": "extension",
               "no protein change": "no protein change"}
THERAPY_COLUMNS = ["gene", "variant", "therapy", "component_id", "modality", "target_site",
                   "relation", "min_dist_A", "pdb_id", "chain", "structure_residue",
                   "evidence_level", "note", "impact_score", "mechanism", "cutoff_A"]


def _therapies() -> dict[tuple[str, str], dict]:
    """(pdb_id, site name) -> therapy facts, from the catalog's partners."""
    from .sites import _site_name

    out = {}
    for s in catalog().structures:
        for p in s.partners:
            if p.kind == "antibody":
                name, modality = p.drug or p.name, "antibody"
            elif p.kind == "ligand":
                name, modality = p.drug or p.name, "ATP-site inhibitor"
            else:  # DNA, zinc: what the protein binds to work
                name, modality = p.name, "functional site"
            out[s.id, _site_name(p)] = {"therapy": name, "component_id": ", ".join(p.comp_ids),
                                        "modality": modality}
    return out


def _not_placed_rows(t: pd.DataFrame, summary: pd.DataFrame, facts: dict) -> list[dict]:
    """Rows for variants not placed on structures (truncating, splice, stop lost, synonymous):
    one per therapy whose structures hold the variant's protein (or its family stand-in)."""
    cat = catalog()
    rows: list[dict] = []
    t = t[t.status.astype(str).isin(list(_NOT_PLACED))].drop_duplicates(["gene", "variant"])
    for r in t.itertuples(index=False):
        acc = str(r.accession)
        fam = cat.target(acc).family_reference
        seen = set()
        for (pdb, site), f in facts.items():
            entry = cat.find(pdb)
            if entry is None or entry.target not in (acc, fam) or f["therapy"] in seen:
                continue
            if entry.target == fam and not entry.family_reference:
                continue
            seen.add(f["therapy"])
            info = summary.loc[(r.gene, r.variant)] if (r.gene, r.variant) in summary.index else None
            detail = str(r.detail) if isinstance(r.detail, str) else ""
            row = {"gene": r.gene, "variant": r.variant, "therapy": f["therapy"],
                   "component_id": f["component_id"], "modality": f["modality"],
                   "target_site": site, "relation": _NOT_PLACED[str(r.status)],
                   "min_dist_A": np.nan, "pdb_id": "", "chain": "", "structure_residue": "",
                   "evidence_level": "sequence", "cutoff_A": np.nan,
                   "impact_score": np.nan if info is None else info.impact_score,
                   "mechanism": "" if info is None else info.mechanism,
                   "note": detail.split("; ")[0]}
            rows.append(row)
            for conj in cat.shares_site.get(f["therapy"], []):
                if conj not in seen:
                    seen.add(conj)
                    rows.append({**row, "therapy": conj, "note": f"shares the {f['therapy']} epitope; "
                                 + row["note"]})
    return rows


def therapy_matrix(variants, structures=None, cutoff: float = DEFAULT_CUTOFF, *,
                   metal_cutoff: float = DEFAULT_METAL_CUTOFF, table: pd.DataFrame | None = None,
                   verdict: bool = True, fetcher: Fetcher | None = None) -> pd.DataFrame:
    """Variant x therapy table (see the module doc for the relations and evidence levels).

    ``variants`` as for ``impact_table``; ``table`` reuses an impact table already computed.
    Columns: ``THERAPY_COLUMNS``; distances in A between heavy atoms; positions in UniProt
    numbering, ``structure_residue`` in the structure's author numbering with its protein.

    Examples
    --------
    >>> m = therapy_matrix(["ERBB2:p.T798M"], verdict=False)
    >>> m[m.therapy == "lapatinib"][["relation", "min_dist_A", "pdb_id", "evidence_level"]]
      relation  min_dist_A pdb_id        evidence_level
    7  contact        3.14   1XKK  EGFR family stand-in
    """
    from .impact import impact_table, summarize

    if table is None:
        table = impact_table(variants, structures, cutoff, metal_cutoff=metal_cutoff,
                             damage=False, fetcher=fetcher)
    t = table[table.kind.notna()]
    if t.empty:
        return pd.DataFrame(columns=THERAPY_COLUMNS)
    summary = summarize(t, verdict=verdict, fetcher=fetcher).set_index(["gene", "variant"])
    facts = _therapies()
    cat = catalog()
    r = pd.DataFrame({c: t[c].astype(object).to_numpy() for c in (
        "gene", "variant", "pdb_id", "chain", "via", "site", "status",
        "covalent_bond", "effect", "res_name", "structure_accession")})
    r["spos"] = t.structure_position.to_numpy(dtype=float, na_value=np.nan)
    r["min_dist_A"] = t.min_dist_A.to_numpy(dtype=float)
    r["author_num"] = t.author_num.to_numpy(dtype=float, na_value=np.nan)
    r["cut"] = t.cutoff_A.to_numpy(dtype=float)
    keys = list(zip(r.pdb_id, r.site, strict=True))
    r["therapy"] = [facts.get(k, {}).get("therapy") for k in keys]
    r = r[r.therapy.notna()]
    rows = []
    for (gene, variant), grp in r.groupby(["gene", "variant"], sort=False):
        info = summary.loc[(gene, variant)] if (gene, variant) in summary.index else None
        for therapy, g in grp.groupby("therapy", sort=False):
            f = facts[g.pdb_id.iloc[0], g.site.iloc[0]]
            covalent = (g.covalent_bond.fillna("") != "").any()
            modality = "covalent inhibitor" if covalent and f["modality"] != "antibody" else f["modality"]
            present = g[g.status.isin(["mapped", "reference mismatch"]) & g.min_dist_A.notna()]
            direct = present[present.via == "direct"]
            use = direct if len(direct) else present
            row = {"gene": gene, "variant": variant, "therapy": therapy,
                   "component_id": f["component_id"], "modality": modality,
                   "target_site": str(g.site.iloc[0]), "note": "",
                   "impact_score": np.nan if info is None else info.impact_score,
                   "mechanism": "" if info is None else info.mechanism}
            if use.empty:
                why = sorted(set(g.status.astype(str)))
                row.update(relation="not covered", min_dist_A=np.nan, pdb_id="", chain="",
                           structure_residue="", evidence_level="", cutoff_A=np.nan,
                           note="no structure with this partner has the residue (" + ", ".join(why) + ")")
            else:
                best = use.sort_values("min_dist_A", kind="stable").iloc[0]
                fam = best.via != "direct"
                prot = cat.target(str(best.structure_accession)).gene if fam else gene
                # the impact table's own judgement: a missense change of the bonded residue
                bonded = use[use.effect.fillna("").str.startswith("removes the covalent anchor")]
                d, cut = float(best.min_dist_A), float(best.cut)
                if len(bonded):
                    rel = "covalent anchor lost"
                    best = bonded.iloc[0]
                    row["note"] = f"bond {best.covalent_bond}"
                elif d <= cut:
                    rel = "contact"
                elif d <= SECOND_SHELL_A:
                    rel = "second shell"
                else:
                    rel = "distant"
                num = "" if np.isnan(best.author_num) else int(best.author_num)
                if num != "" and not np.isnan(best.spos) and int(best.spos) != num:
                    num = f"{num} (UniProt {int(best.spos)})"
                row.update(relation=rel, min_dist_A=round(float(best.min_dist_A), 2),
                           pdb_id=best.pdb_id, chain=best.chain,
                           structure_residue=f"{prot} {best.res_name} {num}",
                           evidence_level=f"{prot} {'family stand-in' if fam else 'structure'}",
                           cutoff_A=cut)
            rows.append(row)
            for conj in cat.shares_site.get(therapy, []):
                rows.append({**row, "therapy": conj, "note": (
                    f"shares the {therapy} epitope" + (f"; {row['note']}" if row["note"] else ""))})
    rows += _not_placed_rows(t, summary, facts)
    out = pd.DataFrame(rows, columns=THERAPY_COLUMNS)
    out.attrs.update({"cutoff_A": cutoff, "metal_cutoff_A": metal_cutoff,
                      "second_shell_A": SECOND_SHELL_A})
    return out
