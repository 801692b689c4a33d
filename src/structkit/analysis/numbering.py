"""UniProt position <-> (chain, author residue number, insertion code), with the method said.

For each chain of the target protein the mapping comes from the entry's own reference records
(DBREF / ``_struct_ref_seq``: ``method='DBREF'``) when they name the accession and agree with
the sequence (at least 90 % identity over the mapped residues). Otherwise the observed chain
sequence is aligned to the UniProt sequence (Biopython ``PairwiseAligner``, global with free end
gaps, BLOSUM62, gap open -10, extend -0.5: ``method='alignment'``); when the alignment shows one
constant offset between author and UniProt numbers for at least 95 % of the aligned residues,
that offset is applied to every residue (``method='alignment, offset +N'``), which keeps a
residue that differs from UniProt (an engineered or crystallised mutation) on its own number.

Each position is then ``mapped`` (with whether the file's residue matches UniProt, and the
SEQADV explanation when it does not), ``unobserved`` (inside the construct but absent from the
coordinates) or ``not covered`` (outside the construct).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..io.derived import cached, entry_key
from ..io.structure import Structure, one_letter
from ..statuses import MAPPED, NOT_COVERED, PLACEMENT_STATUSES, UNOBSERVED

__all__ = [
    "ChainNumbering",
    "PositionLookup",
    "number_chain",
    "number_structure",
    "align_sequences",
    "family_map",
    "family_positions",
    "ChainPlacement",
    "place_in_chain",
    "PLACEMENT_STATUSES",
]

MIN_DBREF_IDENTITY = 0.90
MIN_ALIGN_IDENTITY = 0.50
MIN_OFFSET_AGREEMENT = 0.95


@lru_cache(maxsize=1)
def _aligner():
    """The Biopython aligner, imported on first use (about 50 ms: a warm process that finds
    its numbering and family maps on disk never loads Biopython)."""
    from Bio import Align
    from Bio.Align import substitution_matrices

    a = Align.PairwiseAligner(mode="global",
                              substitution_matrix=substitution_matrices.load("BLOSUM62"),
                              open_gap_score=-10.0, extend_gap_score=-0.5)
    a.end_gap_score = 0.0
    return a


def align_sequences(target: str, query: str) -> np.ndarray:
    """Indices of ``target`` (0-based, -1 for none) aligned to each residue of ``query``."""
    aln = _aligner().align(target, query)[0]
    idx = aln.indices
    out = np.full(len(query), -1, dtype=np.int64)
    both = (idx[0] >= 0) & (idx[1] >= 0)
    out[idx[1][both]] = idx[0][both]
    return out


def family_map(seq_from: str, seq_to: str, cache_dir: str | Path | None = None) -> dict[int, int]:
    """UniProt position in ``seq_from`` -> aligned position in ``seq_to`` (1-based, aligned pairs
    only), from a global BLOSUM62 alignment (gap open -10, extend -0.5, free end gaps). With
    ``cache_dir`` (a session's cache directory) the alignment is kept on disk.

    Examples
    --------
    The HER2 gatekeeper T798 and the L755 hotspot align with EGFR T790 and L747:

    >>> her2, egfr = uniprot_record("P04626").sequence, uniprot_record("P00533").sequence
    >>> m = family_map(her2, egfr)
    >>> (m[798], egfr[m[798] - 1]), (m[755], egfr[m[755] - 1])
    ((790, 'T'), (747, 'L'))
    """
    if cache_dir is None:
        m = align_sequences(seq_to, seq_from)
    else:  # kept on disk: a warm process neither aligns nor loads Biopython
        key = entry_key("family_map", hashlib.sha256(seq_from.encode()).hexdigest(),
                        hashlib.sha256(seq_to.encode()).hexdigest())
        m = cached(cache_dir, "family_map", key,
                   lambda: {"aligned": align_sequences(seq_to, seq_from)},
                   lambda d: d["aligned"].shape == (len(seq_from),)
                   and int(d["aligned"].max(initial=-1)) < len(seq_to))["aligned"]
    return {i + 1: j + 1 for i, j in enumerate(m.tolist()) if j >= 0}


@dataclass(frozen=True)
class PositionLookup:
    """Where a UniProt position lies in one chain of one structure."""

    status: str  # mapped | unobserved | not covered
    structure_id: str
    chain: str
    position: int  # UniProt numbering
    method: str
    residue_index: int | None = None
    author_num: int | None = None
    icode: str = ""
    res_name: str | None = None
    matches_uniprot: bool | None = None
    difference: str = ""  # SEQADV explanation or 'differs from UniProt (no SEQADV record)'

    @property
    def author_label(self) -> str:
        return "" if self.author_num is None else f"{self.author_num}{self.icode}"


@dataclass
class ChainNumbering:
    """UniProt numbering of one chain (model 1)."""

    structure_id: str
    chain: str
    accession: str
    method: str
    identity: float
    residue_indices: np.ndarray  # residue indices of the chain's protein residues
    uniprot_pos: np.ndarray  # UniProt position per residue (-1: not in the reference)
    construct: tuple[int, int]  # UniProt range the crystallised construct covers
    notes: list[str] = field(default_factory=list)
    _structure: Structure | None = field(default=None, repr=False)
    _uniprot: str = field(default="", repr=False)
    _pos_to_k: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for k, pos in enumerate(self.uniprot_pos):
            if pos > 0 and int(pos) not in self._pos_to_k:
                self._pos_to_k[int(pos)] = k

    @property
    def offset(self) -> int | None:
        """The most common (UniProt - author) offset, or None if nothing is mapped."""
        st = self._structure
        ok = self.uniprot_pos > 0
        if st is None or not ok.any():
            return None
        d = self.uniprot_pos[ok] - st.res_num[self.residue_indices[ok]]
        vals, counts = np.unique(d, return_counts=True)
        return int(vals[np.argmax(counts)])

    def lookup(self, position: int) -> PositionLookup:
        """Status of UniProt ``position`` in this chain."""
        st = self._structure
        assert st is not None
        k = self._pos_to_k.get(int(position))
        if k is None:
            lo, hi = self.construct
            status = UNOBSERVED if lo <= position <= hi else NOT_COVERED
            return PositionLookup(status, st.id, self.chain, int(position), self.method)
        ri = int(self.residue_indices[k])
        name = str(st.res_resname[ri])
        aa = one_letter(name)
        ref = self._uniprot[position - 1] if 0 < position <= len(self._uniprot) else "?"
        match = aa == ref
        diff = "" if match else _difference(st, self.chain, int(st.res_num[ri]),
                                            str(st.res_icode[ri]))
        return PositionLookup(MAPPED, st.id, self.chain, int(position), self.method, ri,
                              int(st.res_num[ri]), str(st.res_icode[ri]), name, match, diff)

    def position_of(self, author_num: int, icode: str = "") -> int | None:
        """UniProt position of author residue ``author_num``+``icode``, or None."""
        st = self._structure
        assert st is not None
        nums = st.res_num[self.residue_indices]
        ics = st.res_icode[self.residue_indices]
        hit = np.flatnonzero((nums == author_num) & (ics == icode))
        if not len(hit) or self.uniprot_pos[hit[0]] <= 0:
            return None
        return int(self.uniprot_pos[hit[0]])


def _difference(st: Structure, chain: str, num: int, icode: str) -> str:
    for d in st.seqdifs:
        if d.chain == chain and d.auth_seq == num and d.icode == icode:
            return d.details.lower() or "SEQADV record"
    return "differs from UniProt (no SEQADV record)"


def _identity(st: Structure, res_idx: np.ndarray, pos: np.ndarray, useq: str) -> float:
    ok = (pos > 0) & (pos <= len(useq))
    if not ok.any():
        return 0.0
    same = [one_letter(str(st.res_resname[r])) == useq[p - 1]
            for r, p in zip(res_idx[ok], pos[ok], strict=True)]
    return float(np.mean(same))


class NotInStructure(ValueError):
    """The structure (or a chain asked for) does not hold the protein: no chain maps onto its
    UniProt sequence. The impact table reports this as 'not covered'."""


def number_chain(st: Structure, chain: str, accession: str, uniprot_seq: str) -> ChainNumbering:
    """Map one chain of ``st`` (model 1) onto the UniProt sequence of ``accession``."""
    res_idx = st.residues_of(chain, model=1, kind="protein")
    if not len(res_idx):
        raise NotInStructure(f"{st.id}: chain {chain!r} has no protein residues "
                         f"(chains with protein: {', '.join(st.chains(kind='protein')) or 'none'})")
    nums = st.res_num[res_idx]
    ics = st.res_icode[res_idx]
    notes: list[str] = []
    refs = [r for r in st.refs_for(chain) if r.accession.upper() == accession.upper()]
    pos = np.full(len(res_idx), -1, dtype=np.int64)
    method = ""
    construct = None
    if refs:
        usable = all(r.auth_end - r.auth_begin == r.db_end - r.db_begin for r in refs)
        for r in refs:
            inside = (nums >= r.auth_begin) & (nums <= r.auth_end)
            if (ics[inside] != "").any():
                usable = False
                notes.append(f"insertion codes inside DBREF range {r.auth_begin}-{r.auth_end}")
            pos[inside & (ics == "")] = nums[inside & (ics == "")] - r.auth_begin + r.db_begin
        ident = _identity(st, res_idx, pos, uniprot_seq)
        if usable and ident >= MIN_DBREF_IDENTITY:
            method = "DBREF"
            construct = (min(r.db_begin for r in refs), max(r.db_end for r in refs))
        else:
            notes.append(f"DBREF to {accession} not usable (identity {ident:.2f}); aligned instead")
            pos[:] = -1
    if not method:
        seq = "".join(one_letter(str(n)) for n in st.res_resname[res_idx])
        aligned = align_sequences(uniprot_seq, seq)
        apos = np.where(aligned >= 0, aligned + 1, -1)
        ok = apos > 0
        ident = _identity(st, res_idx, apos, uniprot_seq)
        if ok.sum() == 0 or ident < MIN_ALIGN_IDENTITY:
            raise NotInStructure(f"{st.id} chain {chain}: not {accession} (alignment identity "
                             f"{ident:.2f} over {int(ok.sum())} residues)")
        offsets = apos[ok] - nums[ok]
        vals, counts = np.unique(offsets, return_counts=True)
        best = int(vals[np.argmax(counts)])
        if counts.max() / ok.sum() >= MIN_OFFSET_AGREEMENT and (ics == "").all():
            pos = nums + best
            pos[(pos < 1) | (pos > len(uniprot_seq))] = -1
            method = f"alignment, offset {best:+d}"
        else:
            pos = apos
            method = "alignment"
        construct = _construct_from_seqres(st, chain, uniprot_seq) or (
            int(pos[pos > 0].min()), int(pos[pos > 0].max()))
    identity = _identity(st, res_idx, pos, uniprot_seq)
    return ChainNumbering(st.id, chain, accession.upper(), method, identity, res_idx, pos,
                          construct, notes, st, uniprot_seq)


def _construct_from_seqres(st: Structure, chain: str, useq: str) -> tuple[int, int] | None:
    names = st.seqres.get(chain)
    if not names:
        return None
    seq = "".join(one_letter(n) for n in names)
    aligned = align_sequences(useq, seq)
    hits = aligned[aligned >= 0]
    if not len(hits):
        return None
    return int(hits.min()) + 1, int(hits.max()) + 1


def number_structure(st: Structure, accession: str, uniprot_seq: str,
                     chains: list[str] | tuple[str, ...] | None = None) -> dict[str, ChainNumbering]:
    """Number every chain of the target in ``st`` (model 1).

    Parameters
    ----------
    st : Structure
        The structure (model 1 is numbered).
    accession : str
        The UniProt accession of the target protein.
    uniprot_seq : str
        Its canonical sequence (UniProt numbering).
    chains : sequence of str, optional
        Author chain IDs. None takes chains whose reference records (DBREF,
        ``_struct_ref_seq``) name ``accession``, else every protein chain that aligns to the
        UniProt sequence with at least ``MIN_ALIGN_IDENTITY`` (50 %) identity.

    Returns
    -------
    dict of str to ChainNumbering
        Per chain: UniProt position of each residue, how it was found (``'DBREF'`` when the
        reference records agree with the sequence, else ``'alignment'``) and the construct.

    Examples
    --------
    >>> st = load("1TSR")
    >>> num = number_structure(st, "P04637", uniprot_record("P04637").sequence)
    >>> num["B"].method, num["B"].construct
    ('DBREF', (96, 289))
    >>> r = num["B"].lookup(248)
    >>> r.status, r.author_num, r.res_name, r.matches_uniprot
    ('mapped', 248, 'ARG', True)
    """
    out: dict[str, ChainNumbering] = {}
    if chains is None:
        named = [c for c in st.chains(kind="protein")
                 if any(r.accession.upper() == accession.upper() for r in st.refs_for(c))]
        # chains without any reference record are tried by alignment too (a file whose chains
        # were renamed keeps its DBREF/_struct_ref_seq under the old names)
        bare = [c for c in st.chains(kind="protein") if c not in named and not st.refs_for(c)]
        candidates = (named + bare) if named else st.chains(kind="protein")
        for c in candidates:
            try:
                out[c] = number_chain(st, c, accession, uniprot_seq)
            except NotInStructure:
                if c in named:
                    raise
        if not out:
            raise NotInStructure(f"{st.id}: no chain is {accession} (protein chains "
                                 f"{', '.join(st.chains(kind='protein')) or 'none'})")
        return out
    for c in chains:
        out[c] = number_chain(st, c, accession, uniprot_seq)
    return out


# ------------------------------------------------------------------------------- placement
# Where a variant lands is decided here, once, for the impact table, the 3D views and the
# report: UniProt positions of the variant's protein -> positions in the structure's protein
# (the family alignment for a stand-in) -> the residue of each chain and a status.



def family_positions(source_seq: str, target_seq: str, positions,
                     memo: dict | None = None, cache_dir: str | Path | None = None) -> np.ndarray:
    """UniProt positions of one protein (``source_seq``) -> positions of the aligned residues in
    another family member (``target_seq``), through ``family_map``; -1 where none aligns or the
    position is outside the source. Vectorised over ``positions``. ``memo``: a dict that keeps
    the alignment per sequence pair (a session's store, ``fetcher.cache("family")``); the
    alignment of two kinase-length sequences takes about 0.1 s; with ``cache_dir`` it is kept
    on disk (see ``family_map``).

    Examples
    --------
    >>> family_positions("MKTAYIAKQR", "MKTAYIAKQR", [1, 10, 11])
    array([ 1, 10, -1])
    """
    key = (source_seq, target_seq)
    arr = memo.get(key) if memo is not None else None
    if arr is None:
        arr = np.full(len(source_seq) + 2, -1, dtype=np.int64)
        for p, q in family_map(source_seq, target_seq, cache_dir).items():
            arr[p] = q
        if memo is not None:
            memo[key] = arr
    pos = np.asarray(positions, dtype=np.int64)
    return np.where((pos >= 1) & (pos <= len(source_seq)),
                    arr[np.clip(pos, 0, len(source_seq) + 1)], -1)


@dataclass
class ChainPlacement:
    """Positions placed on one chain: ``k`` the residue (index into the chain's numbering
    arrays, -1 when absent), ``status`` an index into ``PLACEMENT_STATUSES``, ``inside`` whether
    the position is within the structure protein's sequence, ``unobserved`` whether it lies in
    the construct without coordinates."""

    k: np.ndarray
    status: np.ndarray
    inside: np.ndarray
    unobserved: np.ndarray

    @property
    def present(self) -> np.ndarray:
        return self.k >= 0


def place_in_chain(spos, numbering: ChainNumbering, pos_to_k: np.ndarray, n_uniprot: int,
                   chain_aa: np.ndarray | None = None, expected=None) -> ChainPlacement:
    """Place positions ``spos`` (UniProt numbering of the structure's protein, ``n_uniprot``
    residues long) on one chain: ``pos_to_k`` maps a position to the chain's residue index
    (-1 none). Status: ``mapped`` (present and, when ``chain_aa``/``expected`` are given, the
    expected residue), ``reference mismatch`` (present, another residue), ``unobserved`` (in the
    construct without coordinates), ``not covered`` (outside the construct or the sequence)."""
    spos = np.asarray(spos, dtype=np.int64)
    inside = (spos >= 1) & (spos <= n_uniprot)
    k = np.where(inside, pos_to_k[np.clip(spos, 0, len(pos_to_k) - 1)], -1)
    have = k >= 0
    lo, hi = numbering.construct
    unobserved = inside & (spos >= lo) & (spos <= hi)
    differs = np.zeros(len(spos), dtype=bool)
    if chain_aa is not None and expected is not None:  # (text arrays compare in C)
        differs = have & (np.asarray(chain_aa)[np.where(have, k, 0)] != np.asarray(expected))
    status = np.where(have, np.where(differs, 1, 0), np.where(unobserved, 2, 3))
    return ChainPlacement(k, status, inside, unobserved)
