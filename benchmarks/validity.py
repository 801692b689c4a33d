"""How well the per-variant verdict separates non-functional from functional TP53 mutants.

Development set: ``validation/tp53_kato2003_even_codons.csv`` of the mirror (yeast
transactivation of TP53 missense mutants at even codons, Kato et al. 2003). Label: non-functional
when the median of the 8 promoter columns is < 20 % of wild type. The odd codons are an
independent test the project never sees.

Prints, with the run time: the ROC AUC of ``impact_score`` out of sample (5-fold
cross-validation grouped by codon, models refitted in each fold, mean and range over 5
shufflings of the codons), the AUC of the shipped model on the whole set (in sample, for
reference), the AUC of each ingredient alone (conservation, burial, DNA / zinc proximity,
substitution terms, the stability score and the structural features beside it) and the precision
and recall of each damage feature of ``summarize()``. Stability: the Spearman correlation of
``stability_score`` with any experimental ddG among the mirror's ``validation/`` files (said when
there is none), and its AUC for non-function on the development set.

    python benchmarks/validity.py --mirror ../shared/data
    python benchmarks/validity.py --mirror ../shared/data --write-model   # refit the shipped model

``--write-model`` refits both models on the whole development set and writes
``src/structkit/judge/verdict_model.json`` with the CV numbers as provenance.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PROMOTERS = ["WAF1nWT", "MDM2nWT", "BAXnWT", "h1433snWT", "AIP1nWT", "GADD45nWT", "NOXAnWT",
             "P53R2nWT"]
C = 0.02  # inverse L2 strength (standardised features), chosen by the grouped CV among 0.02-0.2


def auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC (Mann-Whitney, ties count half); NaN scores are left out."""
    ok = ~np.isnan(s)
    y, s = np.asarray(y)[ok], np.asarray(s)[ok]
    r = pd.Series(s).rank().to_numpy()
    n1 = y.sum()
    n0 = len(y) - n1
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)) if n1 and n0 else float("nan")


def grouped_folds(groups: np.ndarray, seed: int, k: int = 5) -> np.ndarray:
    """Fold (0..k-1) of each row, whole groups (codons, positions) in one fold, shuffled."""
    rng = np.random.default_rng(seed)
    uniq = np.unique(groups)
    fold_of = dict(zip(uniq, rng.permutation(len(uniq)) % k, strict=True))
    return np.array([fold_of[g] for g in groups])


def bench_args(doc: str, argv=None, readme: bool = False) -> argparse.Namespace:
    """--mirror (default ../shared/data beside the repository) and --write-model; with
    ``readme`` also --readme (write the tables into README.md between this script's markers)
    and --check-readme (exit 1 when README.md's tables differ from this run's)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--mirror", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--write-model", action="store_true")
    if readme:
        ap.add_argument("--readme", action="store_true", help="write the tables into README.md")
        ap.add_argument("--check-readme", action="store_true",
                        help="exit 1 if README.md's tables are not this run's")
    return ap.parse_args(argv)


README = Path(__file__).resolve().parents[1] / "README.md"


def _markers(script: str) -> tuple[str, str]:
    return (f"<!-- tables written by benchmarks/{script} --readme: begin -->",
            f"<!-- tables written by benchmarks/{script} --readme: end -->")


def readme_tables(script: str = "validity.py", text: str | None = None) -> str:
    """The block of ``script`` between its markers in README.md (or in ``text``)."""
    begin, end = _markers(script)
    text = README.read_text(encoding="utf-8") if text is None else text
    if begin not in text or end not in text:
        raise SystemExit(f"{README}: no {begin!r} ... {end!r} block")
    return text.split(begin, 1)[1].split(end, 1)[0].strip("\n")


def readme_output(block: str, args, script: str = "validity.py") -> int:
    """--check-readme: 1 when README.md's block differs from ``block``; --readme: write it."""
    if getattr(args, "check_readme", False) and readme_tables(script) != block:
        print(f"{README}: the tables differ from this run's; write them with --readme")
        return 1
    if getattr(args, "readme", False):
        begin, end = _markers(script)
        text = README.read_text(encoding="utf-8")
        readme_tables(script, text)  # the markers are there
        head, rest = text.split(begin, 1)
        README.write_text(head + begin + "\n" + block + "\n" + end + rest.split(end, 1)[1],
                          encoding="utf-8")
        print(f"wrote the tables into {README}")
    return 0


def print_versions() -> None:
    """The versions the numbers were made with."""
    from importlib.metadata import version

    print("versions: python " + sys.version.split()[0] + ", " + ", ".join(
        f"{m} {version(m)}" for m in ("numpy", "pandas", "scipy", "structkit")))


def load_set(mirror: Path) -> pd.DataFrame:
    k = pd.read_csv(mirror / "validation" / "tp53_kato2003_even_codons.csv", encoding="latin-1")
    k["label"] = (k[PROMOTERS].median(axis=1) < 20).astype(int)
    k = k[k.AAchange.str.fullmatch(r"[A-Z]\d+[A-Z]")]
    return k.reset_index(drop=True)


def features(k: pd.DataFrame):
    import structkit as sk
    from structkit.judge.verdict import table_features

    table = sk.impact_table(["TP53:p." + x for x in k.AAchange])
    feat = table_features(table)
    feat = feat.set_index("variant").loc["p." + k.AAchange].reset_index()
    return table, feat


def structure_cv(feat, y, groups, cols, seed: int) -> np.ndarray:
    """Out-of-fold predictions of a structure-only model with features ``cols``."""
    from structkit.judge.verdict import fit_model

    fold = grouped_folds(groups, seed)
    p = np.full(len(y), np.nan)
    for f in range(5):
        tr, te = fold != f, fold == f
        p[te] = fit_model(feat[tr], y[tr], cols, "structure", C).predict(feat[te])
    return p


def predict_cv(feat, y, groups, seed: int) -> np.ndarray:
    from structkit.judge.verdict import EVOLUTION_FEATURES, STRUCTURE_FEATURES, fit_model

    evo = (feat.lo.notna() & feat.scorable).to_numpy()
    fold = grouped_folds(groups, seed)
    p = np.full(len(y), np.nan)
    for f in range(5):
        tr, te = fold != f, fold == f
        m_evo = fit_model(feat[tr & evo], y[tr & evo], EVOLUTION_FEATURES, "evolution", C)
        m_str = fit_model(feat[tr], y[tr], STRUCTURE_FEATURES, "structure", C)
        if (te & evo).any():
            p[te & evo] = m_evo.predict(feat[te & evo])
        if (te & ~evo).any():
            p[te & ~evo] = m_str.predict(feat[te & ~evo])
    return p


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation over the pairs where both are finite."""
    ok = np.isfinite(a) & np.isfinite(b)
    return float(pd.Series(a[ok]).rank().corr(pd.Series(b[ok]).rank())) if ok.sum() > 2 else float("nan")


def stability_report(mirror: Path, feat: pd.DataFrame, y: np.ndarray) -> None:
    """What the stability score can be checked against here: experimental ddG if the mirror
    has any (a validation file with a ddG column), else says so; and its AUC for non-function."""
    s = feat.stab_raw.to_numpy(dtype=float)
    print(f"stability_score: {np.isfinite(s).sum()} of {len(s)} mutants scored; AUC for "
          f"non-function {auc(y, s):.3f}")
    found = False
    for f in sorted((mirror / "validation").iterdir()):
        head = f.read_text(encoding="latin-1").splitlines()[0].lower() if f.is_file() else ""
        if "ddg" in head or "dg_" in head:
            found = True
            print(f"  {f.name}: has a ddG column; add its reader here")
    if not found:
        names = ", ".join(p.name for p in sorted((mirror / "validation").iterdir()))
        print(f"  experimental ddG: none in the mirror (validation/ holds {names}: yeast "
              "transactivation, not stability), so no Spearman with ddG can be reported here")


def main(argv=None) -> int:
    args = bench_args(__doc__, argv, readme=True)
    mirror = Path(args.mirror).resolve()
    os.environ.update({"STRUCTKIT_MIRROR": str(mirror), "STRUCTKIT_OFFLINE": "1",
                       "STRUCTKIT_CACHE": tempfile.mkdtemp(prefix="structkit-validity-")})
    t0 = time.perf_counter()
    import structkit as sk
    from structkit.judge.verdict import EVOLUTION_FEATURES, STRUCTURE_FEATURES, fit_model, models

    k = load_set(mirror)
    y = k.label.to_numpy()
    groups = k.Codon_Number.to_numpy()
    table, feat = features(k)
    t_feat = time.perf_counter() - t0
    evo = (feat.lo.notna() & feat.scorable).to_numpy()
    cv = [auc(y, predict_cv(feat, y, groups, seed)) for seed in range(5)]
    print_versions()
    print(f"development set: {len(k)} missense mutants at even codons, {y.sum()} non-functional "
          f"({100 * y.mean():.0f} %); {evo.sum()} in alignment match columns")
    print(f"impact_score, 5-fold CV grouped by codon (5 shufflings): AUC {np.mean(cv):.3f} "
          f"(range {min(cv):.3f}-{max(cv):.3f}); the shipped model's record: "
          f"{models()['evolution'].meta.get('cv_auc_grouped_by_codon')} "
          f"with features {', '.join(models()['structure'].features)}")
    stability_report(mirror, feat, y)
    new = ["stab", "shell", "strain"]
    for label, cols in (("without", [c for c in STRUCTURE_FEATURES if c not in new]),
                        ("with", STRUCTURE_FEATURES)):
        a_s = [auc(y, structure_cv(feat, y, groups, cols, seed)) for seed in range(5)]
        print(f"structure model alone (no evolution), CV grouped by codon, {label} the stability "
              f"terms ({', '.join(new)}): AUC {np.mean(a_s):.3f}")
    if args.write_model:
        meta = {"fitted_on": "validation/tp53_kato2003_even_codons.csv (Kato et al. 2003, even "
                             "codons), label median of 8 yeast promoters < 20 % of wild type",
                "n": int(len(y)), "n_nonfunctional": int(y.sum()), "C": C,
                "cv_auc_grouped_by_codon": round(float(np.mean(cv)), 3),
                "cv_auc_range": [round(min(cv), 3), round(max(cv), 3)],
                "structkit_version": sk.__version__}
        ms = [fit_model(feat[evo], y[evo], EVOLUTION_FEATURES, "evolution", C,
                        {**meta, "rows": int(evo.sum())}),
              fit_model(feat, y, STRUCTURE_FEATURES, "structure", C, {**meta, "rows": int(len(y))})]
        path = Path(sk.__file__).parent / "judge" / "verdict_model.json"
        path.write_text(json.dumps({"about": "structkit.judge.verdict models; refit with "
                                    "benchmarks/validity.py --write-model",
                                    "models": [m.to_dict() for m in ms]}, indent=1) + "\n")
        print(f"wrote {path}")
        from structkit.judge import verdict as v

        v.models.cache_clear()
    s = sk.summarize(table)
    s = s.set_index("variant").loc["p." + k.AAchange].reset_index()
    score = s.impact_score.to_numpy(dtype=float)
    rows = [("impact_score (shipped model, in sample)", auc(y, score))]
    lo = feat.lo.to_numpy(dtype=float)
    rows += [
        ("conservation log-odds (alone; match columns only)", auc(y, -lo)),
        ("column conservation (alone; match columns only)", auc(y, feat.cons.to_numpy(dtype=float))),
        ("burial 1 - RSA (alone)", auc(y, feat.bur.to_numpy(dtype=float))),
        ("experimental RSA (alone; covered residues)", auc(y, -feat.rsa_exp.to_numpy(dtype=float))),
        ("AlphaFold pLDDT (alone)", auc(y, feat.plddt.to_numpy(dtype=float))),
        ("DNA proximity exp(-d/3) (alone)", auc(y, feat.dna.to_numpy(dtype=float))),
        ("zinc proximity exp(-d/3) (alone)", auc(y, feat.zn.to_numpy(dtype=float))),
        ("BLOSUM62 (alone)", auc(y, -feat.blosum.to_numpy(dtype=float))),
        ("volume change (alone)", auc(y, feat.dv.to_numpy(dtype=float))),
        ("stability_score (alone; ProteinMPNN, scored rows)", auc(y, feat.stab_raw.to_numpy(dtype=float))),
        ("side-chain-backbone H-bond lost, fraction of chains (alone)",
         auc(y, feat.scbb.to_numpy(dtype=float))),
        ("metal second shell, fraction of chains (alone)", auc(y, feat.shell.to_numpy(dtype=float))),
        ("disallowed phi/psi, fraction of chains (alone)", auc(y, feat.strain.to_numpy(dtype=float))),
    ]
    out = [f"| score on the {len(k):,} even-codon mutants ({y.sum()} non-functional) | ROC AUC |",
           "| --- | --- |",
           f"| **impact_score, 5-fold CV grouped by codon (mean of 5 shufflings; range "
           f"{min(cv):.3f}-{max(cv):.3f})** | **{np.mean(cv):.3f}** |"]
    out += [f"| {name} | {a:.3f} |" for name, a in rows]
    # damage features of summarize(): a variant shows a feature if any chain does
    out += ["", "| damage feature (any chain) | variants | precision | recall |",
            "| --- | --- | --- | --- |"]
    dmg = s.damage.fillna("").astype(str)
    names = sorted({f.rsplit(" (", 1)[0] for d in dmg for f in d.split("; ")
                    if f and not f.startswith("none")})
    for f in names:
        hit = dmg.str.contains(f + " (", regex=False).to_numpy()
        prec = y[hit].mean() if hit.any() else float("nan")
        out.append(f"| {f} | {hit.sum()} | {prec:.2f} | {y[hit].sum() / y.sum():.2f} |")
    hit = (score >= 0.5)
    out.append(f"| impact_score >= 0.5 | {hit.sum()} | {y[hit].mean():.2f} | "
               f"{y[hit].sum() / y.sum():.2f} |")
    block = "\n".join(out)
    print("\n" + block)
    print(f"\nrun time {time.perf_counter() - t0:.1f} s (features {t_feat:.1f} s)")
    return readme_output(block, args)


if __name__ == "__main__":
    sys.exit(main())
