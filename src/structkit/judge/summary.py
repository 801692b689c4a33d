"""One row per variant from an impact table: ``summarize`` (the verdict, the nearest site over
all structures and where it was, damage consensus over chains, rows and samples)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..analysis.stability import MODEL, WEIGHTS_SHA256, per_structure
from ..analysis.table import STATUSES
from ..catalog import catalog
from ..io.evidence import civic_provenance, evidence_summary, hotspots
from ..io.fetch import NotAvailableOffline
from ..keywords import accepts_session
from ..statuses import PRESENT, UNOBSERVED
from .grouping import _join_sorted, _joined
from .verdict import variant_features, variant_keys
from .verdict import verdict as judge

if TYPE_CHECKING:
    from ..io.fetch import Fetcher

__all__ = ["summarize", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = [
    "gene", "variant", "consequence", "n_rows", "n_samples", "status", "role", "impact_score",
    "effect_class", "mechanism", "mechanism_evidence", "agreement", "stability_score",
    "stability_structures", "stability_model", "region", "hotspot_tumours",
    "hotspot_allele_tumours", "known_evidence",
    "evolution", "nearest_site", "nearest_dist_A", "nearest_pdb_id", "nearest_chain",
    "nearest_author_num", "nearest_protein", "nearest_via", "sites_within_cutoff", "effects", "covered_by",
    "unobserved_in", "not_available", "damage", "score_model"]


@accepts_session
def summarize(table: pd.DataFrame, *, verdict: bool = True, fetcher: Fetcher | None = None,
              msa: str | Path | None = None) -> pd.DataFrame:
    """One row per variant: the verdict, the nearest site over all structures and where it was.

    Columns: gene, variant, status (best over structures), ``role`` (catalog); ``impact_score``
    (0..1, the question of the gene's role: loss of function for a tumour suppressor, activating
    or resistance for an oncogene), ``effect_class`` (that reading in words), ``mechanism``,
    ``mechanism_evidence``, ``agreement`` (over the chains that have the partner) and
    ``evolution`` from ``structkit.judge.verdict`` (``verdict=False`` leaves them
    empty; ``msa`` a path to a homolog alignment replacing the catalog's); nearest_site,
    nearest_dist_A, nearest_pdb_id, nearest_chain, nearest_author_num, nearest_via (direct
    structures of the variant's own protein are preferred to family stand-ins, whose author
    number is then of the family member: ``nearest_via`` says so), sites_within_cutoff, effects,
    covered_by (structures where the residue is present), unobserved_in, not_available
    (structures that could not be obtained), damage (each feature with the number of chains
    showing it over the chains assessed; interface features over the chains that have that
    partner), score_model; ``region`` (structkit.analysis.anatomy), ``hotspot_tumours`` and
    ``hotspot_allele_tumours`` (Cancer Hotspots v2), ``known_evidence`` (CIViC, never read by
    the verdict); ``stability_score`` (nats, higher = more destabilising; ``structkit.analysis.stability``):
    the mean over the protein's own structures of each structure's mean over its chains (an
    AlphaFold model counts where pLDDT >= 70), ``stability_structures`` each structure's value
    and ``stability_model`` the model, its weights and where the numbers came from. Variants
    keep their order of first appearance; grouped operations only.

    Examples
    --------
    >>> s = summarize(impact_table(["TP53:p.R248Q"], structures=["1TSR"]))
    >>> s[["variant", "impact_score", "mechanism", "nearest_site", "nearest_dist_A"]]
       variant  impact_score    mechanism   nearest_site  nearest_dist_A
    0  p.R248Q         0.633  DNA contact  DNA interface            3.38
    """
    from ..io.store import session_of

    fetcher = session_of(fetcher)
    with fetcher.lock:  # threads sharing a session take turns (see Fetcher.lock)
        return _summarize(table, verdict, fetcher, msa)


def _summarize(table: pd.DataFrame, verdict: bool, fetcher, msa) -> pd.DataFrame:
    cols = SUMMARY_COLUMNS
    table = table[table.kind.notna()]  # rows that gave no variant are not summarised
    if table.empty:
        return pd.DataFrame(columns=cols)
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
    present = t[t.status.isin(PRESENT)]
    _nearest(out, present)
    within = present[present.in_site]
    out["sites_within_cutoff"] = _joined(within.key, within.site + " (" + within.pdb_id + ")",
                                         "; ", len(out))
    eff = present[present.effect.notna() & (present.effect != "")]
    out["effects"] = _joined(eff.key, eff.effect, "; ", len(out))
    out["covered_by"] = _joined(present.key, present.pdb_id, ", ", len(out))
    unobs = t[t.status == UNOBSERVED]
    out["unobserved_in"] = _joined(unobs.key, unobs.pdb_id, ", ", len(out))
    lost = t[t.status.isin(["not available offline", "fetch failed"])]
    out["not_available"] = _joined(lost.key, lost.pdb_id, ", ", len(out))
    out["damage"] = _damage_consensus(present, len(out))
    _stability_summary(out, table, key)
    out["region"] = (table["region"].astype(object).fillna("").to_numpy()[first]
                     if "region" in table else "")
    for c in ("hotspot_tumours", "hotspot_allele_tumours"):
        out[c] = (pd.array(table[c].to_numpy()[first], dtype="Int64") if c in table
                  else pd.array([pd.NA] * len(out), dtype="Int64"))
    roles = {t_.gene: t_.role_kind for t_ in catalog().targets}
    out["role"] = [roles.get(g, "") for g in out.gene]
    out["known_evidence"] = _known_evidence(out, fetcher)
    out.attrs.update({"civic": civic_provenance(fetcher), "hotspots": hotspots(fetcher).provenance})
    _verdict_columns(out, table, key, first, verdict, fetcher, msa)
    return out[cols]


def _nearest(out: pd.DataFrame, present: pd.DataFrame) -> None:
    """The nearest site of each variant (site, distance, structure, chain, author number, how
    placed, protein): direct structures first, a family stand-in only where no direct one
    measures."""
    measured = present[present.min_dist_A.notna()]
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


def _verdict_columns(out: pd.DataFrame, table: pd.DataFrame, key, first, verdict: bool, fetcher,
                     msa) -> None:
    """Score, effect class, mechanism and its evidence from ``verdict.judge`` (truncating and
    other unplaced changes say what is lost, from the table's detail); empty without
    ``verdict``."""
    if not verdict:
        out["impact_score"] = np.nan
        for c in ("effect_class", "mechanism", "mechanism_evidence", "agreement", "evolution",
                  "score_model"):
            out[c] = ""
        return
    v = judge(variant_features(table.assign(key=key), len(out), fetcher, msa))
    for c in ("impact_score", "effect_class", "mechanism", "mechanism_evidence", "agreement",
              "evolution"):
        out[c] = v[c].to_numpy()
    out["score_model"] = v["model"].to_numpy()
    told = out.status.isin(["truncating", "splice", "extension", "no protein change"]).to_numpy()
    if told.any():  # what is lost, from the table's own detail
        detail = table["detail"].astype(object).to_numpy()[first]
        out.loc[told, "mechanism_evidence"] = detail[told]


def _stability_summary(out: pd.DataFrame, table: pd.DataFrame, key: np.ndarray) -> None:
    """stability_score / _structures / _model per variant (see ``summarize``)."""
    n = len(out)
    out["stability_score"] = np.nan
    out["stability_structures"] = ""
    out["stability_model"] = ""
    if "stability_score" not in table:
        return
    model = table["stability_model"].astype(str).to_numpy()
    unscored = table["stability_score"].isna().to_numpy() & (model != "")
    if unscored.any():  # why a row has no score (e.g. needs structkit[ml]); replaced below if scored
        why = pd.Series(model[unscored]).groupby(key[unscored]).first()
        out.loc[why.index, "stability_model"] = why.to_numpy()
    per, sources = per_structure(table, key)
    if per.empty:
        return
    out.loc[per.k.unique(), "stability_score"] = per.groupby("k").s.mean().round(3).to_numpy()
    text = per.pdb + " " + per.s.round(2).astype(str) + np.where(
        per.c > 1, " (" + per.c.astype(str) + " chains)", "")
    joined = np.full(n, "", dtype=object)
    _join_sorted(joined, per.k.to_numpy(), text.tolist(), "; ")
    out["stability_structures"] = joined
    by = per.groupby("k").agg(m=("pdb", "size"), lo=("src_lo", "min"), hi=("src_hi", "max"))
    names = np.array(sources, dtype=object)
    how = np.where(by.lo == by.hi, names[by.lo], names[by.lo] + " + " + names[by.hi])
    out.loc[by.index, "stability_model"] = [
        f"{MODEL} sha256:{WEIGHTS_SHA256[:12]} ({src}), {m} structure{'s' * (m > 1)}"
        for src, m in zip(how, by.m.tolist(), strict=True)]


def _known_evidence(out: pd.DataFrame, fetcher) -> list[str]:
    """Per summary row, the CIViC line (``structkit.io.evidence``): never read by the verdict."""
    texts = [f"{g}:{v}" for g, v in zip(out.gene, out.variant, strict=True)]
    try:
        return evidence_summary(texts, fetcher)
    except NotAvailableOffline as exc:
        return [f"CIViC release not available offline ({exc})"] * len(out)


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


_WITH = {"dna": "with DNA", "metal": "with zinc", "ligand": "with a ligand",
         "epitope": "with an antibody"}


def _damage_consensus(rows: pd.DataFrame, n: int) -> np.ndarray:
    """Per group: each damage feature with the number of structure chains showing it. A
    structural feature counts over the chains assessed (``'(3/15 chains)'``), an interface
    feature over the chains that have that partner (``'(9/10 chains with DNA)'``);
    ``'none (N chains)'`` if none fires; '' if nothing was assessed."""
    from ..analysis.damage import INTERFACE_FEATURES

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

