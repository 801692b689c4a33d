"""Loading real entries: legacy columns, assemblies, gzip, cryo-EM, AlphaFold, altlocs, ions."""

from __future__ import annotations

import gzip

import gemmi
import numpy as np
import pytest
from conftest import af, entry

from structkit.io.resolve import load
from structkit.io.structure import StructureFormatError, read_structure


def test_legacy_1tsr_with_ids_in_columns_73_80():
    # gemmi alone refuses this file ("Wrong format for charge"); we read it
    with pytest.raises(RuntimeError):
        gemmi.read_structure(str(entry("1TSR")))
    st = read_structure(entry("1TSR"))
    assert st.id == "1TSR"
    assert st.chains(kind="protein") == ["B"]
    assert st.chains(kind="dna") == ["E", "F"]
    assert any("columns 73-80" in n for n in st.notes)
    # elements inferred from atom names: no atom lost its element
    assert set(np.unique(st.element)) <= {"C", "N", "O", "S", "P", "ZN"}
    # the zinc is filed under protein chain B (residue 1) but is an ion, not a residue of p53
    zn = np.flatnonzero(st.res_resname == "ZN")
    assert len(zn) == 1 and st.res_chain[zn[0]] == "B" and st.res_kind[zn[0]] == "ion"
    assert "ZN" not in {str(n) for n in st.res_resname[st.residues_of("B")]}
    # chain B observed 96-289 (SOURCES.tsv)
    nums = st.res_num[st.residues_of("B")]
    assert (nums.min(), nums.max()) == (96, 289)


def test_assembly_file_with_two_models():
    st = read_structure(entry("3KZ8", assembly=1))
    assert st.id == "3KZ8" and st.is_assembly and st.n_models == 2
    assert st.chains(model=1) == st.chains(model=2) == ["A", "B", "C"]
    # the second model is a symmetry copy: same atoms, moved
    m1, m2 = st.model == 1, st.model == 2
    assert m1.sum() == m2.sum()
    assert not np.allclose(st.coord[m1], st.coord[m2])
    assert st.chains(kind="dna") == ["C"]


def test_gzipped_2ocj():
    st = read_structure(entry("2OCJ"))
    assert st.id == "2OCJ" and st.resolution == pytest.approx(2.05)
    assert st.chains(kind="protein") == ["A", "B", "C", "D"]
    assert int((st.res_kind == "ion").sum()) == 4  # one zinc per DBD


def test_cryo_em_6oge():
    st = read_structure(entry("6OGE"))
    assert st.method == "ELECTRON MICROSCOPY" and st.resolution == pytest.approx(4.36)
    assert {r.chain: r.accession for r in st.refs if r.chain == "A"} == {"A": "P04626"}


def test_alphafold_model_exposes_plddt():
    st = read_structure(af("P04637"))
    assert st.id == "AF-P04637" and st.is_alphafold and st.bfactor_label == "pLDDT"
    assert len(st.residues_of("A")) == 393
    # SOURCES.tsv: pLDDT range 32.8-98.7
    assert st.b_factor.min() == pytest.approx(32.8, abs=0.05)
    assert st.b_factor.max() == pytest.approx(98.7, abs=0.05)


def test_alternate_locations_keep_one_conformer():
    text = (entry("3KZ8", assembly=1)).read_text()
    altloc_atoms = [ln for ln in text.splitlines()
                    if ln.startswith(("ATOM", "HETATM")) and ln[16] not in " "]
    assert altloc_atoms  # the file really has alternate locations
    st = read_structure(entry("3KZ8", assembly=1))
    assert any("alternate locations" in n for n in st.notes)
    # no atom appears twice within a residue
    for r in range(len(st.res_num)):
        names = st.atom_name[st.res_start[r]:st.res_stop[r]]
        assert len(set(names)) == len(names)


def test_waters_are_not_protein():
    st = read_structure(entry("3POZ"))
    assert "HOH" not in {str(n) for n in st.res_resname[st.res_kind == "protein"]}
    assert {str(n) for n in st.res_resname[st.res_kind == "additive"]} == {"SO4"}
    assert {str(n) for n in st.res_resname[st.res_kind == "ligand"]} == {"03P"}


def test_header_records():
    st = read_structure(entry("3W32"))
    tags = [(d.res_name, d.auth_seq, d.details) for d in st.seqdifs]
    assert tags == [("GLY", 693, "EXPRESSION TAG"), ("ALA", 694, "EXPRESSION TAG"),
                    ("MET", 695, "EXPRESSION TAG")]
    ref = st.refs_for("A")[0]
    assert (ref.accession, ref.auth_begin, ref.auth_end, ref.db_begin, ref.db_end) == (
        "P00533", 696, 1022, 696, 1022)


def test_mmcif_written_from_a_real_entry_reads_the_same(tmp_path):
    """The mmCIF path: gemmi writes 1N8Z as mmCIF; both files give the same atoms and DBREF."""
    pdb = read_structure(entry("1N8Z"))
    g = gemmi.read_structure(str(entry("1N8Z")))
    g.setup_entities()
    cif = tmp_path / "1n8z.cif.gz"
    cif.write_bytes(gzip.compress(g.make_mmcif_document().as_string().encode()))
    st = read_structure(cif)
    assert st.id == "1N8Z"
    def atoms(s):
        return {(c, n, i, a): tuple(x) for c, n, i, a, x in
                zip(s.chain, s.res_seq, s.icode, s.atom_name, s.coord.round(3), strict=True)}

    assert atoms(st) == atoms(pdb)
    assert st.sequence("C") == pdb.sequence("C")
    (ref,) = [r for r in st.refs if r.chain == "C"]
    assert (ref.accession, ref.auth_begin, ref.db_begin, ref.db_end) == ("P04626", 1, 23, 629)


def test_load_caches_per_process():
    a = load("1N8Z")
    assert load("1n8z") is a


def test_bad_coordinates_name_file_and_line(tmp_path):
    lines = (entry("3POZ")).read_text().splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("ATOM"))
    lines[k] = lines[k][:30] + "   abc.x" + lines[k][38:]
    bad = tmp_path / "broken.pdb"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(StructureFormatError, match=rf"broken.pdb: line {k + 1}: ATOM .*columns 31-54"):
        read_structure(bad)


def test_not_a_structure(tmp_path):
    p = tmp_path / "notes.pdb"
    p.write_text("hello\nworld\n")
    with pytest.raises(StructureFormatError, match="notes.pdb: no ATOM or HETATM records"):
        read_structure(p)
    with pytest.raises(FileNotFoundError, match="missing.pdb"):
        read_structure(tmp_path / "missing.pdb")


def test_atoms_of_follows_residue_order():
    st = load("1S78")
    ri = np.array([700, 3, 0, 5])
    atoms, owner = st.atoms_of(ri)
    assert (st.res_index[atoms] == ri[owner]).all()  # every atom belongs to its residue
    assert len(atoms) == int((st.res_stop[ri] - st.res_start[ri]).sum())
    assert (np.diff(owner) >= 0).all() and (np.diff(atoms)[np.diff(owner) == 0] == 1).all()
    assert [len(x) for x in st.atoms_of(np.array([], dtype=int))] == [0, 0]
