"""The per-variant verdict (impact_score, mechanism) on the real structures and alignment."""

from __future__ import annotations

import numpy as np
import pytest

from structkit.judge.verdict import MECHANISMS, models
from structkit.outputs.impact import impact_table, summarize

FAMOUS = {  # issue 10: the hotspots everyone knows, and the mechanism each should get
    "R175H": "buried core / destabilising",
    "R248Q": "DNA contact", "R248W": "DNA contact", "R249S": "buried core / destabilising",
    "R273H": "DNA contact", "R273C": "DNA contact", "R282W": "buried core / destabilising",
    "Y220C": "buried core / destabilising", "V143A": "buried core / destabilising",
    "C242S": "zinc site", "H179R": "zinc site", "V272M": "buried core / destabilising",
    "E285K": "buried core / destabilising",
}
CONTROLS = ["P72R", "T125S"]  # outside the DNA-binding domain; a conservative swap


@pytest.fixture(scope="module")
def p53_summary():
    variants = [f"TP53:p.{v}" for v in [*FAMOUS, "M237I", "G245S", *CONTROLS]]
    return summarize(impact_table(variants)).set_index("variant")


@pytest.mark.parametrize("change", sorted(FAMOUS))
def test_famous_hotspots_are_damaging_with_their_mechanism(p53_summary, change):
    r = p53_summary.loc[f"p.{change}"]
    assert r.impact_score >= 0.5, (change, r.impact_score, r.mechanism_evidence)
    assert r.mechanism == FAMOUS[change], (change, r.mechanism, r.mechanism_evidence)
    assert r.mechanism_evidence and r.score_model == "evolution"


@pytest.mark.xfail(strict=True, reason="known miss: M237I scores ~0.38 (buried, next to the zinc "
                   "site, but I is seen at 1.4 % of homolog column 237); see README")
def test_m237i_is_damaging(p53_summary):
    assert p53_summary.loc["p.M237I"].impact_score >= 0.5


@pytest.mark.xfail(strict=True, reason="known miss since the stability refit (issue 24): G245S "
                   "scores ~0.49, just under the line (0.51 before), though its stability_score "
                   "says strongly destabilising; not tuned back by name. See README")
def test_g245s_is_damaging(p53_summary):
    r = p53_summary.loc["p.G245S"]
    assert r.impact_score >= 0.5 and r.mechanism == "buried core / destabilising"


def test_g245s_is_read_as_a_buried_destabilising_change(p53_summary):
    """What the table does say of G245S: buried, and strongly destabilising by the stability
    score (> 3 nats), with the evidence in the verdict's text."""
    r = p53_summary.loc["p.G245S"]
    assert r.mechanism == "buried core / uncertain" and 0.4 < r.impact_score < 0.5
    assert r.stability_score > 3 and "strongly destabilising" in r.mechanism_evidence


@pytest.mark.parametrize("change", CONTROLS)
def test_controls_stay_below_one_half(p53_summary, change):
    r = p53_summary.loc[f"p.{change}"]
    assert r.impact_score < 0.5, (change, r.impact_score)


def test_outside_the_domain_is_said(p53_summary):
    r = p53_summary.loc["p.P72R"]
    assert r.mechanism == "low-confidence model only" and "pLDDT" in r.mechanism_evidence


def test_partner_agreement_counts_chains_with_the_partner(p53_summary):
    r = p53_summary.loc["p.R248Q"]
    assert r.agreement.endswith("chains with DNA")
    n, total = map(int, r.agreement.split()[0].split("/"))
    assert n > total / 2
    z = p53_summary.loc["p.C242S"]
    n, total = z.agreement.split()[0].split("/")
    assert z.agreement.endswith("chains with zinc") and n == total
    assert "chains with DNA)" in r.damage and "DNA contact lost" in r.damage


def test_every_variant_gets_a_verdict_her2_included():
    s = summarize(impact_table(["ERBB2:p.T798M", "ERBB2:p.C805S", "ERBB2:p.S310F",
                                "ERBB2:p.L755S", "TP53:p.R213*", "TP53:p.T125="]))
    s = s.set_index("variant")
    assert set(s[s.gene == "TP53"].mechanism) <= set(MECHANISMS)
    her2 = s[s.gene == "ERBB2"]
    assert her2.impact_score.between(0, 1).all()
    assert (her2.score_model == "oncogene").all()  # judged by the gene's role (catalog)
    assert her2.evolution.str.contains("family").all()
    assert s.loc["p.T798M", "mechanism"] == "gatekeeper"
    assert s.loc["p.T798M", "effect_class"] == "resistance candidate"
    assert s.loc["p.C805S", "mechanism"] == "covalent anchor"
    assert s.loc["p.C805S", "effect_class"] == "resistance candidate"
    assert s.loc["p.S310F", "mechanism"] == "pertuzumab epitope (ECD domain II)"
    assert s.loc["p.R213*", "mechanism"] == "truncating" and np.isnan(s.loc["p.R213*", "impact_score"])
    assert s.loc["p.T125=", "mechanism"] == "no protein change"


def test_shipped_model_is_what_the_benchmark_fits(data_dir):
    """verdict_model.json holds the fit of benchmarks/validity.py on the development set: refit
    here and compare (a model edited by hand, or fitted to other data, fails)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import validity

    from structkit.judge.verdict import EVOLUTION_FEATURES, STRUCTURE_FEATURES, fit_model

    k = validity.load_set(data_dir)
    _, feat = validity.features(k)
    y = k.label.to_numpy()
    evo = (feat.lo.notna() & feat.scorable).to_numpy()
    shipped = models()
    for name, rows, cols in (("evolution", evo, EVOLUTION_FEATURES),
                             ("structure", np.ones(len(y), bool), STRUCTURE_FEATURES)):
        m = fit_model(feat[rows], y[rows], cols, name, validity.C)
        assert shipped[name].features == cols
        assert np.allclose(shipped[name].coef, m.coef, atol=2e-3), name
        assert shipped[name].meta["n"] == len(y)
    # the recorded CV AUC is re-measured here (one shuffling of the codons), not read back,
    # and it has not fallen below the 0.896 of the model before the stability terms (issue 24)
    cv = validity.auc(y, validity.predict_cv(feat, y, k.Codon_Number.to_numpy(), 0))
    assert cv == pytest.approx(shipped["evolution"].meta["cv_auc_grouped_by_codon"], abs=0.005)
    assert cv >= 0.895


def test_shipped_oncogene_model_is_what_the_benchmark_fits(data_dir, tmp_path):
    """oncogene_model.json holds the fit of benchmarks/her2_validity.py (CIViC-named ERBB2
    changes against the rest, balanced): refit here and compare."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import her2_validity

    from structkit import Session
    from structkit.judge.verdict import ONCOGENE_FEATURES, fit_model

    d, feat = her2_validity.features(Session(mirror=data_dir, offline=True, cache_dir=tmp_path))
    y = d.label.to_numpy()
    m = fit_model(feat, y, ONCOGENE_FEATURES, "oncogene", her2_validity.C, balanced=True)
    shipped = models()["oncogene"]
    assert shipped.features == ONCOGENE_FEATURES
    assert np.allclose(shipped.coef, m.coef, atol=2e-3)
    assert shipped.meta["n"] == len(y) and shipped.meta["n_positive"] == int(y.sum()) == 20
    assert shipped.meta["cv_auc_grouped_by_position"] >= 0.8


@pytest.mark.parametrize("bench", ["validity.py", "her2_validity.py"])
def test_readme_tables_are_the_benchmarks_output(data_dir, bench):
    """The README's development-set tables are written by the benchmarks' --readme; each
    benchmark re-run here finds its table identical (issue 25: numbers from a run, not typed)."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / bench
    run = subprocess.run([sys.executable, str(script), "--mirror", str(data_dir), "--check-readme"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
