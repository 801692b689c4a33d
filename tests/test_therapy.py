"""The variant x therapy matrix on the real complexes (issue 11)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import missing_from_mirror

from structkit.cli import main
from structkit.therapy import RELATIONS, THERAPY_COLUMNS, therapy_matrix

VARIANTS = ["ERBB2:p.T798M", "ERBB2:p.C805S", "ERBB2:p.S310F", "ERBB2:p.L755S"]


@pytest.fixture(scope="module")
def matrix():
    return therapy_matrix(VARIANTS + ["TP53:p.R248Q"]).set_index(["variant", "therapy"])


def rel(m, variant, therapy):
    return m.loc[(variant, therapy)]


def test_columns_and_relations(matrix):
    assert set(matrix.reset_index().columns) == set(THERAPY_COLUMNS)
    assert set(matrix.relation) <= set(RELATIONS)
    present = matrix[matrix.relation != "not covered"]
    assert present.pdb_id.ne("").all() and present.evidence_level.ne("").all()


def test_t798m_is_contact_for_lapatinib_and_03q(matrix):
    lap = rel(matrix, "p.T798M", "lapatinib")
    assert lap.relation == "contact" and lap.evidence_level == "EGFR family stand-in"
    assert lap.pdb_id == "1XKK" and lap.structure_residue == "EGFR THR 790"
    if "3PP0" not in missing_from_mirror(["3PP0"]):
        q = rel(matrix, "p.T798M", "03Q")
        assert q.relation == "contact" and q.evidence_level == "ERBB2 structure"
        assert q.min_dist_A == pytest.approx(3.52, abs=0.1) and q.modality == "ATP-site inhibitor"


def test_c805s_removes_the_covalent_anchor(matrix):
    drugs = ["neratinib", "afatinib"] + ([] if missing_from_mirror(["7PCD"]) else ["70I"])
    for drug in drugs:
        r = rel(matrix, "p.C805S", drug)
        assert r.relation == "covalent anchor lost" and r.modality == "covalent inhibitor", drug
        assert r.note.startswith("bond CYS")
    assert rel(matrix, "p.C805S", "lapatinib").relation == "contact"  # reversible: no anchor


def test_s310f_pertuzumab_contact_trastuzumab_distant(matrix):
    assert rel(matrix, "p.S310F", "pertuzumab").relation == "contact"
    t = rel(matrix, "p.S310F", "trastuzumab")
    assert t.relation == "distant" and t.min_dist_A > 8 and t.pdb_id == "1N8Z"
    assert t.structure_residue == "ERBB2 SER 288 (UniProt 310)"  # 1N8Z: mature numbering
    for adc in ("trastuzumab emtansine (T-DM1)", "trastuzumab deruxtecan (T-DXd)"):
        r = rel(matrix, "p.S310F", adc)
        assert r.relation == "distant" and "shares the trastuzumab epitope" in r.note


def test_l755s_second_shell_for_lapatinib(matrix):
    r = rel(matrix, "p.L755S", "lapatinib")
    assert r.relation == "second shell" and 4.0 < r.min_dist_A <= 8.0


def test_p53_partners_are_functional_sites(matrix):
    r = rel(matrix, "p.R248Q", "DNA")
    assert r.relation == "contact" and r.modality == "functional site"
    assert rel(matrix, "p.R248Q", "zinc").modality == "functional site"
    assert rel(matrix, "p.T798M", "pertuzumab").relation == "not covered"


def test_therapies_command(capsys, tmp_path):
    out = tmp_path / "m.tsv"
    code = main(["therapies", *VARIANTS, "--out", str(out)])
    assert code == 0
    m = pd.read_csv(out, sep="\t").set_index(["variant", "therapy"])
    assert m.loc[("p.C805S", "neratinib"), "relation"] == "covalent anchor lost"
    assert "EGFR family stand-in" in capsys.readouterr().out


def test_heatmap_figure_from_the_matrix_file(tmp_path):
    """20 variants x the catalog's therapies: readable size, one cell per pair, colours by relation."""
    from PIL import Image

    from structkit.cli import main as cli

    kinase = [f"ERBB2:p.{r}{p}A" for p, r in ((798, "T"), (805, "C"), (755, "L"), (753, "K"),
                                              (863, "D"), (777, "V"), (869, "L"), (726, "L"))]
    m_file = tmp_path / "m.tsv"
    assert cli(["therapies", *kinase, "ERBB2:p.S310F", "--out", str(m_file)]) == 0
    png = tmp_path / "heat.png"
    assert cli(["plot", "therapies", "--input", str(m_file), "--out", str(png)]) == 0
    w, h = Image.open(png).size
    assert 1000 < w < 6000 and 500 < h < 4000
    from structkit.plots import therapy_heatmap

    m = pd.read_csv(m_file, sep="\t")
    fig = therapy_heatmap(m)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(dict.fromkeys(m.variant))
    assert len(ax.texts) == m.min_dist_A.notna().sum()


def test_a_synonymous_change_is_no_protein_change_for_every_therapy():
    m = therapy_matrix(["ERBB2:p.C805="], verdict=False).set_index("therapy")
    assert set(m.relation) == {"no protein change"}
    assert {"neratinib", "trastuzumab", "70I"} <= set(m.index)
    assert m.loc["neratinib", "note"] == "synonymous: C805 unchanged"


def test_a_truncation_loses_the_target_for_every_therapy():
    m = therapy_matrix(["ERBB2:p.K200*"], verdict=False).set_index("therapy")
    assert set(m.relation) == {"protein truncated"}
    # P04626 is 1,255 aa with K200 (UniProt): residues 200-1255 lost
    assert m.loc["trastuzumab", "note"] == "residues 200-1255 lost (1056 of 1255 aa)"
