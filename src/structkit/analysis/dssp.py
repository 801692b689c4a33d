"""DSSP secondary structure in numpy: the rules of mkdssp 4, eight states plus polyproline.

Kabsch & Sander (1983, Biopolymers 22:2577) with the choices mkdssp 4 (PDB-REDO) makes where
the paper leaves room, vectorised so that the table does not wait ~1 ms per residue on an
external program:

- Residues with a complete backbone (N, CA, C, O), in the given order; a chain break where the
  chain changes or C(i-1)-N(i) > 2.5 A.
- Amide H placed 1.0 A from N along C=O of the previous residue in the list (none for Pro, and
  H = N for the first residue), as mkdssp does.
- Electrostatic H-bond energy E = 0.084 * 332 * (1/rON + 1/rCH - 1/rOH - 1/rCN) kcal/mol,
  rounded to 0.001, floored at -9.9, for residue pairs with CA-CA < 9 A; each N-H keeps its two
  lowest-energy acceptors; a bond is one of those with E < -0.5 kcal/mol.
- n-turns (n = 3, 4, 5), helices H (two consecutive 4-turns), G (3-turns, where nothing else),
  I (5-turns, preferred over H as in mkdssp 4), bridges B and ladders E (ladders of the same
  kind joined across a bulge: a gap of < 6 residues on one strand and < 3 on the other, or < 3
  on the partner strand), turns T,
  bends S (CA(i-2)-CA(i)-CA(i+2) angle > 70 degrees), polyproline P (three consecutive residues
  with phi -75 +/- 29 and psi 145 +/- 29 degrees, only where nothing else is assigned).

States: H G I E B T S P, '-' for none, '?' for residues without a complete backbone.
``tests/test_dssp.py`` compares every assignment with mkdssp 4.2 on the structures of the mirror.
"""

from __future__ import annotations

import numpy as np

__all__ = ["assign", "hbond_energies", "dihedral"]

COUPLING = -27.888  # -332 * 0.42 * 0.2, kcal/mol * A
MIN_ENERGY = -9.9
MAX_HBOND_ENERGY = -0.5
MIN_CA_DIST = 9.0
MAX_PEPTIDE_BOND = 2.5  # DSSP's own chain-break rule (mkdssp); measure.PEPTIDE_BOND_MAX_A (2.0) is ours
BEND_ANGLE = 70.0
PP_PHI, PP_PSI, PP_EPS = -75.0, 145.0, 29.0


def dihedral(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, p3: np.ndarray) -> np.ndarray:
    """Dihedral angle p0-p1-p2-p3 in degrees (-180..180), row-wise over (..., 3) arrays."""
    b0, b1, b2 = p0 - p1, p2 - p1, p3 - p2
    b1n = b1 / np.linalg.norm(b1, axis=-1, keepdims=True)
    v = b0 - np.sum(b0 * b1n, axis=-1, keepdims=True) * b1n
    w = b2 - np.sum(b2 * b1n, axis=-1, keepdims=True) * b1n
    return np.degrees(np.arctan2(np.sum(np.cross(b1n, v) * w, axis=-1), np.sum(v * w, axis=-1)))


def hbond_energies(backbone: np.ndarray, is_pro: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backbone H-bond energies (kcal/mol) as (donor, acceptor, energy) arrays.

    ``backbone``: (n, 4, 3) coordinates of N, CA, C, O per residue (A), in chain order.
    Donor = the residue whose N-H bonds, acceptor = the residue whose C=O does; only pairs with
    CA-CA < 9 A, never donor i+1 to acceptor i (the peptide itself), never a Pro donor.
    """
    N, CA, C, O = (np.asarray(backbone[:, j], dtype=np.float64) for j in range(4))  # noqa: E741
    n = len(N)
    H = N.copy()
    co = C[:-1] - O[:-1]
    has_h = np.r_[False, ~is_pro[1:]]
    H[1:][has_h[1:]] += (co / np.linalg.norm(co, axis=1, keepdims=True))[has_h[1:]]
    from scipy.spatial import cKDTree  # imported when an assignment is computed

    pairs = cKDTree(CA).query_pairs(MIN_CA_DIST, output_type="ndarray") if n > 1 else np.zeros((0, 2), int)
    if len(pairs):
        i, j = pairs[:, 0], pairs[:, 1]
        keep = np.linalg.norm(CA[i] - CA[j], axis=1) < MIN_CA_DIST
        i, j = i[keep], j[keep]
    else:
        i = j = np.zeros(0, dtype=np.int64)
    # both directions, except donor i+1 -> acceptor i
    back = j != i + 1
    donor = np.concatenate([i, j[back]])
    acc = np.concatenate([j, i[back]])
    ok = ~is_pro[donor]
    donor, acc = donor[ok], acc[ok]
    r_ho = np.linalg.norm(H[donor] - O[acc], axis=1)
    r_hc = np.linalg.norm(H[donor] - C[acc], axis=1)
    r_nc = np.linalg.norm(N[donor] - C[acc], axis=1)
    r_no = np.linalg.norm(N[donor] - O[acc], axis=1)
    with np.errstate(divide="ignore"):
        e = COUPLING / r_ho - COUPLING / r_hc + COUPLING / r_nc - COUPLING / r_no
    e = np.where(np.minimum.reduce([r_ho, r_hc, r_nc, r_no]) < 0.5, MIN_ENERGY, e)
    e = np.maximum(np.sign(e) * np.floor(np.abs(e) * 1000 + 0.5) / 1000, MIN_ENERGY)
    return donor, acc, e


def _bonds(donor: np.ndarray, acc: np.ndarray, e: np.ndarray, n: int) -> np.ndarray:
    """Keys donor * n + acceptor of the H-bonds: each donor's two lowest energies, if < -0.5."""
    neg = e < 0  # mkdssp's slots start at 0 kcal/mol: only negative energies enter them
    donor, acc, e = donor[neg], acc[neg], e[neg]
    order = np.lexsort((acc, e, donor))  # by donor, then energy, first acceptor on ties
    donor, acc, e = donor[order], acc[order], e[order]
    first = np.r_[True, donor[1:] != donor[:-1]]
    rank = np.arange(len(donor)) - np.maximum.accumulate(np.where(first, np.arange(len(donor)), 0))
    keep = (rank < 2) & (e < MAX_HBOND_ENERGY)
    return np.unique(donor[keep] * n + acc[keep])


def assign(backbone: np.ndarray, is_pro: np.ndarray, chain: np.ndarray) -> np.ndarray:
    """DSSP state per residue; see the module doc.

    ``backbone``: (n, 4, 3) N, CA, C, O coordinates (A) of residues with complete backbones,
    in chain order; ``is_pro``: Pro residues (no amide H); ``chain``: chain ID per residue.
    """
    backbone = np.asarray(backbone, dtype=np.float64).reshape(-1, 4, 3)
    n = len(backbone)
    ss = np.full(n, "-", dtype="U1")
    if n == 0:
        return ss
    N, CA, C = backbone[:, 0], backbone[:, 1], backbone[:, 2]
    is_pro = np.asarray(is_pro, dtype=bool)
    chain = np.asarray(chain)
    # residue numbers as mkdssp counts them: +1 more after every break
    gap = np.r_[False, (np.linalg.norm(C[:-1] - N[1:], axis=1) > MAX_PEPTIDE_BOND)
                | (chain[1:] != chain[:-1])]
    number = np.arange(n) + np.cumsum(gap)

    def nobreak(a, b):
        a, b = np.asarray(a), np.asarray(b)
        ok = (a >= 0) & (b < n) & (a <= b)
        a2, b2 = np.clip(a, 0, n - 1), np.clip(b, 0, n - 1)
        return ok & (chain[a2] == chain[b2]) & (number[b2] - number[a2] == b2 - a2)

    keys = _bonds(*hbond_energies(backbone, is_pro), n)

    def hb(d, a):
        """N-H of d bonded to C=O of a (mkdssp's TestBond(d, a))."""
        d, a = np.asarray(d), np.asarray(a)
        ok = (d >= 0) & (d < n) & (a >= 0) & (a < n)
        k = np.where(ok, d * n + a, -1)
        pos = np.searchsorted(keys, k)
        if not len(keys):
            return ok & False
        return ok & (pos < len(keys)) & (keys[np.minimum(pos, len(keys) - 1)] == k)

    idx = np.arange(n)
    start = {s: nobreak(idx, idx + s) & hb(idx + s, idx) for s in (3, 4, 5)}

    _bridges(ss, n, keys, hb, nobreak, chain, number)

    _helices(ss, start, n)
    _turns_and_bends(ss, start, CA, nobreak, n)
    _polyproline(ss, N, CA, C, nobreak, n)
    return ss


def _helices(ss: np.ndarray, start: dict, n: int) -> None:
    """H over i..i+3 where 4-turns start at i-1 and i (over bridges and strands); then G (3-)
    and I (5-turns) where the residues are free."""
    two = {s: np.r_[False, start[s][1:] & start[s][:-1]] for s in (3, 4, 5)}
    for i in np.flatnonzero(two[4]):
        if i + 4 < n:
            ss[i:i + 4] = "H"
    for i in np.flatnonzero(two[3]):
        if i + 3 < n and np.all((ss[i:i + 3] == "-") | (ss[i:i + 3] == "G")):
            ss[i:i + 3] = "G"
    for i in np.flatnonzero(two[5]):
        if i + 5 < n and np.all(np.isin(ss[i:i + 5], ("-", "I", "H"))):
            ss[i:i + 5] = "I"


def _turns_and_bends(ss: np.ndarray, start: dict, CA: np.ndarray, nobreak, n: int) -> None:
    """T inside an n-turn (residues i+1..i+n-1 of a turn starting at i); else S where the CA
    trace bends by more than ``BEND_ANGLE``; unassigned residues only."""
    idx = np.arange(n)
    turn = np.zeros(n, dtype=bool)
    for s in (3, 4, 5):
        for k in range(1, s):
            turn[k:] |= start[s][:-k]
    kappa = np.full(n, 360.0)
    mid = idx[2:-2] if n > 4 else np.zeros(0, dtype=np.int64)
    ok = nobreak(mid - 2, mid + 2)
    v1, v2 = CA[mid] - CA[mid - 2], CA[mid + 2] - CA[mid]
    with np.errstate(invalid="ignore", divide="ignore"):
        cosk = np.sum(v1 * v2, axis=1) / np.sqrt(np.sum(v1 * v1, axis=1) * np.sum(v2 * v2, axis=1))
    kappa[mid[ok]] = np.degrees(np.arccos(np.clip(cosk[ok], -1, 1)))
    inner = (idx >= 1) & (idx + 1 < n) & (ss == "-")
    ss[inner & turn] = "T"
    ss[inner & ~turn & (kappa != 360) & (kappa > BEND_ANGLE)] = "S"


def _polyproline(ss: np.ndarray, N, CA, C, nobreak, n: int) -> None:
    """P on three consecutive residues in the PPII region, only on unassigned residues."""
    idx = np.arange(n)
    phi = np.zeros(n)
    psi = np.zeros(n)
    if n > 2:
        inn = idx[1:-1]
        with np.errstate(invalid="ignore"):
            p = dihedral(C[inn - 1], N[inn], CA[inn], C[inn])
            q = dihedral(N[inn], CA[inn], C[inn], N[inn + 1])
        phi[inn] = np.where(nobreak(inn - 1, inn), p, 360.0)
        psi[inn] = np.where(nobreak(inn, inn + 1), q, 360.0)
    inpp = ((phi >= PP_PHI - PP_EPS) & (phi <= PP_PHI + PP_EPS)
            & (psi >= PP_PSI - PP_EPS) & (psi <= PP_PSI + PP_EPS))
    pp = np.zeros(n, dtype=bool)
    for i in range(1, n - 3):
        if inpp[i] and inpp[i + 1] and inpp[i + 2]:
            pp[i:i + 3] = True
    ss[pp & (ss == "-")] = "P"


def _bridges(ss: np.ndarray, n: int, keys: np.ndarray, hb, nobreak, chain: np.ndarray,
             number: np.ndarray) -> None:
    """Bridges (B) and ladders (E), with mkdssp's bulge rule; writes into ``ss``."""
    if n < 6 or not len(keys):
        return
    d, a = keys // n, keys % n
    # every bridge needs one of these bonds: candidates (i, j) from each bond
    cand = np.concatenate([np.c_[d - 1, a], np.c_[a, d - 1], np.c_[d - 1, a + 1], np.c_[a, d],
                           np.c_[a + 1, d], np.c_[d, a + 1], np.c_[a + 1, d - 1], np.c_[d, a],
                           np.c_[a, d + 1], np.c_[d + 1, a]])
    i, j = cand[:, 0], cand[:, 1]
    ok = (i >= 1) & (i + 4 < n) & (j >= i + 3) & (j + 1 < n)
    pair = np.unique(i[ok] * n + j[ok])
    i, j = pair // n, pair % n
    ok = nobreak(i - 1, i + 1) & nobreak(j - 1, j + 1)
    i, j = i[ok], j[ok]
    par = (hb(i + 1, j) & hb(j, i - 1)) | (hb(j + 1, i) & hb(i, j - 1))
    anti = ~par & ((hb(i + 1, j - 1) & hb(j + 1, i - 1)) | (hb(j, i) & hb(i, j)))
    found = par | anti
    # ladders, in mkdssp's loop order (i, then j ascending)
    ladders: list[list] = []  # [parallel, i list, j list]
    for bi, bj, p in zip(i[found].tolist(), j[found].tolist(), par[found].tolist(), strict=True):
        for lad in ladders:
            if lad[0] != p or bi != lad[1][-1] + 1:
                continue
            if p and lad[2][-1] + 1 == bj:
                lad[1].append(bi)
                lad[2].append(bj)
                break
            if not p and lad[2][0] - 1 == bj:
                lad[1].append(bi)
                lad[2].insert(0, bj)
                break
        else:
            ladders.append([p, [bi], [bj]])
    ladders.sort(key=lambda lad: (str(chain[lad[1][0]]), lad[1][0]))  # as mkdssp: chain, first i

    def within(lo: int, hi: int, limit: int) -> bool:  # mkdssp's unsigned hi - lo < limit
        return 0 <= hi - lo < limit

    chain_l, number_l = chain.tolist(), number.tolist()

    def linked(a: int, b: int) -> bool:  # no chain break from a to b (scalar nobreak)
        return chain_l[a] == chain_l[b] and number_l[b] - number_l[a] == b - a

    x = 0
    while x < len(ladders):
        y = x + 1
        while y < len(ladders):
            A, B = ladders[x], ladders[y]
            ibi, iei, jbi, jei = A[1][0], A[1][-1], A[2][0], A[2][-1]
            ibj, iej, jbj, jej = B[1][0], B[1][-1], B[2][0], B[2][-1]
            if (A[0] != B[0] or not within(iei, ibj, 6) or (iei >= ibj and ibi <= iej)
                    or not linked(min(ibi, ibj), max(iei, iej))
                    or not linked(min(jbi, jbj), max(jei, jej))):
                y += 1
                continue
            if A[0]:
                bulge = (within(jei, jbj, 6) and within(iei, ibj, 3)) or within(jei, jbj, 3)
            else:
                bulge = (within(jej, jbi, 6) and within(iei, ibj, 3)) or within(jej, jbi, 3)
            if bulge:
                A[1] = A[1] + B[1]
                A[2] = A[2] + B[2] if A[0] else B[2] + A[2]
                del ladders[y]
            else:
                y += 1
        x += 1
    for _, li, lj in ladders:
        state = "E" if len(li) > 1 else "B"
        for lo, hi in ((li[0], li[-1]), (lj[0], lj[-1])):
            seg = ss[lo:hi + 1]
            seg[seg != "E"] = state
