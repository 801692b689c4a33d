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
Gly in a bend                Gly in a DSSP bend ('S'; needs mkdssp's 8 states) replaced
secondary structure altered  Pro introduced into a helix or strand (H G I E), or Gly into a helix
                             (H): an estimate, no mutant model
===========================  =====================================================================

Beyond Missense3D, for each site (antibody, ligand, DNA, metal): **interface H-bond broken**
(a side-chain donor/acceptor <= 3.5 A from a partner N/O, through an atom the alt lacks), **interface
salt bridge broken** (K/R to partner D/E or DNA phosphate, D/E to partner K/R, <= 4.0 A),
**interface charge switch**, **zinc ligand lost** (a coordinating residue replaced by one that
is neither Cys nor His), **zinc region** (within 6 A of the zinc), **ligand contact lost** /
**ligand contact altered** (side-chain atoms within the cut-off of the ligand; alt smaller or
larger), **covalent anchor lost** (the residue is covalently bonded to the ligand, e.g. C797 to
neratinib), **interface hydrophobic bulk introduced** (alt hydrophobic and >= 50 A^3 larger).

``context`` describes every substitution whatever its flags: burial, hydrophobicity and the
volume change (e.g. ``buried; hydrophobic -> smaller (-51 A^3)``).

Every flag comes with evidence (the bond, the RSA, the angle, the atoms) so it can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from .measure import BACKBONE
from .structure import Structure, one_letter

__all__ = ["FEATURES", "INTERFACE_FEATURES", "VOLUME", "ResidueEnvironment", "environment",
           "substitution_damage", "interface_damage", "describe", "context"]

FEATURES = (
    "buried/exposed switch", "disulfide breakage", "buried Pro introduced", "buried Gly replaced",
    "buried hydrophilic introduced", "buried charge introduced", "charge switch",
    "buried charge replaced", "buried H-bond breakage", "buried salt bridge breakage",
    "cavity altered", "clash", "disallowed phi/psi", "cis-Pro replaced", "Gly in a bend",
    "secondary structure altered",
)
INTERFACE_FEATURES = (
    "interface H-bond broken", "interface salt bridge broken", "interface charge switch",
    "zinc ligand lost", "zinc region", "ligand contact lost", "ligand contact altered",
    "covalent anchor lost",
    "interface hydrophobic bulk introduced",
)
BURIED = 0.09
CAVITY_DV = 70.0
CLASH_DIST = 2.5
HBOND_DIST = 3.5
SALT_DIST = 4.0
SS_DIST = 2.5
ZINC_REGION = 6.0
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

def _label(st: Structure, a: int) -> str:
    return f"{st.atom_name[a]} {st.res_name[a]} {st.chain[a]}{st.res_seq[a]}{st.icode[a]}"


@dataclass
class ResidueEnvironment:
    """Per-residue structural context of one chain (arrays in the chain's residue order)."""

    phi: np.ndarray
    psi: np.ndarray
    omega: np.ndarray
    cis: np.ndarray
    hbonds: list[list[tuple[str, str]]]  # per residue: (own side-chain atom, evidence)
    salt_bridges: list[str]
    disulfide: list[str]
    centroid_dist: dict[str, float]  # residue type -> mean CA-side-chain-centroid distance (A)
    cb_dir: np.ndarray  # unit CA->CB (ideal CB for Gly), per residue
    ca: np.ndarray
    others: cKDTree = field(repr=False)
    other_atoms: np.ndarray = field(repr=False)
    owner: np.ndarray = field(repr=False)  # chain residue k of each atom in ``others``
    structure: Structure | None = field(repr=False, default=None)

    def label(self, j: int) -> str:
        """Evidence label of atom ``j`` of ``others``."""
        return _label(self.structure, int(self.other_atoms[j]))
    cache: dict = field(default_factory=dict, repr=False)


def _dihedral(p0, p1, p2, p3) -> np.ndarray:
    b0, b1, b2 = p0 - p1, p2 - p1, p3 - p2
    b1n = b1 / np.linalg.norm(b1, axis=-1, keepdims=True)
    v = b0 - np.sum(b0 * b1n, axis=-1, keepdims=True) * b1n
    w = b2 - np.sum(b2 * b1n, axis=-1, keepdims=True) * b1n
    x = np.sum(v * w, axis=-1)
    y = np.sum(np.cross(b1n, v) * w, axis=-1)
    return np.degrees(np.arctan2(y, x))


def environment(st: Structure, res_idx: np.ndarray) -> ResidueEnvironment:
    """Backbone angles, side-chain H-bonds, salt bridges, disulfides of a chain (model 1)."""
    from .measure import _backbone

    n = len(res_idx)
    bb = _backbone(st, res_idx)  # N CA C O
    N, CA, C = bb[:, 0], bb[:, 1], bb[:, 2]
    linked = np.zeros(n, dtype=bool)  # peptide bond between k-1 and k
    linked[1:] = np.linalg.norm(C[:-1] - N[1:], axis=1) <= 2.0
    phi = np.full(n, np.nan)
    psi = np.full(n, np.nan)
    omega = np.full(n, np.nan)
    with np.errstate(invalid="ignore"):
        phi[1:] = np.where(linked[1:], _dihedral(C[:-1], N[1:], CA[1:], C[1:]), np.nan)
        psi[:-1] = np.where(linked[1:], _dihedral(N[:-1], CA[:-1], C[:-1], N[1:]), np.nan)
        omega[1:] = np.where(linked[1:], _dihedral(CA[:-1], C[:-1], N[1:], CA[1:]), np.nan)
    cis = np.abs(omega) < 30.0

    atoms = np.concatenate([np.arange(st.res_start[r], st.res_stop[r]) for r in res_idx])
    owner = np.repeat(np.arange(n), st.res_stop[res_idx] - st.res_start[res_idx])
    names = st.atom_name[atoms]
    aa = np.array([one_letter(str(x)) for x in st.res_resname[res_idx]])
    res_aa = aa[owner]
    is_donor = np.array([nm in DONORS.get(a, ()) for nm, a in zip(names, res_aa, strict=True)])
    is_acc = np.array([nm in ACCEPTORS.get(a, ()) for nm, a in zip(names, res_aa, strict=True)])
    bb_n = names == "N"
    bb_o = (names == "O") | (names == "OXT")
    tree = cKDTree(st.coord[atoms])
    hbonds: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    for i in np.flatnonzero(is_donor | is_acc):
        for j in tree.query_ball_point(st.coord[atoms[i]], HBOND_DIST):
            if owner[j] == owner[i]:
                continue
            d = float(np.linalg.norm(st.coord[atoms[i]] - st.coord[atoms[j]]))
            if d < 2.5:
                continue
            if (is_donor[i] and (is_acc[j] or bb_o[j])) or (is_acc[i] and (is_donor[j] or bb_n[j])):
                hbonds[owner[i]].append((str(names[i]), f"{names[i]}-{_label(st, atoms[j])} {d:.2f} A"))
    salt = [""] * n
    neg = np.array([nm in ("OD1", "OD2", "OE1", "OE2") and a in "DE"
                    for nm, a in zip(names, res_aa, strict=True)])
    pos = np.array([nm in ("NZ", "NE", "NH1", "NH2") and a in "KR"
                    for nm, a in zip(names, res_aa, strict=True)])
    for i in np.flatnonzero(neg | pos):
        for j in tree.query_ball_point(st.coord[atoms[i]], SALT_DIST):
            if (neg[i] and pos[j]) or (pos[i] and neg[j]):
                k = owner[i]
                d = float(np.linalg.norm(st.coord[atoms[i]] - st.coord[atoms[j]]))
                text = f"{names[i]}-{_label(st, atoms[j])} {d:.2f} A"
                if text not in salt[k]:
                    salt[k] += f"{'; ' if salt[k] else ''}{text}"
    ssb = [""] * n
    sg = np.flatnonzero((names == "SG") & (res_aa == "C"))
    for i in sg:
        for j in sg:
            if i != j:
                d = float(np.linalg.norm(st.coord[atoms[i]] - st.coord[atoms[j]]))
                if d <= SS_DIST:
                    ssb[owner[i]] = f"SG-{_label(st, atoms[j])} {d:.2f} A"
    # side-chain centroids: mean CA-centroid distance per residue type, measured here
    cents: dict[str, list[float]] = {}
    sc = ~np.isin(names, list(BACKBONE))
    for k in range(n):
        m = (owner == k) & sc
        if m.any() and not np.isnan(CA[k]).any():
            cents.setdefault(aa[k], []).append(float(np.linalg.norm(
                st.coord[atoms[m]].mean(axis=0) - CA[k])))
    centroid = {a: float(np.mean(v)) for a, v in cents.items()}
    cbd = np.full((n, 3), np.nan)
    for k in range(n):
        m = (owner == k) & (names == "CB")
        if m.any():
            cbd[k] = st.coord[atoms[m]][0] - CA[k]
        elif not np.isnan(bb[k]).any():  # ideal CB from the backbone (Gly)
            b, c = CA[k] - N[k], C[k] - CA[k]
            a = np.cross(b, c)
            cbd[k] = -0.58273431 * a + 0.56802827 * b - 0.54067466 * c
    cbd /= np.linalg.norm(cbd, axis=1, keepdims=True)
    return ResidueEnvironment(phi, psi, omega, cis, hbonds, salt, ssb, centroid, cbd,
                              CA, tree, atoms, owner, st)


def _clash(env: ResidueEnvironment, k: int, alt: str) -> str:
    d = env.centroid_dist.get(alt)
    if d is None or np.isnan(env.cb_dir[k]).any():
        return ""
    p = env.ca[k] + env.cb_dir[k] * d
    for j in env.others.query_ball_point(p, CLASH_DIST):
        if abs(int(env.owner[j]) - k) > 1:
            dist = float(np.linalg.norm(env.others.data[j] - p))
            return f"alt side-chain pseudo-atom {dist:.2f} A from {env.label(j)}"
    return ""


def substitution_damage(env: ResidueEnvironment, k: int, ref: str, alt: str, rsa: float,
                        sasa: float, ss: str, ss_method: str) -> list[tuple[str, str]]:
    """Missense3D-style features of ``ref -> alt`` at chain residue ``k`` with their evidence."""
    from .measure import TIEN2013_THEORETICAL

    out: list[tuple[str, str]] = []
    if alt not in VOLUME or ref not in VOLUME or alt == ref:
        return out
    buried = bool(rsa < BURIED)
    rsa_txt = f"RSA {100 * rsa:.1f} %"
    est = sasa / TIEN2013_THEORETICAL[alt]
    if (rsa < BURIED) != (est < BURIED):
        out.append(("buried/exposed switch", f"{rsa_txt} -> estimated {100 * est:.1f} %"))
    if ref == "C" and env.disulfide[k]:
        out.append(("disulfide breakage", env.disulfide[k]))
    if buried and alt == "P":
        out.append(("buried Pro introduced", rsa_txt))
    if buried and ref == "G":
        out.append(("buried Gly replaced", rsa_txt))
    if buried and ref in HYDROPHOBIC and alt in HYDROPHILIC:
        out.append(("buried hydrophilic introduced", f"{rsa_txt}; {ref} hydrophobic -> {alt}"))
    cr, ca = CHARGE.get(ref, 0), CHARGE.get(alt, 0)
    if buried and cr == 0 and ca != 0:
        out.append(("buried charge introduced", f"{rsa_txt}; charge {ca:+d}"))
    if buried and cr * ca < 0:
        out.append(("charge switch", f"{rsa_txt}; {cr:+d} -> {ca:+d}"))
    if buried and cr != 0 and ca == 0:
        out.append(("buried charge replaced", f"{rsa_txt}; charge {cr:+d} lost"))
    lost = [t for atom, t in env.hbonds[k] if atom not in SIDECHAIN[alt]]
    if buried and lost:
        out.append(("buried H-bond breakage", f"{rsa_txt}; " + "; ".join(lost[:4])))
    if buried and env.salt_bridges[k] and CHARGE.get(alt, 0) != cr:
        out.append(("buried salt bridge breakage", f"{rsa_txt}; {env.salt_bridges[k]}"))
    dv = VOLUME[alt] - VOLUME[ref]
    if buried and abs(dv) >= CAVITY_DV:
        out.append(("cavity altered", f"{rsa_txt}; volume change {dv:+.0f} A^3 (Zamyatnin residue "
                                      "volumes)"))
    if buried and dv > 0:
        hit = _clash(env, k, alt)
        if hit:
            out.append(("clash", f"{rsa_txt}; {hit} (modelled pseudo-atom)"))
    phi = env.phi[k]
    if ref == "G" and alt != "G" and phi > 0:
        out.append(("disallowed phi/psi", f"Gly with phi {phi:.0f}, psi {env.psi[k]:.0f}"))
    if alt == "P" and not np.isnan(phi) and not -90 <= phi <= -40:
        out.append(("disallowed phi/psi", f"Pro needs phi -90..-40; phi here {phi:.0f}"))
    if ref == "P" and env.cis[k]:
        out.append(("cis-Pro replaced", f"omega {env.omega[k]:.0f}"))
    if ref == "G" and ss == "S":
        out.append(("Gly in a bend", f"DSSP {ss} ({ss_method})"))
    if (alt == "P" and ss in "HGIE" and ss not in "-?") or (alt == "G" and ss == "H"):
        out.append(("secondary structure altered", f"{alt} into DSSP {ss} ({ss_method}); estimate"))
    return out


def interface_damage(st: Structure, site, k: int, ri: int, ref: str, alt: str) -> list[tuple[str, str]]:
    """Interface features of ``ref -> alt`` at chain residue ``k`` (structure residue ``ri``)."""
    out: list[tuple[str, str]] = []
    if alt not in VOLUME or ref not in VOLUME or alt == ref:
        return out
    d = site.dist["min_dist"][k]
    if not np.isfinite(d):
        return out
    kind = site.partner.kind
    if kind == "metal":
        if d <= site.cutoff and alt not in "CH":
            own = st.atom_name[int(site.dist["residue_atom"][k])]
            metal = st.res_name[int(site.dist["nearest_atom"][k])]
            out.append(("zinc ligand lost", f"{_res(st, ri)} {own} {d:.2f} A from {metal}"))
        elif d <= ZINC_REGION and d > site.cutoff:
            out.append(("zinc region", f"{d:.2f} A from the zinc"))
        return out
    if d > site.cutoff:
        return out
    patoms = site.partner_atoms
    sl = np.arange(st.res_start[ri], st.res_stop[ri])
    names = st.atom_name[sl]
    sc = ~np.isin(names, list(BACKBONE) + ["CB"])
    ptree = site.damage_cache.get("partner_tree")
    if ptree is None:  # one KD-tree per site, reused for every substitution
        ptree = site.damage_cache["partner_tree"] = cKDTree(st.coord[patoms])
    pel = st.element[patoms]
    pname = st.atom_name[patoms]
    presn = st.res_name[patoms]
    bonds, salts = [], []
    for a in sl[sc]:
        nm = st.atom_name[a]
        polar = nm in DONORS.get(ref, ()) or nm in ACCEPTORS.get(ref, ())
        for j in ptree.query_ball_point(st.coord[a], SALT_DIST):
            dist = float(np.linalg.norm(st.coord[a] - st.coord[patoms[j]]))
            partner = _label(st, int(patoms[j]))
            if polar and pel[j] in ("N", "O") and dist <= HBOND_DIST:
                bonds.append((str(nm), f"{nm}-{partner} {dist:.2f} A"))
            acidic = pname[j] in ("OP1", "OP2", "O1P", "O2P") or (
                presn[j] in ("ASP", "GLU") and pname[j] in ("OD1", "OD2", "OE1", "OE2"))
            basic = presn[j] in ("LYS", "ARG") and pname[j] in ("NZ", "NE", "NH1", "NH2")
            if (CHARGE.get(ref) == 1 and nm in ("NZ", "NE", "NH1", "NH2") and acidic) or (
                    CHARGE.get(ref) == -1 and nm in ("OD1", "OD2", "OE1", "OE2") and basic):
                salts.append(f"{nm}-{partner} {dist:.2f} A")
    lost = [t for atom, t in bonds if atom not in SIDECHAIN[alt]]
    if lost:
        out.append(("interface H-bond broken", "; ".join(lost[:4])))
    if salts and CHARGE.get(alt, 0) != CHARGE.get(ref, 0):
        out.append(("interface salt bridge broken", "; ".join(salts[:4])))
    if CHARGE.get(ref, 0) * CHARGE.get(alt, 0) < 0:
        out.append(("interface charge switch", f"{CHARGE[ref]:+d} -> {CHARGE[alt]:+d} in {site.name}"))
    dv = VOLUME[alt] - VOLUME[ref]
    cov = site.covalent.get(int(k), "")
    if cov:
        out.append(("covalent anchor lost", f"{cov} in {site.name}"))
    if kind == "ligand":
        close = [f"{st.atom_name[a]}-{_label(st, int(patoms[j]))} {dd:.2f} A" for a in sl[sc]
                 for dd, j in [ptree.query(st.coord[a])] if dd <= site.cutoff]
        if close or d <= site.cutoff:
            what = "; ".join(close[:3]) or f"{d:.2f} A (backbone/CB)"
            out.append(("ligand contact lost" if dv < 0 else "ligand contact altered",
                        f"{what}; volume change {dv:+.0f} A^3"))
    if alt in HYDROPHOBIC and dv >= BULK_DV:
        out.append(("interface hydrophobic bulk introduced", f"{ref}->{alt} {dv:+.0f} A^3 in {site.name}"))
    return out


def _res(st: Structure, ri: int) -> str:
    return f"{st.res_resname[ri]} {st.res_chain[ri]}{st.res_num[ri]}{st.res_icode[ri]}"


def context(ref: str, alt: str, rsa: float) -> str:
    """Burial and the kind of change, for every substitution (flags or not)."""
    if ref not in VOLUME or alt not in VOLUME:
        return ""
    dv = VOLUME[alt] - VOLUME[ref]
    where = "buried" if rsa < BURIED else "exposed"
    kind = ("hydrophobic" if ref in HYDROPHOBIC else "hydrophilic") + " -> " + (
        "larger" if dv > 0 else "smaller" if dv < 0 else "same size")
    if alt in HYDROPHOBIC and ref in HYDROPHOBIC:
        kind += " hydrophobic"
    return f"{where} (RSA {100 * rsa:.0f} %); {kind} ({dv:+.0f} A^3)"


def describe(features: list[tuple[str, str]]) -> tuple[str, str]:
    """('none' or 'a; b', evidence text) for a list of (feature, evidence)."""
    if not features:
        return "none", ""
    names = list(dict.fromkeys(f for f, _ in features))
    return "; ".join(names), " | ".join(f"{f}: {e}" for f, e in features)
