"""UniProt records: canonical sequence and features, from FASTA, JSON or flat-file text.

The sequence is read without Biopython's SwissProt parser, which rejects older flat files
(the 2004 ``P04637`` record has a GN line in a format it no longer accepts); we need only the
``SQ`` block, whose format has not changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..keywords import accepts_session
from .fetch import Fetcher, FetchError, NotAvailableOffline
from .ids import normalize_accession
from .store import session_of

__all__ = ["UniProtRecord", "read_uniprot", "uniprot_record", "parse_fasta", "parse_flatfile_sequence"]


class UniProtFormatError(ValueError):
    """A UniProt file could not be read; the message names the file and the record."""


@dataclass(frozen=True)
class UniProtRecord:
    """Canonical sequence (1-based UniProt numbering) and, when available, features."""

    accession: str
    sequence: str
    source: str  # file the sequence came from
    gene: str | None = None
    features: tuple[dict, ...] = field(default=(), repr=False)


def parse_fasta(text: str, name: str = "<fasta>") -> tuple[str, str]:
    """Return (header, sequence) of the first FASTA record."""
    lines = text.strip().splitlines()
    if not lines or not lines[0].startswith(">"):
        raise UniProtFormatError(f"{name}: line 1 does not start with '>', expected FASTA")
    seq: list[str] = []
    for i, line in enumerate(lines[1:], start=2):
        if line.startswith(">"):
            break
        s = line.strip()
        if s and not s.isalpha():
            raise UniProtFormatError(f"{name}: line {i} {s[:30]!r} is not a sequence line")
        seq.append(s.upper())
    return lines[0][1:], "".join(seq)


def parse_flatfile_sequence(text: str, name: str = "<flat file>") -> tuple[str | None, str]:
    """Return (gene name or None, sequence) from a Swiss-Prot flat file's GN and SQ lines."""
    gene = None
    seq: list[str] = []
    in_sq = False
    declared = None
    for i, line in enumerate(text.splitlines(), start=1):
        if line.startswith("GN   ") and gene is None:
            body = line[5:]
            if "Name=" in body:
                gene = body.split("Name=")[1].split(";")[0].split()[0]
            else:  # pre-2005 format: "GN   TP53 OR P53."
                gene = body.strip().rstrip(".").split()[0]
        elif line.startswith("SQ   "):
            in_sq = True
            parts = line.split()
            if len(parts) > 2 and parts[2].isdigit():
                declared = int(parts[2])
        elif line.startswith("//"):
            break
        elif in_sq:
            s = line.replace(" ", "")
            if not s.isalpha():
                raise UniProtFormatError(f"{name}: line {i} in the SQ block is not sequence")
            seq.append(s.upper())
    sequence = "".join(seq)
    if not sequence:
        raise UniProtFormatError(f"{name}: no SQ block found, expected a UniProt flat file")
    if declared is not None and declared != len(sequence):
        raise UniProtFormatError(
            f"{name}: SQ line declares {declared} residues but the block has {len(sequence)}"
        )
    return gene, sequence


def read_uniprot(path: str | Path, accession: str | None = None) -> UniProtRecord:
    """Read a UniProt record from a ``.fasta``, ``.json`` or ``.txt`` file."""
    p = Path(path)
    text = p.read_text(encoding="utf-8", errors="replace")
    suffix = p.suffix.lower()
    if suffix in (".fasta", ".fa"):
        header, seq = parse_fasta(text, str(p))
        if accession:
            acc = accession
        elif "|" in header:
            acc = header.split("|")[1]
        else:
            acc = header.split()[0]
        gene = header.split("GN=")[1].split()[0] if "GN=" in header else None
        return UniProtRecord(normalize_accession(acc), seq, str(p), gene)
    if suffix == ".json":
        try:
            obj = json.loads(text)
            seq = obj["sequence"]["value"]
            acc = obj["primaryAccession"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise UniProtFormatError(f"{p}: not a UniProt JSON entry ({exc})") from exc
        genes = obj.get("genes") or []
        gene = genes[0].get("geneName", {}).get("value") if genes else None
        return UniProtRecord(normalize_accession(acc), seq, str(p), gene,
                             tuple(obj.get("features") or ()))
    if suffix == ".txt":
        gene, seq = parse_flatfile_sequence(text, str(p))
        acc = accession
        for line in text.splitlines():
            if line.startswith("AC   "):
                acc = acc or line[5:].split(";")[0].strip()
                break
        if acc is None:
            raise UniProtFormatError(f"{p}: no AC line, cannot tell the accession")
        return UniProtRecord(normalize_accession(acc), seq, str(p), gene)
    raise UniProtFormatError(f"{p}: unknown UniProt file type {suffix!r}; expected .fasta/.json/.txt")




def _fetch_record(acc: str, fetcher: Fetcher) -> UniProtRecord:
    errors: list[FetchError] = []
    for fmt in ("json", "fasta", "txt"):  # JSON first: it carries features too
        try:
            res = fetcher.uniprot(acc, fmt)
        except FetchError as exc:
            errors.append(exc)
            continue
        return read_uniprot(res.path, acc)
    if all(isinstance(e, NotAvailableOffline) for e in errors):
        raise NotAvailableOffline(f"UniProt record {acc} not available offline (no JSON, FASTA or "
                                  f"flat file in cache {fetcher.cache_dir} or mirror "
                                  f"{fetcher.mirror}; offline mode forbids the network)")
    raise FetchError(f"UniProt {acc}: no record found; " + " | ".join(map(str, errors)))


@accepts_session
def uniprot_record(accession: str, fetcher: Fetcher | None = None) -> UniProtRecord:
    """The UniProt record for an accession, through the fetcher (cache, mirror, network).

    Tries JSON first (sequence and features), then FASTA, then the flat file. Kept in the
    fetcher's (session's) store: one read per accession and session.

    Parameters
    ----------
    accession : str
        A UniProt accession (any case; isoforms are not accepted).
    fetcher : Fetcher or Session, optional
        Where files come from (default: the default session).

    Returns
    -------
    UniProtRecord
        ``accession``, ``sequence`` (UniProt numbering: position p is ``sequence[p - 1]``),
        ``gene`` and ``source`` (the file read).

    Examples
    --------
    >>> r = uniprot_record("p04637")
    >>> r.accession, r.gene, len(r.sequence), r.sequence[248 - 1]
    ('P04637', 'TP53', 393, 'R')
    """
    f = session_of(fetcher)
    records = f.cache("uniprot")
    rec = records.get(accession)  # a repeated call with the same text: one lookup
    if rec is None:
        acc = normalize_accession(accession)
        if acc not in records:
            records[acc] = _fetch_record(acc, f)
        rec = records[accession] = records[acc]
    return rec
