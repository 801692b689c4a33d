"""Data derived from fetched files, kept on disk between processes (``<cache>/derived/``).

A fresh process would otherwise parse every structure file and recompute every surface again
(about 2 s of the seed panel's 3-4 s). Each entry is one ``.skd`` file: an 8-byte magic, the
length of a JSON header, the header (the entry's key, each array's name, dtype, shape, offset
and size, the CRC-32 of the data, the JSON-able ``meta``), then the arrays' raw bytes. Only
numbers and fixed-width text are stored (never objects, never code). One read and one
``np.frombuffer`` per array: a tenth of the time ``np.load`` takes over a ``.npz`` zip (163
entries of the seed panel: about 0.2 s with ``.npz``). Entries are named by a SHA-256 over what
they were computed from: the input file's SHA-256, the options, the settings that change the
result, the structkit version and a digest of structkit's own files (an entry is never trusted
across versions, nor across edits of the code). Entries are written through
``files.atomic_write``, so a reader sees a whole entry or none, also with several processes at
work. An entry that does not read back whole (a wrong magic, header, size or CRC; a wrong key;
a shape or dtype that fails the caller's check) is removed and rebuilt.

Standard library and NumPy only: a floor below every module that reads or computes.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .._version import __version__

__all__ = ["DERIVED_FOLDER", "FORMAT", "entry_key", "load_entry", "read_entry", "save_entry",
           "cached", "cached_frame", "mark", "has_mark", "inventory", "prune"]

DERIVED_FOLDER = "derived"  # under the cache directory
FORMAT = "2"  # the layout of the entries; part of every key
MAGIC = b"SKDRV\x002\n"  # first 8 bytes of an entry file
_ALIGN = 64  # each array's bytes start at a multiple of this offset in the data


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
        root = Path(__file__).resolve().parents[1]  # the structkit package
        h = hashlib.sha256()
        for p in sorted(root.rglob("*")):
            if p.suffix in (".py", ".json", ".yaml", ".gz") and p.is_file():
                h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
        _CODE_DIGEST.append(h.hexdigest())
    return _CODE_DIGEST[0]


def _path(cache_dir: str | Path, kind: str, key: str) -> Path:
    return Path(cache_dir) / DERIVED_FOLDER / kind / f"{key[:40]}.skd"


def load_entry(cache_dir: str | Path, kind: str, key: str,
               check: Callable[[dict], bool] | None = None) -> dict | None:
    """The arrays of entry ``key`` of ``kind`` (with ``'meta'``), or None when
    there is none or it does not read back whole (it is then removed). ``check`` gets the
    dictionary and says whether its shapes and values fit."""
    p = _path(cache_dir, kind, key)
    try:
        out = read_entry(p)
        if out.pop("_key", "") != key:
            raise ValueError("entry written for another key")
        if check is not None and not check(out):
            raise ValueError("entry does not fit")
        return out
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        p.unlink(missing_ok=True)  # damaged or stale: the caller computes and writes it again
        return None


def read_entry(path: str | Path) -> dict:
    """Every array of the entry file ``path`` (writable NumPy arrays), its ``meta`` and its key
    under ``'_key'``; ValueError when the file is not a whole entry (magic, header, sizes, CRC)."""
    with open(path, "rb") as fh:
        head = fh.read(16)
        if len(head) != 16 or head[:8] != MAGIC:
            raise ValueError(f"{path}: not a structkit derived-data entry")
        (n,) = struct.unpack("<Q", head[8:])
        total = os.fstat(fh.fileno()).st_size
        if n > total - 16:
            raise ValueError(f"{path}: header longer than the file")
        header = json.loads(fh.read(n))
        if not 0 <= int(header["size"]) <= total - 16 - n:
            raise ValueError(f"{path}: size differs from its header")
        data = bytearray(int(header["size"]))
        if fh.readinto(data) != len(data) or fh.read(1):
            raise ValueError(f"{path}: size differs from its header")
    if zlib.crc32(data) != int(header["crc32"]):
        raise ValueError(f"{path}: CRC-32 differs from its header")
    out: dict = {"_key": header["key"]}
    for name, dtype, shape, offset, nbytes in header["arrays"]:
        dt = np.dtype(dtype)
        if dt.hasobject or offset + nbytes > len(data):
            raise ValueError(f"{path}: array {name} out of bounds")
        count = nbytes // dt.itemsize if dt.itemsize else 0
        arr = np.frombuffer(data, dtype=dt, count=count, offset=offset) if count else \
            np.empty(0, dtype=dt)
        out[name] = arr.reshape(shape)
    if "meta" in header:
        out["meta"] = header["meta"]
    return out


def save_entry(cache_dir: str | Path, kind: str, key: str, arrays: dict,
               meta: dict | None = None) -> None:
    """Write entry ``key`` of ``kind`` atomically (``arrays``: name -> array of numbers or
    fixed-width text; ``meta``: JSON-able). A cache directory that cannot be written is not
    an error: the result is simply not kept."""
    from .files import atomic_write

    specs, chunks, offset = [], [], 0
    for name, value in arrays.items():
        a = np.asarray(value)  # tobytes() writes C order; 0-d arrays stay 0-d
        if a.dtype.hasobject:
            a = a.astype(str)  # texts as fixed-width unicode, never pickled objects
        pad = -offset % _ALIGN
        chunks.append(b"\0" * pad)
        offset += pad
        specs.append([name, a.dtype.str, list(a.shape), offset, a.nbytes])
        chunks.append(a.tobytes())
        offset += a.nbytes
    data = b"".join(chunks)
    header = {"key": key, "arrays": specs, "size": len(data), "crc32": zlib.crc32(data),
              "code": code_digest()}
    if meta is not None:
        header["meta"] = meta
    text = json.dumps(header).encode()
    try:
        with atomic_write(_path(cache_dir, kind, key)) as tmp, open(tmp, "wb") as fh:
            fh.write(MAGIC + struct.pack("<Q", len(text)) + text)
            fh.write(data)
    except OSError:
        pass


def has_mark(cache_dir: str | Path, kind: str, key: str) -> bool:
    """Whether ``mark`` was called for ``key`` (a fact about content, e.g. 'these bytes passed
    the integrity check', that a later process need not establish again)."""
    return (Path(cache_dir) / DERIVED_FOLDER / kind / f"{key[:40]}.ok").is_file()


def mark(cache_dir: str | Path, kind: str, key: str) -> None:
    """Record ``key`` under ``kind`` (a small file holding the code digest, so that ``prune``
    can tell the marks of other code; a directory that cannot be written is not an error)."""
    p = Path(cache_dir) / DERIVED_FOLDER / kind / f"{key[:40]}.ok"
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(code_digest(), encoding="ascii")
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


def cached_frame(cache_dir: str | Path | None, kind: str, key: str, compute: Callable[[], object],
                 columns: list[str] | None = None):
    """``cached`` for a pandas DataFrame (``compute()`` returns one): kept as an Arrow IPC
    stream inside an entry (so the CRC covers it) with ``DataFrame.attrs`` as its meta; read
    back with the same dtypes. ``columns``: names the frame must have to be trusted."""
    import pyarrow as pa

    if cache_dir is None:
        return compute()

    def encode() -> dict:
        df = compute()
        sink = pa.BufferOutputStream()
        table = pa.Table.from_pandas(df, preserve_index=False)
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return {"arrow": np.frombuffer(sink.getvalue(), dtype=np.uint8), "meta": dict(df.attrs)}

    def decoded(d: dict):
        df = pa.ipc.open_stream(pa.py_buffer(d["arrow"])).read_all().to_pandas()
        df.attrs.update(d.get("meta") or {})
        return df

    def fits(d: dict) -> bool:  # decoded once here; a stream that does not read is rebuilt
        try:
            d["frame"] = decoded(d)
        except (pa.ArrowException, ValueError):
            return False
        return columns is None or set(columns) <= set(d["frame"].columns)

    d = cached(cache_dir, kind, key, encode, fits)
    return d["frame"] if "frame" in d else decoded(d)


KEEP_KINDS = ("stability",)  # ProteinMPNN scores: keyed by the weights and the backbone, not by
# structkit's code, and hours of CPU to make again; never pruned


def _stale(p: Path) -> bool:
    """Whether the file ``p`` under ``derived/`` is one this code can never read: a ``.skd``
    entry or an ``.ok`` mark written by other code (the code digest in the header, or in the
    mark), a ``.skd`` entry that is not whole, or an entry of an older format (``.npz``);
    kept kinds are never stale."""
    if p.parent.name in KEEP_KINDS:
        return False
    if p.suffix == ".ok":  # marks made before they held the code digest are empty
        try:
            return p.read_text(encoding="ascii", errors="replace") != code_digest()
        except OSError:
            return True
    if p.suffix != ".skd":
        return p.suffix == ".npz"
    try:
        with open(p, "rb") as fh:
            head = fh.read(16)
            if len(head) != 16 or head[:8] != MAGIC:
                return True
            (n,) = struct.unpack("<Q", head[8:])
            if n > os.fstat(fh.fileno()).st_size - 16:
                return True
            return json.loads(fh.read(n)).get("code") != code_digest()
    except (OSError, ValueError):
        return True


def inventory(cache_dir: str | Path) -> list[dict]:
    """Per kind of derived data under ``<cache_dir>/derived/``: files, bytes, and how many of
    them (and bytes) no code of this version can read (``stale``: written by another version
    or an edited checkout, an older format, or damaged)."""
    root = Path(cache_dir) / DERIVED_FOLDER
    out = []
    for kind in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        files = [p for p in kind.iterdir() if p.is_file()]
        stale = [p for p in files if _stale(p)]
        out.append({"kind": kind.name, "files": len(files),
                    "bytes": sum(p.stat().st_size for p in files), "stale_files": len(stale),
                    "stale_bytes": sum(p.stat().st_size for p in stale),
                    "kept_across_versions": kind.name in KEEP_KINDS})
    return out


def prune(cache_dir: str | Path) -> tuple[int, int]:
    """Remove the stale files of ``inventory`` (never a kept kind); (files, bytes) removed.
    Safe beside running processes: they never read a stale entry (its key differs), and a
    removed entry they are writing is written again whole."""
    root = Path(cache_dir) / DERIVED_FOLDER
    n = size = 0
    for kind in (p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        for p in kind.iterdir():
            if p.is_file() and _stale(p):
                b = p.stat().st_size
                try:
                    p.unlink()
                except OSError:
                    continue
                n, size = n + 1, size + b
    return n, size
