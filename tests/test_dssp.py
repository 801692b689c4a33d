"""structkit.analysis.dssp against mkdssp 4 (the reference program) and the p53 literature."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_

from structkit.analysis.dssp import assign, hbond_energies
from structkit.analysis.measure import _backbone, _minimal_pdb, _parse_dssp, secondary_structure
from structkit.catalog import catalog
from structkit.io.resolve import load


def _need_mkdssp():
    if shutil.which("mkdssp"):
        return
    if os.environ.get("CI"):
        pytest.fail("CI must install mkdssp (Debian package dssp): see .ci/run")
    pytest.skip("needs mkdssp")


def _mkdssp(st, idx, tmp_path) -> tuple[list, str]:
    """(the keys the residues were written under, mkdssp's output)."""
    inp, out = tmp_path / "in.pdb", tmp_path / "out.dssp"
    text, keys = _minimal_pdb(st, idx)
    inp.write_text(text)
    subprocess.run(["mkdssp", "--output-format", "dssp", str(inp), str(out)], check=True,
                   capture_output=True)
    return keys, out.read_text()


@functools.cache
def _p53_backbone():
    s = load("1TSR")
    ri = s.residues_of("B")
    bb = _backbone(s, ri)
    pro, chain = s.res_resname[ri] == "PRO", s.res_chain[ri]
    return bb, pro, chain, "".join(assign(bb, pro, chain))


def _protein(st):
    return np.flatnonzero((st.res_kind == "protein") & (st.res_model == 1))


@functools.cache
def _references():
    """mkdssp's assignments committed by scripts/dssp_references.py (letters only)."""
    import gzip
    import io
    import json

    import pandas as pd

    data = Path(__file__).parent / "data"
    meta = json.loads((data / "dssp_mkdssp.json").read_text())
    table = pd.read_csv(io.BytesIO(gzip.decompress((data / "dssp_mkdssp.tsv.gz").read_bytes())),
                        sep="\t", dtype={"chain": str, "icode": str, "ss": str},
                        keep_default_na=False)
    return meta, table


@pytest.mark.parametrize("sid", [s.id for s in catalog().structures])
def test_identical_to_mkdssp(sid, tmp_path):
    """Every residue of every protein chain of every catalog structure in the mirror, against
    mkdssp 4.2.2's assignment committed in tests/data (so the comparison runs without mkdssp),
    and against mkdssp itself where it is installed."""
    from structkit.io.fetch import NotAvailableOffline
    from structkit.io.files import sha256_file

    try:
        st = load(sid)
    except NotAvailableOffline:
        meta, _ = _references()
        assert sid not in meta["structures"]  # the reference was made without it too
        pytest.skip(f"{sid} is not available offline")
    idx = _protein(st)
    meta, table = _references()
    assert meta["structures"][sid]["sha256"] == sha256_file(st.path), "reference is stale"
    ref_rows = table[table.pdb_id == sid]
    assert len(ref_rows) == len(idx)
    assert (ref_rows.author_num.to_numpy() == st.res_num[idx]).all()
    ref = ref_rows.ss.to_numpy().astype(str)
    ours, method = secondary_structure(st, idx, method="structkit")
    assert method == "DSSP 8-state (structkit.analysis.dssp)"
    diff = np.flatnonzero(ours != ref)
    where = [f"{st.res_chain[idx[k]]}{st.res_num[idx[k]]} mkdssp {ref[k]} ours {ours[k]}"
             for k in diff[:5]]
    assert not len(diff), f"{sid}: {len(diff)} of {len(idx)} residues differ: {where}"
    assert {"H", "E", "T", "S"} <= set(ours)
    if shutil.which("mkdssp") or os.environ.get("CI"):
        _need_mkdssp()
        live = _parse_dssp(*_mkdssp(st, idx, tmp_path))
        assert (live == ref).all(), f"{sid}: installed mkdssp differs from the committed reference"


def test_hbond_energies_match_mkdssp(tmp_path):
    """The strongest N-H-->O bond of each residue: same partner and energy (0.1 kcal/mol)."""
    _need_mkdssp()
    st = load("1TSR")
    idx = st.residues_of("B")
    _, text = _mkdssp(st, idx, tmp_path)
    bb = _backbone(st, idx)
    donor, acc, e = hbond_energies(bb, st.res_resname[idx] == "PRO")
    lines = [ln for ln in text.split("  #  RESIDUE", 1)[1].splitlines()[1:] if ln[13] != "!"]
    assert len(lines) == len(idx)  # no gaps in 1TSR chain B: DSSP numbers = our indices
    checked = 0
    for k, ln in enumerate(lines):
        off, energy = ln[39:50].split(",")
        if float(energy) >= -0.5:
            continue
        mine = np.flatnonzero(donor == k)
        best = mine[np.argmin(e[mine])]
        assert acc[best] - k == int(off), f"residue {k}: partner"
        assert abs(e[best] - float(energy)) <= 0.051, f"residue {k}: {e[best]} vs {energy}"
        checked += 1
    assert checked > 80  # 98 residues of 194 have one


def test_p53_helices_and_strands():
    """Cho et al. 1994 (Science 265:346): H1 177-181 and H2 278-286 in the p53 core domain."""
    st = load("1TSR")
    ri = st.residues_of("B")
    ss, _ = secondary_structure(st, ri)
    by_num = dict(zip(st.res_num[ri].tolist(), ss.tolist(), strict=True))
    assert all(by_num[n] == "H" for n in range(278, 287))
    assert all(by_num[n] == "H" for n in range(177, 182))
    assert by_num[272] == "E" and by_num[273] == "E"  # strand S10 carries R273
    assert by_num[248] not in "HGIEB"  # R248 in loop L3 (a turn)


def test_edge_cases():
    st = load("1TSR")
    ri = st.residues_of("B")
    bb = _backbone(st, ri)
    pro = st.res_resname[ri] == "PRO"
    chain = st.res_chain[ri]
    assert len(assign(bb[:0], pro[:0], chain[:0])) == 0
    short = assign(bb[:3], pro[:3], chain[:3])
    assert list(short) == ["-", "-", "-"]
    # residues without a protein backbone (a DNA nucleotide here) are '?' and change nothing else
    dna = np.flatnonzero((st.res_kind != "protein") & (st.res_model == 1) & (st.res_chain == "E"))
    assert len(dna)
    mixed, _ = secondary_structure(st, np.r_[ri[:150], dna[:1], ri[150:]])
    full, _ = secondary_structure(st, ri)
    assert mixed[150] == "?"
    assert "".join(np.delete(mixed, 150)) == "".join(full)


def test_method_choice():
    st = load("2OCJ")
    ri = st.residues_of("A")
    ss3, m3 = secondary_structure(st, ri, method="pydssp")
    assert m3 == "pydssp 3-state (MDAnalysis)" and set(ss3) <= {"H", "E", "-", "?"}
    ss8, _ = secondary_structure(st, ri)
    # MDAnalysis's 3 states agree with ours on helices and strands
    both = np.isin(ss8, ["H", "E"])
    assert np.mean(ss3[both] == ss8[both]) > 0.8
    with pytest.raises(ValueError, match="DSSP method 'stride'"):
        secondary_structure(st, ri, method="stride")


def test_method_from_environment_and_fallback(monkeypatch):
    st = load("1TSR")
    ri = st.residues_of("B")
    ours, _ = secondary_structure(st, ri)
    monkeypatch.setenv("STRUCTKIT_DSSP", "pydssp")
    assert secondary_structure(st, ri)[1] == "pydssp 3-state (MDAnalysis)"
    monkeypatch.setenv("PATH", "/nonexistent")  # mkdssp asked for but not installed
    ss, method = secondary_structure(st, ri, method="mkdssp")
    assert method == "DSSP 8-state (structkit.analysis.dssp) (mkdssp not found)"
    assert list(ss) == list(ours)


@settings(max_examples=15, deadline=None)
@given(quat=st_.tuples(*[st_.floats(-1, 1, allow_nan=False)] * 4).filter(
    lambda q: sum(x * x for x in q) > 0.1),
    shift=st_.tuples(*[st_.floats(-500, 500, allow_nan=False)] * 3))
def test_rigid_motion_changes_nothing(quat, shift):
    """DSSP depends on distances and angles only: a rotated and shifted chain keeps its states."""
    from scipy.spatial.transform import Rotation

    bb, pro, chain, ref = _p53_backbone()
    moved = Rotation.from_quat(quat).apply(bb.reshape(-1, 3)).reshape(bb.shape) + np.array(shift)
    assert "".join(assign(moved, pro, chain)) == ref


def test_mkdssp_input_keeps_long_chain_names_apart(tmp_path):
    """mmCIF chain names longer than one character ('AA', 'AB' ...) used to be cut to the PDB
    column's one character, so that chains collided in mkdssp's input: now each chain gets its
    own one-character alias and residues are numbered in order, and 3KMD with its four chains
    renamed AA..AD gets from mkdssp exactly what the original names get."""
    import dataclasses

    _need_mkdssp()
    from structkit.analysis.measure import secondary_structure

    st = load("3KMD")
    idx = np.flatnonzero((st.res_kind == "protein") & (st.res_model == 1))
    names = {c: "A" + c for c in st.chains(kind="protein")}
    renamed = dataclasses.replace(
        st, chain=np.array([names.get(str(c), str(c)) for c in st.chain]),
        res_chain=np.array([names.get(str(c), str(c)) for c in st.res_chain]))
    text, keys = _minimal_pdb(renamed, idx)
    assert len({k for k in keys}) == len(idx)  # every residue its own (chain, number)
    assert len({k[0] for k in keys}) == len(names)
    original, m1 = secondary_structure(st, idx, method="mkdssp")
    long_names, m2 = secondary_structure(renamed, idx, method="mkdssp")
    assert m1 == m2 and "mkdssp" in m1 and "not found" not in m1 and "failed" not in m1
    assert (original == long_names).all() and (original != "?").mean() > 0.95
