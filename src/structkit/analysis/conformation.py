"""Kinase conformation of a structure, computed from its coordinates, and what a construct carries.

``kinase_state(entry)`` gives, per target chain of a kinase structure (the target's own or a
family stand-in), the two labels of Modi & Dunbrack 2019 (PNAS 116:6818), with the distances
they rest on:

- **alphaC-in / alphaC-out**: the Cbeta-Cbeta distance of the beta3 Lys and the alphaC Glu,
  ``ALPHAC_IN_A`` (10 A) or less is alphaC-in; the Lys NZ - Glu OE distance (the salt bridge
  of the active state, about 3 A) is reported beside it;
- **DFG-in / DFG-out / DFG-inter** from D1 = Calpha of the alphaC Glu + 4 to the DFG Phe Czeta
  and D2 = Calpha of the beta3 Lys to the DFG Phe Czeta: DFG-in when D1 <= 11 A and D2 >= 11 A,
  DFG-out when D1 > 11 A and D2 <= 14 A, DFG-inter when both are <= 11 A; otherwise unassigned.

The four residues are the target's kinase anatomy (``structkit.analysis.anatomy``: beta3 Lys, alphaC Glu,
DFG Asp + 1) placed on a stand-in's protein through the family alignment (HER2 K753, E770,
F864 are EGFR K745, E762, F856).

``construct_changes(entry)`` lists the residues where the structure's sequence differs from its
UniProt sequence (engineered or crystallised mutations such as EGFR T790M in 2JIV), in the
structure's protein numbering.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..catalog import catalog
from ..io.store import session_of
from ..io.uniprot import uniprot_record
from ..keywords import accepts_session
from .anatomy import anatomy
from .numbering import family_map
from .structure_analysis import analyze

if TYPE_CHECKING:
    from ..io.fetch import Fetcher

__all__ = ["KinaseState", "kinase_state", "construct_changes", "ALPHAC_IN_A", "DFG_D_A"]

ALPHAC_IN_A = 10.0  # Lys Cb - Glu Cb (Modi & Dunbrack 2019)
DFG_D_A = (11.0, 14.0)  # D1/D2 thresholds (Modi & Dunbrack 2019)


@dataclass(frozen=True)
class KinaseState:
    """The conformation of one chain (distances in A; NaN where an atom is unobserved)."""

    pdb_id: str
    chain: str
    alphac: str  # alphaC-in | alphaC-out | unassigned
    dfg: str  # DFG-in | DFG-out | DFG-inter | unassigned
    lys_glu_cb_A: float
    salt_bridge_A: float
    d1_A: float
    d2_A: float
    residues: str  # the four residues in the structure's protein numbering

    @property
    def label(self) -> str:
        return f"{self.alphac}, {self.dfg}"


def _kinase_residues(accession: str, fetcher) -> dict[str, int] | None:
    """beta3 Lys, alphaC Glu, DFG Phe and alphaC Glu + 4 in ``accession``'s UniProt numbering,
    from the kinase anatomy of the target itself or of the target it stands in for."""
    cat = catalog()
    acc = cat.target(accession).accession
    source = next((t for t in cat.targets if (t.anatomy or {}).get("kinase_domain")
                   and acc in (t.accession, t.family_reference)), None)
    if source is None:
        return None
    a = anatomy(source.accession, fetcher)
    named = {e.name: min(e.positions) for e in a.elements if e.kind == "catalytic" and e.positions}
    if not {"beta3 Lys", "alphaC Glu", "DFG Asp"} <= set(named):
        return None
    own = {"K": named["beta3 Lys"], "E": named["alphaC Glu"], "F": named["DFG Asp"] + 1,
           "E4": named["alphaC Glu"] + 4}
    if source.accession == acc:
        return own
    m = family_map(uniprot_record(source.accession, fetcher).sequence,
                   uniprot_record(acc, fetcher).sequence, fetcher.cache_dir)
    return {k: m[p] for k, p in own.items() if p in m} if all(p in m for p in own.values()) else None


def _atom(a, cd, position: int, names: tuple[str, ...]) -> np.ndarray | None:
    """Coordinates of the atoms ``names`` of the residue at ``position`` (None if unobserved)."""
    st = a.structure
    k = np.flatnonzero(cd.numbering.uniprot_pos == position)
    if not len(k):
        return None
    ri = int(cd.numbering.residue_indices[k[0]])
    a0, a1 = int(st.res_start[ri]), int(st.res_stop[ri])
    hit = np.flatnonzero(np.isin(st.atom_name[a0:a1], names))
    return st.coord[a0 + hit] if len(hit) else None


def _dist(x, y) -> float:
    if x is None or y is None:
        return float("nan")
    return float(np.min(np.linalg.norm(x[:, None, :] - y[None, :, :], axis=2)))


@accepts_session
def kinase_state(entry, fetcher: Fetcher | None = None) -> list[KinaseState]:
    """Conformation of each target chain of a kinase structure (catalog entry or ID); [] when
    the structure's protein has no kinase anatomy or the file cannot be read.

    Examples
    --------
    >>> [s.label for s in kinase_state("1XKK")]      # lapatinib needs the inactive alphaC
    ['alphaC-out, DFG-in']
    """
    fetcher = session_of(fetcher)
    entry = catalog().structure(entry) if isinstance(entry, str) else entry
    memo = fetcher.cache("kinase_state")
    if entry.id in memo:
        return memo[entry.id]
    res = _kinase_residues(entry.target, fetcher)
    out: list[KinaseState] = []
    if res is not None:
        a = analyze(entry, entry.target, fetcher=fetcher)
        seq = uniprot_record(entry.target, fetcher).sequence
        for ch, cd in a.chains.items():
            kcb, ecb = _atom(a, cd, res["K"], ("CB",)), _atom(a, cd, res["E"], ("CB",))
            nz, oe = _atom(a, cd, res["K"], ("NZ",)), _atom(a, cd, res["E"], ("OE1", "OE2"))
            f_cz = _atom(a, cd, res["F"], ("CZ",))
            d_kc = _dist(kcb, ecb)
            d1 = _dist(_atom(a, cd, res["E4"], ("CA",)), f_cz)
            d2 = _dist(_atom(a, cd, res["K"], ("CA",)), f_cz)
            alphac = ("unassigned" if np.isnan(d_kc) else
                      "alphaC-in" if d_kc <= ALPHAC_IN_A else "alphaC-out")
            lo, hi = DFG_D_A
            if np.isnan(d1) or np.isnan(d2):
                dfg = "unassigned"
            elif d1 <= lo and d2 >= lo:
                dfg = "DFG-in"
            elif d1 > lo and d2 <= hi:
                dfg = "DFG-out"
            elif d1 <= lo and d2 <= lo:
                dfg = "DFG-inter"
            else:
                dfg = "unassigned"
            names = ", ".join(f"{seq[p - 1]}{p}" for p in (res["K"], res["E"], res["F"], res["E4"]))
            out.append(KinaseState(entry.id, ch, alphac, dfg, round(d_kc, 2), round(_dist(nz, oe), 2),
                                   round(d1, 2), round(d2, 2), names))
    memo[entry.id] = out
    return out


def construct_changes(entry, fetcher: Fetcher | None = None) -> list[str]:
    """Residues where the structure's target chains differ from UniProt (``T790M``, in the
    structure's protein numbering), in order; a change seen in any chain counts once."""
    fetcher = session_of(fetcher)
    entry = catalog().structure(entry) if isinstance(entry, str) else entry
    memo = fetcher.cache("construct_changes")
    if entry.id not in memo:
        a = analyze(entry, entry.target, fetcher=fetcher)
        seq = uniprot_record(entry.target, fetcher).sequence
        seen: dict[int, str] = {}
        for cd in a.chains.values():
            for p, aa in zip(cd.numbering.uniprot_pos.tolist(), np.asarray(cd.aa).tolist(), strict=True):
                if 0 < p <= len(seq) and isinstance(aa, str) and len(aa) == 1 and aa != "X" \
                        and aa != seq[p - 1]:
                    seen.setdefault(p, f"{seq[p - 1]}{p}{aa}")
        memo[entry.id] = [seen[p] for p in sorted(seen)]
    return memo[entry.id]
