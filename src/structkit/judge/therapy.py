"""The variant x therapy matrix: what the structures show beside what is known, never merged.

One row per variant x therapy. The therapies are the catalog's drug table (``catalog().drugs``:
status, modality, targets, the anatomy elements that hold the drug's site, the bonded Cys of a
covalent drug, an ADC's antibody and payload); for a target without drugs (p53), its functional
partners (DNA, zinc) with status and modality ``functional site``. EGFR-only drugs are not rows
of HER2 variants; research compounds are rows only with ``include_research`` (or as the
structure that stands for a named drug: 7PCD's 70I for zongertinib, said in ``evidence_level``).

Two kinds of columns:

- **known response** (``known_response``, ``known_evidence``, ``broader_evidence``): accepted
  predictive CIViC items (release ``evidence.CIVIC_RELEASE``) that name the variant and the drug
  (``structkit.io.evidence``), with level, EID, PMID and disease; combinations say so; items of
  broader profiles (``Kinase Domain Mutation``) only in ``broader_evidence``;
- **structural relation** (``relation``), from one structure per drug and variant, the one
  that speaks: the best-resolved structure of the target with the drug first (resolution from
  the file; unknown last), family stand-ins after (``other_structures`` lists the rest):

  - ``covalent anchor lost``: a covalent drug and a change of its bonded Cys (``cysteine`` in the
    drug table, and the bond found in the structure when there is one);
  - ``contact`` / ``epitope contact`` (antibodies, ADCs): nearest heavy atoms within the contact
    cut-off (default 4.0 A; metal sites 3.0 A);
  - ``conformational``: beyond contact but in an element whose changes move the kinase between
    its active and inactive states (``CONFORMATIONAL_ELEMENTS``: alphaC helix, alphaC-beta4
    loop, activation loop); ``conformation`` gives the state of the structure (alphaC-in/out,
    DFG-in/out from its coordinates, ``structkit.analysis.conformation``);
  - ``second shell`` (<= ``SECOND_SHELL_A``, 8 A) and ``distant``;
  - ``outside the drug's domain``: the residue lies outside every element in the drug's
    ``binds`` (S310F and a kinase inhibitor);
  - ``in-frame indel: structure cannot judge``: insertions, duplications and deletions (in
    their HGVS 3' form) inside the drug's domain; the note says where the span lies;
  - ``unobserved in the structure``: no structure of the drug has coordinates for the residue;
  - ``no structure of the drug``: the drug has no complex in the catalog; the note gives what
    its modality allows (the residue lines the target's ATP pocket or lies in the epitope's
    domain);
  - ``not available offline``: every structure of the drug is missing from cache and mirror;
  - ``protein truncated``, ``splice site``, ``extension``, ``no protein change``: the variant is
    not placed on structures.

``chains_agree`` counts, in the structure that speaks, the chains that carry this drug (not
another partner of the same entry) and give the same relation.

Size: the relation of a variant to a drug, the known response and the drug table are read
together by every row; splitting them would pass half the context around.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..analysis.sites import _site_name
from ..catalog import Drug, catalog
from ..keywords import accepts_session
from ..statuses import PRESENT

if TYPE_CHECKING:
    from ..io.fetch import Fetcher

__all__ = ["therapy_matrix", "drug_table", "RELATIONS", "SECOND_SHELL_A", "THERAPY_COLUMNS",
           "CONFORMATIONAL_ELEMENTS", "DRUG_COLUMNS"]

SECOND_SHELL_A = 8.0
CONFORMATIONAL_ELEMENTS = ("alphaC helix", "alphaC-beta4 loop", "activation loop")
INDEL = "in-frame indel: structure cannot judge"
RELATIONS = ("covalent anchor lost", "contact", "epitope contact", "conformational", "second shell",
             "distant", "outside the drug's domain", INDEL, "unobserved in the structure",
             "no structure of the drug", "not available offline", "protein truncated",
             "splice site", "extension", "no protein change")
_NOT_PLACED = {"truncating": "protein truncated", "splice": "splice site", "extension": "extension",
               "no protein change": "no protein change"}
_INDEL_KINDS = ("inframe_insertion", "duplication", "inframe_deletion", "delins")
THERAPY_COLUMNS = [
    "gene", "variant", "therapy", "status", "modality", "target_site", "relation", "min_dist_A",
    "pdb_id", "chain", "resolution_A", "conformation", "structure_residue", "evidence_level",
    "chains_agree", "other_structures", "note", "known_response", "known_evidence",
    "broader_evidence", "impact_score", "mechanism", "component_id", "cutoff_A"]
DRUG_COLUMNS = ["drug", "synonyms", "status", "approval", "modality", "targets", "binds",
                "covalent_cys", "antibody", "payload", "structures", "note"]
_PLACED = PRESENT


def drug_table(gene: str | None = None) -> pd.DataFrame:
    """The catalog's drug table, one row per drug (``DRUG_COLUMNS``); ``structures`` lists the
    catalog complexes that show the drug (or the partner that stands for it), target first.

    Examples
    --------
    >>> d = drug_table("ERBB2").set_index("drug")
    >>> d.loc["neratinib", ["modality", "covalent_cys", "structures"]].tolist()
    ['covalent TKI', 'ERBB2 C805, EGFR C797', '2JIV (EGFR family stand-in)']
    """
    cat = catalog()
    rows = []
    for d in cat.drugs:
        if gene is not None and cat.target(gene).gene not in d.targets:
            continue
        shown = [f"{s.id} ({'EGFR family stand-in' if s.family_reference else cat.target(s.target).gene})"
                 for s in _entries(d)]
        rows.append({"drug": d.name, "synonyms": ", ".join(d.synonyms), "status": d.status,
                     "approval": d.approval, "modality": d.modality, "targets": ", ".join(d.targets),
                     "binds": ", ".join(d.binds),
                     "covalent_cys": ", ".join(f"{g} C{p}" for g, p in d.cysteine),
                     "antibody": d.antibody, "payload": d.payload,
                     "structures": "; ".join(shown) or "none: relation by modality only",
                     "note": d.note})
    return pd.DataFrame(rows, columns=DRUG_COLUMNS)


def _entries(d: Drug) -> list:
    """Catalog structures with a partner that is (or stands for) the drug; target entries first."""
    cat = catalog()
    out = [s for s in cat.structures if any(p.drug == d.partner_name for p in s.partners)]
    return sorted(out, key=lambda s: s.family_reference)


def _drugs_for(gene: str, approved_only: bool, include_research: bool, names) -> list[Drug]:
    cat = catalog()
    want = None if not names else {cat.drug(n).name for n in names}
    out = []
    for d in cat.drugs:
        if gene not in d.targets or (want is not None and d.name not in want):
            continue
        if want is None and ((approved_only and d.status != "approved")
                             or (d.status == "research compound" and not include_research)):
            continue
        out.append(d)
    return out


def _functional(gene: str) -> list[Drug]:
    """A target without drugs: its functional partners (DNA, zinc) as pseudo-therapies."""
    cat = catalog()
    acc = cat.target(gene).accession
    seen: dict[str, Drug] = {}
    for s in cat.structures_for(acc):
        for p in s.partners:
            if p.kind in ("dna", "metal") and p.name not in seen:
                seen[p.name] = Drug(name=p.name, status="functional site", modality="functional site",
                                    targets=(gene,), binds=())
    return list(seen.values())


class _Ctx:
    """What every row of one matrix needs: the table's rows by (variant, pdb, site), the
    anatomy, the known evidence, the cut-offs."""

    def __init__(self, t: pd.DataFrame, fetcher, cutoff: float):
        self.fetcher, self.cutoff = fetcher, cutoff
        self.rows = {k: g for k, g in t.groupby(["gene", "variant", "pdb_id", "site"], sort=False,
                                                 observed=True)}
        res = t.dropna(subset=["resolution_A"]).drop_duplicates("pdb_id")
        self.resolution = dict(zip(res.pdb_id.astype(str), res.resolution_A.astype(float), strict=True))
        self.offline = set(t.loc[t.status.astype(str) == "not available offline", "pdb_id"].astype(str))
        self._anat: dict = {}

    def anatomy(self, gene: str):
        if gene not in self._anat:
            from ..analysis.anatomy import anatomy

            self._anat[gene] = anatomy(gene, self.fetcher)
        return self._anat[gene]


@accepts_session
def therapy_matrix(variants, structures=None, cutoff: float | None = None, *,
                   metal_cutoff: float | None = None, table: pd.DataFrame | None = None,
                   verdict: bool = True, drugs=None, approved_only: bool = False,
                   include_research: bool = False, summary: pd.DataFrame | None = None,
                   fetcher: Fetcher | None = None) -> pd.DataFrame:
    """Variant x therapy table (see the module doc for the relations and the known response).

    ``variants`` as for ``impact_table``; ``table`` reuses an impact table already computed.
    ``drugs`` keeps only these drugs (names or synonyms); ``approved_only`` keeps approved drugs;
    ``include_research`` adds the research compounds; ``summary`` reuses ``summarize(table)``
    already computed (its impact_score and mechanism are copied). Columns: ``THERAPY_COLUMNS``; distances in
    A between heavy atoms; ``structure_residue`` in the structure's author numbering with its
    protein (and the UniProt position where they differ).

    Examples
    --------
    >>> m = therapy_matrix(["ERBB2:p.T798M"], verdict=False).set_index("therapy")
    >>> r = m.loc["lapatinib"]
    >>> r.relation, float(r.min_dist_A), r.pdb_id, r.conformation, r.known_response
    ('contact', 3.14, '1XKK', 'alphaC-out, DFG-in', 'resistance')
    """
    from ..cutoffs import resolve_cutoffs
    from ..io.store import session_of

    fetcher = session_of(fetcher)
    cutoff, metal_cutoff = resolve_cutoffs(fetcher, cutoff, metal_cutoff)
    with fetcher.lock:  # threads sharing a session take turns (see Fetcher.lock)
        return _therapy_matrix(variants, structures, cutoff, metal_cutoff, table, verdict, drugs,
                               approved_only, include_research, fetcher, summary)


def _therapy_matrix(variants, structures, cutoff, metal_cutoff, table, verdict, drugs,
                    approved_only, include_research, fetcher, summary=None) -> pd.DataFrame:
    from ..analysis.table import impact_table
    from .summary import summarize

    if table is None:
        table = impact_table(variants, structures, cutoff, metal_cutoff=metal_cutoff,
                             damage=False, fetcher=fetcher)
    t = table[table.kind.notna()]
    if t.empty:
        return pd.DataFrame(columns=THERAPY_COLUMNS)
    if summary is None:
        summary = summarize(t, verdict=verdict, fetcher=fetcher)
    summary = summary.set_index(["gene", "variant"])
    ctx = _Ctx(t, fetcher, cutoff)
    firsts = t.drop_duplicates(["gene", "variant"])
    from ..io.variants import parse_variant

    rows: list[dict] = []
    for r in firsts.itertuples(index=False):
        gene, variant = str(r.gene), str(r.variant)
        v = parse_variant(f"{gene}:{variant}", fetcher=fetcher)
        info = summary.loc[(gene, variant)] if (gene, variant) in summary.index else None
        ds = _drugs_for(gene, approved_only, include_research, drugs) if any(
            gene in d.targets for d in catalog().drugs) else _functional(gene)
        known = _known(v, ds, fetcher)
        for d in ds:
            row = {"gene": gene, "variant": variant, "therapy": d.name, "status": d.status,
                   "modality": d.modality, "target_site": _target_site(d),
                   "impact_score": np.nan if info is None else info.impact_score,
                   "mechanism": "" if info is None else info.mechanism,
                   "component_id": _components(d), "cutoff_A": np.nan, "min_dist_A": np.nan,
                   "pdb_id": "", "chain": "", "resolution_A": np.nan, "conformation": "",
                   "structure_residue": "", "evidence_level": "", "chains_agree": "",
                   "other_structures": "", "note": ""}
            row.update(known.get(d.name, {}))
            status = str(r.status)
            if status in _NOT_PLACED:
                detail = str(r.detail) if isinstance(r.detail, str) else ""
                row.update(relation=_NOT_PLACED[status], evidence_level="sequence",
                           note=detail.split("; ")[0])
            else:
                row.update(_relation(v, d, ctx))
            rows.append(row)
    out = pd.DataFrame(rows, columns=THERAPY_COLUMNS)
    from ..io.evidence import civic_provenance

    out.attrs.update({"cutoff_A": cutoff, "metal_cutoff_A": metal_cutoff,
                      "second_shell_A": SECOND_SHELL_A, "civic": civic_provenance(fetcher),
                      "conformation": "alphaC and DFG labels after Modi & Dunbrack 2019 PNAS 116:6818"})
    return out


def _target_site(d: Drug) -> str:
    if d.status == "functional site":
        return d.name
    if d.is_antibody:
        return " + ".join(d.binds) + " epitope"
    return "ATP site" + (f" (covalent to Cys{'/'.join(str(p) for _, p in d.cysteine)})"
                         if d.covalent else "")


def _components(d: Drug) -> str:
    comps = {c for s in _entries(d) for p in s.partners if p.drug == d.partner_name for c in p.comp_ids}
    return ", ".join(sorted(comps))


def _span(v) -> tuple[int, int]:
    return v.position, v.end or v.position


def _where(anat, p: int) -> str:
    """The most specific anatomy element at ``p`` that is not a binding site ('' if none)."""
    sites = {e.name for e in anat.elements if e.kind == "site"}
    names = [n for n in anat.names(p) if n not in sites]
    return names[-1] if names else ""


def _relation(v, d: Drug, ctx: _Ctx) -> dict:
    anat = ctx.anatomy(v.gene)
    a, b = _span(v)
    span = set(range(a, b + 1))
    if d.status == "functional site":
        return _measured(v, d, ctx, anat)
    # outside the drug's domain (an antibody's: the region holding its epitope's domains, which
    # its structures show whole)
    domain = _domain(d, anat)
    if domain and not span & domain:
        where = _where(anat, a) or "no named element"
        doms = "; ".join(f"{e.name} {e.span}" for e in anat.elements if e.name in d.binds)
        doms += "" if not (d.is_antibody and _entries(d)) else " (its structures show the whole region)"
        return {"relation": "outside the drug's domain", "evidence_level": "anatomy",
                "note": f"{v.ref}{a} lies in {where}; {d.name} binds {doms} (UniProt numbering)"}
    # a covalent drug and a change of its cysteine
    cys = d.cys(v.gene)
    if d.covalent and cys in span and v.alt != "C":
        out = _measured(v, d, ctx, anat)
        out.update(relation="covalent anchor lost")
        bond = out.pop("_bond", "")
        rest = [x for x in out.get("note", "").split("; ") if x and not x.startswith("covalent drug:")]
        out["note"] = "; ".join([f"{d.name} bonds C{cys}" + (
            f" (bond {bond} in {out['pdb_id']})" if bond else " (by modality: no bond seen in a structure)"),
            *rest])
        return out
    if v.kind in _INDEL_KINDS:
        return {"relation": INDEL, "evidence_level": "anatomy", "note": _indel_note(v, anat)}
    if not _entries(d):
        return _by_modality(v, d, anat)
    return _measured(v, d, ctx, anat)


def _domain(d: Drug, anat) -> set:
    bound = [e for e in anat.elements if e.name in d.binds]
    if not bound:
        return set()
    pos = set().union(*(e.positions for e in bound))
    if d.is_antibody and _entries(d):
        around = [e for e in anat.elements if e.kind == "region" and pos <= e.positions]
        if around:
            pos = set(min(around, key=lambda e: len(e.positions)).positions)
    return pos


def _indel_note(v, anat) -> str:
    a, b = _span(v)
    seq_ref = f"{v.ref}{a}" + (f"-{v.ref_end}{b}" if b != a else "")
    if v.kind == "duplication":
        what, at = f"insertion after {v.ref_end or v.ref}{b} (duplication of {seq_ref})", b
    elif v.kind == "inframe_insertion":
        what, at = f"insertion of {v.alt} after {v.ref}{a}", a
    elif v.kind == "delins":
        what, at = f"deletion of {seq_ref} replaced by {v.alt}", a
    else:
        what, at = f"deletion of {seq_ref}", a
    where = _where(anat, at) or "no named element"
    return (f"{what} in the {where}: the wild-type structure cannot judge it "
            "(HGVS 3' form; no distance from a wild-type residue)")


def _by_modality(v, d: Drug, anat) -> dict:
    a = v.position
    conf = [e for e in CONFORMATIONAL_ELEMENTS if anat.has(a, e)]
    if conf and not d.is_antibody:
        return {"relation": "conformational", "evidence_level": "anatomy (no structure of the drug)",
                "note": f"{v.ref}{a} lies in the {conf[0]}: changes there shift the active/inactive "
                        f"equilibrium; no structure of {d.name}: relation by modality only"}
    if d.is_antibody:
        where = _where(anat, a)
        text = (f"{v.ref}{a} lies in {where}, within the domain(s) {d.name} binds; "
                "epitope not in a catalog structure: relation by modality only")
    else:
        pocket = anat.has(a, "ATP pocket")
        src = next((e.how for e in anat.elements if e.name == "ATP pocket"), "")
        text = ((f"{v.ref}{a} lines the ATP pocket of the target's ligand complexes ({src}); "
                 if pocket else f"{v.ref}{a} is not an ATP-pocket residue of the target's complexes; ")
                + f"no structure of {d.name}: relation by modality only")
    return {"relation": "no structure of the drug", "evidence_level": "anatomy (no structure of the drug)",
            "note": text}


def _ranked(d: Drug, gene: str, ctx: _Ctx) -> list[tuple]:
    """(entry, site name, direct) of the drug's structures: the target's own by resolution
    (unknown last), then family stand-ins by resolution."""
    cat = catalog()
    acc = cat.target(gene).accession
    fam = cat.target(gene).family_reference
    out = []
    for s in cat.structures:
        for p in s.partners:
            hit = (p.drug == d.partner_name) if d.status != "functional site" else (p.name == d.name)
            if not hit:
                continue
            if s.target == acc:
                out.append((s, _site_name(p), True))
            elif s.target == fam and s.family_reference:
                out.append((s, _site_name(p), False))
    uniq = list(dict.fromkeys(out))
    return sorted(uniq, key=lambda x: (not x[2], np.nan_to_num(ctx.resolution.get(x[0].id, np.nan),
                                                                nan=99.0)))


def _measured(v, d: Drug, ctx: _Ctx, anat) -> dict:
    """The relation of variant ``v`` to drug ``d`` measured in the first of the drug's
    structures (``_ranked``) that places the residue, with the others and what was missing."""
    ranked = _ranked(d, v.gene, ctx)
    if not ranked:
        return _by_modality(v, d, anat)
    found, others, missing = _placed_in(v, ranked, ctx)
    if found is None:
        return _unplaced(v, d, anat, missing)
    entry, site, direct, placed = found
    best = placed.sort_values("min_dist_A", kind="stable").iloc[0]
    dist, cut = float(best.min_dist_A), float(best.cutoff_A)
    rel = _distance_relation(dist, cut, d)
    conf_el = [e for e in CONFORMATIONAL_ELEMENTS if anat.has(v.position, e)]
    if rel not in ("contact", "epitope contact") and conf_el and not d.is_antibody \
            and d.status != "functional site":
        rel = "conformational"
    prot = catalog().target(str(best.structure_accession)).gene if not direct else v.gene
    num = "" if pd.isna(best.author_num) else int(best.author_num)
    spos = best.structure_position
    if num != "" and not pd.isna(spos) and int(spos) != num:
        num = f"{num} (UniProt {int(spos)})"
    chains = placed.groupby("chain", observed=True).min_dist_A.min()
    agree = sum(_distance_relation(float(x), cut, d) == _distance_relation(dist, cut, d) for x in chains)
    from ..analysis.conformation import kinase_state

    states = kinase_state(entry, ctx.fetcher) if not d.is_antibody and d.status != "functional site" else []
    st = next((s for s in states if s.chain == str(best.chain)), states[0] if states else None)
    res = ctx.resolution.get(entry.id, np.nan)
    out = {"relation": rel, "min_dist_A": round(dist, 2), "pdb_id": entry.id, "chain": str(best.chain),
           "resolution_A": res, "conformation": st.label if st else "",
           "structure_residue": f"{prot} {best.res_name} {num}",
           "evidence_level": (f"{prot} {'structure' if direct else 'family stand-in'}"
                              + (f" of {d.structure_of}" if d.structure_of else "")),
           "chains_agree": f"{agree}/{len(chains)}", "cutoff_A": cut,
           "other_structures": "; ".join(
               f"{e.id} ({_res_text(ctx.resolution.get(e.id, np.nan))}, "
               f"{float(p.min_dist_A.min()):.2f} A)" for e, p in others),
           "note": "; ".join(_notes(v, d, ctx, entry, rel, dist, conf_el, missing))}
    bonded = placed[placed.effect.fillna("").astype(str).str.startswith("removes the covalent anchor")]
    if len(bonded) and d.covalent:
        out["_bond"] = str(bonded.covalent_bond.iloc[0])
    return out


def _placed_in(v, ranked, ctx: _Ctx) -> tuple:
    """The first ranked (entry, site, direct) whose rows place ``v`` with a distance, with its
    placed rows; the other structures that place it; and why the rest do not."""
    found, others, missing = None, [], []
    for entry, site, direct in ranked:
        g = ctx.rows.get((v.gene, v.hgvs, entry.id, site))
        if entry.id in ctx.offline:
            missing.append(f"{entry.id}: not available offline")
            continue
        if g is None or g.empty:
            missing.append(f"{entry.id}: not analysed")
            continue
        placed = g[g.status.astype(str).isin(_PLACED) & g.min_dist_A.notna()]
        if placed.empty:
            why = ", ".join(sorted(set(g.status.astype(str))))
            missing.append(f"{entry.id}: {why}")
            continue
        if found is None:
            found = (entry, site, direct, placed)
        else:
            others.append((entry, placed))
    return found, others, missing


def _unplaced(v, d: Drug, anat, missing: list[str]) -> dict:
    """No structure of the drug places ``v``: not available offline, unobserved, or (a
    small-molecule drug, a residue in a conformational element) conformational by anatomy."""
    offline = all("not available offline" in m for m in missing)
    conf = [e for e in CONFORMATIONAL_ELEMENTS if anat.has(v.position, e)]
    if conf and not offline and not d.is_antibody:
        return {"relation": "conformational", "evidence_level": "anatomy (residue unobserved)",
                "note": f"{v.ref}{v.position} lies in the {conf[0]}: changes there shift the "
                        f"active/inactive equilibrium; no coordinates for it: {'; '.join(missing)}"}
    return {"relation": "not available offline" if offline else "unobserved in the structure",
            "evidence_level": "", "note": "; ".join(missing)}


def _notes(v, d: Drug, ctx: _Ctx, entry, rel: str, dist: float, conf_el: list[str],
           missing: list[str]) -> list[str]:
    """The note of a measured relation: the conformational element, the drug whose structure
    stands in, the ADC's parts, the covalent bond, the construct's changes, what was missing."""
    notes = []
    if conf_el and rel == "conformational":
        notes.append(f"{v.ref}{v.position} lies in the {conf_el[0]} ({dist:.1f} A from the drug): "
                     "changes there shift the active/inactive equilibrium the drug's binding depends on")
    if d.structure_of:
        proxy = next((x for x in catalog().drugs if x.name == d.structure_of), None)
        notes.append(f"structure of {d.structure_of}" + (f" ({proxy.note})" if proxy and proxy.note else ""))
    if d.modality == "antibody-drug conjugate":
        notes.append(f"ADC: {d.antibody} + {d.payload}; {d.note}")
    if d.covalent and rel in ("contact", "second shell"):
        notes.append(f"covalent drug: bonds C{d.cys(v.gene)} irreversibly")
    changes = _construct_note(entry, v.gene, ctx)
    if changes:
        notes.append(changes)
    if missing:
        notes.append("; ".join(missing))
    return notes


def _res_text(res: float) -> str:
    return "resolution not in the file" if np.isnan(res) else f"{res:.2f} A"


def _distance_relation(dist: float, cut: float, d: Drug) -> str:
    if dist <= cut:
        return "epitope contact" if d.is_antibody else "contact"
    return "second shell" if dist <= SECOND_SHELL_A else "distant"


def _construct_note(entry, gene: str, ctx: _Ctx) -> str:
    """'2JIV carries T790M (= ERBB2 T798M)': construct changes of the structure inside the
    kinase domain or anywhere for other structures, in the target's terms."""
    from ..analysis.conformation import construct_changes
    from ..analysis.numbering import family_map
    from ..io.uniprot import uniprot_record

    cat = catalog()
    changes = construct_changes(entry, ctx.fetcher)
    if not changes:
        return ""
    own = cat.target(entry.target)
    tgt = cat.target(gene)
    kd = next((r for r in own.regions if r["name"] == "Protein kinase"), None)
    keep = [c for c in changes if kd is None or kd["start"] <= int(c[1:-1]) <= kd["end"]]
    if not keep:
        return ""
    if own.accession == tgt.accession:
        return f"{entry.id} carries {', '.join(keep)}"
    m = family_map(uniprot_record(own.accession, ctx.fetcher).sequence,
                   uniprot_record(tgt.accession, ctx.fetcher).sequence, ctx.fetcher.cache_dir)
    seq = uniprot_record(tgt.accession, ctx.fetcher).sequence
    parts = []
    for c in keep:
        p = int(c[1:-1])
        q = m.get(p)
        parts.append(f"{own.gene} {c}" + (f" (= {tgt.gene} {seq[q - 1]}{q}{c[-1]})" if q else ""))
    return f"{entry.id} carries {', '.join(parts)}"


def _known(v, ds: list[Drug], fetcher) -> dict[str, dict]:
    """Per drug name: known_response, known_evidence, broader_evidence from CIViC."""
    from ..io.evidence import NO_ITEM, _matches, civic_items
    from ..io.fetch import NotAvailableOffline

    try:
        items = civic_items(fetcher)
        own, rules = _matches([v], fetcher, broader=True)[0]
    except NotAvailableOffline as exc:
        why = f"CIViC not available offline ({exc})"
        return {d.name: {"known_response": why, "known_evidence": "", "broader_evidence": ""}
                for d in ds}
    pred = items.evidence_type.to_numpy() == "Predictive"
    ther = items.therapies.to_numpy()
    out = {}
    for d in ds:
        names = {n.lower() for n in (d.civic or (d.name,))}

        def hits(rows, names=names):
            return [i for i in rows if pred[i] and names & {x.strip().lower() for x in ther[i].split(",")}]

        mine = hits(own)
        broad = [(rule, i) for rule, rows in rules for i in hits(rows)]
        if d.status == "functional site":
            out[d.name] = {"known_response": "", "known_evidence": "", "broader_evidence": ""}
            continue
        out[d.name] = {
            "known_response": "; ".join(dict.fromkeys(_response(items, i, d) for i in mine)) or NO_ITEM,
            "known_evidence": "; ".join(_item(items, i, d) for i in mine),
            "broader_evidence": "; ".join(
                f"{_item(items, i, d)} [{items.molecular_profile.iloc[i]}]" for _, i in broad)}
    return out


def _response(items: pd.DataFrame, i: int, d: Drug) -> str:
    r = items.iloc[i]
    s = {"Sensitivity/Response": "sensitivity", "Resistance": "resistance",
         "Reduced Sensitivity": "reduced sensitivity"}.get(r.significance, r.significance.lower())
    if r.evidence_direction == "Does Not Support":
        s = f"does not support {s}"
    if r.therapy_interaction_type == "Combination":
        names = {n.lower() for n in (d.civic or (d.name,))}
        partners = [x.strip().lower() for x in r.therapies.split(",") if x.strip().lower() not in names]
        s += f" (with {' + '.join(partners)})"
    return s


def _item(items: pd.DataFrame, i: int, d: Drug) -> str:
    r = items.iloc[i]
    return (f"{_response(items, i, d)}: EID{r.evidence_id} (level {r.evidence_level}, "
            f"PMID {r.citation_id}, {r.disease})")
