"""Sites computed from the complexes; facts from the literature and an independent calculation."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from Bio.PDB import NeighborSearch, PDBParser
from conftest import entry, uniprot_file

from structkit.analysis import analyze


def site_positions(sid, site, chain=None):
    t = analyze(sid).site_table()
    t = t[t.site == site]
    if chain:
        t = t[t.chain == chain]
    return set(t.uniprot_pos)


def runs(positions):
    """Loops: runs of site residues with gaps of at most 3 residues, as (first, last)."""
    out = []
    for p in sorted(positions):
        if out and p - out[-1][1] <= 4:
            out[-1][1] = p
        else:
            out.append([p, p])
    return [tuple(r) for r in out]


def test_trastuzumab_epitope_1n8z_three_loops():
    # Cho et al. 2003: mature 557-561, 570-573, 593-603 = UniProt 579-583, 592-595, 615-625
    pos = site_positions("1N8Z", "trastuzumab epitope", "C")
    assert runs(pos) == [(579, 583), (591, 595), (613, 626)]
    t = analyze("1N8Z").site_table()
    assert set(t.res_name) <= {"PRO", "GLU", "ASP", "GLN", "LYS", "PHE", "ILE", "ALA", "CYS"}
    assert not t.nearest_partner_atom.str.contains("HOH|SO4|NAG").any()


@pytest.mark.parametrize("sid,chain", [("1S78", "A"), ("1S78", "B"), ("6OGE", "A")])
def test_pertuzumab_epitope(sid, chain):
    # Franklin et al. 2004: mature H245, V286, S288, L295, H296, K311
    pos = site_positions(sid, "pertuzumab epitope", chain)
    assert {267, 308, 310, 317, 318, 333} <= pos


def test_each_1s78_copy_has_its_own_fab():
    t = analyze("1S78").site_table()
    ab = t[t.chain == "A"].nearest_partner_atom.str[:1]
    bb = t[t.chain == "B"].nearest_partner_atom.str[:1]
    assert set(ab) <= {"C", "D"} and set(bb) <= {"E", "F"}


def test_p53_dna_contacts_on_1tsr_chain_b():
    a = analyze("1TSR")
    site = next(s for s in a.sites if s.kind == "dna")
    pos = a.chains["B"].numbering.uniprot_pos
    d = dict(zip(pos.tolist(), site.dist["min_dist"].tolist(), strict=True))
    for p in (120, 241, 248, 273, 276, 277, 280, 283):  # contact residues
        assert d[p] <= 4.0, p
    for p in (175, 245, 249, 282, 220, 143):  # structural mutants
        assert d[p] > 5.0, p


@pytest.mark.parametrize("sid,chains", [("2OCJ", "ABD"), ("1TSR", "B"), ("3KMD", "ABCD")])
def test_zinc_ligands(sid, chains):
    import json

    feats = json.loads((uniprot_file("P04637", "json")).read_text())["features"]
    zn = {f["location"]["start"]["value"] for f in feats if f["type"] == "Binding site"
          and f.get("ligand", {}).get("name") == "Zn(2+)"}
    assert zn == {176, 179, 238, 242}  # UniProt's own annotation
    for ch in chains:
        assert site_positions(sid, "Zn site", ch) == zn


def test_3kz8_dna_contacts_from_both_models():
    a = analyze("3KZ8")
    assert a.structure.is_assembly
    for ch in ("A", "B"):
        site = next(s for s in a.chains[ch].sites if s.kind == "dna")
        models = set(a.structure.model[site.partner_atoms])
        assert models == {1, 2}
        assert {248, 273} <= set(a.chains[ch].numbering.uniprot_pos[site.in_site])


def test_egfr_3poz_tak285_pocket():
    a = analyze("3POZ")
    site = a.chains["A"].sites[0]
    pos = a.chains["A"].numbering.uniprot_pos
    d = dict(zip(pos.tolist(), site.dist["min_dist"].tolist(), strict=True))
    assert max(d[790], d[745], d[793]) <= 4.0
    assert d[797] == pytest.approx(4.6, abs=0.15)
    assert set(a.structure.res_name[site.partner_atoms]) == {"03P"}


@pytest.mark.parametrize("sid,lig", [("2JIV", "HKI"), ("4G5J", "0WN")])
def test_covalent_cys797(sid, lig):
    t = analyze(sid).site_table()
    cov = t[t.covalent_bond != ""]
    assert list(cov.uniprot_pos) == [797]
    bond = cov.covalent_bond.iloc[0]
    assert bond.startswith("CYS 797 SG - " + lig)
    assert float(bond.split()[-2]) == pytest.approx(1.8, abs=0.1)


def _biopython_min_dist(path, chain, resnum, partner):
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    s = PDBParser(QUIET=True).get_structure("x", io.StringIO(raw.decode("latin-1")))
    model = s[0]
    atoms = [a for a in model.get_atoms() if a.element != "H" and partner(a)]
    ns = NeighborSearch(atoms)
    res = model[chain][resnum]
    best = np.inf
    for a in res:
        if a.element == "H":
            continue
        for b in ns.search(a.coord, 8.0):
            best = min(best, a - b)
    return best


@pytest.mark.parametrize("sid,fname,chain,pos,author,partner", [
    ("3POZ", "3poz.pdb", "A", 797, 797, lambda a: a.get_parent().get_resname() == "03P"),
    ("1N8Z", "1n8z.pdb", "C", 593, 571, lambda a: a.get_parent().get_parent().id in "AB"),
    ("1TSR", "1tsr.pdb", "B", 248, 248, lambda a: a.get_parent().get_parent().id in "EF"),
    ("1M17", "1m17.pdb", "A", 790, 766, lambda a: a.get_parent().get_resname() == "AQ4"),
])
def test_distances_match_an_independent_biopython_calculation(sid, fname, chain, pos, author, partner):
    a = analyze(sid)
    cd = a.chains[chain]
    k = cd.pos_to_k[pos]
    assert a.structure.res_num[cd.numbering.residue_indices[k]] == author
    ours = cd.sites[0].dist["min_dist"][k]
    ref = _biopython_min_dist(entry(sid), chain, author, partner)
    assert ours == pytest.approx(ref, abs=1e-3)


def test_rsa_and_secondary_structure_are_sensible():
    a = analyze("2OCJ")
    cd = a.chains["A"]
    p2k = cd.pos_to_k
    # Y220, V143 and F134 are buried (RSA < 9 %, the Missense3D threshold); the DNA-contact
    # arginines R248 and R273 are exposed
    for p in (134, 143, 220):
        assert cd.rsa[p2k[p]] < 0.09, p
    for p in (248, 273):
        assert cd.rsa[p2k[p]] > 0.25, p
    # the H2 helix of the DBD (UniProt 278-286) is helical
    assert all(cd.ss[p2k[p]] == "H" for p in range(279, 286))


def test_sasa_agrees_with_biopython_shrake_rupley():
    from Bio.PDB.SASA import ShrakeRupley

    a = analyze("1TSR")
    cd = a.chains["B"]
    raw = entry("1TSR").read_text()
    # Biopython reads the legacy file; drop ions/hetero residues from chain B as we do
    s = PDBParser(QUIET=True).get_structure("x", io.StringIO(raw))
    ch = s[0]["B"]
    for r in [r for r in ch if r.id[0] != " "]:
        ch.detach_child(r.id)
    ShrakeRupley(probe_radius=1.4, n_points=100).compute(ch, level="R")
    bio = np.array([r.sasa for r in ch])
    assert len(bio) == len(cd.sasa)
    assert np.corrcoef(bio, cd.sasa)[0, 1] > 0.99
    assert np.median(np.abs(bio - cd.sasa)) < 3.0  # A^2 per residue
