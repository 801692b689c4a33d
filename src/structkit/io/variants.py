"""Parse protein variants (``T798M``, ``p.Thr798Met``, ``ERBB2:p.T798M``, MAF rows) and check them.

Positions are UniProt numbering of the canonical sequence. Missense, nonsense and synonymous
changes are kept with their reference and alternate residues; in-frame insertions, deletions,
delins, duplications, frameshifts and splice-site changes are kept with their kind and
position(s) rather than rejected. A batch never stops on a bad row: it returns the good
variants and a table of rejected rows with row numbers and reasons.

Size: the protein-change grammar (every accepted notation) and the batch parser that applies it
once per distinct item; the file reading is ``structkit.io.inputs``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import repeat
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._gc import gc_paused
from ..catalog import Catalog, Target, catalog
from ..keywords import accepts_session
from .fetch import FetchError, NotAvailableOffline
from .inputs import (  # noqa: F401  (served from here too)
    _NONCODING,
    MAX_CELL,
    MAX_INPUT_BYTES,
    MAX_INPUT_ROWS,
    InputRow,
    VariantError,
    file_cells,
    file_sample,
    iter_variant_file,
    raw_batches,
    read_text,
    read_variant_file,
)
from .store import session_of

if TYPE_CHECKING:
    from .fetch import Fetcher

__all__ = [
    "Variant",
    "VariantColumns",
    "VariantError",
    "UnknownGene",
    "ReferenceMismatch",
    "VariantBatch",
    "parse_variant",
    "parse_variants",
    "read_variant_file",
]

THREE_TO_ONE = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E",
    "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F",
    "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Sec": "U",
    "Pyl": "O", "Ter": "*", "Xaa": "X",
}
ONE_TO_THREE = {v: k for k, v in THREE_TO_ONE.items() if v not in "*X"}
_AA1 = "ACDEFGHIKLMNPQRSTVWYUO"
_AA = r"(?:[A-Z][a-z]{2}|[" + _AA1 + r"])"
_AAS = r"(?:(?:[A-Z][a-z]{2})+|[" + _AA1 + r"*]+)"

_N = r"[1-9][0-9]{0,5}"  # a position: ASCII digits, no leading zero, at most 6 digits
# substitution first (most variants): no string matches it and another pattern
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("substitution", re.compile(rf"(?P<r1>{_AA})(?P<p1>{_N})(?P<alt>{_AA}|\*|Ter|X|=)")),
    ("frameshift", re.compile(rf"(?P<r1>{_AA})(?P<p1>{_N})(?P<alt>{_AA})?fs(?:\*|Ter|X)?(?:{_N}|\?)?")),
    ("delins", re.compile(rf"(?P<r1>{_AA})(?P<p1>{_N})(?:_(?P<r2>{_AA})(?P<p2>{_N}))?delins(?P<alt>{_AAS})")),
    ("inframe_insertion",
     re.compile(rf"(?P<r1>{_AA})(?P<p1>{_N})_(?P<r2>{_AA})(?P<p2>{_N})ins(?P<alt>{_AAS})")),
    ("inframe_deletion",
     re.compile(rf"(?P<r1>{_AA})(?P<p1>{_N})(?:_(?P<r2>{_AA})(?P<p2>{_N}))?del(?:{_AAS})?")),
    ("duplication", re.compile(rf"(?P<r1>{_AA})(?P<p1>{_N})(?:_(?P<r2>{_AA})(?P<p2>{_N}))?dup(?:{_AAS})?")),
    ("splice", re.compile(rf"(?:X|[A-Z])?(?P<p1>{_N})_splice")),
    ("stop_lost", re.compile(rf"(?:\*|Ter)(?P<p1>{_N})(?P<alt>{_AA})(?:ext(?:\*|Ter)?(?:{_N}|\?)?)?")),
    ("start_lost", re.compile(r"(?P<r1>M|Met)(?P<p1>1)(?:\?|ext-[1-9][0-9]{0,2})")),
]

_GENE_SPLIT = re.compile(r"^\s*(?P<gene>[A-Za-z0-9][A-Za-z0-9-]*?)\s*(?::|\s)\s*(?P<rest>\S+)\s*$")


MAX_VARIANT_TEXT = 500  # characters of one variant string (a long delins stays well below)


class UnknownGene(VariantError):
    """The gene named is not a catalog target."""


class ReferenceMismatch(VariantError):
    """The reference residue given does not match UniProt at that position."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One protein change in UniProt numbering.

    ``kind`` is one of missense, nonsense, synonymous, inframe_insertion, inframe_deletion,
    delins, duplication, frameshift, splice, start_lost, stop_lost. ``ref`` is the reference
    residue at ``position`` (one-letter; ``*`` for a stop-lost change at length + 1); ``alt``
    the new residue(s) (``*`` for stop), or None where not applicable. ``end`` is the last
    position of a range (deletions, insertions between two residues).

    ``row`` (1-based input row or line), ``sample`` and ``raw`` (the text as given) say where
    the variant came from; they do not take part in equality: two rows with the same change
    are the same variant.

    Slotted: a cohort holds one per input row (a 1M-row MAF: about 130 B each instead of 240 B
    with an instance dictionary, ``benchmarks/bench_cohort.py``).
    """

    gene: str
    accession: str
    kind: str
    position: int
    ref: str
    alt: str | None = None
    end: int | None = None
    ref_end: str | None = None
    raw: str = field(default="", compare=False)
    row: int | None = field(default=None, compare=False)
    sample: str | None = field(default=None, compare=False)
    # computed once per instance and shared by its copies (``_with_origin``): not given
    _k: tuple | None = field(default=None, init=False, repr=False, compare=False)
    _h: int | None = field(default=None, init=False, repr=False, compare=False)
    _hgvs: str | None = field(default=None, init=False, repr=False, compare=False)

    def _key(self) -> tuple:
        """The fields that make two variants the same, as a tuple kept in the instance (a
        batch compares each row's variant with the others: one tuple per variant, not per
        comparison)."""
        key = self._k
        if key is None:
            key = (self.gene, self.accession, self.kind, self.position, self.ref, self.alt,
                   self.end, self.ref_end)
            object.__setattr__(self, "_k", key)
        return key

    def __hash__(self) -> int:
        h = self._h
        if h is None:
            h = hash(self._key())
            object.__setattr__(self, "_h", h)
        return h

    def __eq__(self, other) -> bool:
        if other.__class__ is not Variant:
            return NotImplemented
        return self is other or self._key() == other._key()

    @property
    def hgvs(self) -> str:
        """HGVS-like protein notation with one-letter codes (``p.T798M``)."""
        h = self._hgvs
        if h is None:
            h = self._hgvs_text()
            object.__setattr__(self, "_hgvs", h)
        return h

    def _hgvs_text(self) -> str:
        p, r = self.position, self.ref
        rng = f"{r}{p}" + (f"_{self.ref_end}{self.end}" if self.end and self.end != p else "")
        return {
            "missense": f"p.{r}{p}{self.alt}",
            "nonsense": f"p.{r}{p}*",
            "synonymous": f"p.{r}{p}=",
            "frameshift": f"p.{r}{p}{self.alt or ''}fs",
            "inframe_insertion": f"p.{rng}ins{self.alt}",
            "inframe_deletion": f"p.{rng}del",
            "delins": f"p.{rng}delins{self.alt}",
            "duplication": f"p.{rng}dup",
            "splice": f"p.X{p}_splice",
            "start_lost": f"p.{r}{p}?",
            "stop_lost": f"p.*{p}{self.alt}ext*?",
        }[self.kind]

    @property
    def short(self) -> str:
        """``T798M`` style label (the HGVS form without ``p.``)."""
        return self.hgvs[2:]

    @property
    def label(self) -> str:
        return f"{self.gene} {self.hgvs}"

    @property
    def consequence(self) -> str:
        """Consequence class: missense, truncating, in-frame, synonymous, splice or extension."""
        return CONSEQUENCE[self.kind]


CONSEQUENCE = {
    "missense": "missense", "nonsense": "truncating", "frameshift": "truncating",
    "start_lost": "truncating", "splice": "splice", "synonymous": "synonymous",
    "stop_lost": "extension", "inframe_insertion": "in-frame", "inframe_deletion": "in-frame",
    "delins": "in-frame", "duplication": "in-frame",
}


def _aa(code: str | None) -> str | None:
    if code is None:
        return None
    if code in ("Ter", "*", "X"):  # X is the legacy one-letter stop (p.R248X); Xaa is unknown
        return "*"
    if code == "Xaa":
        raise VariantError("Xaa (an unknown amino acid) cannot be placed; for a stop write * or Ter")
    if len(code) == 3 and code in THREE_TO_ONE:
        return THREE_TO_ONE[code]
    if len(code) == 1:
        return code
    raise VariantError(f"unknown amino-acid code {code!r}")


def _aas(codes: str) -> str:
    if re.fullmatch(r"(?:[A-Z][a-z]{2})+", codes):
        return "".join(_aa(codes[i:i + 3]) or "" for i in range(0, len(codes), 3))
    return codes


_DNA_KINDS = {"c": "coding DNA", "g": "genomic DNA", "m": "mitochondrial DNA", "n": "non-coding RNA",
              "r": "RNA"}


def _parse_change(change: str) -> dict:
    text = change.strip()
    if text.startswith("p."):
        text = text[2:]
    if text.startswith("(") and text.endswith(")"):  # predicted change: p.(R248Q)
        text = text[1:-1]
    if not text or text in ("?", "0", "="):
        raise VariantError(f"{change!r}: no protein change to place (expected e.g. T798M or p.Thr798Met)")
    for kind, pat in _PATTERNS:
        m = pat.fullmatch(text)
        if not m:
            continue
        d = m.groupdict()
        r1 = _aa(d.get("r1")) if d.get("r1") else None
        out = {"kind": kind, "position": int(d["p1"]), "ref": r1,
               "end": int(d["p2"]) if d.get("p2") else None,
               "ref_end": _aa(d.get("r2")) if d.get("r2") else None, "alt": None}
        if kind == "substitution":
            alt = d["alt"]
            if alt == "=":
                out.update(kind="synonymous", alt=r1)
            else:
                a = _aa(alt)
                out.update(kind="nonsense" if a == "*" else
                           ("synonymous" if a == r1 else "missense"), alt=a)
            if out["position"] == 1 and r1 == "M" and out["kind"] != "synonymous":
                out["kind"] = "start_lost"  # the initiator Met changed: no protein from this start
        elif kind == "stop_lost":
            out.update(ref="*", alt=_aa(d["alt"]))
        elif kind in ("delins", "inframe_insertion"):
            out["alt"] = _aas(d["alt"])
        elif kind == "frameshift":
            out["alt"] = _aa(d["alt"]) if d.get("alt") else None
        if out["end"] is not None and out["end"] < out["position"]:
            raise VariantError(f"{change!r}: range end {out['end']} before start {out['position']}")
        return out
    if re.match(r"[cgmnr]\.", text):
        raise VariantError(
            f"{change!r} is a {_DNA_KINDS[text[0]]} change: structkit places protein changes "
            "(p.); annotate it first (e.g. Ensembl VEP --hgvs) and give its HGVSp, such as p.R248Q")
    if re.fullmatch(r"[a-z]{1,3}\d+[a-z*]{1,3}", text):
        raise VariantError(
            f"cannot read protein change {change!r}: amino acids are upper case in one-letter "
            f"code ({text.upper()}) or capitalised in three-letter code (p.Arg248Gln)")
    raise VariantError(
        f"cannot read protein change {change!r}: expected forms like T798M, p.T798M, p.Thr798Met, "
        "R213*, A775_G776insYVMA, E746_A750del, P72fs"
    )


def _check_reference(gene: str, acc: str, seq: str, v: dict, raw: str) -> None:
    n = len(seq)
    if v["kind"] == "stop_lost":
        if v["position"] != n + 1:
            raise ReferenceMismatch(f"{raw!r}: the stop codon of {gene} ({acc}, {n} aa) is at "
                                    f"{n + 1}, the variant gives {v['position']}")
        return
    for pos, ref in ((v["position"], v["ref"]), (v.get("end"), v.get("ref_end"))):
        if pos is None:
            continue
        if not 1 <= pos <= n:
            raise VariantError(f"{raw!r}: position {pos} is beyond {gene} ({acc}, {n} aa)")
        if ref and ref != seq[pos - 1]:
            raise ReferenceMismatch(
                f"{raw!r}: {gene} ({acc}) has {seq[pos - 1]} at {pos}, the variant gives {ref}")


def _shift_3prime(v: dict, seq: str) -> dict:
    """The HGVS form of an in-frame deletion, duplication or insertion: shifted to its most 3'
    position in ``seq`` (the UniProt sequence), and an insertion that repeats the residues just
    before it written as their duplication (``A775_G776insYVMA`` -> ``Y772_A775dup``). Other
    changes, and ranges that do not fit ``seq``, are returned unchanged."""
    kind, n = v["kind"], len(seq)
    if kind in ("inframe_deletion", "duplication"):
        a = v["position"]
        b = v["end"] or a
        if not 1 <= a <= b <= n:
            return v
        while b < n and seq[b] == seq[a - 1]:  # the residue after the block repeats its first
            a, b = a + 1, b + 1
        return _span_dict(v, kind, a, b, None, seq)
    if kind != "inframe_insertion" or not v.get("alt") or v.get("end") != v["position"] + 1:
        return v
    p, ins = v["position"], v["alt"]
    if not 1 <= p < n:
        return v
    while p < n and seq[p] == ins[0]:  # residue p+1 equals the first inserted: shift right
        ins, p = ins[1:] + seq[p], p + 1
    k = len(ins)
    if k <= p and seq[p - k:p] == ins:
        return _span_dict(v, "duplication", p - k + 1, p, None, seq)
    if p >= n:
        return v
    return {**v, "kind": kind, "position": p, "ref": seq[p - 1], "end": p + 1,
            "ref_end": seq[p], "alt": ins}


def _span_dict(v: dict, kind: str, a: int, b: int, alt, seq: str) -> dict:
    return {**v, "kind": kind, "position": a, "ref": seq[a - 1], "end": b if b != a else None,
            "ref_end": seq[b - 1] if b != a else None, "alt": alt}


def _sequence_of(acc: str, fetcher=None) -> str:
    from .uniprot import uniprot_record

    return uniprot_record(acc, fetcher).sequence


def parse_variant(text: str, gene: str | None = None, *, validate: bool = True,
                  cat: Catalog | None = None, fetcher: Fetcher | None = None) -> Variant:
    """Parse one variant and check its reference residue against UniProt.

    ``gene`` may be given separately or as a prefix (``ERBB2:p.T798M``, ``HER2 T798M``); aliases
    are normalised through the catalog. Without a gene, the gene is inferred when exactly one
    catalog target has the reference residue at that position; otherwise ``VariantError`` asks
    for the gene. With ``validate`` the reference residue must match UniProt
    (``ReferenceMismatch`` names gene, position, UniProt's residue and the given one), and
    in-frame deletions, duplications and insertions are written in their HGVS form (shifted
    3', an insertion that repeats the residues before it as a duplication: ``raw`` keeps the
    text as given).

    Parameters
    ----------
    text : str
        One change in UniProt numbering: ``T798M``, ``p.T798M``, ``p.Thr798Met``, ``R213*``,
        ``E746_A750del``, ``A775_G776insYVMA``, ``P72fs``, optionally after ``GENE:``.
    gene : str, optional
        Gene symbol, alias or accession when ``text`` has none.
    validate : bool
        Check the reference residue against the UniProt record (default True).
    cat : Catalog, optional
        The catalog of targets (default: the built-in one).
    fetcher : Fetcher or Session, optional
        Where the UniProt records come from (default: the default session).

    Returns
    -------
    Variant
        ``gene``, ``accession``, ``kind`` (missense, nonsense, frameshift, ...), ``position``
        (UniProt numbering), ``ref``, ``alt`` and the HGVS text ``hgvs``.

    Examples
    --------
    >>> v = parse_variant("HER2 p.Thr798Met")
    >>> v.gene, v.accession, v.hgvs, v.kind, v.position
    ('ERBB2', 'P04626', 'p.T798M', 'missense', 798)
    >>> parse_variant("R248Q").gene            # the only catalog target with R at 248
    'TP53'
    >>> parse_variant("TP53:G248Q")
    Traceback (most recent call last):
    ...
    structkit.io.variants.ReferenceMismatch: 'TP53:G248Q': TP53 (P04637) has R at 248, the variant gives G
    """
    if not isinstance(text, str):
        raise VariantError(f"variant {text!r} is not a string")
    cat = cat or catalog()
    raw = text.strip()
    if len(raw) > MAX_VARIANT_TEXT:  # before any regular expression sees it
        raise VariantError(f"{raw[:40]!r}...: {len(raw)} characters, too long for a protein change "
                           f"(at most {MAX_VARIANT_TEXT})")
    gene, change = _split_gene(raw, gene, cat)
    v = _parse_change(change)
    if gene is not None:
        try:
            target = cat.target(gene)
        except KeyError as exc:
            raise UnknownGene(f"{raw!r}: {exc.args[0]}") from None
        seq = _sequence_of(target.accession, fetcher) if validate else ""
        if validate:
            _check_reference(target.gene, target.accession, seq, v, raw)
            v = _shift_3prime(v, seq)
        return Variant(target.gene, target.accession, raw=raw, **v)
    return _infer_gene(v, raw, change, cat, fetcher)


def _split_gene(raw: str, gene: str | None, cat: Catalog) -> tuple[str | None, str]:
    """(gene, change) of a variant text: a ``GENE:``/``GENE `` prefix, checked against a gene
    given separately (aliases of one target agree; others are a ``VariantError``)."""
    change = raw
    m = _GENE_SPLIT.match(raw)
    if m and not m.group("gene").lower() == "p":
        gene_part, change = m.group("gene"), m.group("rest")
        if gene and gene_part.upper() != gene.upper():
            try:
                same = cat.target(gene_part).accession == cat.target(gene).accession
            except KeyError:
                same = False
            if not same:
                raise VariantError(f"{raw!r}: gene {gene_part} conflicts with gene {gene} given")
        gene = gene or gene_part
    return gene, change


def _infer_gene(v: dict, raw: str, change: str, cat: Catalog, fetcher) -> Variant:
    """The variant of the one catalog target whose reference residue fits; a ``VariantError``
    asking for the gene when none or several fit."""
    fits = []
    for t in cat.targets:
        try:
            seq = _sequence_of(t.accession, fetcher)
        except Exception:  # noqa: BLE001 - a target without a reachable sequence cannot fit
            continue
        try:
            _check_reference(t.gene, t.accession, seq, v, raw)
        except VariantError:
            continue
        fits.append(t)
    if len(fits) == 1:
        v = _shift_3prime(v, _sequence_of(fits[0].accession, fetcher))
        return Variant(fits[0].gene, fits[0].accession, raw=raw, **v)
    if not fits:
        raise VariantError(f"{raw!r}: the reference residue fits none of "
                           f"{', '.join(t.gene for t in cat.targets)}; name the gene (GENE:p.X123Y)")
    raise VariantError(f"{raw!r}: fits {', '.join(t.gene for t in fits)}; name the gene "
                       f"(e.g. {fits[0].gene}:{change})")


UNPLACED_STATUSES = ("gene not in catalog", "gene not selected", "no protein change", "splice",
                     "rejected")


class VariantBatch:
    """Parsed variants (each with its ``row`` and ``sample``) plus the rows that give no variant.

    ``unplaced`` has one row per input row that did not give a variant: ``row`` (1-based line of
    a file, or item index), ``sample``, ``gene``, ``input``, ``status`` (``gene not in catalog``,
    ``gene not selected``, ``no protein change`` for non-coding rows, ``splice`` for splice-site
    rows without a protein position, ``not available offline``/``fetch failed`` when the
    protein's UniProt record cannot be read, ``rejected`` for parse and reference errors) and
    ``reason``.
    Every input row is in exactly one of ``variants`` and ``unplaced``.

    A batch from ``parse_variants`` holds its variants as columns (each distinct input parsed
    once, and per row its code, row number and sample code); ``variants`` makes the list of
    ``Variant`` objects the first time it is asked for (a 1M-row cohort: about 1.4 s), which
    the impact table and the cohort tables never need.
    """

    def __init__(self, variants: Iterable[Variant] | None = None,
                 unplaced: pd.DataFrame | None = None, notes: list[str] | None = None) -> None:
        self._variants: list[Variant] | None = list(variants) if variants is not None else []
        self._cols: VariantColumns | None = None
        self.unplaced = (unplaced if unplaced is not None
                         else pd.DataFrame(columns=UNPLACED_COLUMNS))
        self.notes: list[str] = notes if notes is not None else []  # how the input was read

    @classmethod
    def _from_columns(cls, cols: VariantColumns, unplaced: pd.DataFrame,
                      notes: list[str]) -> VariantBatch:
        b = cls(None, unplaced, notes)
        b._variants, b._cols = None, cols
        return b

    @property
    def variants(self) -> list[Variant]:
        """The variants in input order, each with its ``row`` and ``sample`` (made once, then
        kept: treat the list as read-only, or assign a new one)."""
        if self._variants is None:
            self._variants = self._cols.variants()
        return self._variants

    @variants.setter
    def variants(self, value: Iterable[Variant]) -> None:
        self._variants, self._cols = list(value), None

    def columns(self) -> VariantColumns:
        """The variants as columns (``VariantColumns``), made from the list when the batch was
        built from one."""
        if self._cols is None:
            self._cols = VariantColumns.of(self._variants)
        return self._cols

    @property
    def rejected(self) -> pd.DataFrame:
        """The same table as ``unplaced`` (the name used before statuses were split)."""
        return self.unplaced

    @property
    def n_rows(self) -> int:
        return len(self) + len(self.unplaced)

    def __iter__(self):
        return iter(self.variants)

    def __len__(self) -> int:
        return len(self._variants) if self._cols is None else len(self._cols.codes)

    def __repr__(self) -> str:
        return (f"VariantBatch({len(self)} variants ({self.n_distinct} distinct), "
                f"{len(self.unplaced)} input rows without one)")

    @property
    def n_distinct(self) -> int:
        """Distinct variants (gene, change; not sample or row), counted over the key tuples
        compared in C, not through ``Variant.__eq__`` (a Python call per comparison)."""
        return len({v._key() for v in self.columns().protos})


def _first_seen(*keys) -> defaultdict:
    """A dict giving each new key the next code (0, 1, ...: order of first appearance) when it
    is looked up with ``[]``, in C (``map(d.__getitem__, items)``); ``keys`` get the first."""
    d: defaultdict = defaultdict()
    d.default_factory = d.__len__
    for k in keys:
        d[k]  # (a lookup inserts it)
    return d


class VariantColumns:
    """The variants of a batch as columns: ``protos`` (each distinct input once: a ``Variant``
    with its ``raw`` text, no row or sample), and per variant row, in input order, ``codes``
    (index into ``protos``), ``rows`` (1-based line or item number) and ``samples`` (index into
    ``names``, whose entry 0 is None: no sample)."""

    __slots__ = ("protos", "codes", "rows", "samples", "names")

    def __init__(self, protos: list[Variant], codes: np.ndarray, rows: np.ndarray,
                 samples: np.ndarray, names: list[str | None]) -> None:
        self.protos, self.codes, self.rows = protos, codes, rows
        self.samples, self.names = samples, names

    @classmethod
    def of(cls, variants: list[Variant]) -> VariantColumns:
        """Columns of a list of variants (a variant without a row: its place in the list)."""
        n = len(variants)
        rows = np.fromiter((v.row if v.row is not None else i + 1
                            for i, v in enumerate(variants)), dtype=np.int64, count=n)
        index = _first_seen(None)
        samples = np.fromiter(map(index.__getitem__, map(attrgetter("sample"), variants)),
                              dtype=np.int32, count=n)
        return cls(list(variants), np.arange(n, dtype=np.int32), rows, samples, list(index))

    def variants(self) -> list[Variant]:
        """One ``Variant`` per row, with its ``row`` and ``sample``."""
        ps, names = self.protos, self.names
        with gc_paused():  # a million small acyclic objects (see _gc)
            return [_with_origin(p, p.raw, r, s) for p, r, s in zip(
                map(ps.__getitem__, self.codes.tolist()), self.rows.tolist(),
                map(names.__getitem__, self.samples.tolist()), strict=True)]


UNPLACED_COLUMNS = ["row", "sample", "gene", "input", "status", "reason"]


def _is_path(items) -> bool:
    """A file argument: a Path, or a string that looks like a path (has a separator or a table
    suffix), whatever exists in the working directory: ``'R175H'`` is a variant even beside a
    file of that name, ``'cohort.maf'`` and ``'./R175H'`` are files."""
    if isinstance(items, Path):
        return True
    if not isinstance(items, str):
        return False
    s = items.strip()
    return (("/" in s or "\\" in s)
            or bool(re.search(r"\.(?:maf|csv|tsv|txt|tab)(?:\.gz)?$", s, re.IGNORECASE)))


_NEW = object.__new__
(_SET_GENE, _SET_ACC, _SET_KIND, _SET_POS, _SET_REF, _SET_ALT, _SET_END, _SET_REF_END, _SET_RAW,
 _SET_ROW, _SET_SAMPLE, _SET_K, _SET_H, _SET_HGVS) = (Variant.__dict__[n].__set__ for n in (
    "gene", "accession", "kind", "position", "ref", "alt", "end", "ref_end", "raw", "row",
    "sample", "_k", "_h", "_hgvs"))


def _with_origin(v: Variant, raw: str, row: int, sample: str | None) -> Variant:
    """A copy of ``v`` with its input origin, sharing the key, hash and hgvs computed once for
    ``v``. The slots are set through their descriptors, one line each: ``replace`` would run
    ``__init__`` (twice the time) and a loop over the slots costs as much again; over a 1M-row
    cohort this is about 1.4 s."""
    if v._hgvs is None or v._h is None:
        v.hgvs, v.__hash__()  # computed once on the template, copied into every row
    new = _NEW(Variant)
    _SET_GENE(new, v.gene)
    _SET_ACC(new, v.accession)
    _SET_KIND(new, v.kind)
    _SET_POS(new, v.position)
    _SET_REF(new, v.ref)
    _SET_ALT(new, v.alt)
    _SET_END(new, v.end)
    _SET_REF_END(new, v.ref_end)
    _SET_RAW(new, raw)
    _SET_ROW(new, row)
    _SET_SAMPLE(new, sample)
    _SET_K(new, v._k)
    _SET_H(new, v._h)
    _SET_HGVS(new, v._hgvs)
    return new


def _coerce(it, i: int) -> InputRow:
    """One item of an iterable as an input row; anything that is not text becomes a row that
    will be rejected with its type named."""
    if isinstance(it, InputRow):
        return it
    if isinstance(it, Variant):
        return InputRow(it.row or i, it.gene, it.hgvs, it.sample)
    if isinstance(it, tuple) and len(it) == 2:
        g, c = it
        return InputRow(i, None if g is None or g is pd.NA else str(g), c if isinstance(c, str)
                        else _not_text(c))
    if isinstance(it, str):
        return InputRow(i, None, it)
    return InputRow(i, None, _not_text(it))


class _NotText(str):
    """Marks an item that was not text (its repr is kept for the table)."""


def _not_text(x) -> _NotText:
    if x is None or x is pd.NA or (isinstance(x, float) and x != x):
        return _NotText("")
    return _NotText(repr(x)[:200])


class _Unplaced(Exception):
    """An input row that gives no variant for a reason other than a parse error."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status


_SPLICE = ("splice_site", "splice_region")
PARSED_MAX = 200_000  # parsed (gene, change) items a session keeps


def _row_variant(g, change: str, cls, keep, cat, fetcher, validate: bool, memo: dict) -> Variant:
    """The variant of one input row, or the exception that says why there is none."""
    if isinstance(change, _NotText):
        raise VariantError(f"item {change or 'None'} is not a variant string"
                           if change else "empty item (None or NA)")
    target = None
    if g is not None:
        target = memo.get(("target", g))
        if target is None:
            try:
                target = memo["target", g] = cat.target(g)
            except KeyError:
                target = memo["target", g] = UnknownGene(
                    f"gene {g} is not in the catalog (targets: "
                    f"{', '.join(t.gene for t in cat.targets)})")
        if isinstance(target, UnknownGene):  # (a fresh traceback: raising a kept exception
            raise target.with_traceback(None)  # again would grow its traceback every row)
    kind = cls.strip().lower() if cls else ""
    if kind in _NONCODING:
        raise _Unplaced("no protein change", f"{cls}: no protein change")
    if kind in _SPLICE and not change:
        raise _Unplaced("splice", f"{cls}: splice-site change without a protein position; the "
                                  "protein effect (exon skipping, intron retention) is not predicted")
    if not change:
        raise VariantError("empty protein change")
    if keep is not None and target is not None and target.gene not in keep:
        raise _Unplaced("gene not selected", f"gene {target.gene} not selected")
    key = (g, change, validate)
    v = memo.get(key)
    if v is None:
        try:
            v = parse_variant(change, g, validate=validate, cat=cat, fetcher=fetcher)
            hash(v), v.hgvs  # computed on the template (key, hash), shared by its copies
        except (VariantError, FetchError) as exc:
            v = exc
        if not isinstance(v, FetchError):  # (a record missing now may be there next time)
            memo[key] = v
    if isinstance(v, Exception):
        raise v.with_traceback(None)
    if keep is not None and v.gene not in keep:
        raise _Unplaced("gene not selected", f"gene {v.gene} not selected")
    if kind in _SPLICE and v.kind == "synonymous":  # the codon is unchanged: the splice site acts
        v = replace(v, kind="splice", alt=None)
    return v


@accepts_session
def parse_variants(items: str | Path | Iterable, *, gene: str | None = None, validate: bool = True,
                   genes: Iterable[str] | None = None, fetcher: Fetcher | None = None,
                   sample_column: str | None = None) -> VariantBatch:
    """Parse many variants: a file path (CSV/TSV/MAF, optionally .gz) or an iterable of items.

    Items are strings (``'ERBB2:p.T798M'``), ``(gene, change)`` pairs or ``Variant`` objects.
    No row stops the batch: every input row becomes a variant (with ``row`` and ``sample``) or a
    row of ``unplaced`` with a status and reason. ``genes`` keeps only rows of those genes (the
    others get status ``gene not selected``). A path that does not exist raises
    ``FileNotFoundError``; MAF ``Variant_Classification`` is read when present (Silent, Splice_Site
    and non-coding classes). UniProt records are read only for the genes that occur.

    Examples
    --------
    >>> b = parse_variants(["TP53:p.Arg248Gln", "HER2 T798M", "KRAS:p.G12D"])
    >>> [v.label for v in b]
    ['TP53 p.R248Q', 'ERBB2 p.T798M']
    >>> b.unplaced[["row", "status"]].values.tolist()
    [[3, 'gene not in catalog']]
    """
    with gc_paused():  # millions of small acyclic objects for a large cohort (see _gc)
        return _parse_variants(items, gene, validate, genes, fetcher, sample_column)


def _parse_variants(items, gene, validate, genes, fetcher, sample_column) -> VariantBatch:
    cat = catalog()
    fetcher = session_of(fetcher)  # resolved once: its store caches the records
    notes: list[str] = []
    if _is_path(items):  # cells as in the file: each distinct one stripped once, below
        cols, batches = raw_batches(items, sample_column, notes)
        strip = True
    else:
        rows = ([InputRow(1, None, items)] if isinstance(items, str)
                else [_coerce(it, i) for i, it in enumerate(items, start=1)])
        cols, batches, strip = (1, 2, 3, 4), [(list(map(itemgetter(0), rows)), rows)], False
    gcol, ccol, scol, kcol = cols
    keep = {cat.target(g).gene for g in genes} if genes else None
    # (gene, change, classification) -> code, in order of first appearance; per row only the
    # C-level steps run (key tuple, dict lookup), each distinct key is parsed once below
    index, samples = _first_seen(), _first_seen(None)
    codes, lines, scodes = [], [], []
    for starts, rows in batches:
        n = len(rows)
        if not n:
            continue
        gs = map(itemgetter(gcol), rows) if gcol is not None else repeat(None, n)
        ks = map(itemgetter(kcol), rows) if kcol is not None else repeat(None, n)
        cs = map(itemgetter(ccol), rows)
        # items that were not text (_NotText) must not share a key with equal text
        keys = (zip(gs, cs, ks, strict=True) if strip else
                zip(gs, cs, ks, map(type, map(itemgetter(ccol), rows)), strict=True))
        codes.append(np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=n))
        lines.append(np.fromiter(starts, dtype=np.int64, count=n))
        if scol is not None:
            scodes.append(np.fromiter(map(samples.__getitem__, map(itemgetter(scol), rows)),
                                      dtype=np.int64, count=n))
    # each distinct (gene, change) parsed once per session, each gene looked up once
    # ('target', gene): kept in the session's store (checked against its records), so a
    # notebook that re-runs a cell parses nothing again; emptied beyond PARSED_MAX entries
    memo: dict[tuple, Variant | Target | Exception] = fetcher.cache("parsed")
    if len(memo) > PARSED_MAX:
        memo.clear()
    protos: list[Variant] = []
    fails: list[tuple] = []  # (gene, input, status, reason)
    outcome = np.empty(len(index), dtype=np.int64)  # proto index, or -1 - index of fails
    unread: dict[str, FetchError] = {}  # gene -> why its record could not be read (asked once)
    for k, key in enumerate(index):
        got = _key_outcome(key, strip, gene, keep, cat, fetcher, validate, memo, unread)
        if isinstance(got, Variant):
            outcome[k] = len(protos)
            protos.append(got)
        else:
            outcome[k] = -1 - len(fails)
            fails.append(got)
    empty = np.zeros(0, dtype=np.int64)
    out = outcome[np.concatenate(codes)] if codes else empty
    at = np.concatenate(lines) if lines else empty
    scode, names = _sample_codes(samples, scodes, len(out), strip)
    good = out >= 0
    bad = [(row, names[sc], *fails[-1 - o]) for row, sc, o in zip(
        at[~good].tolist(), scode[~good].tolist(), out[~good].tolist(), strict=True)]
    vc = VariantColumns(protos, out[good].astype(np.int32), at[good], scode[good], names)
    return VariantBatch._from_columns(vc, pd.DataFrame(bad, columns=UNPLACED_COLUMNS), notes)


def _sample_codes(samples: dict, parts: list[np.ndarray], n: int, strip: bool
                  ) -> tuple[np.ndarray, list[str | None]]:
    """Per row the code of its sample in the names (entry 0: None), from the codes of the
    cells as read (``samples``: cell -> code); a file's cells are stripped here, once each,
    an empty one is no sample."""
    if not parts:
        return np.zeros(n, dtype=np.int64), [None]
    final: dict[str | None, int] = {None: 0}
    remap = np.empty(len(samples), dtype=np.int64)
    for j, cell in enumerate(samples):
        name = file_sample(cell) if strip else cell
        remap[j] = final.setdefault(name, len(final))
    return remap[np.concatenate(parts)], list(final)


def _key_outcome(key: tuple, strip: bool, gene, keep, cat, fetcher, validate: bool,
                 memo: dict, unread: dict) -> Variant | tuple:
    """What the input rows with this (gene, change, classification) give: their variant (with
    the input text as ``raw``; no row or sample yet) or (gene, input, status, reason). A gene
    whose UniProt record could not be read (``unread``) is not asked for again in the batch:
    thousands of distinct changes of a gene would each wait for the retries."""
    g, change, cls = file_cells(*key[:3]) if strip else key[:3]
    g = gene if not g and gene else g
    text = f"{g}:{change}" if g else change
    if g == "":  # the file has a gene column and this row's cell is empty
        return (None, change, "rejected", "empty gene cell: the gene of a row in a file with a "
                "gene column is never guessed (fill it or give --gene)")
    if g in unread:
        return _unread(g, text, unread[g])
    try:
        return _with_origin(_row_variant(g, change, cls, keep, cat, fetcher, validate, memo),
                            text, None, None)
    except _Unplaced as exc:
        return (g, text, exc.status, str(exc))
    except UnknownGene as exc:
        return (g, text, "gene not in catalog", str(exc))
    except VariantError as exc:
        return (g, text, "rejected", str(exc))
    except FetchError as exc:  # the protein's UniProt record could not be read
        if g is not None:
            unread[g] = exc.with_traceback(None)
        return _unread(g, text, exc)


def _unread(g, text: str, exc: FetchError) -> tuple:
    status = "not available offline" if isinstance(exc, NotAvailableOffline) else "fetch failed"
    return (g, text, status, str(exc))
