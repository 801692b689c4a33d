"""Multiple sequence alignments of homologs, and the evolutionary score of a substitution.

Reads A2M/A3M (jackhmmer, EVcouplings, EVE, ColabFold's MMseqs2 server) and Stockholm (Pfam,
hmmalign) files. In both, upper-case letters and ``-`` are *match columns* of the alignment;
lower-case letters and ``.`` are insertions, which are dropped. The first sequence (or the one
named ``query=``) is the query; its match columns are mapped to UniProt positions by finding
its residues in the UniProt sequence (``Alignment.positions``; -1 where a column has no query
residue).

The model is an independent-site profile:

- **sequence weights** (Morcos et al. 2011; as EVE and EVmutation): each sequence counts
  ``1 / n`` where ``n`` is the number of sequences (itself included) sharing at least
  ``IDENTITY_THETA`` (80 %) of its non-gap match columns;
- **frequencies** per column over the 20 amino acids (gaps excluded), with a pseudocount of
  ``PSEUDOCOUNT`` effective sequences spread by the background frequencies of the alignment;
- **score** of ``wt -> alt`` at a position: ``log(f_alt / f_wt)`` (natural log; <= 0 usually,
  more negative = rarer among homologs), floored at ``log(1 / Neff)``: below one effective
  sequence the value only reflects the pseudocount, not an observation; and the column's
  conservation ``1 - H / log(20)``.

A column where more than ``MAX_GAP`` (50 %) of the weighted sequences have a gap, or a position
that is not a match column, gives no evolutionary evidence (NaN), never a made-up value.

Where to get an alignment: the offline mirror has ``msa/P04637.a2m`` (TP53 homologs, the EVE
alignment) and ``msa/PF07714_human_tyrosine_kinases.sto`` (human tyrosine-kinase domains:
paralogs, family conservation only). Online, build one with jackhmmer against UniRef100
(``jackhmmer -N 5 --incE 1e-10 -A out.sto query.fasta uniref100.fasta``) or from the ColabFold
MMseqs2 server, and pass its path (``structkit impact --msa FILE``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from .derived import cached, entry_key

__all__ = ["Alignment", "read_alignment", "IDENTITY_THETA", "PSEUDOCOUNT", "MAX_GAP",
           "AMINO_ACIDS"]

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
GAP = 20  # code of a gap (and of any non-standard letter)
IDENTITY_THETA = 0.8
PSEUDOCOUNT = 1.0  # effective sequences added per column, spread by background frequencies
MAX_GAP = 0.5
_CODE = np.full(256, GAP, dtype=np.uint8)
for _i, _a in enumerate(AMINO_ACIDS):
    _CODE[ord(_a)] = _i


@dataclass
class Alignment:
    """Match columns of an alignment: ``codes`` (sequences x columns, 0-19 = ``AMINO_ACIDS``,
    20 = gap), names, and the query's UniProt position per column (-1 where none)."""

    names: list[str]
    codes: np.ndarray
    positions: np.ndarray
    query: int = 0
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        pos = self.positions[self.positions > 0]
        span = f" (UniProt {pos.min()}-{pos.max()})" if len(pos) else ""
        name = Path(self.source).name if self.source else "alignment"
        return (f"<Alignment {name}: {self.n_sequences} sequences x {self.n_columns} match "
                f"columns{span}>")

    @property
    def n_sequences(self) -> int:
        return len(self.names)

    @property
    def n_columns(self) -> int:
        return self.codes.shape[1]

    @cached_property
    def weights(self) -> np.ndarray:
        """Per-sequence weight ``1 / neighbours`` at >= ``IDENTITY_THETA`` identity (over the
        sequence's own non-gap match columns). Rows identical over the match columns are
        compared once and counted with their multiplicity (a third of p53's 3,668 homologs
        repeat another's match columns: 0.4 s instead of 1.0 s)."""
        codes = np.ascontiguousarray(self.codes)
        as_bytes = codes.view(np.dtype((np.void, codes.shape[1]))).ravel()  # one value per row
        _, first, inverse, mult = np.unique(as_bytes, return_index=True, return_inverse=True,
                                            return_counts=True)
        uniq = codes[first]
        onehot = np.zeros((len(uniq), self.n_columns * 20), dtype=np.float32)
        rows, cols = np.nonzero(uniq < GAP)
        onehot[rows, cols * 20 + uniq[rows, cols]] = 1.0
        length = np.maximum(onehot.sum(axis=1), 1.0)
        neighbours = np.zeros(len(uniq))
        step = 1024  # blocks bound memory to step x n floats
        for a in range(0, len(uniq), step):
            shared = onehot[a:a + step] @ onehot.T
            neighbours[a:a + step] = (shared / length[a:a + step, None] >= IDENTITY_THETA) @ mult
        return 1.0 / np.maximum(neighbours[inverse.ravel()], 1.0)

    @property
    def n_effective(self) -> float:
        """Effective number of sequences (sum of weights)."""
        return float(self.weights.sum())

    @cached_property
    def _profile(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frequencies columns x 20 with pseudocounts, weighted gap fraction, conservation)."""
        w = self.weights
        counts = np.zeros((self.n_columns, 21))
        for c in range(21):
            counts[:, c] = ((self.codes == c) * w[:, None]).sum(axis=0)
        aa = counts[:, :20]
        background = aa.sum(axis=0) / aa.sum()
        freq = (aa + PSEUDOCOUNT * background) / (aa.sum(axis=1, keepdims=True) + PSEUDOCOUNT)
        gap = counts[:, 20] / w.sum()
        entropy = -(freq * np.log(freq)).sum(axis=1)
        return freq, gap, 1.0 - entropy / np.log(20)

    def column_of(self, position: int) -> int:
        """Match column of a UniProt position of the query, or -1."""
        hit = np.flatnonzero(self.positions == position)
        return int(hit[0]) if len(hit) else -1

    def scores(self, positions, wt, alt) -> tuple[np.ndarray, np.ndarray]:
        """(log-odds ``log f_alt / f_wt``, column conservation 0..1) per substitution; NaN
        where the position is not a match column, a column is mostly gaps, or a residue is
        not one of the 20 amino acids."""
        positions = np.asarray(positions, dtype=np.int64)
        freq, gap, cons = self._profile
        lookup = np.full(max(int(self.positions.max()), int(positions.max(initial=0))) + 2, -1)
        ok = self.positions > 0
        lookup[self.positions[ok]] = np.flatnonzero(ok)
        col = np.where((positions > 0) & (positions < len(lookup)),
                       lookup[np.clip(positions, 0, len(lookup) - 1)], -1)
        w = np.array([AMINO_ACIDS.find(x) if isinstance(x, str) and len(x) == 1 else -1 for x in wt])
        a = np.array([AMINO_ACIDS.find(x) if isinstance(x, str) and len(x) == 1 else -1 for x in alt])
        good = (col >= 0) & (w >= 0) & (a >= 0)
        good[good] &= gap[col[good]] <= MAX_GAP
        lo = np.full(len(positions), np.nan)
        cv = np.full(len(positions), np.nan)
        c = col[good]
        lo[good] = np.maximum(np.log(freq[c, a[good]]) - np.log(freq[c, w[good]]),
                              -np.log(self.n_effective))
        cv[good] = cons[c]
        return lo, cv


MAX_ALIGNMENT_BYTES = 1 << 30  # 1 GiB on disk (and inflated): larger is refused before reading


def _open_text(path: Path) -> str:
    """The alignment's text: a regular file (not a FIFO, a device or a directory) of at most
    ``MAX_ALIGNMENT_BYTES``, gunzipped under the same cap; ``ValueError`` naming why not."""
    import stat

    from .integrity import IntegrityError, gunzip_if_needed

    try:
        st = path.stat()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the alignment ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file (FIFO or device?)"
        raise ValueError(f"{path}: {kind}; expected an alignment file")
    if st.st_size > MAX_ALIGNMENT_BYTES:
        raise ValueError(f"{path}: {st.st_size} bytes, more than the {MAX_ALIGNMENT_BYTES} an "
                         "alignment may have")
    if st.st_size == 0:
        raise ValueError(f"{path}: empty file")
    try:
        data = gunzip_if_needed(path.read_bytes(), str(path), limit=MAX_ALIGNMENT_BYTES)
    except IntegrityError as exc:
        raise ValueError(str(exc)) from None
    if b"\x00" in data[:65536]:
        raise ValueError(f"{path}: binary data, not an A2M/A3M or Stockholm alignment")
    return data.decode("ascii", errors="replace")


def _read_a2m(text: str) -> tuple[list[str], list[str]]:
    names: list[str] = []
    seqs: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith(">"):
            names.append(line[1:].split()[0] if line[1:].strip() else f"seq{len(names) + 1}")
            seqs.append([])
        elif line.strip() and seqs:
            seqs[-1].append(line.strip())
    return names, ["".join(s) for s in seqs]


def _read_stockholm(text: str) -> tuple[list[str], list[str]]:
    order: list[str] = []
    parts: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("//"):
            continue
        name, *rest = line.split(None, 1)  # name, then spaces or tabs, then the sequence
        seq = rest[0] if rest else ""
        if name not in parts:
            order.append(name)
            parts[name] = []
        parts[name].append(seq.strip())
    return order, ["".join(parts[n]) for n in order]




def cached_alignment(path: str | Path, uniprot_sequence: str, query: str | None = None,
                     cache_dir: str | Path | None = None) -> Alignment:
    """``read_alignment`` with its sequence weights kept on disk between processes (reading and
    weighting p53's 3,668 homologs costs about a second each time), with the column profile:
    derived data (``structkit.io.derived``) under ``<cache_dir>/derived/alignments/``, keyed by
    the SHA-256 of the file and of the sequence, the query, the structkit version and its code.
    An entry that does not read back whole (CRC, shapes, finite weights) is rebuilt; without
    ``cache_dir`` nothing is stored."""
    import hashlib

    from .files import sha256_file

    p = Path(path)
    if cache_dir is None:
        return read_alignment(p, uniprot_sequence, query)
    if not p.is_file():
        _open_text(p)  # raises what read_alignment says (missing, a directory, a FIFO)
    key = entry_key("alignment", sha256_file(p),
                    hashlib.sha256(uniprot_sequence.encode()).hexdigest(), query or "")

    def compute() -> dict:
        aln = read_alignment(p, uniprot_sequence, query)
        freq, gap, cons = aln._profile
        return {"names": np.array(aln.names, dtype=str), "codes": aln.codes,
                "positions": aln.positions, "weights": aln.weights, "query": np.int64(aln.query),
                "freq": freq, "gap": gap, "cons": cons}

    def fits(d: dict) -> bool:
        codes, n = d["codes"], len(d["names"])
        return (codes.ndim == 2 and codes.shape[0] == n == len(d["weights"])
                and len(d["positions"]) == codes.shape[1] == len(d["gap"]) == len(d["cons"])
                and d["freq"].shape == (codes.shape[1], 20) and np.isfinite(d["weights"]).all()
                and 0 <= int(d["query"]) < n and codes.max(initial=0) <= GAP)

    d = cached(cache_dir, "alignments", key, compute, fits)
    aln = Alignment(d["names"].tolist(), d["codes"], d["positions"], int(d["query"]), str(p))
    aln.__dict__["weights"] = d["weights"]
    aln.__dict__["_profile"] = (d["freq"], d["gap"], d["cons"])  # computed once, kept with it
    return aln


def read_alignment(path: str | Path, uniprot_sequence: str, query: str | None = None) -> Alignment:
    """Read an A2M/A3M (``.a2m .a3m .fasta .fa``) or Stockholm (``.sto .stk``) alignment.

    Parameters
    ----------
    path : str or Path
        The alignment file (plain or gzipped).
    uniprot_sequence : str
        The canonical sequence the query's match columns are numbered in.
    query : str, optional
        Name (or name prefix, e.g. ``ERBB2_HUMAN``) of the query; default the first sequence.

    Returns
    -------
    Alignment
        Match columns as codes, with the query's UniProt position per column.

    Raises
    ------
    ValueError
        Naming the file if the format is unknown, the match columns differ in number between
        sequences, or the query's residues are not in the sequence.

    Examples
    --------
    >>> from structkit.io.store import default_session
    >>> from structkit.io.uniprot import uniprot_record
    >>> aln = read_alignment(default_session().msa("P04637").path,
    ...                      uniprot_record("P04637").sequence)
    >>> aln  # doctest: +ELLIPSIS
    <Alignment P04637.a2m: 3668 sequences x 329 match columns (UniProt 45-374)>
    >>> round(aln.n_effective)
    449
    """
    p = Path(path)
    name = p.name.lower().removesuffix(".gz")
    text = _open_text(p)
    if name.endswith((".sto", ".stk", ".stockholm")) or text.startswith("# STOCKHOLM"):
        names, raw = _read_stockholm(text)
    elif name.endswith((".a2m", ".a3m", ".fasta", ".fa", ".afa")) or text.startswith(">"):
        names, raw = _read_a2m(text)
    else:
        raise ValueError(f"{p}: unknown alignment format (expected A2M/A3M or Stockholm)")
    if not names:
        raise ValueError(f"{p}: no sequences")
    if len(names) < 2:
        raise ValueError(f"{p}: one sequence only; the score needs the query and its homologs")
    qi = 0
    if query is not None:
        hits = [i for i, n in enumerate(names) if n == query or n.split("/")[0] == query]
        if not hits:
            raise ValueError(f"{p}: no sequence named {query!r}")
        qi = hits[0]
    # match columns: upper case and '-'; insertions (lower case, '.') dropped
    match = [np.frombuffer("".join(ch for ch in s if ch.isupper() or ch == "-").encode(), np.uint8)
             for s in raw]
    lengths = {len(m) for m in match}
    if len(lengths) != 1:
        raise ValueError(f"{p}: sequences have {sorted(lengths)[:5]} match columns; an A2M/"
                         "Stockholm alignment has the same number in every sequence")
    codes = _CODE[np.vstack(match)]
    positions = _query_positions(raw[qi], uniprot_sequence, names[qi], p)
    return Alignment(names, codes, positions, qi, str(p))


def _query_positions(row: str, useq: str, name: str, path: Path) -> np.ndarray:
    """UniProt position of each match column of the query row (-1 for a gap column)."""
    residues = "".join(ch for ch in row if ch.isalpha()).upper()
    start = useq.find(residues)
    rng = name.rsplit("/", 1)[-1].split("-") if "/" in name else []
    if len(rng) == 2 and rng[0].isdigit():  # 'P53_HUMAN/1-393': the query says where it starts
        first = int(rng[0]) - 1
        if useq[first:first + len(residues)] == residues:
            start = first
    if start < 0:
        raise ValueError(f"{path}: the residues of query {name} are not a stretch of the UniProt "
                         f"sequence ({len(residues)} residues); is it the right query?")
    out = []
    pos = start  # 0-based index of the next query residue
    for ch in row:
        if ch.isalpha():
            pos += 1
            if ch.isupper():
                out.append(pos)
        elif ch == "-":
            out.append(-1)
    return np.array(out, dtype=np.int64)
