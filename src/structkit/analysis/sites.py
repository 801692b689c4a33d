"""Binding sites computed from the complexes themselves.

A site is the set of target-chain residues with any heavy atom within ``cutoff`` (default
4.0 A) of a partner's heavy atoms: the antibody Fab (heavy + light chains) that binds that
target chain, the ATP-site ligand (by chemical component ID), the DNA chains, or a metal ion
(coordinating residues, default ``metal_cutoff`` 3.0 A). Waters, ions other than the site's
metal, glycans and crystallisation additives (SO4, GOL, EDO, ...) are never partners.

In an RCSB assembly file (several models that are symmetry copies) partner atoms are taken from
every model and target residues from model 1, so a DNA contact made by a symmetry copy counts.

The per-structure work that uses them (numbering, sites, distances, SASA/RSA, secondary
structure, B-factor/pLDDT, damage environment) is ``structkit.analysis.analyze``, one floor up
in this folder (it imports this module, never the reverse).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..catalog import CatalogStructure, Partner
from ..cutoffs import BURIED_RSA, COVALENT_CUTOFF, DEFAULT_CUTOFF, DEFAULT_METAL_CUTOFF
from ..io.structure import Structure
from .neighbours import AtomSearch

__all__ = [
    "Site",
    "partner_atoms",
    "atom_label",
    "DEFAULT_CUTOFF",
    "DEFAULT_METAL_CUTOFF",
    "COVALENT_CUTOFF",
    "BURIED_RSA",
]



@dataclass
class Site:
    """A named site on one target chain and its per-residue distances to the partner."""

    name: str
    kind: str  # epitope | ligand | dna | metal
    partner: Partner
    chain: str
    cutoff: float
    partner_atoms: np.ndarray
    dist: dict[str, np.ndarray]  # per residue of the chain (ChainData order)
    covalent: dict[int, str] = field(default_factory=dict)  # chain residue k -> bond text
    note: str = ""
    nearest_label: np.ndarray = field(default=None, repr=False)  # per residue, 'B:TYR 57 CZ'
    covalent_text: np.ndarray = field(default=None, repr=False)  # per residue, '' if none
    structure: Structure | None = field(default=None, repr=False)

    @cached_property
    def partner_tree(self) -> AtomSearch:
        """Neighbour search over the partner atoms' coordinates (built on first use)."""
        return AtomSearch(self.structure.coord[self.partner_atoms])

    @property
    def in_site(self) -> np.ndarray:
        return self.dist["min_dist"] <= self.cutoff

    @property
    def partner_label(self) -> str:
        p = self.partner
        if p.kind == "antibody":
            return f"{p.name} (heavy {p.heavy}, light {p.light})"
        if p.kind == "ligand":
            return f"{p.name} ({', '.join(p.comp_ids) or 'any ligand'})"
        if p.kind == "dna":
            return f"{p.name} (chains {', '.join(p.chains)})"
        return f"{p.name} ({p.element})"


def atom_label(st: Structure, i: int) -> str:
    """``'B:TYR 100 OH'``-style label of atom ``i`` (author numbering; model if > 1)."""
    if i < 0:
        return ""
    m = f"model {st.model[i]} " if st.n_models > 1 else ""
    return f"{m}{st.chain[i]}:{st.res_name[i]} {st.res_seq[i]}{st.icode[i]} {st.atom_name[i]}"


def partner_atoms(st: Structure, partner: Partner) -> np.ndarray:
    """Atom indices of a partner; every model of an assembly file, else model 1."""
    models = st.model >= 1 if st.is_assembly else st.model == 1
    if partner.kind == "antibody":
        mask = np.isin(st.chain, [partner.heavy, partner.light]) & (st.kind == "protein")
        mask &= st.model == 1
    elif partner.kind == "ligand":
        mask = st.kind == "ligand"
        if partner.comp_ids:
            mask &= np.isin(st.res_name, list(partner.comp_ids))
        mask &= models
    elif partner.kind == "dna":
        mask = np.isin(st.chain, list(partner.chains)) & np.isin(st.kind, ["dna", "rna"]) & models
    elif partner.kind == "metal":
        mask = (st.kind == "ion") & (st.element == (partner.element or "").upper()) & models
    else:  # pragma: no cover - the catalog validates kinds
        raise ValueError(f"unknown partner kind {partner.kind!r}")
    return np.flatnonzero(mask)


def _site_name(p: Partner) -> str:
    if p.kind == "antibody":
        return f"{p.drug or p.name} epitope"
    if p.kind == "ligand":
        return f"{p.drug or p.name} ligand contacts"
    if p.kind == "dna":
        return "DNA interface"
    return f"{(p.element or 'metal').capitalize()} site"


def _covalent(st: Structure, res_idx: np.ndarray, patoms: np.ndarray) -> dict[int, str]:
    if not len(patoms):
        return {}
    from scipy.spatial import cKDTree

    tree = cKDTree(st.coord[patoms])
    out: dict[int, str] = {}
    for k, r in enumerate(res_idx):
        sl = np.arange(st.res_start[r], st.res_stop[r])
        d, j = tree.query(st.coord[sl], k=1, distance_upper_bound=COVALENT_CUTOFF)
        ok = np.isfinite(d)
        if ok.any():
            a = int(np.argmin(np.where(ok, d, np.inf)))
            pa = int(patoms[j[a]])
            out[k] = (f"{st.res_resname[r]} {st.res_num[r]}{st.res_icode[r]} {st.atom_name[sl[a]]}"
                      f" - {st.res_name[pa]} {st.atom_name[pa]} {d[a]:.2f} A")
    return out


def _auto_entry(st: Structure, accession: str) -> CatalogStructure:
    """A catalog-like entry for a structure the catalog does not know: partners by content."""
    partners: list[Partner] = []
    ligs = sorted({str(n) for n in st.res_name[st.kind == "ligand"]})
    for comp in ligs:
        partners.append(Partner(kind="ligand", name=comp, comp_ids=(comp,)))
    dna = st.chains(kind="dna")
    if dna:
        partners.append(Partner(kind="dna", name="DNA", chains=tuple(dna)))
    if ((st.kind == "ion") & (st.element == "ZN")).any():
        partners.append(Partner(kind="metal", name="zinc", element="ZN"))
    return CatalogStructure(id=st.id, target=accession, target_chains=(), partners=tuple(partners),
                            shows=st.title, notes="not in the catalog: partners found by content")

