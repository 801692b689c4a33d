"""Structural anatomy of a target, per residue: the ``region`` column of the impact table.

Each element is a set of UniProt positions with a note saying how it was found:

- **catalog regions** (topology, domains) and **literature elements** (``anatomy.elements`` of
  the catalog: HER2 ECD domains I-IV after Cho et al. 2003, the p53 L1/L2/L3 loops after Cho
  et al. 1994), each with its reference; an element given for a family member (the EGFR
  dimerisation arm) is placed through the family alignment;
- **DSSP elements** the catalog defines by a rule (``anatomy.derived``), on the state most
  chains give each residue: the p53 S2-S2' hairpin (the two strands after L1), helix H2 (the
  last helix of the DNA-binding domain), the LSH motif (L1 + S2-S2' + H2) and the strands of
  the beta-sandwich;
- **kinase elements**, for a target whose catalog anatomy names a ``kinase_domain``, inside
  that region: sequence motifs (glycine-rich P-loop ``GxGxxG`` plus the two residues after it,
  the beta3 Lys of ``[AV]x[IV]K``, the catalytic loop ``HRDxxxxN``, ``DFG``, the end of the
  activation loop at ``[AS][PL]E`` (HER2 and EGFR have ALE)); from the structures of the
  target (DSSP): the alphaC helix (first helix after the beta3 Lys, union over chains), the
  alphaC Glu (the helix's Glu nearest the beta3 Lys NZ), the alphaC-beta4 loop (alphaC end to
  the first strand after it); from the ligand complexes: the hinge residue whose backbone N
  lies within ``HINGE_HBOND_A`` of a ligand N/O (KLIFS hinge position 48), the gatekeeper three
  residues before it (KLIFS 45), the hinge and linker (gatekeeper +1..+7), N- and C-lobe;
- **sites from the complexes**: residues within the contact cut-off of a partner: ``ATP pocket``
  (ligands of a kinase; union over chains), ``<drug> epitope`` (union over chains), ``DNA-contact
  surface`` and ``zinc site`` (more than half of the chains that have the partner).

Anatomy is computed once per target and session with the default cut-offs (4 A, metal 3 A),
whatever cut-off a table uses, so that ``region`` means the same in every table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..catalog import catalog
from ..cutoffs import DEFAULT_CUTOFF, DEFAULT_METAL_CUTOFF
from ..io.fetch import FetchError
from ..io.store import session_of
from ..io.uniprot import uniprot_record
from .numbering import family_map
from .structure_analysis import analyze

if TYPE_CHECKING:
    from ..io.fetch import Fetcher

__all__ = ["Element", "Anatomy", "anatomy", "target_anatomy", "CATALYTIC", "REGULATORY", "HINGE_HBOND_A"]

HINGE_HBOND_A = 3.5  # backbone N to ligand N/O: the hinge hydrogen bond
MIN_HELIX = 5  # residues of a DSSP helix run that counts as the alphaC helix
MIN_STRAND = 3  # residues of a DSSP strand run that counts as beta4
P_LOOP_TAIL = 2  # residues after the GxGxxG motif that belong to the glycine-rich loop
HINGE_SPAN = 7  # gatekeeper +1 .. +7: hinge (KLIFS 46-48) and linker up to the solvent-front Cys
# the catalytic residues of a protein kinase (their substitution: catalytically dead)
CATALYTIC = ("beta3 Lys", "alphaC Glu", "HRD Asp", "DFG Asp")
# kinase elements whose changes are known to shift the active/inactive equilibrium
REGULATORY = ("glycine-rich P-loop", "alphaC helix", "alphaC-beta4 loop", "activation loop",
              "gatekeeper", "hinge and linker", "DFG motif", "dimerisation arm",
              "Transmembrane", "juxtamembrane")


@dataclass(frozen=True)
class Element:
    """One anatomical element: UniProt positions of the target and how they were found."""

    name: str
    positions: frozenset
    how: str
    kind: str = "element"  # region | element | site | catalytic

    @property
    def span(self) -> str:
        p = sorted(self.positions)
        return f"{p[0]}-{p[-1]}" if p and p[-1] - p[0] + 1 == len(p) else ",".join(map(str, p))


@dataclass
class Anatomy:
    """The elements of one target (UniProt numbering)."""

    accession: str
    gene: str
    elements: list[Element]
    notes: list[str] = field(default_factory=list)
    _table: np.ndarray | None = field(default=None, repr=False)  # region text per position
    _codes: tuple | None = field(default=None, repr=False)  # (categories, code per position)

    def names(self, position: int) -> list[str]:
        """Element names holding ``position``, from the most general to the most specific."""
        hits = [e for e in self.elements if position in e.positions]
        regions = [e for e in hits if e.kind == "region"]
        # of the catalog regions, only the most specific (Protein kinase within Cytoplasmic)
        regions = [r for r in regions if not any(o is not r and o.positions < r.positions
                                                 for o in regions)]
        rest = sorted((e for e in hits if e.kind != "region"), key=lambda e: -len(e.positions))
        return [e.name for e in regions + rest]

    def region(self, position: int) -> str:
        """``'; '``-joined element names at ``position`` (general to specific); '' if none."""
        return "; ".join(self.names(position))

    def regions(self, positions: np.ndarray) -> np.ndarray:
        """``region`` of each position (an object array; '' outside 1..max element position),
        from a table of every position made once."""
        return self._region_table()[self._index(positions)]

    def region_codes(self, positions: np.ndarray, cats) -> np.ndarray:
        """Category codes (of ``cats``, a table's text categories) of each position's region,
        the table of codes made once per categories object."""
        if self._codes is None or self._codes[0] is not cats:
            self._codes = (cats, cats.codes(self._region_table().tolist()))
        return self._codes[1][self._index(positions)]

    def _region_table(self) -> np.ndarray:
        if self._table is None:
            top = max((max(e.positions) for e in self.elements if e.positions), default=0)
            self._table = np.array([""] + [self.region(p) for p in range(1, top + 2)], dtype=object)
        return self._table

    def _index(self, positions: np.ndarray) -> np.ndarray:
        pos = np.asarray(positions, dtype=np.int64)
        return np.where((pos > 0) & (pos < len(self._region_table())), pos, 0)  # 0 holds ''

    def catalytic(self, position: int) -> str:
        """The catalytic role of ``position`` ('beta3 Lys', ...) or ''."""
        return next((e.name for e in self.elements if e.kind == "catalytic"
                     and position in e.positions), "")

    def has(self, position: int, name: str) -> bool:
        return any(e.name == name and position in e.positions for e in self.elements)

    def table(self) -> pd.DataFrame:
        """One row per element: name, kind, UniProt span, how it was found."""
        return pd.DataFrame([{"gene": self.gene, "element": e.name, "kind": e.kind,
                              "uniprot_positions": e.span, "how": e.how} for e in self.elements])


def anatomy(accession: str, fetcher: Fetcher | None = None) -> Anatomy:
    """The anatomy of a catalog target, computed once per session (see the module docstring).

    Examples
    --------
    >>> a = anatomy("ERBB2")
    >>> a.region(798)
    'Protein kinase; N-lobe; ATP pocket; gatekeeper'
    >>> a.catalytic(753), a.catalytic(863)
    ('beta3 Lys', 'DFG Asp')
    >>> anatomy("TP53").region(248)
    'DNA-binding; L3 loop; DNA-contact surface'
    """
    fetcher = session_of(fetcher)
    target = catalog().target(accession)
    memo = fetcher.cache("anatomy")
    if target.accession not in memo:
        memo[target.accession] = _build(target, fetcher)
    return memo[target.accession]


def _span(a: int, b: int) -> frozenset:
    return frozenset(range(int(a), int(b) + 1))


def _build(target, fetcher) -> Anatomy:
    seq = uniprot_record(target.accession, fetcher).sequence
    out = Anatomy(target.accession, target.gene, [])
    regions = {r["name"]: r for r in target.regions}
    for r in target.regions:
        out.elements.append(Element(r["name"], _span(r["start"], r["end"]),
                                    "catalog region (UniProt)", "region"))
    spec = target.anatomy or {}
    for e in spec.get("elements") or ():
        if e.get("family"):
            fam = uniprot_record(e["family"], fetcher).sequence
            back = family_map(fam, seq, fetcher.cache_dir)
            pos = frozenset(back[p] for p in range(e["start"], e["end"] + 1) if p in back)
            how = (f"{e['family']} {e['start']}-{e['end']} ({e.get('ref', '')}), placed through "
                   "the family alignment")
        else:
            pos, how = _span(e["start"], e["end"]), f"literature: {e.get('ref', '')}"
        out.elements.append(Element(e["name"], pos, how))
    # chains of the target's own structures
    chains = []
    for entry in catalog().structures_for(target.accession):
        if entry.is_alphafold:
            continue
        try:
            a = analyze(entry, target.accession, cutoff=DEFAULT_CUTOFF,
                        metal_cutoff=DEFAULT_METAL_CUTOFF, fetcher=fetcher)
        except (FetchError, ValueError) as exc:  # not available offline, unreadable
            out.notes.append(f"{entry.id}: {exc}")
            continue
        chains += [(a, ch, cd) for ch, cd in a.chains.items()]
    if spec.get("derived"):
        _derived(out, spec["derived"], regions, chains)
    kdom = spec.get("kinase_domain")
    if kdom and kdom in regions:
        _kinase(out, seq, regions[kdom], regions, chains)
    span = _span(regions[kdom]["start"], regions[kdom]["end"]) if kdom in regions else None
    _sites(out, chains, kinase=bool(kdom), kinase_span=span)
    return out


MAJORITY_KINDS = ("dna", "metal")  # surfaces of every copy: more than half of the chains


def _site_name(s, kinase: bool) -> str:
    if s.kind == "ligand":
        return "ATP pocket" if kinase else "ligand pocket"
    if s.kind == "epitope":
        return f"{s.partner.drug or s.partner.name} epitope"
    return "DNA-contact surface" if s.kind == "dna" else f"{s.partner.name} site"


def _sites(out: Anatomy, chains, kinase: bool, kinase_span: frozenset | None = None) -> None:
    """Site elements: DNA and metal sites where more than half of the chains with the partner
    have the residue within the cut-off, ligand pockets and epitopes in any chain. A kinase's
    ligand pocket is kept inside the kinase domain (a tail residue of a neighbouring copy can
    lie within the cut-off of a ligand in the crystal)."""
    count: dict[tuple[str, str], dict[int, int]] = {}  # (name, kind) -> position -> chains
    n_with: dict[tuple[str, str], int] = {}
    ids: dict[tuple[str, str], set] = {}
    for a, _ch, cd in chains:
        pos = cd.numbering.uniprot_pos
        for s in cd.sites:
            if not len(s.partner_atoms):
                continue
            key = (_site_name(s, kinase), s.kind)
            c = count.setdefault(key, {})
            for p in set(pos[s.in_site].tolist()):
                if p > 0 and (s.kind != "ligand" or kinase_span is None or p in kinase_span):
                    c[p] = c.get(p, 0) + 1
            n_with[key] = n_with.get(key, 0) + 1
            ids.setdefault(key, set()).add(a.structure.id)
    for (name, kind), c in count.items():
        where, n = ", ".join(sorted(ids[name, kind])), n_with[name, kind]
        if kind in MAJORITY_KINDS:
            pos = frozenset(p for p, k in c.items() if k / n > 0.5)
            how = (f"within {DEFAULT_CUTOFF:g} A (metal {DEFAULT_METAL_CUTOFF:g} A) in more than "
                   f"half of {n} chains ({where})")
        else:
            pos = frozenset(c)
            how = f"within {DEFAULT_CUTOFF:g} A of the partner in any of {n} chains ({where})"
        out.elements.append(Element(name, pos, how, "site"))


HELIX, STRAND = ("H", "G", "I"), ("E",)


def _majority_ss(chains) -> dict[int, str]:
    """Per UniProt position, the DSSP state most chains give it (ties: the first seen)."""
    votes: dict[int, dict[str, int]] = {}
    for _a, _ch, cd in chains:
        for p, s in zip(cd.numbering.uniprot_pos.tolist(), np.asarray(cd.ss).astype(str).tolist(),
                        strict=True):
            if p > 0:
                v = votes.setdefault(p, {})
                v[s] = v.get(s, 0) + 1
    return {p: max(v, key=v.get) for p, v in votes.items()}


def _ss_runs(ss: dict[int, str], states: tuple, lo: int, hi: int, min_len: int) -> list[tuple]:
    """(first, last) UniProt positions of the runs of ``states`` in lo..hi."""
    flags = np.array([ss.get(p, "") in states for p in range(lo, hi + 1)])
    return [(lo + a, lo + b - 1) for a, b in _runs(flags) if b - a >= min_len]


def _derived(out: Anatomy, rules, regions: dict, chains) -> None:
    """Elements the catalog defines by a DSSP rule (see the catalog's header): ``strands
    after`` (the ``count`` strands after an element, as one span), ``last helix`` (within a
    region), ``strands`` (every strand residue within a region), ``union`` (of elements)."""
    if not chains:
        out.notes.append("no structure of the target: DSSP elements not found")
        return
    ss = _majority_ss(chains)
    by_name = {e.name: e for e in out.elements}
    for r in rules:
        rule, ref = r["rule"], r.get("ref", "")
        within = regions.get(r.get("within", ""), {})
        lo, hi = int(within.get("start", min(ss))), int(within.get("end", max(ss)))
        pos: frozenset = frozenset()
        if rule == "strands after" and r.get("after") in by_name:
            start = max(by_name[r["after"]].positions) + 1
            runs = _ss_runs(ss, STRAND, start, max(ss), MIN_STRAND)[:int(r.get("count", 1))]
            pos = _span(runs[0][0], runs[-1][1]) if runs else frozenset()
        elif rule == "last helix":
            runs = _ss_runs(ss, HELIX, lo, hi, MIN_HELIX)
            pos = _span(*runs[-1]) if runs else frozenset()
        elif rule == "strands":
            pos = frozenset(p for a, b in _ss_runs(ss, STRAND, lo, hi, MIN_STRAND)
                            for p in range(a, b + 1))
        elif rule == "union":
            pos = frozenset().union(*(by_name[n].positions for n in r.get("of", ()) if n in by_name))
        if not pos:
            out.notes.append(f"{r['name']}: rule {rule!r} found no residue")
            continue
        how = (f"DSSP, state of most of {len(chains)} chains: {rule}" if rule != "union"
               else "union of " + ", ".join(r.get("of", ()))) + (f" ({ref})" if ref else "")
        by_name[r["name"]] = Element(r["name"], pos, how)
        out.elements.append(by_name[r["name"]])


def _motif(seq: str, pattern: str, lo: int, hi: int) -> int | None:
    """1-based start of the first match of ``pattern`` in ``seq[lo-1:hi]``."""
    m = re.search(pattern, seq[lo - 1:hi])
    return lo + m.start() if m else None


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the True runs of ``flags``."""
    f = np.r_[False, flags, False].astype(np.int8)
    d = np.diff(f)
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def _kinase(out: Anatomy, seq: str, kd: dict, regions: dict, chains) -> None:
    """The kinase elements, in four named steps: sequence motifs (P-loop, beta3 Lys, catalytic
    loop, DFG, activation loop), then from the target's structures the alphaC helix (DSSP) and
    the gatekeeper and hinge (the ligand's hinge hydrogen bond), then the juxtamembrane
    segment from the catalog regions."""
    lo, hi = int(kd["start"]), int(kd["end"])
    k, h = _kinase_motifs(out, seq, lo, hi)
    if not (k and h):
        out.notes.append("kinase motifs not found: no structural kinase elements")
        return
    _alpha_c(out, seq, chains, k, h)
    _gatekeeper(out, seq, chains, k, h, lo, hi)
    _juxtamembrane(out, regions, lo)


def _kinase_motifs(out: Anatomy, seq: str, lo: int, hi: int) -> tuple[int | None, int | None]:
    """Elements found by sequence motifs inside the kinase domain ``lo``-``hi``; (beta3 Lys,
    HRD start) positions, None where a motif is absent."""
    add = out.elements.append
    g = _motif(seq, "G.G..G", lo, hi)
    if g:
        add(Element("glycine-rich P-loop", _span(g, g + 5 + P_LOOP_TAIL),
                    f"sequence motif GxGxxG at {g} plus {P_LOOP_TAIL} residues"))
    k = _motif(seq, "[AV].[IV]K", g or lo, hi)
    k = k + 3 if k else None
    if k:
        add(Element("beta3 Lys", frozenset({k}), "sequence motif [AV]x[IV]K", "catalytic"))
    h = _motif(seq, "HRD", lo, hi)
    if h:
        add(Element("catalytic loop", _span(h, h + 7), "sequence motif HRDxxxxN"))
        add(Element("HRD Asp", frozenset({h + 2}), "sequence motif HRD", "catalytic"))
    d = _motif(seq, "DFG", h or lo, hi)
    if d:
        add(Element("DFG motif", _span(d, d + 2), "sequence motif DFG"))
        add(Element("DFG Asp", frozenset({d}), "sequence motif DFG", "catalytic"))
        e = _motif(seq, "[AS][PL]E", d + 3, hi)
        if e:
            add(Element("activation loop", _span(d, e + 2),
                        f"DFG {d} to the {seq[e - 1:e + 2]} motif (APE) at {e}"))
    return k, h


def _alpha_c(out: Anatomy, seq: str, chains, k: int, h: int) -> None:
    """alphaC helix, its Glu and the alphaC-beta4 loop from DSSP on the target's chains,
    between the beta3 Lys ``k`` and the HRD motif ``h``."""
    add = out.elements.append
    helix: set[int] = set()
    beta4: list[int] = []
    glu_d: dict[int, list[float]] = {}
    ids = set()
    for a, _ch, cd in chains:
        pos = cd.numbering.uniprot_pos
        ss = np.asarray(cd.ss).astype(str)
        win = np.flatnonzero((pos > k) & (pos < h))
        if not len(win):
            continue
        is_h = np.isin(ss[win], ["H", "G", "I"])
        runs = [(s, t) for s, t in _runs(is_h) if t - s >= MIN_HELIX]
        if not runs:
            continue
        s, t = runs[0]
        ac = pos[win[s:t]]
        helix.update(int(p) for p in ac)
        ids.add(a.structure.id)
        after = win[t:]
        strands = [(s2, t2) for s2, t2 in _runs(ss[after] == "E") if t2 - s2 >= MIN_STRAND]
        if strands:
            beta4.append(int(pos[after[strands[0][0]]]))
        st = a.structure
        nz = _atom(st, cd, pos, k, "NZ")
        for p in ac:
            if seq[int(p) - 1] == "E":
                cdx = _atom(st, cd, pos, int(p), "CD")
                if nz is not None and cdx is not None:
                    glu_d.setdefault(int(p), []).append(float(np.linalg.norm(nz - cdx)))
    where = ", ".join(sorted(ids))
    if helix:
        a0, a1 = min(helix), max(helix)
        add(Element("alphaC helix", _span(a0, a1),
                    f"DSSP: first helix after the beta3 Lys, union over chains of {where}"))
        if glu_d:
            glu = min(glu_d, key=lambda p: float(np.median(glu_d[p])))
            add(Element("alphaC Glu", frozenset({glu}),
                        f"Glu of the alphaC helix nearest the beta3 Lys NZ (median "
                        f"{np.median(glu_d[glu]):.1f} A over {len(glu_d[glu])} chains)", "catalytic"))
        if beta4:
            b4 = int(np.median(beta4))
            if b4 > a1 + 1:
                add(Element("alphaC-beta4 loop", _span(a1 + 1, b4 - 1),
                            f"DSSP: alphaC end to the first strand after it (median over {where})"))
    else:
        out.notes.append("no structure of the target: alphaC helix not found")


def _gatekeeper(out: Anatomy, seq: str, chains, k: int, h: int, lo: int, hi: int) -> None:
    """Gatekeeper, hinge and the two lobes from the hinge hydrogen bond of the ligand
    complexes (a backbone N within ``HINGE_HBOND_A`` of a ligand N/O)."""
    add = out.elements.append
    hinge: list[int] = []
    lig_ids = set()
    for a, _ch, cd in chains:
        st = a.structure
        pos = cd.numbering.uniprot_pos
        for s in cd.sites:
            if s.kind != "ligand" or not len(s.partner_atoms):
                continue
            pa = s.partner_atoms[np.isin(st.element[s.partner_atoms], ["N", "O"])]
            if not len(pa):
                continue
            best = (HINGE_HBOND_A, None)
            for kk in np.flatnonzero((pos > k) & (pos < h)):
                n_at = _atom(st, cd, pos, int(pos[kk]), "N")
                if n_at is None:
                    continue
                dmin = float(np.min(np.linalg.norm(st.coord[pa] - n_at, axis=1)))
                if dmin <= best[0]:
                    best = (dmin, int(pos[kk]))
            if best[1] is not None:
                hinge.append(best[1])
                lig_ids.add(st.id)
    if hinge:
        hp = max(set(hinge), key=hinge.count)
        gk = hp - 3
        lw = ", ".join(sorted(lig_ids))
        add(Element("gatekeeper", frozenset({gk}),
                    f"three residues before the hinge residue {seq[hp - 1]}{hp} whose backbone N "
                    f"is within {HINGE_HBOND_A} A of a ligand N/O (KLIFS 45/48), in "
                    f"{hinge.count(hp)}/{len(hinge)} ligand chains of {lw}"))
        add(Element("hinge and linker", _span(gk + 1, gk + HINGE_SPAN),
                    f"gatekeeper +1 to +{HINGE_SPAN}"))
        add(Element("N-lobe", _span(lo, gk + 3), "kinase start to the hinge residue"))
        add(Element("C-lobe", _span(gk + 4, hi), "after the hinge to the kinase end"))
    else:
        out.notes.append("no ligand complex of the target: gatekeeper and hinge not found")


def _juxtamembrane(out: Anatomy, regions: dict, lo: int) -> None:
    """The segment between the transmembrane region and the kinase domain (catalog regions)."""
    add = out.elements.append
    tm = regions.get("Transmembrane")
    if tm and int(tm["end"]) + 1 < lo:
        add(Element("juxtamembrane", _span(int(tm["end"]) + 1, lo - 1),
                    "catalog regions: transmembrane end to kinase start"))


def _atom(st, cd, pos: np.ndarray, position: int, name: str) -> np.ndarray | None:
    """Coordinates of atom ``name`` of the residue at UniProt ``position`` in this chain."""
    kk = np.flatnonzero(pos == position)
    if not len(kk):
        return None
    ri = int(cd.numbering.residue_indices[kk[0]])
    a0, a1 = int(st.res_start[ri]), int(st.res_stop[ri])
    hit = np.flatnonzero(st.atom_name[a0:a1] == name)
    return st.coord[a0 + hit[0]] if len(hit) else None


target_anatomy = anatomy  # the public name (``structkit.analysis.anatomy`` is this module)
