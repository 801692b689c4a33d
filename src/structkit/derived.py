"""Data derived from fetched files, kept on disk between processes (``<cache>/derived/``).

A fresh process would otherwise parse every structure file and recompute every surface again
(about 2 s of the seed panel's 3-4 s). Each entry is a NumPy ``.npz`` read with
``allow_pickle=False`` (arrays and a JSON text, never code), named by a SHA-256 over what it was
computed from: the input file's SHA-256, the options, the settings that change the result, the
structkit version and a digest of structkit's own files (an entry is never trusted across
versions, nor across edits of the code). Entries are written through
``files.atomic_write``, so a reader sees a whole entry or none, also with several processes at
work. An entry that does not read back whole (a damaged zip member fails its CRC; a wrong key,
shape or dtype fails the caller's check) is removed and rebuilt.

Standard library and NumPy only: a floor below every module that reads or computes.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ._version import __version__

__all__ = ["DERIVED_FOLDER", "FORMAT", "entry_key", "load_entry", "save_entry", "cached", "mark",
           "has_mark"]

DERIVED_FOLDER = "derived"  # under the cache directory
FORMAT = "1"  # the layout of the entries; part of every key


def entry_key(*parts: object) -> str:
    """SHA-256 (hex) over ``parts``, the entry format, the structkit version and the digest of
    structkit's own code (``code_digest``: an edited source file, as in an editable install,
    makes new entries rather than reading ones an older code computed)."""
    text = "\0".join([*(str(p) for p in parts), FORMAT, __version__, code_digest()])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_CODE_DIGEST: list[str] = []  # computed once per process (read-only afterwards)


def code_digest() -> str:
    """SHA-256 over the package's Python files and shipped data (names and bytes), about 5 ms
    once per process."""
    if not _CODE_DIGEST:
        root = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for p in sorted(root.rglob("*")):
            if p.suffix in (".py", ".json", ".yaml", ".gz") and p.is_file():
                h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
        _CODE_DIGEST.append(h.hexdigest())
    return _CODE_DIGEST[0]


def _path(cache_dir: str | Path, kind: str, key: str) -> Path:
    return Path(cache_dir) / DERIVED_FOLDER / kind / f"{key[:40]}.npz"


def load_entry(cache_dir: str | Path, kind: str, key: str,
               check: Callable[[dict], bool] | None = None) -> dict | None:
    """The arrays of entry ``key`` of ``kind`` (``'meta'`` decoded from JSON), or None when
    there is none or it does not read back whole (it is then removed). ``check`` gets the
    dictionary and says whether its shapes and values fit."""
    p = _path(cache_dir, kind, key)
    if not p.is_file():
        return None
    try:
        with np.load(p, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
        if str(out.pop("_key", "")) != key:
            raise ValueError("entry written for another key")
        if "meta" in out:
            out["meta"] = json.loads(str(out["meta"]))
        if check is not None and not check(out):
            raise ValueError("entry does not fit")
        return out
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile):
        p.unlink(missing_ok=True)  # damaged or stale: the caller computes and writes it again
        return None


def save_entry(cache_dir: str | Path, kind: str, key: str, arrays: dict,
               meta: dict | None = None) -> None:
    """Write entry ``key`` of ``kind`` atomically (``arrays``: name -> array of numbers or
    fixed-width text; ``meta``: JSON-able). A cache directory that cannot be written is not
    an error: the result is simply not kept."""
    from .files import atomic_write

    p = _path(cache_dir, kind, key)
    data = dict(arrays, _key=np.array(key))
    if meta is not None:
        data["meta"] = np.array(json.dumps(meta))
    try:
        with atomic_write(p) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **data)
    except OSError:
        pass


def has_mark(cache_dir: str | Path, kind: str, key: str) -> bool:
    """Whether ``mark`` was called for ``key`` (a fact about content, e.g. 'these bytes passed
    the integrity check', that a later process need not establish again)."""
    return (Path(cache_dir) / DERIVED_FOLDER / kind / f"{key[:40]}.ok").is_file()


def mark(cache_dir: str | Path, kind: str, key: str) -> None:
    """Record ``key`` under ``kind`` (an empty file; a directory that cannot be written is not
    an error)."""
    p = Path(cache_dir) / DERIVED_FOLDER / kind / f"{key[:40]}.ok"
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.touch()
    except OSError:
        pass


def cached(cache_dir: str | Path | None, kind: str, key: str, compute: Callable[[], dict],
           check: Callable[[dict], bool] | None = None) -> dict:
    """``load_entry`` or, failing that, ``compute()`` (a dict of arrays, optionally with a
    ``'meta'`` JSON-able value) saved under ``key``; without ``cache_dir`` just ``compute()``."""
    if cache_dir is not None:
        hit = load_entry(cache_dir, kind, key, check)
        if hit is not None:
            return hit
    out = compute()
    if cache_dir is not None:
        arrays = {k: v for k, v in out.items() if k != "meta"}
        save_entry(cache_dir, kind, key, arrays, out.get("meta"))
    return out
