"""The impact table and its summary, on the catalog structures in the mirror."""

from __future__ import annotations

import pandas as pd
import pytest

from structkit.catalog import catalog
from structkit.outputs.impact import COLUMNS, impact_table, summarize, write_table

EGFR_COMPLEXES = {"3POZ", "1XKK", "2JIV", "4G5J", "2ITY", "1M17", "4HJO", "3W32"}


@pytest.fixture(scope="module")
def her2():
    return impact_table(["ERBB2:p.T798M", "ERBB2:p.C805S", "ERBB2:p.S310F", "ERBB2:p.S310Y"])


@pytest.fixture(scope="module")
def p53():
    return impact_table(["TP53:p.R248Q", "TP53:p.R175H", "TP53:p.R213*"])


def test_columns_and_provenance(her2):
    assert list(her2.columns) == COLUMNS
    mapped = her2[her2.status == "mapped"]
    assert mapped[["pdb_id", "chain", "author_num", "numbering_method", "cutoff_A",
                   "structkit_version", "source_file"]].notna().all().all()
    assert set(her2.status) <= {"mapped", "reference mismatch", "unobserved", "not covered",
                                "not available offline"}


def test_t798m_on_the_egfr_gatekeeper_in_all_eight_complexes(her2):
    rows = her2[(her2.variant == "p.T798M") & (her2.pdb_id.isin(EGFR_COMPLEXES))]
    assert set(rows.pdb_id) == EGFR_COMPLEXES
    assert (rows.via == "family alignment P04626->P00533").all()
    assert (rows.structure_position == 790).all()
    assert (rows.min_dist_A < 3.6).all()
    jiv = rows[rows.pdb_id == "2JIV"].iloc[0]
    assert jiv.status == "reference mismatch" and jiv.res_name == "MET"
    assert "carries the analogous variant p.T790M" in jiv.detail
    m17 = rows[rows.pdb_id == "1M17"].iloc[0]
    assert (m17.author_num, m17.res_name, m17.numbering_method) == (766, "THR", "alignment, offset +24")


def test_t798m_is_not_covered_on_ecd_structures(her2):
    rows = her2[(her2.variant == "p.T798M") & her2.pdb_id.isin(["1N8Z", "1S78", "6OGE"])]
    assert len(rows) and (rows.status == "not covered").all()
    assert rows.in_site.isna().all()


def test_her2_structures_mapped_or_reported_not_available_offline(her2):
    from conftest import in_mirror

    from structkit.catalog import catalog

    for entry in catalog().structures_for("P04626"):
        rows = her2[her2.pdb_id == entry.id]
        assert len(rows), entry.id  # every catalog structure appears: nothing dropped
        if in_mirror(entry):
            assert not rows.status.isin(["not available offline"]).any()
        else:
            assert (rows.status == "not available offline").all()
            assert rows.detail.str.contains("not available offline").all()
            assert len(rows) == 4  # one row per variant and missing structure


HER2_KINASE = {  # heavy-atom distances (A) to the inhibitor, computed independently (issue 11)
    "3PP0": {798: 3.52, 753: 3.45, 863: 3.03, 805: 4.17, 755: 6.60, 777: 11.2, 869: 9.78},
    "7PCD": {798: 3.56, 753: 3.53, 863: 3.64, 805: 1.82, 755: 6.79, 777: 10.9, 869: 15.73},
}


@pytest.mark.parametrize("pdb_id", sorted(HER2_KINASE))
def test_her2_kinase_distances_on_real_her2_structures(pdb_id):
    from conftest import in_mirror

    from structkit.catalog import catalog

    if not in_mirror(catalog().structure(pdb_id)):
        pytest.skip(f"{pdb_id} is not in this mirror")
    expect = HER2_KINASE[pdb_id]
    t = impact_table([f"ERBB2:p.{r}{p}A" for p, r in zip(expect, "TKDCLVL", strict=True)],
                     structures=[pdb_id])
    assert (t.status == "mapped").all() and (t.via == "direct").all()
    got = dict(zip(t.position.astype(int), t.min_dist_A, strict=True))
    assert got == pytest.approx(expect, abs=0.1)
    assert (t.author_num == t.position).all()  # both files use UniProt numbering


def test_c805s_on_7pcd_reports_the_covalent_bond():
    from conftest import in_mirror

    from structkit.catalog import catalog

    if not in_mirror(catalog().structure("7PCD")):
        pytest.skip("7PCD is not in this mirror")
    r = impact_table(["ERBB2:p.C805S"], structures=["7PCD"]).iloc[0]
    assert r.covalent_bond.startswith("CYS 805 SG - 70I") and "1.82 A" in r.covalent_bond
    assert "removes the covalent anchor of 70I" in r.effect
    assert "covalent anchor lost" in r.damage


def test_3pp0_pocket_is_the_published_residue_set():
    from conftest import in_mirror

    from structkit.analysis import analyze
    from structkit.catalog import catalog

    if not in_mirror(catalog().structure("3PP0")):
        pytest.skip("3PP0 is not in this mirror")
    t = analyze("3PP0").site_table()
    assert sorted(t.uniprot_pos) == [726, 729, 734, 751, 753, 770, 771, 774, 783, 785, 796, 798,
                                     799, 800, 801, 804, 849, 850, 852, 862, 863, 864]
    assert set(t.partner) == {"03Q (pyrrolo[3,2-d]pyrimidine inhibitor) (03Q, Q03)"}


def test_c805s_removes_covalent_anchor(her2):
    rows = her2[(her2.variant == "p.C805S") & her2.effect.str.contains("covalent", na=False)]
    from conftest import missing_from_mirror

    assert set(rows.pdb_id) == {"2JIV", "4G5J", "7PCD"} - missing_from_mirror(["7PCD"])
    assert rows.effect.str.contains("neratinib|afatinib|70I").all()


def test_s310_in_pertuzumab_epitope_only(her2):
    rows = her2[(her2.variant == "p.S310F") & (her2.in_site == True)]  # noqa: E712
    assert set(zip(rows.pdb_id, rows.site, strict=True)) == {
        ("1S78", "pertuzumab epitope"), ("6OGE", "pertuzumab epitope")}
    assert set(rows[rows.pdb_id == "1S78"].chain) == {"A", "B"}


def test_p53_rows(p53):
    r = p53[(p53.variant == "p.R248Q") & (p53.pdb_id == "1TSR") & (p53.site == "DNA interface")]
    assert len(r) == 1 and r.iloc[0].in_site and r.iloc[0].author_num == 248
    assert r.iloc[0].bfactor_kind == "B-factor"
    af = p53[(p53.variant == "p.R248Q") & (p53.pdb_id == "AF-P04637")].iloc[0]
    assert af.bfactor_kind == "pLDDT" and af.site == "" and af.status == "mapped"
    zn = p53[(p53.variant == "p.R175H") & (p53.site == "Zn site") & (p53.pdb_id == "2OCJ")]
    assert len(zn) == 4 and not zn.in_site.any()
    assert p53[p53.variant == "p.R213*"].kind.eq("nonsense").all()


def test_unobserved_positions_say_so():
    t = impact_table(["ERBB2:p.P128L"], structures=["1N8Z"])  # mature 106: unobserved loop
    assert set(t.status) == {"unobserved"}
    assert t.detail.str.contains("no coordinates").all()


def test_summary_one_row_per_variant(her2, p53):
    s = summarize(her2)
    assert list(s.variant) == ["p.T798M", "p.C805S", "p.S310F", "p.S310Y"]
    c = s[s.variant == "p.C805S"].iloc[0]
    assert c.nearest_dist_A == pytest.approx(1.8, abs=0.1) and c.nearest_pdb_id in {"2JIV", "4G5J", "7PCD"}
    from conftest import missing_from_mirror

    her2_ids = [e.id for e in catalog().structures_for("P04626", include_family=True)]
    assert s.iloc[0].not_available == ", ".join(sorted(missing_from_mirror(her2_ids)))
    sp = summarize(p53)
    r = sp[sp.variant == "p.R248Q"].iloc[0]
    assert r.nearest_site == "DNA interface" and r.nearest_dist_A < 4.0
    assert "1TSR" in r.covered_by and "AF-P04637" in r.covered_by


def test_batch_rejects_rows_and_goes_on():
    t = impact_table(["TP53:p.R248Q", "TP53:p.T798M", "KRAS:p.G12D"])
    rej = t[t.status == "rejected"]
    assert len(rej) == 1 and rej.detail.str.contains("row 2:").all()
    other = t[t.status == "gene not in catalog"]
    assert len(other) == 1 and "KRAS" in other.detail.item() and other.input_row.item() == 3
    assert (t[t.input_row == 1].variant == "p.R248Q").all()


def test_cutoff_is_a_parameter_and_recorded():
    t = impact_table(["TP53:p.R249S"], structures=["1TSR"], cutoff=7.0)
    dna = t[t.site == "DNA interface"].iloc[0]
    assert dna.cutoff_A == 7.0 and dna.in_site  # 6.3 A away: a contact at 7 A, not at 4 A
    assert dna.min_dist_A == pytest.approx(6.31, abs=0.01)  # Biopython NeighborSearch: 6.307 A
    t4 = impact_table(["TP53:p.R249S"], structures=["1TSR"])
    assert not t4[t4.site == "DNA interface"].iloc[0].in_site


def test_structure_of_another_protein_is_a_not_covered_row():
    t = impact_table(["TP53:p.R248Q"], structures=["1N8Z", "2OCJ"])
    her2 = t[t.pdb_id == "1N8Z"]
    assert len(her2) == 1 and her2.status.item() == "not covered"
    assert her2.detail.item() == "1N8Z holds P04626, not P04637"
    assert (t[t.pdb_id == "2OCJ"].status == "mapped").all()


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx", ".parquet", ".md", ".html"])
def test_writers(tmp_path, her2, suffix):
    p = write_table(her2, tmp_path / f"t{suffix}")
    assert p.is_file() and p.stat().st_size > 0
    if suffix == ".csv":
        back = pd.read_csv(p)
        assert len(back) == len(her2) and list(back.columns) == COLUMNS
    if suffix == ".parquet":
        assert len(pd.read_parquet(p)) == len(her2)
    if suffix == ".xlsx":
        assert set(pd.read_excel(p, sheet_name=None)) == {"impact", "provenance"}
    assert [q.name for q in tmp_path.iterdir()] == [p.name]  # no temporary file left


def test_writer_rejects_unknown_suffix(tmp_path, her2):
    with pytest.raises(ValueError, match="unknown suffix '.doc'"):
        write_table(her2, tmp_path / "t.doc")
    assert list(tmp_path.iterdir()) == []


def test_tables_share_no_categories():
    """Text columns are categoricals of this table's values only, whatever ran before."""
    import pandas as pd

    first = impact_table(["TP53:p.R175H"], structures=["2OCJ"])
    second = impact_table(["TP53:p.R248Q", "TP53:p.R249S"], structures=["1TSR"])
    assert sorted(second.variant.cat.categories) == ["p.R248Q", "p.R249S"]  # order: the session's codes
    assert list(second.pdb_id.cat.categories) == ["1TSR"]
    assert "2OCJ" in set(first.pdb_id)
    for c in second.columns:
        if isinstance(second[c].dtype, pd.CategoricalDtype):
            assert set(second[c].cat.categories) == set(second[c].dropna()), c
    # the same rows again give the same table
    pd.testing.assert_frame_equal(second, impact_table(["TP53:p.R248Q", "TP53:p.R249S"],
                                                       structures=["1TSR"]))


def test_summary_counts_chains_and_keeps_input_order():
    """1TSR has one p53 chain with DNA (B), 2OCJ four without: R273H's DNA bonds are broken in
    1 of 5 chains (the one with DNA); R175H's features count over all five."""
    t = impact_table(["TP53:p.R273H", "TP53:p.R175H"], structures=["1TSR", "2OCJ"])
    s = summarize(t)
    assert list(s.variant) == ["p.R273H", "p.R175H"]
    assert s.damage[0] == ("DNA contact lost (1/1 chains with DNA); interface H-bond broken (1/1 chains "
                           "with DNA); interface salt bridge broken (1/1 chains with DNA)")
    assert "buried charge replaced (5/5 chains)" in s.damage[1]
    assert list(s.covered_by) == ["1TSR, 2OCJ", "1TSR, 2OCJ"]
    assert s.nearest_site[0] == "DNA interface" and s.nearest_pdb_id[0] == "1TSR"


def test_summary_names_the_protein_of_a_stand_in_residue(capsys):
    """EGFR residue numbers never appear unlabelled (issue 11): 1XKK numbers EGFR T790."""
    s = summarize(impact_table(["ERBB2:p.T798M"], structures=["1XKK"]), verdict=False)
    assert (s.nearest_protein[0], s.nearest_author_num[0]) == ("EGFR", 790)
    assert s.nearest_via[0] == "family alignment P04626->P00533"
    from structkit.cli import main

    assert main(["impact", "ERBB2:p.T798M", "--structures", "1XKK"]) == 0
    assert "(1XKK A EGFR 790)" in capsys.readouterr().out


def test_summary_prefers_the_variants_own_structures():
    from conftest import missing_from_mirror

    if missing_from_mirror(["3PP0", "7PCD"]) == {"3PP0", "7PCD"}:
        pytest.skip("no HER2 kinase structure in this mirror")
    s = summarize(impact_table(["ERBB2:p.C805S"]), verdict=False)
    # EGFR 2JIV/4G5J C797 bonds are 1.83-1.84 A, HER2 7PCD 1.82 A, 3PP0 4.17 A: direct wins either way
    assert s.nearest_protein[0] == "ERBB2" and s.nearest_via[0] == "direct"
    assert s.nearest_pdb_id[0] in {"3PP0", "7PCD"}


def test_a_file_that_does_not_hold_the_protein_is_a_not_covered_row(data_dir):
    """Only 'the protein is not in this structure' becomes 'not covered' (a specific exception,
    numbering.NotInStructure), never any error: the HER2 file given as p53 says so."""
    from structkit.io.resolve import load

    her2 = load(data_dir / "pdb" / "1n8z.pdb")
    t = impact_table(["TP53:p.R248Q"], structures=[(her2, "P04637")])
    assert len(t) == 1 and t.status.item() == "not covered"
    assert t.detail.item() == "1N8Z (1n8z.pdb): no chain is P04637 (protein chains A, B, C)"
