"""``AtomSearch`` gives the neighbours ``scipy.spatial.cKDTree`` gives (same distances, same
indices, same shapes), on random atoms and on the atoms of a real structure."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from structkit.analysis import neighbours
from structkit.analysis.neighbours import AtomSearch


def _same(search: AtomSearch, tree: cKDTree, pts: np.ndarray, k: int, bound: float) -> None:
    d1, j1 = search.query(pts, k=k, distance_upper_bound=bound)
    d2, j2 = tree.query(pts, k=k, distance_upper_bound=bound)
    assert np.array_equal(d1, d2) and np.array_equal(j1, j2)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 400), m=st.integers(1, 12), k=st.sampled_from([1, 2, 8]),
       bound=st.sampled_from([0.5, 2.5, 6.0, np.inf]), seed=st.integers(0, 2**32 - 1))
def test_same_neighbours_as_a_kd_tree(n, m, k, bound, seed):
    rng = np.random.default_rng(seed)
    atoms = np.round(rng.uniform(0, 20, (n, 3)), 3)  # PDB precision: ties happen
    pts = np.round(rng.uniform(-2, 22, (m, 3)), 3)
    search, tree = AtomSearch(atoms), cKDTree(atoms)
    _same(search, tree, pts, k, bound)
    d1, j1 = search.query(pts[0])
    d2, j2 = tree.query(pts[0])
    assert (d1, j1) == (d2, j2) and isinstance(j1, int)
    for r in (0.0, 1.0, 4.0):
        assert search.query_ball_point(pts[0], r) == sorted(tree.query_ball_point(pts[0], r))


def test_same_neighbours_on_a_real_structure_and_on_the_tree_path(data_dir, monkeypatch):
    from structkit.io.structure import read_structure

    st_ = read_structure(data_dir / "pdb" / "1tsr.pdb")
    atoms = st_.coord[st_.kind == "protein"]
    rng = np.random.default_rng(7)
    pts = atoms[rng.choice(len(atoms), 30, replace=False)] + rng.normal(0, 1.5, (30, 3))
    search, tree = AtomSearch(atoms), cKDTree(atoms)
    _same(search, tree, pts, 8, 2.5)  # the clash query of the damage step
    _same(search, tree, pts, 1, np.inf)
    monkeypatch.setattr(neighbours, "BRUTE_FORCE_PAIRS", 0)  # many points: the KD-tree path
    _same(AtomSearch(atoms), tree, pts, 8, 2.5)


def test_blosum62_read_from_biopythons_file_is_biopythons():
    from Bio.Align import substitution_matrices

    from structkit.judge.verdict import _blosum

    ref, ours = substitution_matrices.load("BLOSUM62"), _blosum()
    assert sorted(ours) == sorted(ref.alphabet)
    assert all(ours[a][b] == ref[a][b] for a in ref.alphabet for b in ref.alphabet)
    assert ours["W"]["W"] == 11 and ours["R"]["K"] == 2  # Henikoff & Henikoff 1992
