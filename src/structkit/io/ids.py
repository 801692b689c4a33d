"""Validation of identifiers before any I/O (PDB IDs, UniProt accessions).

Every function here either returns the normalised identifier or raises ``ValueError``
naming the bad value and the accepted form; none touches the file system or network.
"""

from __future__ import annotations

import re

__all__ = ["normalize_pdb_id", "normalize_accession", "PDB_ID_FORM", "ACCESSION_FORM"]

PDB_ID_FORM = "4 characters, a digit 1-9 then 3 letters/digits (e.g. 1N8Z), or the extended form pdb_0000xxxx"
ACCESSION_FORM = "a UniProt accession such as P04626 or A0A024R161 (6 or 10 characters)"

_PDB_ID = re.compile(r"[1-9][A-Za-z0-9]{3}\Z")
_PDB_EXT = re.compile(r"pdb_[0-9]{4}([1-9][A-Za-z0-9]{3})\Z", re.IGNORECASE)
# UniProt's published accession pattern.
_ACCESSION = re.compile(
    r"([OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9]([A-Z][A-Z0-9]{2}[0-9]){1,2})\Z"
)


def normalize_pdb_id(value: object) -> str:
    """Return a PDB ID in upper case (``'1n8z'`` -> ``'1N8Z'``).

    The extended form ``pdb_00001n8z`` is accepted and reduced to its 4-character code
    when the padding is zeros (the only extended IDs issued so far).
    Raises ``ValueError`` for anything else, before any file or network access.

    Examples
    --------
    >>> normalize_pdb_id("1tsr"), normalize_pdb_id("pdb_00001n8z")
    ('1TSR', '1N8Z')
    """
    if not isinstance(value, str):
        raise ValueError(f"PDB ID {value!r} is not a string; expected {PDB_ID_FORM}")
    text = value.strip()
    if _PDB_ID.match(text):
        return text.upper()
    m = _PDB_EXT.match(text)
    if m and text[4:8] == "0000":
        return m.group(1).upper()
    raise ValueError(f"invalid PDB ID {value!r}: expected {PDB_ID_FORM}")


def normalize_accession(value: object) -> str:
    """Return a UniProt accession in upper case (``'p04626'`` -> ``'P04626'``).

    Raises ``ValueError`` naming the value when it does not match UniProt's accession
    pattern; isoform suffixes (``P04626-2``) are not accepted here.

    Examples
    --------
    >>> normalize_accession(" p04626 ")
    'P04626'
    """
    if not isinstance(value, str):
        raise ValueError(f"UniProt accession {value!r} is not a string; expected {ACCESSION_FORM}")
    text = value.strip().upper()
    if _ACCESSION.match(text):
        return text
    raise ValueError(f"invalid UniProt accession {value!r}: expected {ACCESSION_FORM}")
