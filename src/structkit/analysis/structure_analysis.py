"""Per-structure analysis: everything computed once for a structure and a target protein.

``analyze(structure_or_id)`` runs the steps, chain by chain: number the chain onto UniProt
(``numbering``), find each partner's site and the distance of every residue to it (``sites``,
``measure``), SASA/RSA and secondary structure (``measure``, ``dssp``), B-factor or pLDDT, and
the damage environment (``damage``). The result (``StructureAnalysis`` with one ``ChainData``
per target chain) is kept in the session's store, so a variant then costs a lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..catalog import CatalogStructure, catalog
from ..cutoffs import resolve_cutoffs
from ..io.derived import cached, entry_key
from ..io.resolve import load
from ..io.store import session_of
from ..io.structure import Structure, one_letter
from ..io.uniprot import uniprot_record
from ..keywords import accepts_session
from .damage import BondLists, ResidueEnvironment, environment
from .measure import (
    relative_sasa,
    residue_bfactor,
    residue_distances,
    residue_sasa,
    secondary_structure,
)
from .neighbours import AtomSearch
from .numbering import ChainNumbering, number_structure
from .sites import Site, _auto_entry, _covalent, _site_name, atom_label, partner_atoms

if TYPE_CHECKING:
    from ..io.fetch import Fetcher

__all__ = ["ChainData", "StructureAnalysis", "analyze"]


@dataclass
class ChainData:
    """Per-residue data of one target chain (model 1), in file order."""

    numbering: ChainNumbering
    sasa: np.ndarray
    rsa: np.ndarray
    ss: np.ndarray
    bfactor: np.ndarray
    sites: list[Site]
    pos_to_k: np.ndarray  # UniProt position -> residue k (or -1)
    aa: np.ndarray = field(default=None, repr=False)  # one-letter code per residue (object)
    ss_method: str = ""
    env: ResidueEnvironment | None = field(default=None, repr=False)
    tables: dict = field(default_factory=dict, repr=False)  # derived lookup tables (impact)


@dataclass
class StructureAnalysis:
    """Everything computed once per structure."""

    entry: CatalogStructure
    structure: Structure
    accession: str
    uniprot_seq: str
    chains: dict[str, ChainData]
    cutoff: float
    metal_cutoff: float
    notes: list[str] = field(default_factory=list)

    @property
    def sites(self) -> list[Site]:
        return [s for c in self.chains.values() for s in c.sites]

    def site_table(self) -> pd.DataFrame:
        """One row per site residue: UniProt and author numbering, nearest partner atom, distance.

        Examples
        --------
        p53 K120 reaches into the major groove (Cho et al. 1994); C176, H179, C238 and C242
        hold the zinc ion:

        >>> t = analyze("1TSR").site_table()
        >>> t[t.uniprot_pos == 120][["site", "author_num", "residue_atom",
        ...                          "nearest_partner_atom", "min_dist_A"]]
                    site  author_num residue_atom nearest_partner_atom  min_dist_A
        1  DNA interface         120           NZ             F:G 8 O6        2.41
        >>> t[t.site_kind == "metal"].uniprot_pos.tolist()
        [176, 179, 238, 242]
        """
        st = self.structure
        rows = []
        for ch, cd in self.chains.items():
            num = cd.numbering
            for site in cd.sites:
                for k in np.flatnonzero(site.in_site):
                    ri = int(num.residue_indices[k])
                    pa = int(site.dist["nearest_atom"][k])
                    pos = int(num.uniprot_pos[k])
                    rows.append({
                        "pdb_id": st.id, "site": site.name, "site_kind": site.kind,
                        "partner": site.partner_label, "chain": ch,
                        "uniprot_pos": pos if pos > 0 else None,
                        "uniprot_res": self.uniprot_seq[pos - 1] if pos > 0 else None,
                        "author_num": int(st.res_num[ri]), "icode": str(st.res_icode[ri]),
                        "res_name": str(st.res_resname[ri]),
                        "residue_atom": str(st.atom_name[int(site.dist["residue_atom"][k])]),
                        "nearest_partner_atom": atom_label(st, pa),
                        "min_dist_A": round(float(site.dist["min_dist"][k]), 2),
                        "n_contacts": int(site.dist["n_contacts"][k]),
                        "covalent_bond": site.covalent.get(int(k), ""),
                        "cutoff_A": site.cutoff, "numbering_method": num.method,
                    })
        return pd.DataFrame(rows)


@accepts_session
def analyze(source: str | Structure | CatalogStructure, accession: str | None = None, *,
            cutoff: float | None = None, metal_cutoff: float | None = None,
            fetcher: Fetcher | None = None) -> StructureAnalysis:
    """Per-structure precomputation, kept in the session's store (``session.cache``) by
    structure, accession and cut-offs: a repeated call costs a lookup.

    ``source`` is a catalog entry, a PDB ID / ``AF-<accession>`` (catalog entry used when
    there is one) or a loaded ``Structure``. ``accession`` defaults to the catalog's target.

    Examples
    --------
    >>> a = analyze("1TSR")
    >>> list(a.chains), [s.name for s in a.sites]
    (['B'], ['DNA interface', 'Zn site'])
    """
    fetcher = session_of(fetcher)
    if cutoff is None or metal_cutoff is None:  # the session's, else the defaults
        cutoff, metal_cutoff = resolve_cutoffs(fetcher, cutoff, metal_cutoff)
    with fetcher.lock:  # threads sharing a session take turns (see Fetcher.lock)
        return _analyze(source, accession, cutoff, metal_cutoff, fetcher)


def _dssp_method(fetcher) -> str:
    """The secondary-structure method of the session (``Fetcher.dssp``, read from
    ``$STRUCTKIT_DSSP`` when the session was made). Part of the analysis key, so that two
    sessions with different methods never share an analysis."""
    return fetcher.dssp


def _result_key(fetcher, cutoff: float, metal_cutoff: float) -> tuple[float, float, str]:
    """The settings an analysis is keyed with (``Settings.result_key``: cut-offs and DSSP
    method), with this call's cut-offs."""
    return (float(cutoff), float(metal_cutoff), _dssp_method(fetcher))


def _analyze(source, accession, cutoff, metal_cutoff, fetcher) -> StructureAnalysis:
    cat = catalog()
    analyses, by_id = fetcher.cache("analyses"), fetcher.cache("analyses_by_id")
    fast_key = None
    if isinstance(source, (str, CatalogStructure)):
        # a repeated call costs a dictionary lookup: no file is read or checked again
        sid = source.id if isinstance(source, CatalogStructure) else source.upper()
        fast_key = (sid, accession, *_result_key(fetcher, cutoff, metal_cutoff))
        if fast_key in by_id:
            return by_id[fast_key]
    if isinstance(source, Structure):
        st, entry = source, (None if source.user_file else cat.find(source.id))
    else:
        entry = source if isinstance(source, CatalogStructure) else cat.find(source)
        st = (load(entry.id, fetcher=fetcher, assembly=entry.assembly) if entry is not None
              else load(str(source), fetcher=fetcher))
    if accession is None:
        if entry is None:
            raise ValueError(f"{st.id} ({st.path}) is not in the catalog: name the UniProt accession "
                             "of its target (accession=..., or --accession on the command line)")
        accession = entry.target
    accession = cat.target(accession).accession if _known(accession) else accession
    if entry is None or entry.target != accession:
        entry = _auto_entry(st, accession)
    key = (st.path, st.id, accession, *_result_key(fetcher, cutoff, metal_cutoff))
    if key in analyses:
        if fast_key is not None:
            by_id[fast_key] = analyses[key]
        return analyses[key]
    useq = uniprot_record(accession, fetcher).sequence
    disk = fetcher.cache_dir
    numbering = _numbering(st, accession, useq, list(entry.target_chains) or None, disk)
    chains: dict[str, ChainData] = {}
    notes: list[str] = list(st.notes)
    # DSSP for every target chain together (sheets between chains count), then split per chain
    ss_all, ss_method = _secondary_structure(
        st, np.concatenate([n.residue_indices for n in numbering.values()]), _dssp_method(fetcher),
        disk)
    starts = np.cumsum([0] + [len(n.residue_indices) for n in numbering.values()])
    for (ch, num), start in zip(numbering.items(), starts.tolist(), strict=False):
        ri = num.residue_indices
        sasa = residue_sasa(st, ri, cache_dir=fetcher.cache_dir)
        rsa = relative_sasa(st, ri, sasa)
        ss = ss_all[start:start + len(ri)]
        bf = residue_bfactor(st, ri)
        sites = []
        for p in entry.partners:
            if p.kind == "antibody" and p.binds and p.binds != ch:
                continue
            pa = partner_atoms(st, p)
            c = metal_cutoff if p.kind == "metal" else cutoff
            note = "" if len(pa) else f"partner {p.name} not found in {st.id}"
            if note and note not in notes:
                notes.append(note)
            d, cov, labels = _site_measures(st, ri, pa, c, p.kind == "ligand", disk)
            cov_text = np.array([cov.get(k, "") for k in range(len(ri))], dtype=object)
            sites.append(Site(_site_name(p), "epitope" if p.kind == "antibody" else p.kind,
                              p, ch, c, pa, d, cov, note, labels, cov_text, st))
        p2k = np.full(len(useq) + 2, -1, dtype=np.int64)
        ok = (num.uniprot_pos > 0) & (num.uniprot_pos <= len(useq))
        # first residue wins if a position occurs twice (should not happen)
        for k in np.flatnonzero(ok)[::-1]:
            p2k[num.uniprot_pos[k]] = k
        aa = np.array([one_letter(str(n)) for n in st.res_resname[ri]], dtype=object)
        chains[ch] = ChainData(num, sasa, rsa, ss, bf, sites, p2k, aa, ss_method,
                               _environment(st, ri, disk))
    result = StructureAnalysis(entry, st, accession, useq, chains, cutoff, metal_cutoff, notes)
    analyses[key] = result
    if fast_key is not None:
        by_id[fast_key] = result
    return result


def _known(accession: str) -> bool:
    try:
        catalog().target(accession)
        return True
    except KeyError:
        return False


# ------------------------------------------------------------------ steps kept on disk
# Each step below is a pure function of the structure's content (``content_digest``) and its
# arguments; with a cache directory its result is kept under ``<cache>/derived/<step>/``
# (``structkit.io.derived``: keyed with the structkit version, checked on read, rebuilt when
# damaged), so that a fresh process analyses a structure it has seen in milliseconds. Results
# are the same arrays and texts as computing afresh (test_derived.py).


def content_digest(st: Structure) -> str:
    """SHA-256 over everything of ``st`` an analysis reads: atom and residue arrays, the
    reference records and the ID (kept on the object once computed)."""
    d = st.__dict__.get("_content_digest")
    if d is None:
        import hashlib

        h = hashlib.sha256(repr((st.id, st.refs, st.seqdifs, st.seqres, st.is_alphafold,
                                 st.n_models)).encode())
        for f in ("coord", "model", "chain", "res_seq", "icode", "res_name", "atom_name",
                  "element", "b_factor", "occupancy", "kind", "res_index", "res_model",
                  "res_chain", "res_num", "res_icode", "res_resname", "res_kind", "res_start",
                  "res_stop"):
            a = np.ascontiguousarray(getattr(st, f))
            h.update(f"{f}:{a.dtype.str}:{a.shape}".encode())
            h.update(a.tobytes())
        d = st.__dict__["_content_digest"] = h.hexdigest()
    return d


def _idx_digest(*arrays: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(b"|".join(np.ascontiguousarray(a, dtype=np.int64).tobytes()
                                    for a in arrays)).hexdigest()


def _numbering(st: Structure, accession: str, useq: str, chains, disk) -> dict[str, ChainNumbering]:
    """``number_structure``, kept on disk: per chain its method, identity, construct, notes,
    residue indices and UniProt positions."""
    if disk is None:
        return number_structure(st, accession, useq, chains)
    import hashlib

    key = entry_key("numbering", content_digest(st), accession.upper(),
                    hashlib.sha256(useq.encode()).hexdigest(), repr(chains))

    def compute() -> dict:
        num = number_structure(st, accession, useq, chains)
        meta = [{"chain": c, "method": n.method, "identity": n.identity,
                 "construct": list(n.construct), "notes": n.notes, "n": len(n.residue_indices)}
                for c, n in num.items()]
        return {"residue_indices": np.concatenate([n.residue_indices for n in num.values()]),
                "uniprot_pos": np.concatenate([n.uniprot_pos for n in num.values()]),
                "meta": meta}

    def fits(d: dict) -> bool:
        total = sum(int(m["n"]) for m in d["meta"])
        ri = d["residue_indices"]
        return (len(ri) == len(d["uniprot_pos"]) == total
                and (total == 0 or (int(ri.min()) >= 0 and int(ri.max()) < len(st.res_num))))

    d = cached(disk, "numbering", key, compute, fits)
    out, start = {}, 0
    for m in d["meta"]:
        n = int(m["n"])
        out[m["chain"]] = ChainNumbering(
            st.id, m["chain"], accession.upper(), m["method"], float(m["identity"]),
            d["residue_indices"][start:start + n], d["uniprot_pos"][start:start + n],
            tuple(m["construct"]), list(m["notes"]), st, useq)
        start += n
    return out


def _secondary_structure(st: Structure, ri: np.ndarray, method: str, disk) -> tuple[np.ndarray, str]:
    """``secondary_structure``; structkit's own DSSP (deterministic) kept on disk; mkdssp and
    pydssp (external programs that may come and go) computed each time."""
    if disk is None or method != "structkit":
        return secondary_structure(st, ri, method)
    key = entry_key("dssp", content_digest(st), _idx_digest(ri), method)

    def compute() -> dict:
        ss, used = secondary_structure(st, ri, method)
        return {"ss": np.asarray(ss, dtype="U1"), "meta": {"method": used}}

    d = cached(disk, "dssp", key, compute, lambda d: d["ss"].shape == (len(ri),))
    return d["ss"], d["meta"]["method"]


def _site_measures(st: Structure, ri: np.ndarray, pa: np.ndarray, cutoff: float, ligand: bool,
                   disk) -> tuple[dict, dict, np.ndarray]:
    """(``residue_distances``, covalent bonds by residue k, nearest partner atom labels) of one
    chain and partner, kept on disk."""
    def compute() -> dict:
        d = residue_distances(st, ri, pa, cutoff)
        cov = _covalent(st, ri, pa) if ligand else {}
        labels = np.array([atom_label(st, int(i)) for i in d["nearest_atom"]], dtype=str)
        return {**{f"d_{k}": v for k, v in d.items()}, "labels": labels,
                "meta": {"covalent": {str(k): v for k, v in cov.items()}}}

    if disk is None:
        out = compute()
    else:
        key = entry_key("site", content_digest(st), _idx_digest(ri, pa), float(cutoff), ligand)
        out = cached(disk, "sites", key, compute,
                     lambda d: all(len(d[k]) == len(ri) for k in d if k != "meta"))
    dist = {k[2:]: v for k, v in out.items() if k.startswith("d_")}
    cov = {int(k): v for k, v in out["meta"]["covalent"].items()}
    return dist, cov, out["labels"].astype(object)


def _environment(st: Structure, ri: np.ndarray, disk) -> ResidueEnvironment:
    """``damage.environment`` of one chain, kept on disk (the KD-tree is rebuilt from the
    atoms' coordinates)."""
    if disk is None:
        return environment(st, ri)
    arrays = ("phi", "psi", "omega", "cis", "cb_dir", "ca")
    texts = ("hbonds", "salt_bridges", "disulfide", "centroid_dist", "hbonds_bb", "second_shell")

    def compute() -> dict:
        e = environment(st, ri)
        return {**{a: getattr(e, a) for a in arrays}, "other_atoms": e.other_atoms,
                "owner": e.owner, "meta": {t: getattr(e, t) for t in texts}}

    def fits(d: dict) -> bool:
        n = len(ri)
        return (all(len(d[a]) == n for a in arrays) and len(d["other_atoms"]) == len(d["owner"])
                and all(len(d["meta"][t]) == n for t in texts if t != "centroid_dist")
                and (len(d["owner"]) == 0 or int(d["other_atoms"].max()) < len(st.coord)))

    d = cached(disk, "environment", entry_key("environment", content_digest(st), _idx_digest(ri)),
               compute, fits)
    m = d["meta"]
    hb, hb_bb = BondLists(m["hbonds"]), BondLists(m["hbonds_bb"])
    return ResidueEnvironment(d["phi"], d["psi"], d["omega"], d["cis"], hb, list(m["salt_bridges"]),
                              list(m["disulfide"]), dict(m["centroid_dist"]), d["cb_dir"], d["ca"],
                              hb_bb, list(m["second_shell"]), AtomSearch(st.coord[d["other_atoms"]]),
                              d["other_atoms"], d["owner"], st)
