"""Per-residue measurements: solvent accessibility, secondary structure, B-factor/pLDDT, distances.

- SASA: Shrake-Rupley (biotite's compiled implementation), probe 1.4 A, 100 points per atom,
  Bondi radii by element
  (C 1.70, N 1.55, O 1.52, S 1.80 A; others 1.80 A), computed on the target chain alone (the
  monomer, as Missense3D does), heavy atoms only.
- RSA: residue SASA / maximum ASA of the residue type, table ``TIEN2013_THEORETICAL``
  (Tien et al. 2013, PLoS ONE 8:e80635, theoretical values, A^2).
- Secondary structure: DSSP's 8 states plus polyproline (H G I E B T S P, '-' none) from
  ``structkit.analysis.dssp``, our numpy implementation of mkdssp 4's rules (identical to mkdssp 4.2 on
  every structure of the catalog, ~100x faster). ``$STRUCTKIT_DSSP`` or ``method=`` selects
  ``mkdssp`` (the external program) or ``pydssp`` (MDAnalysis's numpy port, 3 states H E -)
  instead; the method is always reported.
- Distances: minimum heavy-atom distance from a residue to a set of partner atoms (all atoms;
  side chain beyond CB; CA), with the nearest partner atom and the count of partner atoms within
  a cut-off.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np

from ..io.derived import cached, entry_key
from ..io.structure import Structure

__all__ = [
    "TIEN2013_THEORETICAL",
    "BONDI_RADII",
    "shrake_rupley",
    "residue_sasa",
    "relative_sasa",
    "secondary_structure",
    "residue_bfactor",
    "residue_distances",
]

TIEN2013_THEORETICAL = {
    "A": 129.0, "R": 274.0, "N": 195.0, "D": 193.0, "C": 167.0, "E": 223.0, "Q": 225.0,
    "G": 104.0, "H": 224.0, "I": 197.0, "L": 201.0, "K": 236.0, "M": 224.0, "F": 240.0,
    "P": 159.0, "S": 155.0, "T": 172.0, "W": 285.0, "Y": 263.0, "V": 174.0,
}
BONDI_RADII = {"C": 1.70, "N": 1.55, "O": 1.52, "S": 1.80, "SE": 1.90, "H": 1.10}
_DEFAULT_RADIUS = 1.80
BACKBONE = frozenset({"N", "CA", "C", "O", "OXT"})
PEPTIDE_BOND_MAX_A = 2.0  # C(i-1)-N(i) at most this: a peptide bond (for dihedrals and segments)


def shrake_rupley(coord: np.ndarray, element: np.ndarray, probe: float = 1.4,
                  n_points: int = 100) -> np.ndarray:
    """Solvent-accessible surface area per atom (A^2), Shrake-Rupley, Bondi radii by element.

    Uses biotite's compiled Shrake-Rupley (``biotite.structure.sasa``, Fibonacci points) with
    the radii of ``BONDI_RADII`` so the numbers do not depend on biotite's default radius set.
    """
    import biotite.structure as bs

    coord = np.asarray(coord, dtype=np.float32)
    n = len(coord)
    if n == 0:
        return np.zeros(0)
    arr = bs.AtomArray(n)
    arr.coord = coord
    arr.element = np.asarray(element, dtype="U2")
    arr.hetero = np.zeros(n, dtype=bool)
    radii = np.array([BONDI_RADII.get(str(e).upper(), _DEFAULT_RADIUS) for e in element])
    reach = 2 * (float(radii.max()) + probe)  # atoms further apart never occlude each other
    if _cells(coord, reach) <= CLUSTER_ABOVE_CELLS:
        out = bs.sasa(arr, probe_radius=probe, point_number=n_points, vdw_radii=radii,
                      ignore_ions=False)
        return np.nan_to_num(np.asarray(out, dtype=np.float64))
    # biotite's cell list is sized by the bounding box: atoms spread over a huge box (legal PDB
    # coordinates span 10^4 A) would need gigabytes. Atoms further apart than ``reach`` do not
    # interact, so each cluster of atoms within reach of one another is computed on its own.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    pairs = cKDTree(coord).query_pairs(reach, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    result = np.zeros(n)
    for c in np.unique(label):
        idx = np.flatnonzero(label == c)
        if _cells(coord[idx], reach) > MAX_SASA_CELLS:
            raise ValueError(f"{len(idx)} atoms within reach of one another span "
                             f"{np.ptp(coord[idx], axis=0).max():.0f} A: not a molecular structure")
        sub = bs.AtomArray(len(idx))
        sub.coord, sub.element, sub.hetero = coord[idx], arr.element[idx], arr.hetero[idx]
        part = bs.sasa(sub, probe_radius=probe, point_number=n_points, vdw_radii=radii[idx],
                       ignore_ions=False)
        result[idx] = np.nan_to_num(np.asarray(part, dtype=np.float64))
    return result


def cached_shrake_rupley(coord: np.ndarray, element: np.ndarray, probe: float = 1.4,
                         n_points: int = 100, cache_dir: str | os.PathLike | None = None
                         ) -> np.ndarray:
    """``shrake_rupley`` kept on disk by content (the same atoms give the same areas)."""
    if cache_dir is None:
        return shrake_rupley(coord, element, probe, n_points)
    import hashlib

    xyz = np.ascontiguousarray(coord, dtype=np.float32)
    el = np.ascontiguousarray(element, dtype="U2")
    digest = hashlib.sha256(xyz.tobytes() + b"\0" + el.tobytes()).hexdigest()
    key = entry_key("sasa", digest, len(xyz), probe, n_points)
    d = cached(cache_dir, "sasa", key,
               lambda: {"sasa": shrake_rupley(coord, element, probe, n_points)},
               lambda d: d["sasa"].shape == (len(xyz),) and bool(np.isfinite(d["sasa"]).all())
               and bool((d["sasa"] >= 0).all()))
    return d["sasa"]


CLUSTER_ABOVE_CELLS = 20_000_000  # cells of biotite's cell list (8 bytes each, 160 MB): above, per cluster
MAX_SASA_CELLS = 100_000_000  # one cluster needing more (800 MB) is not a molecule: an error


def _cells(coord: np.ndarray, cell: float) -> float:
    """Cells of a cell list of size ``cell`` A over the bounding box of ``coord``."""
    extent = np.ptp(coord, axis=0) / cell + 1
    return float(np.prod(extent))


def residue_sasa(st: Structure, res_idx: np.ndarray, context: np.ndarray | None = None,
                 probe: float = 1.4, n_points: int = 100,
                 cache_dir: str | os.PathLike | None = None) -> np.ndarray:
    """SASA (A^2) of residues ``res_idx``, computed among the atoms of ``context`` residues
    (default: the residues themselves, i.e. the chain alone). With ``cache_dir`` the per-atom
    areas are kept under ``<cache_dir>/derived/sasa/``, keyed by the SHA-256 of the atoms'
    coordinates and elements, the probe and the point count (``structkit.io.derived``)."""
    atoms, _ = st.atoms_of(res_idx if context is None else context)
    per_atom = cached_shrake_rupley(st.coord[atoms], st.element[atoms], probe, n_points, cache_dir)
    atom_res = st.res_index[atoms]
    total = np.bincount(atom_res, weights=per_atom, minlength=len(st.res_num))
    return total[res_idx]


def relative_sasa(st: Structure, res_idx: np.ndarray, sasa: np.ndarray) -> np.ndarray:
    """RSA (fraction, may exceed 1 slightly) from SASA with the Tien 2013 theoretical table."""
    from ..io.structure import one_letter

    maxasa = np.array([TIEN2013_THEORETICAL.get(one_letter(str(n)), np.nan)
                       for n in st.res_resname[res_idx]])
    return sasa / maxasa


def _backbone(st: Structure, res_idx: np.ndarray) -> np.ndarray:
    """(n_res, 4, 3) N, CA, C, O coordinates; NaN where an atom is missing."""
    out = np.full((len(res_idx), 4, 3), np.nan)
    atoms, k_of_atom = st.atoms_of(res_idx)
    names = st.atom_name[atoms]
    for j, nm in enumerate(("N", "CA", "C", "O")):
        hit = np.flatnonzero(names == nm)[::-1]  # reversed: the first atom of a name wins
        out[k_of_atom[hit], j] = st.coord[atoms[hit]]
    return out


DSSP_METHODS = {"structkit": "DSSP 8-state (structkit.analysis.dssp)", "mkdssp": "mkdssp 8-state",
                "pydssp": "pydssp 3-state (MDAnalysis)"}


def secondary_structure(st: Structure, res_idx: np.ndarray,
                        method: str | None = None) -> tuple[np.ndarray, str]:
    """Secondary structure per residue of ``res_idx`` and the method used.

    ``method``: ``'structkit'`` (default; ``structkit.analysis.dssp``, DSSP 8 states + P),
    ``'mkdssp'`` (external program; falls back to structkit's if it is missing or fails, and
    says so) or ``'pydssp'`` (MDAnalysis, 3 states H E -); default from ``$STRUCTKIT_DSSP``.
    '?' where backbone atoms are missing. Residues are assigned together, so H-bonds and
    sheets between the given chains count.
    """
    method = (method or os.environ.get("STRUCTKIT_DSSP") or "structkit").lower()
    if method not in DSSP_METHODS:
        raise ValueError(f"DSSP method {method!r}: expected one of {', '.join(DSSP_METHODS)}")
    if method == "pydssp":
        return _pydssp(st, res_idx), DSSP_METHODS["pydssp"]
    if method == "mkdssp" and len(res_idx):
        try:
            return _mkdssp(st, res_idx), DSSP_METHODS["mkdssp"]
        except FileNotFoundError:
            note = " (mkdssp not found)"
        except (OSError, RuntimeError, subprocess.SubprocessError, IndexError, ValueError) as exc:
            note = f" (mkdssp failed: {str(exc)[:80]})"
        return _structkit_dssp(st, res_idx), DSSP_METHODS["structkit"] + note
    return _structkit_dssp(st, res_idx), DSSP_METHODS["structkit"]


def _mkdssp(st: Structure, res_idx: np.ndarray) -> np.ndarray:
    """Run the external mkdssp on the residues; raises if it is missing or fails."""
    import shutil
    import tempfile

    if shutil.which("mkdssp") is None:
        raise FileNotFoundError("mkdssp")
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.pdb", Path(tmp) / "out.dssp"
        text, keys = _minimal_pdb(st, res_idx)
        inp.write_text(text)
        run = subprocess.run(["mkdssp", "--output-format", "dssp", str(inp), str(out)],
                             capture_output=True, text=True, timeout=300)
        if run.returncode != 0 or not out.is_file():
            raise RuntimeError(run.stderr.strip()[:80] or f"exit {run.returncode}")
        return _parse_dssp(keys, out.read_text())


def _unassigned(st: Structure, res_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """('?' per residue, backbone coordinates, which residues have a complete backbone)."""
    bb = _backbone(st, res_idx)
    return np.full(len(res_idx), "?", dtype="U1"), bb, ~np.isnan(bb).any(axis=(1, 2))


def _structkit_dssp(st: Structure, res_idx: np.ndarray) -> np.ndarray:
    from .dssp import assign

    out, bb, ok = _unassigned(st, res_idx)
    if ok.any():
        out[ok] = assign(bb[ok], st.res_resname[res_idx][ok] == "PRO", st.res_chain[res_idx][ok])
    return out


PDB_CHAIN_ALIASES = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _minimal_pdb(st: Structure, res_idx: np.ndarray) -> tuple[str, list[tuple[str, int]]]:
    """ATOM records of the residues (what mkdssp needs), with a HEADER and a CRYST1, and the
    (chain, number) under which each residue is written. PDB columns hold one chain character
    and four digits: each chain gets a one-character alias and residues are numbered 1, 2, ...
    in order, so that long mmCIF chain names ('AA', 'AB'), insertion codes and numbers past
    9999 never collide (more than 62 chains is a ``ValueError``: mkdssp is then not used)."""
    lines = ["HEADER    STRUCTKIT                               01-JAN-00   XXXX              ",
             "CRYST1    1.000    1.000    1.000  90.00  90.00  90.00 P 1           1          "]
    alias: dict[str, str] = {}
    count: dict[str, int] = {}
    keys: list[tuple[str, int]] = []
    serial = 0
    for r in res_idx:
        ch = str(st.res_chain[r])
        if ch not in alias:
            if len(alias) == len(PDB_CHAIN_ALIASES):
                raise ValueError(f"more than {len(PDB_CHAIN_ALIASES)} chains for one PDB file")
            alias[ch] = PDB_CHAIN_ALIASES[len(alias)]
        c = alias[ch]
        count[c] = number = count.get(c, 0) + 1
        keys.append((c, number))
        for a in range(st.res_start[r], st.res_stop[r]):
            serial += 1
            name = st.atom_name[a]
            name = f" {name:<3}" if len(name) < 4 else name
            x, y, z = st.coord[a]
            lines.append(f"ATOM  {serial % 100000:5d} {name} {st.res_name[a]:>3} {c}"
                         f"{number:4d}    {x:8.3f}{y:8.3f}{z:8.3f}"
                         f"{st.occupancy[a]:6.2f}{st.b_factor[a]:6.2f}          {st.element[a]:>2}")
    lines.append("END")
    return "\n".join(lines) + "\n", keys


def _parse_dssp(keys: list[tuple[str, int]], text: str) -> np.ndarray:
    """The DSSP letter of each residue written as ``keys`` ('?' where mkdssp gives none)."""
    ss: dict[tuple[str, int], str] = {}
    body = text.split("  #  RESIDUE", 1)[1].splitlines()[1:]
    for line in body:
        if len(line) < 17 or line[13] == "!":
            continue
        ss[(line[11], int(line[5:10]))] = line[16] if line[16] != " " else "-"
    return np.array([ss.get(k, "?") for k in keys], dtype="U1")


def _pydssp(st: Structure, res_idx: np.ndarray) -> np.ndarray:
    from MDAnalysis.analysis.dssp.pydssp_numpy import assign

    out, bb, complete = _unassigned(st, res_idx)
    # segments of consecutive residues with complete backbones and peptide bonds (C-N <= 2.0 A)
    seg: list[int] = []
    segments: list[list[int]] = []
    for k in range(len(res_idx)):
        if not complete[k]:
            if seg:
                segments.append(seg)
            seg = []
            continue
        if seg and np.linalg.norm(bb[seg[-1]][2] - bb[k][0]) > PEPTIDE_BOND_MAX_A:
            segments.append(seg)
            seg = []
        seg.append(k)
    if seg:
        segments.append(seg)
    for s in segments:
        if len(s) < 3:
            out[s] = "-"
            continue
        onehot = assign(bb[s].astype(np.float32))
        out[s] = np.array(["-", "H", "E"])[np.argmax(onehot, axis=1)]
    return out


def residue_bfactor(st: Structure, res_idx: np.ndarray) -> np.ndarray:
    """CA B-factor per residue (pLDDT for AlphaFold models); residue mean if no CA."""
    atoms, owner = st.atoms_of(res_idx)
    n = len(res_idx)
    count = np.bincount(owner, minlength=n)
    with np.errstate(invalid="ignore"):
        out = np.bincount(owner, weights=st.b_factor[atoms], minlength=n) / count
    ca = np.flatnonzero(st.atom_name[atoms] == "CA")[::-1]  # reversed: the first CA wins
    out[owner[ca]] = st.b_factor[atoms[ca]]
    return out


def residue_distances(st: Structure, res_idx: np.ndarray, partner_atoms: np.ndarray,
                      cutoff: float) -> dict[str, np.ndarray]:
    """Distances from each residue in ``res_idx`` to the partner atoms (indices into ``st``).

    Returns arrays (one value per residue): ``min_dist`` (any heavy atom, A), ``sc_dist``
    (side-chain atoms beyond CB; NaN for Gly and Ala), ``ca_dist``, ``n_contacts`` (partner
    atoms within ``cutoff`` of any residue atom), ``nearest_atom`` (partner atom index),
    ``residue_atom`` (the residue's atom index at the minimum).
    """
    n = len(res_idx)
    out = {k: np.full(n, np.nan) for k in ("min_dist", "sc_dist", "ca_dist")}
    out["n_contacts"] = np.zeros(n, dtype=np.int64)
    out["nearest_atom"] = np.full(n, -1, dtype=np.int64)
    out["residue_atom"] = np.full(n, -1, dtype=np.int64)
    if not len(partner_atoms) or not n:
        return out
    from scipy.spatial import cKDTree  # computing distances (kept on disk by the analysis)

    tree = cKDTree(st.coord[partner_atoms])
    atoms, owner = st.atoms_of(res_idx)
    d, j = tree.query(st.coord[atoms], k=1)
    names = st.atom_name[atoms]
    is_sc = ~np.isin(names, list(BACKBONE) + ["CB"])
    is_ca = names == "CA"
    order = np.lexsort((d, owner))  # by residue, then distance
    first = np.r_[0, np.flatnonzero(np.diff(owner[order])) + 1]
    best = order[first]
    res_of_best = owner[best]
    out["min_dist"][res_of_best] = d[best]
    out["nearest_atom"][res_of_best] = partner_atoms[j[best]]
    out["residue_atom"][res_of_best] = atoms[best]
    sc = np.full(n, np.inf)
    np.minimum.at(sc, owner[is_sc], d[is_sc])
    out["sc_dist"] = np.where(np.isfinite(sc), sc, np.nan)
    out["ca_dist"][owner[is_ca]] = d[is_ca]
    close = d <= cutoff
    if close.any():
        lists = tree.query_ball_point(st.coord[atoms[close]], cutoff)
        per_res: dict[int, set] = {}
        for o, lst in zip(owner[close], lists, strict=True):
            per_res.setdefault(int(o), set()).update(lst)
        for o, s in per_res.items():
            out["n_contacts"][o] = len(s)
    return out
