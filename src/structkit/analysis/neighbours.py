"""Nearest atoms without loading SciPy for a handful of queries.

``AtomSearch`` answers the two questions the per-variant steps ask of a set of atoms (the k
nearest within a bound; all within a radius) with the same conventions as
``scipy.spatial.cKDTree``: distances in Angstrom, missing neighbours as ``inf`` with index
``n``. A few query points (up to ``BRUTE_FORCE_PAIRS`` point-atom pairs, e.g. one variant's
side chain against a chain's atoms) are answered by NumPy directly; more (a saturation table)
go to a KD-tree built on first need. A warm one-off command then never imports
``scipy.spatial`` (about 0.2 s of a fresh process, ``benchmarks/bench_first_answer.py``).

Both paths give the same neighbours; among atoms at exactly the same distance the brute force
lists the lower index first (the KD-tree's order among ties is unspecified), and
``query_ball_point`` returns indices in ascending order.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AtomSearch", "BRUTE_FORCE_PAIRS"]

BRUTE_FORCE_PAIRS = 2_000_000  # query points x atoms answered without a tree (16 MB of floats)


class AtomSearch:
    """Neighbour queries over ``coords`` (n x 3, Angstrom); ``tree``: a ``cKDTree`` of the same
    coordinates when one is at hand already."""

    def __init__(self, coords: np.ndarray, tree=None) -> None:
        self.coords = np.asarray(coords, dtype=np.float64).reshape(-1, 3)
        self.n = len(self.coords)
        self._tree = tree
        self._by_x: np.ndarray | None = None  # atom indices in x order, for slab searches
        self._xs: np.ndarray | None = None

    def __len__(self) -> int:
        return self.n

    def _kdtree(self):
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self.coords)
        return self._tree

    def _distances(self, x: np.ndarray, atoms: np.ndarray | None = None) -> np.ndarray:
        """Euclidean distances (points x atoms), summed in the order cKDTree sums them."""
        c = self.coords if atoms is None else self.coords[atoms]
        diff = x[:, None, :] - c[None, :, :]
        return np.sqrt((diff * diff).sum(axis=-1))

    def _slab(self, x0: float, half: float) -> np.ndarray:
        """Indices of the atoms with |x - x0| <= ``half`` (binary search in x order)."""
        if self._by_x is None:
            self._by_x = np.argsort(self.coords[:, 0], kind="stable")
            self._xs = self.coords[self._by_x, 0]
        lo = int(np.searchsorted(self._xs, x0 - half, side="left"))
        hi = int(np.searchsorted(self._xs, x0 + half, side="right"))
        return self._by_x[lo:hi]

    def query(self, x, k: int = 1, distance_upper_bound: float = np.inf):
        """The ``k`` nearest atoms of each point of ``x`` within ``distance_upper_bound``:
        (distances, indices) shaped as ``cKDTree.query`` shapes them (a scalar pair for one
        point and k=1; an (m, k) pair for k > 1)."""
        pts = np.asarray(x, dtype=np.float64)
        single = pts.ndim == 1
        pts = pts.reshape(-1, 3)
        if len(pts) * self.n > BRUTE_FORCE_PAIRS:
            return self._kdtree().query(x, k=k, distance_upper_bound=distance_upper_bound)
        m, kk = len(pts), min(k, self.n)
        d = np.full((m, k), np.inf)
        j = np.full((m, k), self.n, dtype=np.intp)
        if kk and np.isfinite(distance_upper_bound):
            for row, pt in enumerate(pts):  # only atoms in the slab |x - x0| <= bound
                cand = self._slab(pt[0], distance_upper_bound)
                dist = self._distances(pt[None, :], cand)[0]
                keep = dist <= distance_upper_bound
                cand, dist = cand[keep], dist[keep]
                order = np.lexsort((cand, dist))[:kk]  # by distance, then atom index
                d[row, :len(order)], j[row, :len(order)] = dist[order], cand[order]
        elif kk:
            dist = self._distances(pts)
            near = (np.argpartition(dist, kk - 1, axis=1)[:, :kk] if kk < self.n
                    else np.broadcast_to(np.arange(self.n), (m, self.n)))
            dk = np.take_along_axis(dist, near, axis=1)
            order = np.lexsort((near, dk), axis=1)  # by distance, then atom index
            d[:, :kk] = np.take_along_axis(dk, order, axis=1)
            j[:, :kk] = np.take_along_axis(near, order, axis=1)
        if k == 1:
            d, j = d[:, 0], j[:, 0]
            return (float(d[0]), int(j[0])) if single else (d, j)
        return (d[0], j[0]) if single else (d, j)

    def query_ball_point(self, x, r: float) -> list[int]:
        """Indices (ascending) of the atoms within ``r`` Angstrom of the single point ``x``."""
        pt = np.asarray(x, dtype=np.float64).reshape(1, 3)
        if self.n == 0:
            return []
        cand = self._slab(float(pt[0, 0]), r)
        return np.sort(cand[self._distances(pt, cand)[0] <= r]).tolist()
