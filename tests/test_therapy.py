"""The variant x therapy matrix on the real complexes (issues 11 and 23): the drug table, the
structural relation and the known response from CIViC side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import missing_from_mirror

from structkit.catalog import catalog
from structkit.cli import main
from structkit.judge.therapy import RELATIONS, THERAPY_COLUMNS, drug_table, therapy_matrix

VARIANTS = ["ERBB2:p.L755S", "ERBB2:p.T798M", "ERBB2:p.D769Y", "ERBB2:p.C805S", "ERBB2:p.S310F",
            "ERBB2:p.A775_G776insYVMA", "ERBB2:p.Y772_A775dup"]
TKI = ("reversible ATP-site TKI", "covalent TKI")


@pytest.fixture(scope="module")
def matrix():
    return therapy_matrix(VARIANTS + ["TP53:p.R248Q"]).set_index(["variant", "therapy"])


@pytest.fixture(scope="module")
def civic(data_dir):
    """The CIViC release read here with pandas, apart from structkit's evidence layer."""
    df = pd.read_csv(data_dir / "evidence" / "civic_01-Aug-2024-ClinicalEvidenceSummaries.tsv",
                     sep="\t", dtype=str, keep_default_na=False)
    return df[(df.evidence_status == "accepted") & (df.evidence_type == "Predictive")]


def rel(m, variant, therapy):
    return m.loc[(variant, therapy)]


def test_columns_and_relations(matrix):
    assert set(matrix.reset_index().columns) == set(THERAPY_COLUMNS)
    assert set(matrix.relation) <= set(RELATIONS)
    measured = matrix[matrix.min_dist_A.notna()]
    assert measured.pdb_id.ne("").all() and measured.evidence_level.ne("").all()


def test_every_approved_her2_drug_is_a_row(matrix):
    """The issue's list of HER2 drugs, each a row for every HER2 variant; EGFR-only drugs and
    research compounds are not (without --include-research); poziotinib is investigational."""
    expected = {"trastuzumab", "pertuzumab", "margetuximab", "trastuzumab emtansine (T-DM1)",
                "trastuzumab deruxtecan (T-DXd)", "disitamab vedotin", "zanidatamab", "lapatinib",
                "tucatinib", "neratinib", "pyrotinib", "zongertinib", "afatinib", "dacomitinib"}
    approved = {d.name for d in catalog().drugs if d.status == "approved" and "ERBB2" in d.targets}
    assert expected <= approved
    for v in ("p.L755S", "p.S310F", "p.Y772_A775dup"):
        rows = matrix.loc[v]
        assert approved | {"poziotinib"} == set(rows.index)
        assert rows.loc["poziotinib", "status"] == "investigational"
    assert not {"gefitinib", "erlotinib", "03Q", "70I", "TAK-285", "compound 20a"} & set(
        matrix.index.get_level_values("therapy"))
    assert {"03Q", "70I", "TAK-285"} <= set(therapy_matrix(["ERBB2:p.T798M"], include_research=True,
                                                           verdict=False).therapy)


def test_l755s_known_response_against_civic(matrix, civic):
    """CIViC names L755S with lapatinib resistance (EID241, EID3004) and neratinib sensitivity
    (EID283): the known response, while the structural relation is the same for both drugs."""
    mine = civic[civic.molecular_profile == "ERBB2 L755S"]
    lap = mine[mine.therapies == "Lapatinib"]
    ner = mine[mine.therapies == "Neratinib"]
    assert set(lap.significance) == {"Resistance"} and set(ner.significance) == {"Sensitivity/Response"}
    r_lap, r_ner = rel(matrix, "p.L755S", "lapatinib"), rel(matrix, "p.L755S", "neratinib")
    assert r_lap.known_response.split("; ")[0] == "resistance"
    assert r_ner.known_response.split("; ")[0] == "sensitivity"
    for eid in lap.evidence_id:
        assert f"EID{eid} (level D" in r_lap.known_evidence
    for eid, pmid in zip(ner.evidence_id, ner.citation_id, strict=True):
        assert f"EID{eid} (level D, PMID {pmid}" in r_ner.known_evidence
    assert r_lap.relation == r_ner.relation == "second shell"  # the structure cannot tell them apart


def test_no_civic_item_is_said(matrix, civic):
    assert not len(civic[(civic.molecular_profile == "ERBB2 D769Y") & (civic.therapies == "Lapatinib")])
    assert rel(matrix, "p.D769Y", "lapatinib").known_response == "no CIViC item (release 2024-08-01)"


def test_d769y_is_conformational_not_distant(matrix):
    """D769 is in the alphaC helix (anatomy, DSSP on the HER2 structures): 11 A from lapatinib
    in 1XKK, 'distant' by distance alone, conformational by where it is."""
    r = rel(matrix, "p.D769Y", "lapatinib")
    assert r.relation == "conformational" and r.min_dist_A > SECOND_SHELL
    assert r.conformation == "alphaC-out, DFG-in" and "alphaC helix" in r.note


SECOND_SHELL = 8.0


def test_c805s_anchor_lost_only_for_covalent_drugs(matrix):
    rows = matrix.loc["p.C805S"]
    tki = rows[rows.modality.isin(TKI)]
    lost = tki.relation == "covalent anchor lost"
    assert (lost == (tki.modality == "covalent TKI")).all()
    assert rows.loc["lapatinib", "relation"] == "contact"  # reversible: a contact, no anchor
    assert rows.loc["neratinib", "note"].startswith("neratinib bonds C805 (bond CYS 797 SG - HKI")
    assert "by modality" in rows.loc["pyrotinib", "note"]  # no structure of pyrotinib


def test_s310f_is_outside_every_kinase_inhibitors_domain(matrix):
    rows = matrix.loc["p.S310F"]
    assert set(rows[rows.modality.isin(TKI)].relation) == {"outside the drug's domain"}
    assert "binds Protein kinase 720-987" in rows.loc["lapatinib", "note"]


def test_the_two_insertion_spellings_give_identical_rows():
    """A775_G776insYVMA repeats Y772-A775: the same protein as Y772_A775dup (HGVS 3' form)."""
    a = therapy_matrix(["ERBB2:p.A775_G776insYVMA"], verdict=False)
    b = therapy_matrix(["ERBB2:p.Y772_A775dup"], verdict=False)
    pd.testing.assert_frame_equal(a, b)
    lap = a.set_index("therapy").loc["lapatinib"]
    assert lap.relation == "in-frame indel: structure cannot judge" and np.isnan(lap.min_dist_A)
    assert lap.note.startswith("insertion after A775 (duplication of Y772-A775) in the alphaC-beta4 loop")


def test_2jiv_carries_t790m_in_the_note(matrix):
    for v in ("p.L755S", "p.T798M"):
        r = rel(matrix, v, "neratinib")
        assert r.pdb_id == "2JIV" and "2JIV carries EGFR T790M (= ERBB2 T798M)" in r.note


def test_best_resolved_structure_speaks_and_counts_its_own_chains(matrix, data_dir):
    """S310F x pertuzumab: 1S78 (3.25 A in REMARK 2) before 6OGE (4.36 A), its two HER2 copies
    each with a pertuzumab Fab; 6OGE follows in other_structures."""
    def remark2(name):
        line = next(x for x in (data_dir / "pdb" / name).read_text().splitlines()
                    if x.startswith("REMARK   2 RESOLUTION."))
        return float(line.split()[3])

    r = rel(matrix, "p.S310F", "pertuzumab")
    assert r.relation == "epitope contact" and r.pdb_id == "1S78"
    assert r.resolution_A == remark2("1s78.pdb") == 3.25
    assert r.chains_agree == "2/2"
    assert r.other_structures.startswith(f"6OGE ({remark2('6oge.pdb'):.2f} A")
    t = rel(matrix, "p.S310F", "trastuzumab")
    assert t.pdb_id == "1N8Z" and t.relation == "distant" and t.chains_agree == "1/1"
    assert t.structure_residue == "ERBB2 SER 288 (UniProt 310)"  # 1N8Z: mature numbering
    adc = rel(matrix, "p.S310F", "trastuzumab deruxtecan (T-DXd)")
    assert adc.relation == "distant" and "deruxtecan (topoisomerase I inhibitor)" in adc.note


def test_p53_partners_are_functional_sites(matrix):
    r = rel(matrix, "p.R248Q", "DNA")
    assert r.relation == "contact" and r.modality == "functional site" and r.known_response == ""
    assert rel(matrix, "p.R248Q", "zinc").status == "functional site"


def test_drug_table():
    d = drug_table("ERBB2").set_index("drug")
    assert d.loc["zongertinib", "structures"] == "7PCD (ERBB2)"
    assert d.loc["tucatinib", "structures"] == "none: relation by modality only"
    assert d.loc["trastuzumab emtansine (T-DM1)", "modality"] == "antibody-drug conjugate"
    assert "gefitinib" not in d.index and "gefitinib" in set(drug_table("EGFR").drug)


def test_therapies_command_options_and_xlsx(capsys, tmp_path):
    out = tmp_path / "m.xlsx"
    code = main(["therapies", "ERBB2:p.C805S", "ERBB2:p.T798M", "--drug", "Tykerb", "--drug",
                 "neratinib", "--out", str(out)])
    assert code == 0
    sheets = pd.read_excel(out, sheet_name=None)
    m = sheets["therapies"].set_index(["variant", "therapy"])
    assert set(m.index.get_level_values("therapy")) == {"lapatinib", "neratinib"}
    assert m.loc[("p.C805S", "neratinib"), "relation"] == "covalent anchor lost"
    assert list(sheets["drugs"].drug) == ["lapatinib", "neratinib"]
    prov = dict(zip(sheets["provenance"].key, sheets["provenance"].value, strict=True))
    assert prov["civic"].startswith("CIViC 2024-08-01;") and "sha256:" in prov["civic"]
    assert "known_response" in capsys.readouterr().out
    assert main(["therapies", "ERBB2:p.T798M", "--approved-only", "--out", str(tmp_path / "a.tsv")]) == 0
    a = pd.read_csv(tmp_path / "a.tsv", sep="\t")
    assert set(a.status) == {"approved"} and "poziotinib" not in set(a.therapy)
    assert main(["therapies", "ERBB2:p.T798M", "--drug", "aspirin"]) == 2
    assert "unknown drug 'aspirin'" in capsys.readouterr().err


def test_heatmap_shows_relation_and_known_response(tmp_path):
    """Colour = relation, a mark per cell with a known response; approved drugs by default."""
    from PIL import Image

    from structkit.outputs.plots import _known_kind, therapy_heatmap

    kinase = [f"ERBB2:p.{r}{p}A" for p, r in ((798, "T"), (805, "C"), (753, "K"), (863, "D"),
                                              (777, "V"), (869, "L"), (726, "L"))]
    m_file = tmp_path / "m.tsv"
    assert main(["therapies", *kinase, "ERBB2:p.L755S", "ERBB2:p.S310F", "--out", str(m_file)]) == 0
    png = tmp_path / "heat.png"
    assert main(["plot", "therapies", "--input", str(m_file), "--out", str(png)]) == 0
    w, h = Image.open(png).size
    assert 1000 < w < 6000 and 500 < h < 4000
    m = pd.read_csv(m_file, sep="\t", dtype=str, keep_default_na=False)
    m["min_dist_A"] = pd.to_numeric(m.min_dist_A, errors="coerce")
    fig = therapy_heatmap(m)
    ax = fig.axes[0]
    shown = m[m.status == "approved"]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(dict.fromkeys(shown.therapy))
    assert len(ax.texts) == shown.min_dist_A.notna().sum()
    marks = [ln for ln in ax.lines if ln.get_marker() in ("v", "^", "D")]
    assert len(marks) == sum(bool(_known_kind(k)) for k in shown.known_response) > 0
    titles = [c.get_title().get_text() for c in ax.artists + [ax.get_legend()] if hasattr(c, "get_title")]
    assert any("known response, CIViC" in t for t in titles)
    assert any("structural relation" in t for t in titles)


def test_a_synonymous_change_is_no_protein_change_for_every_therapy():
    m = therapy_matrix(["ERBB2:p.C805="], verdict=False).set_index("therapy")
    assert set(m.relation) == {"no protein change"}
    assert {"neratinib", "trastuzumab", "zongertinib"} <= set(m.index)
    assert m.loc["neratinib", "note"] == "synonymous: C805 unchanged"


def test_a_truncation_loses_the_target_for_every_therapy():
    m = therapy_matrix(["ERBB2:p.K200*"], verdict=False).set_index("therapy")
    assert set(m.relation) == {"protein truncated"}
    # P04626 is 1,255 aa with K200 (UniProt): residues 200-1255 lost
    assert m.loc["trastuzumab", "note"] == "residues 200-1255 lost (1056 of 1255 aa)"


# ----------------------------------------------------------------------- kinase conformation


def _cb(path, chain: str, lys: int, glu: int) -> float:
    """Lys CB - Glu CB distance read with Biopython (PDB) or gemmi (mmCIF), apart from structkit."""
    if path.suffix == ".cif":
        import gemmi

        st = gemmi.read_structure(str(path))
        res = {r.seqid.num: r for r in st[0][chain]}
        return res[lys]["CB"][0].pos.dist(res[glu]["CB"][0].pos)
    from Bio.PDB import PDBParser

    s = PDBParser(QUIET=True).get_structure("x", str(path))
    c = s[0][chain]
    return float(c[lys]["CB"] - c[glu]["CB"])


@pytest.mark.parametrize("pdb,file,chain,lys,glu,label", [
    # Wood et al. 2004 Cancer Res 64:6652: lapatinib binds an inactive EGFR with alphaC out
    ("1XKK", "1xkk.pdb", "A", 745, 762, "alphaC-out, DFG-in"),
    # TAK-285 in EGFR (Aertgeerts et al. 2011)
    ("3POZ", "3poz.pdb", "A", 745, 762, "alphaC-out, DFG-in"),
    ("3PP0", "3pp0.pdb", "A", 753, 770, "alphaC-out, DFG-in"),
    ("7PCD", "7pcd.cif", "A", 753, 770, "alphaC-out, DFG-in"),
    # the active EGFR kinase of the erlotinib and gefitinib complexes (Stamos 2002; Yun 2007)
    ("1M17", "1m17.pdb", "A", 721, 738, "alphaC-in, DFG-in"),  # mature numbering: UniProt - 24
    ("2ITY", "2ity.pdb", "A", 745, 762, "alphaC-in, DFG-in"),
])
def test_kinase_conformation_from_coordinates(data_dir, pdb, file, chain, lys, glu, label):
    from structkit.analysis.conformation import ALPHAC_IN_A, kinase_state

    if missing_from_mirror([pdb]):
        pytest.skip(f"{pdb} not available offline")
    (s,) = kinase_state(pdb)
    d = _cb(data_dir / "pdb" / file, chain, lys, glu)
    assert s.lys_glu_cb_A == pytest.approx(d, abs=0.01)
    assert s.label == label and (d <= ALPHAC_IN_A) == (s.alphac == "alphaC-in")


def test_construct_changes_found_from_the_sequence():
    from structkit.analysis.conformation import construct_changes

    assert construct_changes("2JIV") == ["T790M"]  # the crystallised resistance mutant
    assert construct_changes("1XKK") == []
    if not missing_from_mirror(["3PP0"]):
        assert construct_changes("3PP0") == ["M706A", "Q711L", "M712L"]  # catalog notes


def test_a_summary_already_made_is_reused():
    """The report passes its summary to therapy_matrix (one summarize instead of two): the
    matrix is the one therapy_matrix makes with the verdict itself."""
    from structkit import impact_table, summarize, therapy_matrix

    variants = ["ERBB2:p.T798M", "ERBB2:p.S310F", "TP53:p.R248Q"]
    table = impact_table(variants, damage=False)
    placed = table[table.kind.notna()]
    own = therapy_matrix(None, table=table, verdict=True)
    reused = therapy_matrix(None, table=table, summary=summarize(placed))
    pd.testing.assert_frame_equal(own, reused)
    assert reused.impact_score.notna().all()
