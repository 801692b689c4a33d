"""How well the oncogene score separates HER2 activating / resistance variants from the rest.

Development set, built from the mirror (no variant named anywhere in this script):

- **positives**: every ERBB2 missense change that a CIViC evidence item of the 2024-08-01
  release names as its own molecular profile (all ERBB2 items are predictive: variants tested
  as drivers for HER2-targeted drugs, sensitivity or resistance);
- **the rest**: every other missense change (19 per position) at HER2 positions 23-987 (the
  extracellular domain, transmembrane and juxtamembrane segments and the kinase domain). They
  are unlabelled rather than known neutral, so the AUC is a lower bound (positive-unlabelled).
- **check set**: Cancer Hotspots v2 ERBB2 missense alleles that CIViC does not name, scored with
  the cross-validated predictions (the labels never include them).

The score's features are recurrence at the residue (Cancer Hotspots tumour count, log1p),
anatomy (regulatory kinase element, ATP pocket, antibody epitope: ``structkit.analysis.anatomy``),
family conservation (Pfam tyrosine-kinase alignment), burial and substitution chemistry
(``structkit.judge.verdict.ONCOGENE_FEATURES``). Cross-validation is 5-fold grouped by position
(a position's 19 changes are in one fold), 5 shufflings. Recurrence and CIViC are separate
sources, but the variants CIViC curates are the recurrent ones: the structure-only numbers
(without the recurrence feature) say what the structures add.

    python benchmarks/her2_validity.py --mirror ../shared/data
    python benchmarks/her2_validity.py --mirror ../shared/data --write-model
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

# the TP53 benchmark's helpers (benchmarks/ is on the path when a script there runs)
from validity import auc, bench_args, grouped_folds, print_versions, readme_output

C = 0.05  # inverse L2 strength on standardised features
FOLDS = 5
SHUFFLES = 5
SPAN = (23, 987)


def development_set(session):
    from structkit.io.evidence import _civic_changes, civic_items, hotspots
    from structkit.io.uniprot import uniprot_record

    seq = uniprot_record("P04626", session).sequence
    items = civic_items(session)
    named = _civic_changes(items, session)
    pos_set = {v.short for i, vs in named.items() if items.profile_gene.iat[i] == "ERBB2"
               for v in vs if v.kind == "missense"}
    hot = hotspots(session)
    hot_set = {f"{seq[p - 1]}{p}{a}" for (g, p), (_, alleles) in hot.residues.items()
               if g == "ERBB2" for a in alleles if len(a) == 1 and a.isalpha() and a != seq[p - 1]}
    aas = "ACDEFGHIKLMNPQRSTVWY"
    rows = [f"{seq[p - 1]}{p}{a}" for p in range(SPAN[0], SPAN[1] + 1) for a in aas
            if a != seq[p - 1]]
    df = pd.DataFrame({"change": rows})
    df["position"] = df.change.str[1:-1].astype(int)
    df["label"] = df.change.isin(pos_set).astype(int)
    df["hotspot_only"] = (df.change.isin(hot_set) & ~df.change.isin(pos_set)).astype(int)
    return df


def features(session) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The development set and its verdict features (one row per change, in the set's order)."""
    from structkit.judge.verdict import table_features

    d = development_set(session)
    table = session.impact_table(["ERBB2:p." + c for c in d.change], damage=False)
    feat = table_features(table, fetcher=session).set_index("variant").loc["p." + d.change]
    return d, feat.reset_index()


def predict_cv(feat, y, groups, features, seed: int) -> np.ndarray:
    from structkit.judge.verdict import fit_model

    fold = grouped_folds(groups, seed, FOLDS)
    p = np.full(len(y), np.nan)
    for f in range(FOLDS):
        tr, te = fold != f, fold == f
        m = fit_model(feat[tr], y[tr], features, "oncogene", C, balanced=True)
        p[te] = m.predict(feat[te])
    return p


def main(argv=None) -> int:
    args = bench_args(__doc__, argv, readme=True)
    mirror = Path(args.mirror).resolve()
    t0 = time.perf_counter()
    import structkit as sk
    from structkit.judge.verdict import ONCOGENE_FEATURES, fit_model

    s = sk.Session(mirror=str(mirror), offline=True,
                   cache_dir=tempfile.mkdtemp(prefix="structkit-her2-"))
    d, feat = features(s)
    y = d.label.to_numpy()
    groups = d.position.to_numpy()
    struct_only = [f for f in ONCOGENE_FEATURES if f != "hot"]
    cv = [predict_cv(feat, y, groups, ONCOGENE_FEATURES, seed) for seed in range(SHUFFLES)]
    cv_s = [predict_cv(feat, y, groups, struct_only, seed) for seed in range(SHUFFLES)]
    a_cv = [auc(y, p) for p in cv]
    a_s = [auc(y, p) for p in cv_s]
    print_versions()
    print(f"development set: {len(d)} HER2 missense changes at {SPAN[0]}-{SPAN[1]}, "
          f"{y.sum()} named by CIViC {sk.evidence.CIVIC_RELEASE} (positives), "
          f"{d.hotspot_only.sum()} further Cancer Hotspots alleles (check set); "
          f"features in {time.perf_counter() - t0:.0f} s")
    rest = y == 0
    chk = d.hotspot_only.to_numpy() == 1
    y_chk = chk[rest | chk].astype(int)
    rows = [
        ("oncogene score, 5-fold CV grouped by position", np.mean(a_cv), min(a_cv), max(a_cv)),
        ("structure and family only (no recurrence), CV", np.mean(a_s), min(a_s), max(a_s)),
    ]
    chk_all = [auc(y_chk, p[rest | chk]) for p in cv]
    chk_s = [auc(y_chk, p[rest | chk]) for p in cv_s]
    rows += [("check set (hotspot alleles not in CIViC) vs rest, CV score", np.mean(chk_all),
              min(chk_all), max(chk_all)),
             ("check set vs rest, structure and family only, CV", np.mean(chk_s), min(chk_s),
              max(chk_s))]
    p_all = np.mean(cv, axis=0)
    hi_rest, hi_pos = np.mean(p_all[rest] >= 0.5), np.mean(p_all[y == 1] >= 0.5)
    print(f"at impact_score >= 0.5 (CV, mean of shufflings): {100 * hi_pos:.0f} % of positives, "
          f"{100 * np.mean(p_all[chk] >= 0.5):.0f} % of the check set, {100 * hi_rest:.1f} % of "
          "the rest")
    print("note: the check set is recurrent by construction, so its AUC with the recurrence "
          "feature is circular; its structure-only AUC is the informative number")
    for f, label in (("hot", "recurrence log1p(tumours) alone"), ("reg", "regulatory element alone"),
                     ("pocket", "ATP pocket alone"), ("epi", "antibody epitope alone"),
                     ("fcons", "family conservation alone"), ("bur", "burial alone")):
        a = auc(y, feat[f].to_numpy(dtype=float))
        rows.append((label, a, a, a))
    # stability (evidence beside the score, not in it): does loosening the fold mark the drivers?
    stab = feat["stab_raw"].to_numpy(dtype=float)
    a = auc(y, stab)
    rows.append((f"stability_score alone ({np.isfinite(stab).sum()} scored; evidence only)", a, a, a))
    print(f"{'measure':60s} {'ROC AUC':>8s} {'range':>13s}")
    for name, m, lo, hi in rows:
        print(f"{name:60s} {m:8.3f} {lo:6.3f}-{hi:.3f}")
    block = "\n".join(
        [f"| HER2 oncogene score ({y.sum()} CIViC-named changes vs {int(rest.sum()):,} others) "
         "| ROC AUC | range over shufflings |", "| --- | --- | --- |"]
        + [f"| {name} | {m:.3f} | " + (f"{lo:.3f}-{hi:.3f} |" if hi > lo else "|")
           for name, m, lo, hi in rows]
        + ["", f"At >= 0.5 the cross-validated score flags {100 * hi_pos:.0f} % of the CIViC-named "
           f"changes, {100 * np.mean(p_all[chk] >= 0.5):.0f} % of the check set and "
           f"{100 * hi_rest:.1f} % of all other substitutions."])
    if args.write_model:
        meta = {"fitted_on": f"ERBB2 missense changes named by CIViC {sk.evidence.CIVIC_RELEASE} "
                             f"(positives) vs every other missense change at HER2 {SPAN[0]}-{SPAN[1]}",
                "n": int(len(y)), "n_positive": int(y.sum()), "C": C,
                "class_weights": "balanced: impact_score is the probability under an even prior "
                                 "between CIViC-named changes and the rest",
                "cv_auc_grouped_by_position": round(float(np.mean(a_cv)), 3),
                "cv_auc_structure_only": round(float(np.mean(a_s)), 3),
                "check_set_auc": round(float(np.mean(chk_all)), 3),
                "structkit_version": sk.__version__}
        m = fit_model(feat, y, ONCOGENE_FEATURES, "oncogene", C, meta, balanced=True)
        path = Path(sk.__file__).parent / "judge" / "oncogene_model.json"
        path.write_text(json.dumps({"about": "structkit.judge.verdict oncogene model; refit with "
                                    "benchmarks/her2_validity.py --write-model",
                                    "models": [m.to_dict()]}, indent=1) + "\n")
        print(f"wrote {path}")
        print("coefficients (standardised): " + ", ".join(
            f"{f} {c:+.2f}" for f, c in zip(ONCOGENE_FEATURES, m.coef, strict=True)))
    print(f"total {time.perf_counter() - t0:.0f} s")
    return readme_output(block, args, "her2_validity.py")


if __name__ == "__main__":
    sys.exit(main())
