"""Parse protein variants (``T798M``, ``p.Thr798Met``, ``ERBB2:p.T798M``, MAF rows) and check them.

Positions are UniProt numbering of the canonical sequence. Missense, nonsense and synonymous
changes are kept with their reference and alternate residues; in-frame insertions, deletions,
delins, duplications, frameshifts and splice-site changes are kept with their kind and
position(s) rather than rejected. A batch never stops on a bad row: it returns the good
variants and a table of rejected rows with row numbers and reasons.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import pandas as pd

from .catalog import Catalog, catalog

__all__ = [
    "Variant",
    "VariantError",
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

_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("frameshift", re.compile(rf"(?P<r1>{_AA})(?P<p1>\d+)(?P<alt>{_AA})?fs(?:\*|Ter|X)?(?:\d+|\?)?")),
    ("delins", re.compile(rf"(?P<r1>{_AA})(?P<p1>\d+)(?:_(?P<r2>{_AA})(?P<p2>\d+))?delins(?P<alt>{_AAS})")),
    ("inframe_insertion",
     re.compile(rf"(?P<r1>{_AA})(?P<p1>\d+)_(?P<r2>{_AA})(?P<p2>\d+)ins(?P<alt>{_AAS})")),
    ("inframe_deletion",
     re.compile(rf"(?P<r1>{_AA})(?P<p1>\d+)(?:_(?P<r2>{_AA})(?P<p2>\d+))?del(?:{_AAS})?")),
    ("duplication", re.compile(rf"(?P<r1>{_AA})(?P<p1>\d+)(?:_(?P<r2>{_AA})(?P<p2>\d+))?dup(?:{_AAS})?")),
    ("splice", re.compile(r"(?:X|[A-Z])?(?P<p1>\d+)_splice")),
    ("substitution", re.compile(rf"(?P<r1>{_AA})(?P<p1>\d+)(?P<alt>{_AA}|\*|Ter|X|=)")),
]

_GENE_SPLIT = re.compile(r"^\s*(?P<gene>[A-Za-z0-9][A-Za-z0-9-]*?)\s*(?::|\s)\s*(?P<rest>\S+)\s*$")


class VariantError(ValueError):
    """A variant string could not be parsed or does not fit its protein."""


class ReferenceMismatch(VariantError):
    """The reference residue given does not match UniProt at that position."""


@dataclass(frozen=True)
class Variant:
    """One protein change in UniProt numbering.

    ``kind`` is one of missense, nonsense, synonymous, inframe_insertion, inframe_deletion,
    delins, duplication, frameshift, splice. ``ref`` is the reference residue at ``position``
    (one-letter); ``alt`` the new residue(s) (``*`` for stop), or None where not applicable.
    ``end`` is the last position of a range (deletions, insertions between two residues).
    """

    gene: str
    accession: str
    kind: str
    position: int
    ref: str
    alt: str | None = None
    end: int | None = None
    ref_end: str | None = None
    raw: str = ""

    @cached_property
    def hgvs(self) -> str:
        """HGVS-like protein notation with one-letter codes (``p.T798M``)."""
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
        }[self.kind]

    @property
    def short(self) -> str:
        """``T798M`` style label (the HGVS form without ``p.``)."""
        return self.hgvs[2:]

    @property
    def label(self) -> str:
        return f"{self.gene} {self.hgvs}"

    @property
    def is_missense(self) -> bool:
        return self.kind == "missense"


def _aa(code: str | None) -> str | None:
    if code is None:
        return None
    if code in ("Ter", "*", "X"):
        return "*"
    if len(code) == 3 and code in THREE_TO_ONE:
        return THREE_TO_ONE[code]
    if len(code) == 1:
        return code
    raise VariantError(f"unknown amino-acid code {code!r}")


def _aas(codes: str) -> str:
    if re.fullmatch(r"(?:[A-Z][a-z]{2})+", codes):
        return "".join(_aa(codes[i:i + 3]) or "" for i in range(0, len(codes), 3))
    return codes


def _parse_change(change: str) -> dict:
    text = change.strip()
    if text.startswith("p."):
        text = text[2:]
    text = text.strip("()")
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
        elif kind in ("delins", "inframe_insertion"):
            out["alt"] = _aas(d["alt"])
        elif kind == "frameshift":
            out["alt"] = _aa(d["alt"]) if d.get("alt") else None
        if out["end"] is not None and out["end"] < out["position"]:
            raise VariantError(f"{change!r}: range end {out['end']} before start {out['position']}")
        return out
    raise VariantError(
        f"cannot read protein change {change!r}: expected forms like T798M, p.T798M, p.Thr798Met, "
        "R213*, A775_G776insYVMA, E746_A750del, P72fs"
    )


def _check_reference(gene: str, acc: str, seq: str, v: dict, raw: str) -> None:
    n = len(seq)
    for pos, ref in ((v["position"], v["ref"]), (v.get("end"), v.get("ref_end"))):
        if pos is None:
            continue
        if not 1 <= pos <= n:
            raise VariantError(f"{raw!r}: position {pos} is beyond {gene} ({acc}, {n} aa)")
        if ref and ref != seq[pos - 1]:
            raise ReferenceMismatch(
                f"{raw!r}: {gene} ({acc}) has {seq[pos - 1]} at {pos}, the variant gives {ref}")


def _sequence_of(acc: str, fetcher=None) -> str:
    from .uniprot import uniprot_record

    return uniprot_record(acc, fetcher).sequence


def parse_variant(text: str, gene: str | None = None, *, validate: bool = True,
                  cat: Catalog | None = None, fetcher=None) -> Variant:
    """Parse one variant and check its reference residue against UniProt.

    ``gene`` may be given separately or as a prefix (``ERBB2:p.T798M``, ``HER2 T798M``); aliases
    are normalised through the catalog. Without a gene, the gene is inferred when exactly one
    catalog target has the reference residue at that position; otherwise ``VariantError`` asks
    for the gene. With ``validate`` the reference residue must match UniProt
    (``ReferenceMismatch`` names gene, position, UniProt's residue and the given one).
    """
    if not isinstance(text, str):
        raise VariantError(f"variant {text!r} is not a string")
    cat = cat or catalog()
    raw = text.strip()
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
    v = _parse_change(change)
    if gene is not None:
        try:
            target = cat.target(gene)
        except KeyError as exc:
            raise VariantError(f"{raw!r}: {exc.args[0]}") from None
        seq = _sequence_of(target.accession, fetcher) if validate else ""
        if validate:
            _check_reference(target.gene, target.accession, seq, v, raw)
        return Variant(target.gene, target.accession, raw=raw, **v)
    # infer the gene from the reference residue
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
        return Variant(fits[0].gene, fits[0].accession, raw=raw, **v)
    if not fits:
        raise VariantError(f"{raw!r}: the reference residue fits none of "
                           f"{', '.join(t.gene for t in cat.targets)}; name the gene (GENE:p.X123Y)")
    raise VariantError(f"{raw!r}: fits {', '.join(t.gene for t in fits)}; name the gene "
                       f"(e.g. {fits[0].gene}:{change})")


@dataclass
class VariantBatch:
    """Parsed variants plus rejected rows (``row``, ``input``, ``reason``)."""

    variants: list[Variant]
    rejected: pd.DataFrame

    def __iter__(self):
        return iter(self.variants)

    def __len__(self) -> int:
        return len(self.variants)


_CHANGE_COLS = ("hgvsp_short", "protein_change", "hgvsp", "amino_acid_change", "aachange",
                "variant", "mutation", "change", "protein")
_GENE_COLS = ("hugo_symbol", "gene", "gene_symbol", "symbol")
_CHANGE_LIKE = re.compile(r"^(p\.)?[A-Z*][a-z]{0,2}\d+")


def read_variant_file(path: str | Path) -> list[tuple[int, str | None, str]]:
    """Rows (line number, gene or None, change) from a CSV/TSV/MAF file (plain or gzipped).

    Recognised columns: gene from Hugo_Symbol/gene/symbol; change from HGVSp_Short,
    Protein_Change, HGVSp, variant, mutation or change. Headerless tables (such as the
    cancer-hotspots TSV) are read by finding the column of gene symbols and the column of
    protein changes. Lines starting with ``#`` are skipped.
    """
    p = Path(path)
    raw = p.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8", errors="replace")
    lines = [(i, ln) for i, ln in enumerate(text.splitlines(), start=1)
             if ln.strip() and not ln.startswith("#")]
    if not lines:
        return []
    first = lines[0][1]
    delim = "\t" if "\t" in first else ","
    rows = list(csv.reader(io.StringIO("\n".join(ln for _, ln in lines)), delimiter=delim))
    header = [h.strip().lower() for h in rows[0]]
    gcol = next((header.index(c) for c in _GENE_COLS if c in header), None)
    ccol = next((header.index(c) for c in _CHANGE_COLS if c in header), None)
    body = list(zip([i for i, _ in lines], rows, strict=True))
    if ccol is None and len(header) == 1:  # a plain list, one variant per line
        return [(i, None, r[0].strip()) for i, r in body if r]
    if ccol is None:  # headerless: find the columns by their content
        sample = rows[: min(len(rows), 200)]
        ncol = max(len(r) for r in sample)

        def frac(j: int, pat: re.Pattern) -> float:
            vals = [r[j].strip() for r in sample if len(r) > j]
            return sum(bool(pat.match(v)) for v in vals) / max(len(vals), 1)

        scores = [frac(j, _CHANGE_LIKE) for j in range(ncol)]
        ccol = max(range(ncol), key=lambda j: scores[j])
        if scores[ccol] < 0.5:
            raise VariantError(f"{p}: no column of protein changes found; expected a header with "
                               "HGVSp_Short, Protein_Change or variant")
        sym = re.compile(r"^[A-Z][A-Z0-9-]{1,15}$")
        gscores = [frac(j, sym) if j != ccol else 0 for j in range(ncol)]
        gcol = max(range(ncol), key=lambda j: gscores[j]) if max(gscores) >= 0.5 else None
    else:
        body = body[1:]
    out = []
    for i, r in body:
        gene = r[gcol].strip() if gcol is not None and len(r) > gcol else None
        change = r[ccol].strip() if len(r) > ccol else ""
        out.append((i, gene or None, change))
    return out


def parse_variants(items: str | Path | Iterable[str] | Iterable[tuple[str | None, str]], *,
                   gene: str | None = None, validate: bool = True, genes: Iterable[str] | None = None,
                   fetcher=None) -> VariantBatch:
    """Parse many variants: a file path (CSV/TSV/MAF, optionally .gz) or an iterable of strings.

    Bad rows do not stop the batch: they are returned in ``rejected`` with their row number
    (file line, or 1-based item index) and the reason. ``genes`` keeps only rows of those genes
    (others are rejected as 'gene not selected').
    """
    cat = catalog()
    if isinstance(items, (str, Path)) and Path(items).is_file():
        rows = read_variant_file(items)
    elif isinstance(items, str):
        rows = [(1, None, items)]
    else:
        rows = []
        for i, it in enumerate(items, start=1):
            if isinstance(it, tuple):
                rows.append((i, it[0], it[1]))
            else:
                rows.append((i, None, it))
    keep = {cat.target(g).gene for g in genes} if genes else None
    good: list[Variant] = []
    bad: list[dict] = []
    for row, g, change in rows:
        g = g or gene
        text = f"{g}:{change}" if g else change
        try:
            if not change:
                raise VariantError("empty protein change")
            if g is not None:
                try:
                    cat.target(g)
                except KeyError as exc:
                    raise VariantError(f"gene {g} is not in the catalog") from exc
            v = parse_variant(change, g, validate=validate, cat=cat, fetcher=fetcher)
            if keep is not None and v.gene not in keep:
                raise VariantError(f"gene {v.gene} not selected")
            good.append(replace(v, raw=text))
        except VariantError as exc:
            bad.append({"row": row, "input": text, "reason": str(exc)})
    return VariantBatch(good, pd.DataFrame(bad, columns=["row", "input", "reason"]))
