"""HER2 judged as an oncogene (issue 22): role, anatomy, hotspot counts, CIViC evidence, verdict.

Expectations come from the files themselves (the hotspot table, the CIViC release, the HELIX
records and ligand atoms of the PDB files, the UniProt sequence) or from the literature
(K753, T798, DFG 863-865; Cho et al. 2003 epitopes), never from structkit's own output.
"""

from __future__ import annotations

import csv
import re

import pandas as pd
import pytest

from structkit.analysis.anatomy import anatomy
from structkit.catalog import catalog
from structkit.io.evidence import NO_ITEM, hotspots, known_evidence
from structkit.io.fetch import Fetcher
from structkit.io.uniprot import uniprot_record
from structkit.outputs.impact import impact_table, summarize


def _hotspot_rows(data_dir, gene):
    with open(data_dir / "variants" / "cancerhotspots_v2_multi_type_residue.txt", newline="") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r["Hugo_Symbol"] == gene]


def test_roles_are_catalog_data():
    cat = catalog()
    assert cat.target("ERBB2").role_kind == "oncogene"
    assert cat.target("TP53").role_kind == "tumour suppressor"
    assert "Bose et al. 2013" in cat.target("ERBB2").role["citation"]


def test_kinase_elements_match_the_sequence_and_literature():
    seq = uniprot_record("P04626").sequence
    a = anatomy("ERBB2")
    assert a.catalytic(753) == "beta3 Lys" and seq[752] == "K"
    assert a.has(798, "gatekeeper") and seq[797] == "T"  # the gatekeeper T798 (T790 in EGFR)
    dfg = sorted(next(e for e in a.elements if e.name == "DFG motif").positions)
    assert dfg == [863, 864, 865] and seq[862:865] == "DFG"
    assert a.catalytic(845) == "HRD Asp" and seq[842:845] == "HRD"
    assert a.catalytic(770) == "alphaC Glu" and seq[769] == "E"
    assert a.has(777, "alphaC-beta4 loop") and a.has(869, "activation loop")
    assert a.region(805).endswith("hinge and linker")  # C805, the covalent anchor of 70I


def test_alphac_helix_agrees_with_the_helix_records_of_3pp0(data_dir):
    """The alphaC span (DSSP on the HER2 structures) against the HELIX records written in the
    3PP0 file: the record overlapping 765 must cover most of our span."""
    helices = []
    for line in (data_dir / "pdb" / "3pp0.pdb").read_text().splitlines():
        if line.startswith("HELIX"):
            helices.append((int(line[21:25]), int(line[33:37])))
    start, end = next(h for h in helices if h[0] <= 765 <= h[1])
    ac = next(e for e in anatomy("ERBB2").elements if e.name == "alphaC helix").positions
    overlap = len(ac & set(range(start, end + 1)))
    assert overlap >= 0.8 * len(ac), (sorted(ac), (start, end))


def test_ecd_domains_hold_the_antibody_epitopes():
    """Domain boundaries from Cho et al. 2003 against the epitopes computed from 1N8Z and 1S78:
    trastuzumab binds domain IV, pertuzumab domain II (near I and III)."""
    a = anatomy("ERBB2")
    tras = next(e for e in a.elements if e.name == "trastuzumab epitope").positions
    pert = next(e for e in a.elements if e.name == "pertuzumab epitope").positions
    assert tras and all(a.has(p, "ECD domain IV") for p in tras)
    in_ii = sum(a.has(p, "ECD domain II") for p in pert)
    assert in_ii >= 0.8 * len(pert)
    assert a.has(310, "pertuzumab epitope") and a.has(310, "ECD domain II")


def test_p53_anatomy():
    a = anatomy("TP53")
    zn = sorted(next(e for e in a.elements if e.name == "zinc site").positions)
    assert zn == [176, 179, 238, 242]
    assert a.region(248) == "DNA-binding; L3 loop; DNA-contact surface"
    assert a.has(120, "DNA-contact surface") and a.has(120, "L1 loop")


def test_p53_dssp_elements_agree_with_the_files_helix_records(data_dir):
    """H2 (the last helix of the DNA-binding domain, DSSP over 14 chains) lies inside the HELIX
    record of 3KMD that covers residue 280 and overlaps it for most of its length; the LSH motif
    is L1 + S2-S2' + H2."""
    a = anatomy("TP53")
    el = {e.name: e.positions for e in a.elements}
    rec = []
    for line in (data_dir / "pdb" / "3kmd.pdb").read_text().splitlines():
        if line.startswith("HELIX") and line[19] == "A":
            rec.append((int(line[21:25]), int(line[33:37])))
    start, end = next(h for h in rec if h[0] <= 280 <= h[1])
    h2 = el["H2 helix"]
    assert h2 <= set(range(start, end + 1)) and len(h2) >= 0.8 * (end - start + 1)
    assert el["LSH motif"] == el["L1 loop"] | el["S2-S2' hairpin"] | el["H2 helix"]
    assert min(el["S2-S2' hairpin"]) == max(el["L1 loop"]) + 1


def test_hotspot_counts_match_the_file(data_dir):
    h = hotspots()
    for gene in ("ERBB2", "TP53"):
        for r in _hotspot_rows(data_dir, gene):
            if not r["Amino_Acid_Position"].isdigit() or r["Residue"].startswith("X"):
                continue  # in-frame indel ranges; 'X126' rows count splice sites
            pos = int(r["Amino_Acid_Position"])
            for part in r["Variant_Amino_Acid"].split("|"):
                alt, n = part.split(":")
                if alt == r["Residue"][0]:
                    continue
                assert h.counts(gene, pos, alt, "missense") == (int(r["Tumor_Count"]), int(n))
    assert h.counts("ERBB2", 800, "A", "missense") == (0, 0)  # not a hotspot: 0, said


def test_table_hotspot_columns_match_the_file(data_dir):
    """The impact table's columns (the vectorised path) against the file, substitutions and
    stops of both genes."""
    expected = {}
    for gene in ("ERBB2", "TP53"):
        for r in _hotspot_rows(data_dir, gene):
            if not r["Amino_Acid_Position"].isdigit() or r["Residue"].startswith("X"):
                continue
            for part in r["Variant_Amino_Acid"].split("|"):
                alt, n = part.split(":")
                if alt != r["Residue"][0]:
                    expected[f"{gene}:p.{r['Residue']}{alt}"] = (int(r["Tumor_Count"]), int(n))
    t = impact_table(sorted(expected), damage=False).drop_duplicates(["gene", "variant"])
    got = {f"{g}:{v}": (int(a), int(b)) for g, v, a, b in zip(
        t.gene, t.variant, t.hotspot_tumours, t.hotspot_allele_tumours, strict=True)}
    assert any("*" in k for k in expected) and got == expected


def test_missing_hotspot_file_is_not_a_zero(tmp_path):
    f = Fetcher(cache_dir=tmp_path / "c", mirror=tmp_path / "empty", offline=True)
    h = hotspots(f)
    assert not h.available and "not available offline" in h.error
    assert h.counts("ERBB2", 310, "F", "missense") == (None, None)


def test_civic_items_on_real_rows(data_dir):
    e = known_evidence(["ERBB2:p.T798M", "ERBB2:p.Leu755Ser", "ERBB2:p.E717K"])
    own = e[e.match == "variant"]
    t798 = own[own.variant == "p.T798M"]
    assert ("3006", "Lapatinib", "Resistance") in set(
        zip(t798.eid, t798.therapies, t798.significance, strict=True))
    l755 = own[own.variant == "p.L755S"]
    assert ("283", "Neratinib", "Sensitivity/Response") in set(
        zip(l755.eid, l755.therapies, l755.significance, strict=True))
    # every variant-level item names the variant in the release file itself
    with open(data_dir / "evidence" / "civic_01-Aug-2024-ClinicalEvidenceSummaries.tsv") as fh:
        profile = {r["evidence_id"]: r["molecular_profile"] for r in csv.DictReader(fh, delimiter="\t")}
    for r in own.itertuples():
        assert re.fullmatch(rf"ERBB2 {r.variant[2:]}(/[A-Z])*", profile[r.eid]), (r.eid, profile[r.eid])
    # a broader profile is never the variant's own item
    broad = e[e.match.str.startswith("broader")]
    assert len(broad) and not broad.molecular_profile.isin([f"ERBB2 {v[2:]}" for v in e.variant]).any()
    assert (e[e.variant == "p.E717K"].match != "variant").all()
    assert known_evidence(["ERBB2:p.E717K"], broader=False).match.tolist() == [NO_ITEM]


@pytest.fixture(scope="module")
def her2_summary(data_dir):
    seq = uniprot_record("P04626").sequence
    changes = set()
    for r in _hotspot_rows(data_dir, "ERBB2"):
        if r["Amino_Acid_Position"].isdigit():
            pos = int(r["Amino_Acid_Position"])
            changes |= {f"{seq[pos - 1]}{pos}{p.split(':')[0]}" for p in r["Variant_Amino_Acid"].split("|")
                        if p.split(":")[0] not in (seq[pos - 1], "*") and len(p.split(":")[0]) == 1}
    with open(data_dir / "evidence" / "civic_01-Aug-2024-ClinicalEvidenceSummaries.tsv") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            m = re.fullmatch(r"ERBB2 ([A-Z])(\d+)([A-Z])", r["molecular_profile"])
            if m:
                changes.add(m.group(0)[6:])
    catalytic = ["K753M", "K753R", "D845N", "D863N", "D863A", "E770Q"]
    table = impact_table([f"ERBB2:p.{c}" for c in sorted(changes) + catalytic])
    return summarize(table).set_index("variant"), table


def test_her2_drivers_never_read_tolerated_or_surface(her2_summary):
    s, table = her2_summary
    for v, r in s.iterrows():
        assert r.role == "oncogene" and r.score_model == "oncogene"
        assert "tolerated" not in r.mechanism and "surface" not in r.mechanism, (v, r.mechanism)
        if v[3:-1] not in ("753", "845", "863", "770"):
            assert r.effect_class != "likely neutral", (v, r.effect_class, r.mechanism_evidence)
    assert (table[table.gene == "ERBB2"].region.astype(str) != "").all()


def test_catalytic_residues_read_catalytically_dead(her2_summary):
    s, _ = her2_summary
    for v in ("p.K753M", "p.K753R", "p.D845N", "p.D863N", "p.D863A", "p.E770Q"):
        assert s.loc[v, "effect_class"] == "catalytically dead", (v, s.loc[v, "mechanism"])
        assert s.loc[v, "mechanism"].startswith("catalytic residue")


def test_summary_carries_known_evidence_apart(her2_summary):
    s, _ = her2_summary
    assert "EID3006" in s.loc["p.T798M", "known_evidence"]
    assert "EID3006" not in s.loc["p.T798M", "mechanism_evidence"]  # the verdict never reads CIViC
    assert s.loc["p.S310F", "hotspot_tumours"] == 113 and s.loc["p.S310F", "hotspot_allele_tumours"] == 95


def test_p53_buried_residues_never_read_surface():
    seq = uniprot_record("P04637").sequence
    alts = "ACDEFGHIKLMNPQRSTVWY"
    # one substitution per DBD residue (an arbitrary, fixed alt that differs from the wild type)
    variants = [f"TP53:p.{seq[p - 1]}{p}{next(a for a in alts[p % 20:] + alts if a != seq[p - 1])}"
                for p in range(94, 313)]
    s = summarize(impact_table(variants))
    checked = 0
    for r in s.itertuples():
        m = re.search(r"buried \(RSA < 25 %\) in (\d+)/(\d+) chains", r.agreement or "")
        if m and int(m.group(1)) / int(m.group(2)) > 0.5:
            checked += 1
            assert "surface" not in r.mechanism, (r.variant, r.mechanism, r.agreement)
    assert checked > 20
    assert set(s.effect_class) <= {"loss of function", "uncertain", "likely neutral"}


def test_cli_evidence_lists_eids(capsys, tmp_path):
    from structkit.cli import main

    out = tmp_path / "civic.tsv"
    assert main(["evidence", "ERBB2:p.L755S", "--variant-only", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "283" in text and "241" in text and "2024-08-01" in text
    assert set(pd.read_csv(out, sep="\t", dtype=str).eid) == {"241", "283", "1176", "3004", "4955"}


def test_verdict_never_reads_civic(data_dir, tmp_path):
    """The same variants judged with and without the CIViC release in the mirror: identical
    scores, classes and mechanisms; only known_evidence says the release is missing."""
    from structkit import Session

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for d in data_dir.iterdir():
        if d.name != "evidence":
            (mirror / d.name).symlink_to(d)
    variants = ["ERBB2:p.T798M", "ERBB2:p.L755S", "ERBB2:p.S310F", "TP53:p.R175H"]
    cols = ["impact_score", "effect_class", "mechanism", "mechanism_evidence"]
    with_civic = Session(mirror=data_dir, offline=True, cache_dir=tmp_path / "a")
    without = Session(mirror=mirror, offline=True, cache_dir=tmp_path / "b")
    a = with_civic.summarize(with_civic.impact_table(variants))
    b = without.summarize(without.impact_table(variants))
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert a.known_evidence.str.startswith("CIViC:").all()
    assert b.known_evidence.str.startswith("CIViC release not available offline").all()


def test_civic_compound_profiles(data_dir):
    """'A OR B' profiles cover either alternative (as a broader profile, never the variant's
    own); 'A AND B' profiles need several changes and are never listed for one variant."""
    with open(data_dir / "evidence" / "civic_01-Aug-2024-ClinicalEvidenceSummaries.tsv") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["evidence_status"] == "accepted"]
    or_l858r = {r["evidence_id"] for r in rows
                if r["molecular_profile"] == "EGFR L858R OR EGFR Exon 19 Deletion"}
    and_eids = {r["evidence_id"] for r in rows if " AND " in r["molecular_profile"]}
    e = known_evidence(["EGFR:p.L858R", "TP53:p.R175H", "ERBB2:p.L755S"])
    l858r = e[e.variant == "p.L858R"]
    assert or_l858r and or_l858r <= set(l858r[l858r.match.str.startswith("broader")].eid)
    assert and_eids and not (and_eids & set(e.eid))


def test_provenance_names_the_data_releases(data_dir, tmp_path, capsys):
    """The XLSX provenance sheet carries the Cancer Hotspots and CIViC files with their SHA-256,
    checked against the mirror's files."""
    import hashlib

    from openpyxl import load_workbook

    from structkit.cli import main

    out = tmp_path / "t.xlsx"
    assert main(["impact", "ERBB2:p.S310F", "--structures", "6OGE", "--out", str(out)]) == 0
    capsys.readouterr()
    prov = dict(load_workbook(out)["provenance"].iter_rows(min_row=2, values_only=True))
    for key, path in (("hotspots", data_dir / "variants" / "cancerhotspots_v2_multi_type_residue.txt"),
                      ("civic", data_dir / "evidence" / "civic_01-Aug-2024-ClinicalEvidenceSummaries.tsv")):
        assert f"sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}" in prov[key], (key, prov[key])
    assert prov["civic"].startswith("CIViC 2024-08-01")


def test_her2_scores_stay_in_range_across_the_whole_protein():
    """HER2 variants everywhere, also where no structure reaches (signal peptide, the
    juxtamembrane and the C-terminal tail): every score is a probability in [0, 1], every
    missense variant has an effect class, and a residue no structure covers says so in its
    mechanism rather than borrowing one."""
    import numpy as np

    seq = uniprot_record("P04626").sequence
    positions = [5, 310, 650, 700, 755, 798, 863, 1000, 1200, len(seq)]
    alts = "AWDKP"
    variants = [f"ERBB2:p.{seq[p - 1]}{p}{a}" for p in positions for a in alts if a != seq[p - 1]]
    s = summarize(impact_table(variants, damage=False))
    assert len(s) == len(variants)
    score = s.impact_score.to_numpy(dtype=float)
    assert np.isfinite(score).all() and (score >= 0).all() and (score <= 1).all()
    assert s.effect_class.astype(str).str.len().gt(0).all()
    pos = s.variant.astype(str).str.extract(r"p\.[A-Z](\d+)")[0].astype(int)
    outside = s[pos.isin([5, 1200, len(seq)])]
    n_out = sum(a != seq[p - 1] for p in (5, 1200, len(seq)) for a in alts)
    assert len(outside) == n_out
    assert (outside.impact_score < 0.5).all()  # nothing structural speaks for activation there
    from conftest import in_mirror

    model = catalog().find("AF-P04626")
    if model is None or not in_mirror(model):  # no experimental structure reaches them
        assert (outside.status == "not covered").all() and outside.nearest_pdb_id.isna().all()
        assert (outside.covered_by.fillna("") == "").all()
    else:  # only the AlphaFold model does
        assert outside.covered_by.astype(str).eq("AF-P04626").all()
