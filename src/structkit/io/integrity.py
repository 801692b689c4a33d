"""Integrity checks of fetched bytes, and the errors a fetch raises.

Every file structkit reads from outside (cache, mirror, network, a user's path) is checked here
before it is used: the requested format, complete (a PDB file ends with END, an mmCIF block
parses and its atom table is whole), the ID it should carry; gzip is inflated as a stream with
a size cap (a decompression bomb is an error, not a MemoryError). Standard library only (gemmi
loads when an mmCIF file is checked): the floor below ``fetch``, ``structure``, ``msa`` and
``variants``.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import zlib

__all__ = ["DEFAULT_MAX_BYTES", "FetchError", "NoSuchEntry", "NotAvailableOffline",
           "IntegrityError", "gunzip_if_needed", "check_structure_bytes", "check_uniprot_bytes"]

DEFAULT_MAX_BYTES = 512 * 1024 * 1024


class FetchError(RuntimeError):
    """A file could not be obtained; the message names the ID and what was tried."""


class NoSuchEntry(FetchError):
    """The server answered 404: no such entry."""


class NotAvailableOffline(FetchError):
    """Offline mode (or no network source) and the file is in neither cache nor mirror."""


class IntegrityError(FetchError):
    """A body was not the requested format, or was incomplete or corrupt."""


# ----------------------------------------------------------------------------------- checks


def _looks_like_html(head: bytes) -> bool:
    h = head.lstrip()[:512].lower()
    return h.startswith(b"<!doctype html") or h.startswith(b"<html") or b"<html" in h[:200]


def _decompress(data: bytes, name: str, limit: int = DEFAULT_MAX_BYTES) -> bytes:
    """Inflate gzip ``data`` as a stream, refusing more than ``limit`` inflated bytes (a
    decompression bomb is an error, not a MemoryError)."""
    import io

    out, total = [], 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            while chunk := fh.read(1 << 20):
                total += len(chunk)
                if total > limit:
                    raise IntegrityError(f"{name}: inflates to more than {limit >> 20} MiB "
                                         "(decompression bomb?); refused")
                out.append(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise IntegrityError(f"{name}: corrupt or truncated gzip data ({exc})") from exc
    return b"".join(out)


def gunzip_if_needed(data: bytes, name: str, limit: int = DEFAULT_MAX_BYTES) -> bytes:
    """``data`` inflated if it starts with the gzip magic bytes, else as it is
    (``IntegrityError`` naming ``name`` for corrupt gzip data or more than ``limit`` bytes)."""
    return _decompress(data, name, limit) if data[:2] == b"\x1f\x8b" else data


def check_structure_bytes(data: bytes, name: str, fmt: str, expected_id: str | None) -> None:
    """Raise ``IntegrityError`` unless ``data`` is a complete PDB or mmCIF file.

    ``fmt`` is ``'pdb'`` or ``'cif'``; gzip is detected by magic bytes. For PDB format the
    last record must be ``END`` and a HEADER ID (when present, and not the assembly
    placeholder ``XXXX``) must equal ``expected_id``; for mmCIF the data block must parse
    and be named after the entry.
    """
    data = gunzip_if_needed(data, name)
    if not data.strip():
        raise IntegrityError(f"{name}: empty file")
    if _looks_like_html(data[:1024]):
        raise IntegrityError(f"{name}: got an HTML page, expected {fmt} format")
    text = data.decode("latin-1")
    if fmt == "pdb":
        lines = [ln for ln in text.splitlines() if ln.strip()]
        _check_pdb_records(lines, name)
        head = lines[0]
        if expected_id and head.startswith("HEADER") and len(head) >= 66:
            found = head[62:66].strip().upper()
            if found and found != "XXXX" and found != expected_id.upper():
                raise IntegrityError(f"{name}: HEADER names entry {found}, expected {expected_id}")
        elif expected_id and not expected_id.upper().startswith("AF-"):
            # no HEADER: legacy files carry the entry ID in columns 73-76 of every record
            ids = {ln[72:76].upper() for ln in lines[:200] if len(ln) >= 76 and ln[72:76].strip()}
            if len(ids) == 1:
                found = ids.pop()
                if re.fullmatch(r"[0-9][A-Z0-9]{3}", found) and found != expected_id.upper():
                    raise IntegrityError(f"{name}: records name entry {found} (columns 73-76), "
                                         f"expected {expected_id}")
    elif fmt == "cif":
        import gemmi

        if not text.lstrip().startswith("data_"):
            raise IntegrityError(f"{name}: does not start with data_, not an mmCIF file")
        try:
            doc = gemmi.cif.read_string(text)
        except (RuntimeError, ValueError) as exc:
            raise IntegrityError(f"{name}: mmCIF does not parse ({exc})") from exc
        if len(doc) != 1:
            raise IntegrityError(f"{name}: {len(doc)} data blocks, expected one mmCIF entry")
        block = doc.sole_block()
        if block.find_value("_atom_site.id") is None and not block.find_loop("_atom_site.id"):
            raise IntegrityError(f"{name}: mmCIF has no _atom_site loop")
        _check_cif_atoms(block, text, name)
        if expected_id and not expected_id.upper().startswith("AF-"):
            if block.name.upper() != expected_id.upper():
                raise IntegrityError(
                    f"{name}: mmCIF block is data_{block.name}, expected data_{expected_id}"
                )
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown structure format {fmt!r}")


def _check_cif_atoms(block, text: str, name: str) -> None:
    """A complete ``_atom_site`` table: the file does not end inside it (a file cut at a line
    boundary, or right after the last atom row, ends with an atom row: a complete file closes
    the loop with ``#`` or another category), every coordinate is a finite number, and all
    models hold the same number of atoms."""
    import numpy as np

    tail = text.rstrip().rsplit("\n", 1)[-1].lstrip()
    if tail.startswith(("ATOM", "HETATM")):
        raise IntegrityError(f"{name}: mmCIF ends inside the _atom_site loop (file truncated?)")
    table = block.find("_atom_site.", ["Cartn_x", "Cartn_y", "Cartn_z", "?pdbx_PDB_model_num"])
    if not len(table):
        raise IntegrityError(f"{name}: the _atom_site loop has no coordinates")
    try:
        xyz = np.array([[float(table[i][j]) for j in range(3)] for i in range(len(table))])
    except ValueError as exc:
        raise IntegrityError(f"{name}: a coordinate is not a number ({exc})") from None
    bad = np.flatnonzero(~np.isfinite(xyz).all(axis=1))
    if len(bad):
        raise IntegrityError(f"{name}: atom row {int(bad[0]) + 1} of _atom_site has a non-finite "
                             "coordinate (damaged file?)")
    if table.has_column(3):
        models = [table[i][3] for i in range(len(table))]
        counts = {m: models.count(m) for m in dict.fromkeys(models)}
        if len(set(counts.values())) > 1:
            raise IntegrityError(f"{name}: models hold different atom counts "
                                 f"{list(counts.values())} (file truncated or damaged?)")


def _check_pdb_records(lines: list[str], name: str) -> None:
    """A complete PDB-format coordinate section: the last record is ``END`` itself (not
    ``ENDMDL``: a file cut after a model ends with that), every ``MODEL`` has its ``ENDMDL``,
    all models hold the same number of atoms, and every coordinate is a finite number."""
    atoms = [ln for ln in lines if ln.startswith(("ATOM  ", "HETATM"))]
    if not atoms:
        raise IntegrityError(f"{name}: no ATOM/HETATM records, not a PDB-format file")
    if lines[-1][:6].rstrip() != "END":
        raise IntegrityError(
            f"{name}: last record is {lines[-1][:20]!r}, expected END (file truncated?)")
    per_model, n, open_model = [], 0, False
    for ln in lines:
        rec = ln[:6]
        if rec == "MODEL ":
            if open_model:
                raise IntegrityError(f"{name}: MODEL without ENDMDL before it (file damaged?)")
            open_model, n = True, 0
        elif rec in ("ATOM  ", "HETATM"):
            n += 1
        elif rec == "ENDMDL":
            if not open_model:
                raise IntegrityError(f"{name}: ENDMDL without MODEL (file damaged?)")
            open_model = False
            per_model.append(n)
    if open_model:
        raise IntegrityError(f"{name}: the last MODEL has no ENDMDL (file truncated?)")
    if len(set(per_model)) > 1:
        raise IntegrityError(f"{name}: models hold different atom counts {per_model} "
                             "(file truncated or damaged?)")
    try:
        xyz = [float(ln[30:38]) + float(ln[38:46]) + float(ln[46:54]) for ln in atoms]
    except ValueError as exc:
        raise IntegrityError(f"{name}: unreadable coordinates ({exc})") from None
    if not all(map(math.isfinite, xyz)):
        raise IntegrityError(f"{name}: non-finite coordinates (nan/inf)")


def check_uniprot_bytes(data: bytes, name: str, fmt: str, accession: str) -> None:
    """Raise ``IntegrityError`` unless ``data`` is a UniProt record for ``accession``."""
    if _looks_like_html(data[:1024]):
        raise IntegrityError(f"{name}: got an HTML page, expected UniProt {fmt}")
    text = data.decode("utf-8", errors="replace")
    if fmt == "fasta":
        lines = text.strip().splitlines()
        if not lines or not lines[0].startswith(">") or accession not in lines[0]:
            raise IntegrityError(f"{name}: not a FASTA record for {accession}")
        seq = "".join(lines[1:]).strip()
        if not seq or not seq.isalpha():
            raise IntegrityError(f"{name}: FASTA sequence for {accession} is empty or not letters")
    elif fmt == "json":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IntegrityError(f"{name}: JSON does not parse ({exc})") from exc
        if not isinstance(obj, dict) or obj.get("primaryAccession") != accession:
            raise IntegrityError(f"{name}: JSON is not the UniProt entry {accession}")
    elif fmt == "txt":
        if not text.startswith("ID ") or accession not in text[:2000]:
            raise IntegrityError(f"{name}: not a UniProt flat file for {accession}")
        if not text.rstrip().endswith("//"):
            raise IntegrityError(f"{name}: UniProt flat file does not end with // (truncated?)")
    else:  # pragma: no cover
        raise ValueError(f"unknown UniProt format {fmt!r}")


def _check_json_list(data: bytes, name: str) -> None:
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as exc:
        raise IntegrityError(f"{name}: not JSON ({exc})") from exc
    if not isinstance(obj, list):
        raise IntegrityError(f"{name}: expected a JSON list of predictions")
