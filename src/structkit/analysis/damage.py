"""Structural damage features of substitutions, after Missense3D, plus what it misses at interfaces.

Missense3D (Ittisoponpisan et al. 2019, J Mol Biol 431:2197) flags 16 kinds of structural
damage on single chains. We compute them from the wild-type structure, with its published
thresholds where they apply (buried: RSA < 9 %; cavity: volume change >= 70 A^3), and say
where we approximate because we build no mutant model:

===========================  =====================================================================
feature                      rule here (wild-type residue at the position, alt = new residue)
===========================  =====================================================================
buried/exposed switch        RSA crosses 9 %: wild-type RSA vs the same SASA over the alt's maximum
                             ASA (an estimate: no mutant model)
disulfide breakage           Cys whose SG is <= 2.5 A from another SG, replaced
buried Pro introduced        alt Pro at a buried position
buried Gly replaced          buried Gly replaced
buried hydrophilic introduced buried hydrophobic residue (AVILMFWC) -> hydrophilic (RNDQEHKSTY)
buried charge introduced     buried uncharged -> charged (D E K R)
charge switch                buried charged residue -> opposite charge
buried charge replaced       buried charged residue -> uncharged
buried H-bond breakage       buried residue whose side-chain donor/acceptor H-bonds (heavy atoms,
                             2.5-3.5 A) through an atom the alt side chain does not have (by PDB
                             atom name: no mutant model)
buried salt bridge breakage  buried D/E-K/R pair (O-N <= 4.0 A) and the alt lacks the charge
cavity altered               buried and |V(alt) - V(ref)| >= 70 A^3; volumes of Zamyatnin (1972),
                             not a cavity calculation
clash                        buried, alt larger, and a pseudo-atom for the alt side chain placed on
                             the CA->CB line at the alt's mean CA-centroid distance (measured in
                             the same structure) comes within 2.5 A of another heavy atom: a crude
                             model, not a packed side chain
disallowed phi/psi           Gly with phi > 0 replaced by non-Gly, or Pro introduced where phi is
                             outside -90..-40 degrees
cis-Pro replaced             Pro with a cis peptide bond (|omega| < 30 degrees) replaced
secondary structure altered  Pro introduced into a helix or strand (H G I E), or Gly into a helix
                             (H): an estimate, no mutant model
side-chain-backbone H-bond   (beyond Missense3D) a side-chain donor/acceptor H-bonded (2.5-3.5 A)
lost                         to a main-chain N or O of another residue, at any burial, through an
                             atom the alt lacks: the side chains that pin loops (p53's L2/L3)
metal second shell           (beyond Missense3D) a residue that does not coordinate the metal but
                             whose side chain is within 4.0 A of the side chain of one that does
                             (3.0 A to a Zn/Fe/Cu/Mn/Mg/Ca/Ni/Co ion in the file), replaced by a
                             residue not of the same chemistry (``SAME_CHEMISTRY``)
===========================  =====================================================================

Beyond Missense3D, for each site (antibody, ligand, DNA, metal): **interface H-bond broken**
(a side-chain donor/acceptor <= 3.5 A from a partner N/O, through an atom the alt lacks), **interface
salt bridge broken** (K/R to partner D/E or DNA phosphate, D/E to partner K/R, <= 4.0 A),
**interface charge switch**, **zinc ligand lost** (a coordinating residue replaced by one that
is neither Cys nor His), **DNA contact lost** / **antibody contact lost** (a side-chain atom
beyond CB within the cut-off of the partner, replaced by a residue not of the same chemistry:
``SAME_CHEMISTRY`` groups K/R, D/E, S/T, N/Q, F/Y, I/L/V with a volume change < 30 A^3),
**ligand contact lost** /
**ligand contact altered** (side-chain atoms within the cut-off of the ligand; alt smaller or
larger), **covalent anchor lost** (the residue is covalently bonded to the ligand, e.g. C797 to
neratinib), **interface hydrophobic bulk introduced** (alt hydrophobic and >= 50 A^3 larger).

``context_matrix`` describes every substitution whatever its flags: burial, hydrophobicity and the
volume change (e.g. ``buried; hydrophobic -> smaller (-51 A^3)``).

H-bond rules (buried and interface) are chemistry-aware: a bond made through a side-chain group
is kept when the alt has a group of the same chemistry (hydroxyl of S/T/Y, carboxylate of D/E,
cation of K/R, amide of N/Q, imidazole of H), so S<->T, D<->E and K<->R swaps do not count as
breakage. Dropped for lack of signal on the TP53 development set (``benchmarks/validity.py``):
"Gly in a bend" (precision 0.18 for non-function, below the 0.21 base rate) and "zinc region"
(0.16, a location rather than damage: the zinc distance stays in the table and the verdict's
evidence).

Every flag comes with evidence (the bond, the RSA, the angle, the atoms) so it can be checked.

Size: the Missense3D feature set (16 features, each a few lines with its threshold and source)
and the interface features, which share one residue environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..cutoffs import BURIED_RSA
from ..io.structure import Structure, one_letter
from .dssp import dihedral
from .measure import BACKBONE, PEPTIDE_BOND_MAX_A
from .neighbours import AtomSearch

__all__ = ["FEATURES", "INTERFACE_FEATURES", "VOLUME", "AA20", "ResidueEnvironment", "environment",
           "Flags", "substitution_flags", "interface_flags", "substitution_damage", "interface_damage",
           "context_matrix"]

FEATURES = (
    "buried/exposed switch", "disulfide breakage", "buried Pro introduced", "buried Gly replaced",
    "buried hydrophilic introduced", "buried charge introduced", "charge switch",
    "buried charge replaced", "buried H-bond breakage", "buried salt bridge breakage",
    "cavity altered", "clash", "disallowed phi/psi", "cis-Pro replaced",
    "secondary structure altered", "side-chain-backbone H-bond lost", "metal second shell",
)
INTERFACE_FEATURES = (
    "interface H-bond broken", "interface salt bridge broken", "interface charge switch",
    "zinc ligand lost", "covalent anchor lost", "DNA contact lost", "antibody contact lost",
    "ligand contact lost", "ligand contact altered",
    "interface hydrophobic bulk introduced",
)
BURIED = BURIED_RSA
CAVITY_DV = 70.0
CLASH_DIST = 2.5
CLASH_NEIGHBOURS = 16  # atoms looked at around a pseudo-atom (within CLASH_DIST there are fewer)
CIS_OMEGA_DEG = 30.0  # |omega| below this: a cis peptide
HBOND_MIN_DIST = 2.5  # A: donor-acceptor pairs closer than this are not H-bonds (overlap)
HBOND_DIST = 3.5
SALT_DIST = 4.0
SS_DIST = 2.5
SECOND_SHELL_DIST = 4.0  # A, side chain to a metal ligand's side chain
METAL_LIGAND_DIST = 3.0  # A, residue heavy atom to the ion (as cutoffs.DEFAULT_METAL_CUTOFF)
METALS = ("ZN", "FE", "CU", "MN", "MG", "CA", "NI", "CO")
BULK_DV = 50.0
# Zamyatnin (1972) residue volumes, A^3
VOLUME = {"A": 88.6, "R": 173.4, "N": 114.1, "D": 111.1, "C": 108.5, "Q": 143.8, "E": 138.4,
          "G": 60.1, "H": 153.2, "I": 166.7, "L": 166.7, "K": 168.6, "M": 162.9, "F": 189.9,
          "P": 112.7, "S": 89.0, "T": 116.1, "W": 227.8, "Y": 193.6, "V": 140.0}
HYDROPHOBIC = set("AVILMFWC")
HYDROPHILIC = set("RNDQEHKSTY")
CHARGE = {"D": -1, "E": -1, "K": 1, "R": 1}
# side-chain heavy atoms that donate / accept hydrogen bonds
DONORS = {"R": {"NE", "NH1", "NH2"}, "N": {"ND2"}, "Q": {"NE2"}, "H": {"ND1", "NE2"},
          "K": {"NZ"}, "S": {"OG"}, "T": {"OG1"}, "Y": {"OH"}, "W": {"NE1"}}
ACCEPTORS = {"D": {"OD1", "OD2"}, "E": {"OE1", "OE2"}, "N": {"OD1"}, "Q": {"OE1"},
             "H": {"ND1", "NE2"}, "S": {"OG"}, "T": {"OG1"}, "Y": {"OH"}}
SIDECHAIN = {
    "A": {"CB"}, "R": {"CB", "CG", "CD", "NE", "CZ", "NH1", "NH2"}, "N": {"CB", "CG", "OD1", "ND2"},
    "D": {"CB", "CG", "OD1", "OD2"}, "C": {"CB", "SG"}, "Q": {"CB", "CG", "CD", "OE1", "NE2"},
    "E": {"CB", "CG", "CD", "OE1", "OE2"}, "G": set(),
    "H": {"CB", "CG", "ND1", "CD2", "CE1", "NE2"}, "I": {"CB", "CG1", "CG2", "CD1"},
    "L": {"CB", "CG", "CD1", "CD2"}, "K": {"CB", "CG", "CD", "CE", "NZ"},
    "M": {"CB", "CG", "SD", "CE"}, "F": {"CB", "CG", "CD1", "CD2", "CE1", "CE2", "CZ"},
    "P": {"CB", "CG", "CD"}, "S": {"CB", "OG"}, "T": {"CB", "OG1", "CG2"},
    "W": {"CB", "CG", "CD1", "CD2", "NE1", "CE2", "CE3", "CZ2", "CZ3", "CH2"},
    "Y": {"CB", "CG", "CD1", "CD2", "CE1", "CE2", "CZ", "OH"}, "V": {"CB", "CG1", "CG2"},
}

_DONOR_KEYS = [f"{a}:{n}" for a, names in DONORS.items() for n in names]
_ACCEPTOR_KEYS = [f"{a}:{n}" for a, names in ACCEPTORS.items() for n in names]


def _label(st: Structure, a: int) -> str:
    return f"{st.atom_name[a]} {st.res_name[a]} {st.chain[a]}{st.res_seq[a]}{st.icode[a]}"


class BondLists(Sequence):
    """Per residue, its (own atom, evidence) pairs as read back from derived data: a row is
    made a list of tuples when it is looked at (a variant looks at a few of a chain's hundreds
    of rows; converting them all took about 50 ms of the seed panel)."""

    __slots__ = ("_rows",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, rows: list) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        return [tuple(b) for b in self._rows[k]]

    def __eq__(self, other) -> bool:
        return (isinstance(other, Sequence) and len(self) == len(other)
                and all(self[i] == other[i] for i in range(len(self))))


@dataclass
class ResidueEnvironment:
    """Per-residue structural context of one chain (arrays in the chain's residue order)."""

    phi: np.ndarray
    psi: np.ndarray
    omega: np.ndarray
    cis: np.ndarray
    hbonds: Sequence[list[tuple[str, str]]]  # per residue: (own side-chain atom, evidence)
    salt_bridges: list[str]
    disulfide: list[str]
    centroid_dist: dict[str, float]  # residue type -> mean CA-side-chain-centroid distance (A)
    cb_dir: np.ndarray  # unit CA->CB (ideal CB for Gly), per residue
    ca: np.ndarray
    hbonds_bb: Sequence[list[tuple[str, str]]]  # per residue: side-chain H-bonds to a main-chain N/O
    second_shell: list[str]  # per residue: evidence that it packs on a metal ligand ('' if not)
    others: AtomSearch = field(repr=False)
    other_atoms: np.ndarray = field(repr=False)
    owner: np.ndarray = field(repr=False)  # chain residue k of each atom in ``others``
    structure: Structure | None = field(repr=False, default=None)

    def label(self, j: int) -> str:
        """Evidence label of atom ``j`` of ``others``."""
        return _label(self.structure, int(self.other_atoms[j]))


def _backbone_dihedrals(N: np.ndarray, CA: np.ndarray, C: np.ndarray):
    """(phi, psi, omega) per residue in degrees, NaN where the peptide bond to the neighbour
    is missing (C(i-1)-N(i) longer than ``PEPTIDE_BOND_MAX_A``)."""
    n = len(N)
    linked = np.zeros(n, dtype=bool)  # peptide bond between k-1 and k
    linked[1:] = np.linalg.norm(C[:-1] - N[1:], axis=1) <= PEPTIDE_BOND_MAX_A
    phi = np.full(n, np.nan)
    psi = np.full(n, np.nan)
    omega = np.full(n, np.nan)
    with np.errstate(invalid="ignore"):
        phi[1:] = np.where(linked[1:], dihedral(C[:-1], N[1:], CA[1:], C[1:]), np.nan)
        psi[:-1] = np.where(linked[1:], dihedral(N[:-1], CA[:-1], C[:-1], N[1:]), np.nan)
        omega[1:] = np.where(linked[1:], dihedral(CA[:-1], C[:-1], N[1:], CA[1:]), np.nan)
    return phi, psi, omega


def _centroid_distances(xyz, owner, side, CA, aa, n: int) -> dict[str, float]:
    """Mean CA-side-chain-centroid distance (A) per residue type, measured in this chain."""
    count = np.bincount(owner[side], minlength=n)
    cen = np.stack([np.bincount(owner[side], weights=xyz[side, c], minlength=n) for c in range(3)],
                   axis=1)
    have = (count > 0) & ~np.isnan(CA).any(axis=1)
    dist_c = np.linalg.norm(cen[have] / count[have, None] - CA[have], axis=1)
    return {t: float(dist_c[aa[have] == t].mean()) for t in np.unique(aa[have]).tolist()}


def _cb_directions(xyz, owner, names, bb, n: int) -> np.ndarray:
    """Unit CA->CB vector per residue; an ideal CB from the backbone where there is none
    (Gly); NaN without a backbone."""
    N, CA, C = bb[:, 0], bb[:, 1], bb[:, 2]
    cbd = np.full((n, 3), np.nan)
    cb = np.flatnonzero(names == "CB")[::-1]  # reversed: the first CB of a residue wins
    cbd[owner[cb]] = xyz[cb] - CA[owner[cb]]
    ideal = np.isnan(cbd).any(axis=1) & ~np.isnan(bb).any(axis=(1, 2))
    b, c = CA[ideal] - N[ideal], C[ideal] - CA[ideal]
    cbd[ideal] = -0.58273431 * np.cross(b, c) + 0.56802827 * b - 0.54067466 * c
    with np.errstate(invalid="ignore"):
        cbd /= np.linalg.norm(cbd, axis=1, keepdims=True)
    return cbd


def environment(st: Structure, res_idx: np.ndarray) -> ResidueEnvironment:
    """Backbone angles, side-chain H-bonds, salt bridges, disulfides of a chain (model 1)."""
    from .measure import _backbone

    n = len(res_idx)
    bb = _backbone(st, res_idx)  # N CA C O
    N, CA, C = bb[:, 0], bb[:, 1], bb[:, 2]
    phi, psi, omega = _backbone_dihedrals(N, CA, C)
    cis = np.abs(omega) < CIS_OMEGA_DEG

    atoms, owner = st.atoms_of(res_idx)
    names = st.atom_name[atoms]
    aa = np.array([one_letter(str(x)) for x in st.res_resname[res_idx]])
    res_aa = aa[owner]
    keys = np.char.add(np.char.add(res_aa.astype("U1"), ":"), names.astype("U4"))
    is_donor = np.isin(keys, _DONOR_KEYS)
    is_acc = np.isin(keys, _ACCEPTOR_KEYS)
    bb_n = names == "N"
    bb_o = (names == "O") | (names == "OXT")
    from scipy.spatial import cKDTree  # computing an environment: a tree over all atoms

    xyz = st.coord[atoms]
    tree = cKDTree(xyz)

    def pairs(sel: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(i, j, distance) for atoms i in ``sel`` and any atom j within ``radius``, by i then j."""
        i_idx = np.flatnonzero(sel)
        if not len(i_idx):
            return (np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0),)
        lists = tree.query_ball_point(xyz[i_idx], radius, return_sorted=True)
        counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        i = np.repeat(i_idx, counts)
        j = np.fromiter((x for lst in lists for x in lst), dtype=np.int64, count=int(counts.sum()))
        return i, j, np.linalg.norm(xyz[i] - xyz[j], axis=1)

    hbonds: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    hbonds_bb: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    i, j, d = pairs(is_donor | is_acc, HBOND_DIST)
    ok = (owner[i] != owner[j]) & (d >= HBOND_MIN_DIST) & (
        (is_donor[i] & (is_acc[j] | bb_o[j])) | (is_acc[i] & (is_donor[j] | bb_n[j])))
    to_bb = (is_donor[i] & bb_o[j]) | (is_acc[i] & bb_n[j])
    for a, b, dist, mc in zip(i[ok].tolist(), j[ok].tolist(), d[ok].tolist(), to_bb[ok].tolist(),
                              strict=True):
        bond = (str(names[a]), f"{names[a]}-{_label(st, atoms[b])} {dist:.2f} A")
        hbonds[owner[a]].append(bond)
        if mc:
            hbonds_bb[owner[a]].append(bond)
    salt = [""] * n
    neg = np.isin(keys, ["D:OD1", "D:OD2", "E:OE1", "E:OE2"])
    pos = np.isin(keys, ["K:NZ", "R:NE", "R:NH1", "R:NH2"])
    i, j, d = pairs(neg | pos, SALT_DIST)
    ok = (neg[i] & pos[j]) | (pos[i] & neg[j])
    for a, b, dist in zip(i[ok].tolist(), j[ok].tolist(), d[ok].tolist(), strict=True):
        k = owner[a]
        text = f"{names[a]}-{_label(st, atoms[b])} {dist:.2f} A"
        if text not in salt[k]:
            salt[k] += f"{'; ' if salt[k] else ''}{text}"
    ssb = [""] * n
    sg = np.flatnonzero((names == "SG") & (res_aa == "C"))
    for i in sg:
        for j in sg:
            if i != j:
                d = float(np.linalg.norm(xyz[i] - xyz[j]))
                if d <= SS_DIST:
                    ssb[owner[i]] = f"SG-{_label(st, atoms[j])} {d:.2f} A"
    sc = ~np.isin(names, list(BACKBONE))
    centroid = _centroid_distances(xyz, owner, sc, CA, aa, n)
    cbd = _cb_directions(xyz, owner, names, bb, n)
    shell = _second_shell(st, xyz, owner, sc, n, atoms)
    return ResidueEnvironment(phi, psi, omega, cis, hbonds, salt, ssb, centroid, cbd,
                              CA, hbonds_bb, shell, AtomSearch(xyz, tree), atoms, owner, st)


def _second_shell(st: Structure, xyz: np.ndarray, owner: np.ndarray, side: np.ndarray, n: int,
                  atoms: np.ndarray) -> list[str]:
    """Per chain residue: evidence that its side chain lies within ``SECOND_SHELL_DIST`` of the
    side chain of a metal ligand (a residue with a heavy atom within ``METAL_LIGAND_DIST`` of a
    metal ion of model 1), itself not a ligand; '' otherwise."""
    from scipy.spatial import cKDTree

    out = [""] * n
    ions = np.flatnonzero((st.kind == "ion") & np.isin(st.element, METALS) & (st.model == 1))
    if not len(ions) or not side.any():
        return out
    near_ion = cKDTree(st.coord[ions]).query(xyz, distance_upper_bound=METAL_LIGAND_DIST)[0]
    ligand = np.zeros(n, dtype=bool)
    ligand[owner[np.isfinite(near_ion)]] = True
    lig_atoms = np.flatnonzero(side & ligand[owner])
    cand = np.flatnonzero(side & ~ligand[owner])
    if not len(lig_atoms) or not len(cand):
        return out
    d, j = cKDTree(xyz[lig_atoms]).query(xyz[cand], distance_upper_bound=SECOND_SHELL_DIST)
    hit = np.isfinite(d)
    for a, b, dist in zip(cand[hit].tolist(), lig_atoms[j[hit]].tolist(), d[hit].tolist(), strict=True):
        k = owner[a]
        if not out[k]:
            out[k] = f"{st.atom_name[atoms[a]]}-{_label(st, atoms[b])} {dist:.2f} A (a metal ligand)"
    return out


AA20 = "ACDEFGHIKLMNPQRSTVWY"
_ALT = np.array(list(AA20), dtype=object)
_VOL = np.array([VOLUME[a] for a in AA20])
_CHG = np.array([CHARGE.get(a, 0) for a in AA20])
_HPHOB = np.array([a in HYDROPHOBIC for a in AA20])
_HPHIL = np.array([a in HYDROPHILIC for a in AA20])
_ALL = FEATURES + INTERFACE_FEATURES
_BIT = {f: i for i, f in enumerate(_ALL)}


class Flags:
    """Damage features of substitutions at ``n`` residues x the 20 amino acids (``AA20``).

    Holds, per feature, the flat indices ``row * 20 + alt`` where it fires and the evidence
    text of each; ``render`` turns them into the table's two text columns.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.parts: list[tuple[str, np.ndarray, list[str]]] = []

    def add(self, feature: str, mask: np.ndarray, text) -> None:
        """Flag ``feature`` where ``mask`` (n x 20) is set; ``text(rows, alts)`` gives evidence."""
        idx = np.flatnonzero(mask)
        if len(idx):
            self.parts.append((feature, idx, list(text(idx // 20, idx % 20))))

    def __add__(self, other: Flags) -> Flags:
        out = Flags(self.n)
        out.parts = self.parts + other.parts
        return out

    def items(self, row: int, alt: str) -> list[tuple[str, str]]:
        """(feature, evidence) pairs of one substitution."""
        flat = row * 20 + AA20.index(alt)
        out = []
        for feature, idx, texts in self.parts:
            j = np.searchsorted(idx, flat)
            if j < len(idx) and idx[j] == flat:
                out.append((feature, texts[j]))
        return out

    def render(self) -> tuple[np.ndarray, np.ndarray]:
        """(names, evidence), object arrays n x 20: ``'none'``/``''`` where nothing fires,
        else ``'a; b'`` in ``FEATURES`` order and ``'a: why | b: why'``."""
        size = self.n * 20
        mask = np.zeros(size, dtype=np.int64)
        evidence = np.full(size, "", dtype=object)
        for feature, idx, texts in self.parts:
            mask[idx] |= 1 << _BIT[feature]
            piece = np.array([f"{feature}: {t}" for t in texts], dtype=object)
            cur = evidence[idx]
            evidence[idx] = np.where(cur == "", piece, cur + " | " + piece)
        masks, inverse = np.unique(mask, return_inverse=True)
        text = np.array(["; ".join(f for b, f in enumerate(_ALL) if m >> b & 1) or "none"
                         for m in masks.tolist()], dtype=object)
        return text[inverse].reshape(self.n, 20), evidence.reshape(self.n, 20)


def _ij(rows: np.ndarray, alts: np.ndarray):
    return zip(rows.tolist(), alts.tolist(), strict=True)


def _rows(values) -> np.ndarray:
    return np.asarray(values)[:, None]


def _refs(ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(known reference, its index in AA20, valid substitutions n x 20: known and alt != ref)."""
    ok = np.array([r in VOLUME for r in ref], dtype=bool)
    ref_i = np.array([AA20.index(r) if r in VOLUME else 0 for r in ref], dtype=np.int64)
    return ok, ref_i, _rows(ok) & (np.arange(20)[None, :] != _rows(ref_i))


# functional group of each polar side-chain atom: an alt keeps a bond made through a group it has
GROUP = {("S", "OG"): "hydroxyl", ("T", "OG1"): "hydroxyl", ("Y", "OH"): "hydroxyl",
         ("D", "OD1"): "carboxylate", ("D", "OD2"): "carboxylate", ("E", "OE1"): "carboxylate",
         ("E", "OE2"): "carboxylate", ("K", "NZ"): "cation", ("R", "NE"): "cation",
         ("R", "NH1"): "cation", ("R", "NH2"): "cation", ("N", "OD1"): "amide O",
         ("N", "ND2"): "amide N", ("Q", "OE1"): "amide O", ("Q", "NE2"): "amide N",
         ("H", "ND1"): "imidazole", ("H", "NE2"): "imidazole", ("W", "NE1"): "indole N"}
_GROUPS_OF = {a: {GROUP.get((a, n), n) for n in SIDECHAIN[a]} for a in SIDECHAIN}
SAME_CHEMISTRY = ("KR", "DE", "ST", "NQ", "FY", "ILV")


def _lost_bonds(bonds: dict[int, list[tuple[str, str]]], ref: np.ndarray,
                n: int) -> tuple[np.ndarray, dict]:
    """Bonds (own atom, evidence) per residue row that each alt loses, having no atom of the
    same functional group (``GROUP``): mask n x 20 and the evidence (first four) per (row, alt)."""
    mask = np.zeros((n, 20), dtype=bool)
    texts: dict[tuple[int, int], str] = {}
    for i, own in bonds.items():
        r = str(ref[i])
        for j, alt in enumerate(AA20):
            lost = [t for atom, t in own if GROUP.get((r, atom), atom) not in _GROUPS_OF[alt]]
            if lost:
                mask[i, j] = True
                texts[i, j] = "; ".join(lost[:4])
    return mask, texts


def same_chemistry(ref: np.ndarray) -> np.ndarray:
    """n x 20: alt is of the same side-chain chemistry as ref and within 30 A^3 of its volume."""
    out = np.zeros((len(ref), 20), dtype=bool)
    for i, r in enumerate(ref):
        for g in SAME_CHEMISTRY:
            if r in g:
                for a in g:
                    out[i, AA20.index(a)] = abs(VOLUME[a] - VOLUME[r]) < 30
    return out


def substitution_flags(env: ResidueEnvironment, ks: np.ndarray, ref: np.ndarray, rsa: np.ndarray,
                       sasa: np.ndarray, ss: np.ndarray, ss_method: str) -> Flags:
    """Missense3D-style features of every substitution at chain residues ``ks``.

    ``ref``, ``rsa`` (fraction), ``sasa`` (A^2) and ``ss`` (DSSP state) are per residue of
    ``ks``; the result covers the 20 amino acids as alts (none fires for alt == ref).
    """
    from .measure import TIEN2013_THEORETICAL

    ks = np.asarray(ks, dtype=np.int64)
    ref = np.asarray(ref, dtype=object)
    rsa = np.asarray(rsa, dtype=np.float64)
    out = Flags(len(ks))
    if not len(ks):
        return out
    _, ref_i, valid = _refs(ref)
    buried = _rows(rsa < BURIED) & valid
    rsa_txt = np.array([f"RSA {100 * r:.1f} %" for r in rsa], dtype=object)
    vref, cref = _VOL[ref_i], _CHG[ref_i]
    dv = _VOL[None, :] - _rows(vref)
    ca = np.broadcast_to(_CHG[None, :], (len(ks), 20))
    cr = np.broadcast_to(_rows(cref), (len(ks), 20))
    maxasa = np.array([TIEN2013_THEORETICAL[a] for a in AA20])
    with np.errstate(invalid="ignore"):
        est = np.asarray(sasa, dtype=np.float64)[:, None] / maxasa[None, :]
    out.add("buried/exposed switch", valid & (_rows(rsa < BURIED) != (est < BURIED)),
            lambda r, a: (f"{rsa_txt[i]} -> estimated {100 * est[i, j]:.1f} %" for i, j in _ij(r, a)))
    ssb = np.array([env.disulfide[k] for k in ks], dtype=object)
    out.add("disulfide breakage", valid & _rows((ref == "C") & (ssb != "")), lambda r, a: ssb[r])
    alt_is = {x: (np.arange(20) == AA20.index(x))[None, :] for x in "GP"}
    out.add("buried Pro introduced", buried & alt_is["P"], lambda r, a: rsa_txt[r])
    out.add("buried Gly replaced", buried & _rows(ref == "G"), lambda r, a: rsa_txt[r])
    out.add("buried hydrophilic introduced",
            buried & _rows(np.isin(ref, list(HYDROPHOBIC))) & _HPHIL[None, :],
            lambda r, a: (f"{rsa_txt[i]}; {ref[i]} hydrophobic -> {AA20[j]}" for i, j in _ij(r, a)))
    out.add("buried charge introduced", buried & (cr == 0) & (ca != 0),
            lambda r, a: (f"{rsa_txt[i]}; charge {_CHG[j]:+d}" for i, j in _ij(r, a)))
    out.add("charge switch", buried & (cr * ca < 0),
            lambda r, a: (f"{rsa_txt[i]}; {cref[i]:+d} -> {_CHG[j]:+d}" for i, j in _ij(r, a)))
    out.add("buried charge replaced", buried & (cr != 0) & (ca == 0),
            lambda r, a: (f"{rsa_txt[i]}; charge {cref[i]:+d} lost" for i, j in _ij(r, a)))
    # side-chain H-bonds through atoms the alt does not have
    hb_mask, lost = _lost_bonds({i: env.hbonds[k] for i, k in enumerate(ks.tolist()) if env.hbonds[k]},
                                ref, len(ks))
    out.add("buried H-bond breakage", buried & hb_mask,
            lambda r, a: (f"{rsa_txt[i]}; {lost[i, j]}" for i, j in _ij(r, a)))
    salt = np.array([env.salt_bridges[k] for k in ks], dtype=object)
    out.add("buried salt bridge breakage", buried & _rows(salt != "") & (ca != cr),
            lambda r, a: (f"{rsa_txt[i]}; {salt[i]}" for i in r))
    out.add("cavity altered", buried & (np.abs(dv) >= CAVITY_DV),
            lambda r, a: (f"{rsa_txt[i]}; volume change {dv[i, j]:+.0f} A^3 (Zamyatnin residue volumes)"
                          for i, j in _ij(r, a)))
    clash = _clashes(env, ks, buried & (dv > 0))
    clash_mask = np.zeros(len(ks) * 20, dtype=bool)
    clash_mask[list(clash)] = True
    out.add("clash", clash_mask.reshape(-1, 20),
            lambda r, a: (f"{rsa_txt[i]}; {clash[i * 20 + j]} (modelled pseudo-atom)"
                          for i, j in _ij(r, a)))
    phi, psi = env.phi[ks], env.psi[ks]
    with np.errstate(invalid="ignore"):
        gly_phi = valid & _rows((ref == "G") & (phi > 0))
        bad_pro = valid & alt_is["P"] & _rows(~np.isnan(phi) & ~((phi >= -90) & (phi <= -40)))
    out.add("disallowed phi/psi", gly_phi,
            lambda r, a: (f"Gly with phi {phi[i]:.0f}, psi {psi[i]:.0f}" for i in r))
    out.add("disallowed phi/psi", bad_pro,
            lambda r, a: (f"Pro needs phi -90..-40; phi here {phi[i]:.0f}" for i in r))
    out.add("cis-Pro replaced", valid & _rows((ref == "P") & env.cis[ks]),
            lambda r, a: (f"omega {env.omega[ks[i]]:.0f}" for i in r))
    bb_mask, bb_lost = _lost_bonds({i: env.hbonds_bb[k] for i, k in enumerate(ks.tolist())
                                    if env.hbonds_bb[k]}, ref, len(ks))
    out.add("side-chain-backbone H-bond lost", valid & bb_mask,
            lambda r, a: (f"{rsa_txt[i]}; {bb_lost[i, j]}" for i, j in _ij(r, a)))
    shell = np.array([env.second_shell[k] for k in ks], dtype=object)
    out.add("metal second shell", valid & _rows(shell != "") & ~same_chemistry(ref),
            lambda r, a: shell[r])
    ss = np.asarray(ss).astype(str)
    out.add("secondary structure altered",
            valid & ((alt_is["P"] & _rows(np.isin(ss, list("HGIE")))) | (alt_is["G"] & _rows(ss == "H"))),
            lambda r, a: (f"{AA20[j]} into DSSP {ss[i]} ({ss_method}); estimate" for i, j in _ij(r, a)))
    return out


def _clashes(env: ResidueEnvironment, ks: np.ndarray, mask: np.ndarray) -> dict[int, str]:
    """Flat index -> evidence where the alt's pseudo-atom (on CA->CB at the alt's mean
    CA-centroid distance) lies within 2.5 A of a heavy atom of a residue other than k-1..k+1
    (the nearest such atom is named)."""
    dist_of = np.array([env.centroid_dist.get(a, np.nan) for a in AA20])
    rows, cols = np.nonzero(mask & ~np.isnan(dist_of)[None, :])
    k = ks[rows]
    p = env.ca[k] + env.cb_dir[k] * dist_of[cols][:, None]
    good = ~np.isnan(p).any(axis=1)
    rows, cols, k, p = rows[good], cols[good], k[good], p[good]
    out: dict[int, str] = {}
    if not len(p):
        return out
    d, j = env.others.query(p, k=CLASH_NEIGHBOURS, distance_upper_bound=CLASH_DIST + 1e-6)
    owner = np.r_[env.owner, -10**9]  # missing neighbours point one past the end
    ok = (d <= CLASH_DIST) & (np.abs(owner[j] - k[:, None]) > 1)
    for i in np.flatnonzero(ok.any(axis=1)):
        first = int(np.argmax(ok[i]))
        out[int(rows[i]) * 20 + int(cols[i])] = (
            f"alt side-chain pseudo-atom {d[i, first]:.2f} A from {env.label(int(j[i, first]))}")
    return out


def _interface_facts(st: Structure, site, ri: int, ref: str) -> tuple[list, list, list]:
    """Side-chain H-bonds, salt bridges and ligand contacts of residue ``ri`` with the partner."""
    patoms, ptree = site.partner_atoms, site.partner_tree
    sl = np.arange(st.res_start[ri], st.res_stop[ri])
    sc = sl[~np.isin(st.atom_name[sl], list(BACKBONE) + ["CB"])]
    bonds, salts, close = [], [], []
    for a in sc:
        nm = st.atom_name[a]
        polar = nm in DONORS.get(ref, ()) or nm in ACCEPTORS.get(ref, ())
        for j in ptree.query_ball_point(st.coord[a], SALT_DIST):
            pa = int(patoms[j])
            dist = float(np.linalg.norm(st.coord[a] - st.coord[pa]))
            partner = _label(st, pa)
            if polar and st.element[pa] in ("N", "O") and dist <= HBOND_DIST:
                bonds.append((str(nm), f"{nm}-{partner} {dist:.2f} A"))
            pname, presn = st.atom_name[pa], st.res_name[pa]
            acidic = pname in ("OP1", "OP2", "O1P", "O2P") or (
                presn in ("ASP", "GLU") and pname in ("OD1", "OD2", "OE1", "OE2"))
            basic = presn in ("LYS", "ARG") and pname in ("NZ", "NE", "NH1", "NH2")
            if (CHARGE.get(ref) == 1 and nm in ("NZ", "NE", "NH1", "NH2") and acidic) or (
                    CHARGE.get(ref) == -1 and nm in ("OD1", "OD2", "OE1", "OE2") and basic):
                salts.append(f"{nm}-{partner} {dist:.2f} A")
        dd, j = ptree.query(st.coord[a])
        if dd <= site.cutoff:
            close.append(f"{nm}-{_label(st, int(patoms[j]))} {dd:.2f} A")
    return bonds, salts, close


def interface_flags(st: Structure, site, ks: np.ndarray, ri: np.ndarray, ref: np.ndarray) -> Flags:
    """Interface features of every substitution at chain residues ``ks`` (structure residues
    ``ri``) for one site: see the module doc."""
    ks = np.asarray(ks, dtype=np.int64)
    out = Flags(len(ks))
    ref = np.asarray(ref, dtype=object)
    ok_ref, ref_i, valid = _refs(ref)
    d = site.dist["min_dist"][ks] if len(ks) else np.zeros(0)
    finite = np.isfinite(d)
    if site.partner.kind == "metal":
        ligand = finite & (d <= site.cutoff)
        not_ch = ~np.isin(_ALT, ["C", "H"])[None, :]

        def ligand_text(r, a):
            for i in r:
                own = st.atom_name[int(site.dist["residue_atom"][ks[i]])]
                metal = st.res_name[int(site.dist["nearest_atom"][ks[i]])]
                yield f"{_res(st, int(ri[i]))} {own} {d[i]:.2f} A from {metal}"

        out.add("zinc ligand lost", valid & _rows(ligand) & not_ch, ligand_text)
        return out
    inside = finite & (d <= site.cutoff)
    facts = {i: _interface_facts(st, site, int(ri[i]), str(ref[i]))
             for i in np.flatnonzero(inside & ok_ref)}
    valid = valid & _rows(inside)
    hb, lost = _lost_bonds({i: f[0] for i, f in facts.items()}, ref, len(ks))
    out.add("interface H-bond broken", valid & hb, lambda r, a: (lost[i, j] for i, j in _ij(r, a)))
    cref = _CHG[ref_i]
    salty = np.zeros(len(ks), dtype=bool)
    salty[[i for i, f in facts.items() if f[1]]] = True
    out.add("interface salt bridge broken", valid & _rows(salty) & (_CHG[None, :] != _rows(cref)),
            lambda r, a: ("; ".join(facts[i][1][:4]) for i in r))
    out.add("interface charge switch", valid & (_rows(cref) * _CHG[None, :] < 0),
            lambda r, a: (f"{cref[i]:+d} -> {_CHG[j]:+d} in {site.name}" for i, j in _ij(r, a)))
    cov = np.array([site.covalent.get(int(k), "") for k in ks], dtype=object)
    out.add("covalent anchor lost", valid & _rows(cov != ""),
            lambda r, a: (f"{cov[i]} in {site.name}" for i in r))
    dv = _VOL[None, :] - _rows(_VOL[ref_i])
    lost_kind = {"dna": "DNA contact lost", "antibody": "antibody contact lost"}.get(site.partner.kind)
    if lost_kind:
        touching = np.zeros(len(ks), dtype=bool)
        touching[[i for i, f in facts.items() if f[2]]] = True
        out.add(lost_kind, valid & _rows(touching) & ~same_chemistry(ref),
                lambda r, a: ("side chain " + "; ".join(facts[i][2][:3]) for i in r))
    if site.partner.kind == "ligand":
        def contact(r, a):
            for i, j in _ij(r, a):
                what = "; ".join(facts[i][2][:3]) or f"{d[i]:.2f} A (backbone/CB)"
                yield f"{what}; volume change {dv[i, j]:+.0f} A^3"

        out.add("ligand contact lost", valid & (dv < 0), contact)
        out.add("ligand contact altered", valid & (dv >= 0), contact)
    out.add("interface hydrophobic bulk introduced", valid & _HPHOB[None, :] & (dv >= BULK_DV),
            lambda r, a: (f"{ref[i]}->{AA20[j]} {dv[i, j]:+.0f} A^3 in {site.name}" for i, j in _ij(r, a)))
    return out


def substitution_damage(env: ResidueEnvironment, k: int, ref: str, alt: str, rsa: float,
                        sasa: float, ss: str, ss_method: str) -> list[tuple[str, str]]:
    """Missense3D-style features of ``ref -> alt`` at chain residue ``k`` with their evidence."""
    if alt not in VOLUME:
        return []
    flags = substitution_flags(env, np.array([k]), np.array([ref], dtype=object), np.array([rsa]),
                               np.array([sasa]), np.array([ss]), ss_method)
    return flags.items(0, alt)


def interface_damage(st: Structure, site, k: int, ri: int, ref: str, alt: str) -> list[tuple[str, str]]:
    """Interface features of ``ref -> alt`` at chain residue ``k`` (structure residue ``ri``)."""
    if alt not in VOLUME:
        return []
    flags = interface_flags(st, site, np.array([k]), np.array([ri]), np.array([ref], dtype=object))
    return flags.items(0, alt)


def _res(st: Structure, ri: int) -> str:
    return f"{st.res_resname[ri]} {st.res_chain[ri]}{st.res_num[ri]}{st.res_icode[ri]}"


def _kind(ref: str, alt: str) -> str:
    dv = VOLUME[alt] - VOLUME[ref]
    kind = ("hydrophobic" if ref in HYDROPHOBIC else "hydrophilic") + " -> " + (
        "larger" if dv > 0 else "smaller" if dv < 0 else "same size")
    if alt in HYDROPHOBIC and ref in HYDROPHOBIC:
        kind += " hydrophobic"
    return f"{kind} ({dv:+.0f} A^3)"


_KIND = np.array([[_kind(r, a) for a in AA20] for r in AA20], dtype=object)


def context_matrix(ref: np.ndarray, rsa: np.ndarray) -> np.ndarray:
    """Burial and the kind of change of every substitution, flags or not, for residues x the
    20 alts, e.g. ``'buried (RSA 3 %); hydrophobic -> smaller (-51 A^3)'`` ('' for an unknown
    reference)."""
    ok, ref_i, _ = _refs(ref)
    prefix = np.array([f"{'buried' if r < BURIED else 'exposed'} (RSA {100 * r:.0f} %); " for r in rsa],
                      dtype=object)
    out = prefix[:, None] + _KIND[ref_i]
    out[~ok] = ""
    return out
