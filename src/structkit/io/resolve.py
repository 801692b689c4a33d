"""From what a user names (a file path, a PDB ID, ``AF-<accession>``) to a loaded ``Structure``,
once per session.

``structure`` only reads files; this module decides what a name means (``is_path_like``), asks
the session's fetcher for IDs (cache, mirror, network; the catalog's assembly choice for a
curated entry) and keeps each loaded structure in the session's store.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..keywords import accepts_session
from .structure import Structure, read_structure_cached

if TYPE_CHECKING:
    from .fetch import Fetcher

__all__ = ["load", "is_path_like"]


_FILE_SUFFIX = re.compile(r"\.(?:pdb|ent|cif|mmcif|pdb[0-9]+|cif[0-9]*)(?:\.gz)?$", re.IGNORECASE)


def is_path_like(source: str | os.PathLike) -> bool:
    """True when ``source`` names a file explicitly: a ``Path``, or text with a directory
    separator or a structure-file suffix (``.pdb .ent .cif .mmcif .pdb1``, optionally ``.gz``).
    ``'1TSR'`` and ``'AF-P04637'`` are IDs even if a file of that name exists here."""
    if isinstance(source, os.PathLike):
        return True
    s = str(source)
    return "/" in s or os.sep in s or bool(_FILE_SUFFIX.search(s))


@accepts_session
def load(source: str | os.PathLike, *, fetcher: Fetcher | None = None, format: str | None = None,
         assembly: int | None = None) -> Structure:
    """Load a structure once per session: a file path, a PDB ID, or ``AF-<accession>``.

    ``source`` is a file only when it is one explicitly (``is_path_like``: a ``Path``, a ``/``
    or a structure suffix); anything else is an ID, never a file of that name in the working
    directory. IDs go through the fetcher (cache, mirror, network); for a catalog entry the catalog's
    assembly choice is used unless ``assembly`` is given (3KZ8 is curated as assembly 1).
    The loaded object is kept in the session's store by resolved path and
    modification time, and an ID is resolved through the fetcher (which reads and checks the
    file) once per session.

    Examples
    --------
    >>> st = load("1N8Z")
    >>> st.id, st.chains(kind="protein")
    ('1N8Z', ['A', 'B', 'C'])
    """
    from ..catalog import catalog
    from .store import session_of

    s = os.fspath(source)
    p = Path(s)
    entry_id = None
    f = session_of(fetcher)
    loaded, by_id = f.cache("structures"), f.cache("structures_by_id")
    id_key = (s.upper(), format, assembly)
    as_file = is_path_like(source)
    if as_file and not p.is_file():
        raise FileNotFoundError(f"structure file {s} does not exist" if not p.exists()
                                else f"structure {s} is not a regular file")
    if not as_file and id_key in by_id:
        return by_id[id_key]
    if not as_file:
        if s.upper().startswith("AF-"):
            res = f.alphafold(s[3:].split("-F1")[0], format=format)
            entry_id = "AF-" + res.key
        else:
            entry = catalog().find(s) if assembly is None else None
            assembly = entry.assembly if entry is not None else assembly
            res = f.pdb(s, format=format, assembly=assembly)
            entry_id = res.key
        p = Path(res.path)
    rp = p.resolve()
    key = (str(rp), rp.stat().st_mtime_ns, entry_id)
    if key not in loaded:
        st = loaded[key] = read_structure_cached(rp, entry_id, f.cache_dir)
        if entry_id is None:
            # a file the user names is analysed by its content (a HEADER that says 1TSR does
            # not import the catalog's chain roles of 1TSR) and keeps its own identity in every
            # output: '<ID> (<file name>)', the ID its header gives (or its name's stem)
            st.user_file = True
            st.id = f"{st.id} ({rp.name})"
    if entry_id is not None:
        by_id[id_key] = loaded[key]
    return loaded[key]
