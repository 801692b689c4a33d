"""UniProt <-> author numbering on real entries (values from SOURCES.tsv and the literature)."""

from __future__ import annotations

import pytest
from conftest import uniprot_file

import structkit as sk
from structkit.analysis.numbering import number_structure
from structkit.io.uniprot import read_uniprot, uniprot_record


@pytest.fixture(scope="module")
def seqs():
    return {g: uniprot_record(a).sequence for g, a in
            (("HER2", "P04626"), ("P53", "P04637"), ("EGFR", "P00533"))}


def one(lookups, chain):
    (hit,) = [x for x in lookups if x.chain == chain]
    return hit


def test_uniprot_sequences():
    # lengths from SOURCES.tsv; the 2004 flat file and current JSON agree (same CRC64 there)
    assert len(uniprot_record("P04626").sequence) == 1255
    assert len(uniprot_record("P00533").sequence) == 1210
    txt = read_uniprot(uniprot_file("P04637", "txt"))
    js = read_uniprot(uniprot_file("P04637", "json"))
    assert txt.sequence == js.sequence and len(txt.sequence) == 393
    assert txt.gene == "TP53" and js.gene == "TP53"


def test_biopython_rejects_the_2004_flat_file_we_read():
    from Bio import SwissProt

    with open(uniprot_file("P04637", "txt")) as fh, pytest.raises(ValueError):
        SwissProt.read(fh)


def test_her2_ecd_mature_vs_uniprot_numbering():
    hit = one(sk.residue_for("1N8Z", "HER2", 579), "C")
    assert (hit.status, hit.author_num, hit.res_name, hit.method) == ("mapped", 557, "PRO", "DBREF")
    for ch in ("A", "B"):
        h = one(sk.residue_for("1S78", "ERBB2", 267), ch)
        assert (h.author_num, h.res_name) == (245, "HIS")
    h = one(sk.residue_for("6OGE", "P04626", 579), "A")
    assert (h.author_num, h.res_name) == (579, "PRO")


def test_1n8z_and_6oge_agree_on_every_shared_residue(seqs):
    a = number_structure(sk.load("1N8Z"), "P04626", seqs["HER2"], ["C"])["C"]
    b = number_structure(sk.load("6OGE"), "P04626", seqs["HER2"], ["A"])["A"]
    shared = 0
    for pos in range(23, 645):
        x, y = a.lookup(pos), b.lookup(pos)
        if x.status == y.status == "mapped":
            shared += 1
            assert x.res_name == y.res_name, pos
            assert x.author_num == pos - 22 and y.author_num == pos
    assert shared > 500


@pytest.mark.parametrize("entry,chains", [
    ("1TSR", ["B"]), ("2OCJ", ["A", "B", "C", "D"]), ("3KZ8", ["A", "B"]), ("AF-P04637", ["A"])])
def test_p53_hotspots_land_on_their_residues(entry, chains):
    expected = {248: "ARG", 273: "ARG", 175: "ARG", 245: "GLY", 249: "ARG", 220: "TYR"}
    for pos, name in expected.items():
        hits = sk.residue_for(entry, "TP53", pos)
        assert sorted(h.chain for h in hits) == chains
        for h in hits:
            assert (h.status, h.res_name, h.author_num, h.matches_uniprot) == ("mapped", name, pos, True)


def test_egfr_numbering_found_by_dbref_or_alignment(seqs):
    h = one(sk.residue_for("3POZ", "EGFR", 790), "A")
    assert (h.res_name, h.author_num, h.method) == ("THR", 790, "DBREF")
    for entry in ("1XKK", "2ITY", "4G5J", "2JIV"):
        n = number_structure(sk.load(entry), "P00533", seqs["EGFR"])["A"]
        assert n.method.startswith("alignment") and n.offset == 0, entry
    for entry in ("1M17", "4HJO"):
        n = number_structure(sk.load(entry), "P00533", seqs["EGFR"])["A"]
        assert n.offset == 24, entry  # mature numbering
        h = n.lookup(790)
        assert (h.author_num, h.res_name) == (766, "THR")
    h = number_structure(sk.load("2JIV"), "P00533", seqs["EGFR"])["A"].lookup(790)
    assert (h.res_name, h.matches_uniprot) == ("MET", False)  # the crystallised T790M
    assert "no SEQADV" in h.difference


def test_family_alignment_her2_to_egfr(seqs):
    fm = sk.family_map(seqs["HER2"], seqs["EGFR"])
    pairs = {753: 745, 755: 747, 777: 769, 798: 790, 805: 797, 863: 855, 869: 861}
    assert {k: fm[k] for k in pairs} == pairs
    for h, e in pairs.items():
        assert seqs["HER2"][h - 1] == seqs["EGFR"][e - 1]


def test_unobserved_segments_of_1n8z_are_not_mapped_to_neighbours(seqs):
    n = number_structure(sk.load("1N8Z"), "P04626", seqs["HER2"], ["C"])["C"]
    for lo, hi in ((102, 110), (303, 305), (361, 364), (581, 590)):  # mature numbering
        for mature in range(lo, hi + 1):
            assert n.lookup(mature + 22).status == "unobserved", mature
        assert n.lookup(lo - 1 + 22).status == "mapped"
        assert n.lookup(hi + 1 + 22).status == "mapped"
    assert n.lookup(10).status == "not covered"  # signal peptide, outside the construct
    assert n.lookup(800).status == "not covered"


def test_author_to_uniprot_and_back(seqs):
    n = number_structure(sk.load("1M17"), "P00533", seqs["EGFR"])["A"]
    assert n.position_of(766) == 790
    assert n.lookup(n.position_of(721)).author_num == 721


def test_chain_that_is_not_the_target(seqs):
    with pytest.raises(ValueError, match="1N8Z chain A: not P04626"):
        number_structure(sk.load("1N8Z"), "P04626", seqs["HER2"], ["A"])
    with pytest.raises(ValueError, match="no protein residues"):
        number_structure(sk.load("1TSR"), "P04637", seqs["P53"], ["E"])


def test_insertion_codes_in_a_target_chain(tmp_path, data_dir):
    """A target chain numbered with an insertion code: 1TSR chain B renumbered (in a
    temporary copy) so that R249 is author 248A and every later residue one lower. UniProt 248
    and 249 land on author 248 and 248A, 250 on author 249; the residue names are the real
    ones, and the table and the numbering agree."""
    lines = []
    for ln in (data_dir / "pdb" / "1tsr.pdb").read_text().splitlines():
        if ln.startswith(("ATOM  ", "HETATM", "ANISOU", "TER   ")) and len(ln) > 26 and ln[21] == "B":
            num = int(ln[22:26])
            if num == 249:
                ln = ln[:22] + f"{248:4d}A" + ln[27:]
            elif num > 249:
                ln = ln[:22] + f"{num - 1:4d}" + ln[26:]
        lines.append(ln)
    path = tmp_path / "p53_icode.pdb"
    path.write_text("\n".join(lines) + "\n")
    st = sk.load(path)
    num = number_structure(st, "P04637", uniprot_record("P04637").sequence, ["B"])["B"]
    got = {p: num.lookup(p) for p in (247, 248, 249, 250)}
    assert [(r.author_num, r.icode, r.res_name) for r in got.values()] == [
        (247, "", "ASN"), (248, "", "ARG"), (248, "A", "ARG"), (249, "", "PRO")]
    assert all(r.status == "mapped" and r.matches_uniprot for r in got.values())
    t = sk.impact_table(["TP53:p.R248Q", "TP53:p.R249S", "TP53:p.P250L"],
                        structures=[(st, "P04637")], damage=False)
    rows = t[t.chain == "B"].drop_duplicates("variant").set_index("variant")
    assert rows.loc["p.R249S", ["author_num", "icode", "res_name", "status"]].tolist() == [
        248, "A", "ARG", "mapped"]
    assert rows.loc["p.R248Q", "icode"] == "" and rows.loc["p.P250L", "author_num"] == 249
