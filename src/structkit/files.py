"""Writing files safely: atomic replacement with the permissions the user's umask gives.

Every file structkit writes (tables, figures, HTML pages, cache entries) goes through
``atomic_write``: the content is written to a hidden temporary file in the target directory and
renamed over the target, so a failure or an interruption never leaves a half-written file under
the target name; the temporary file is removed on failure. The temporary file is created with
mode 0666 and the kernel applies the process umask (0644 under umask 022), as for a file opened
with ``open(path, "w")``; ``tempfile.mkstemp`` would give 0600.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_write", "sha256_file"]


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (hex digest)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _new_temp(p: Path) -> Path:
    """A new empty hidden file next to ``p`` (exclusive create, mode 0666 minus the umask)."""
    for _ in range(100):
        t = p.with_name(f".{p.name[:200]}.{secrets.token_hex(4)}.part{p.suffix}")
        try:
            os.close(os.open(t, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return t
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {p}")


@contextmanager
def atomic_write(path: str | os.PathLike, *, fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    The caller writes the temporary path (any writer that takes a path). Parent directories are
    created. ``fsync`` flushes the data to disk before the rename (cache entries).
    """
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"output {p} is a directory; give a file name")
    p.parent.mkdir(parents=True, exist_ok=True)
    t = _new_temp(p)
    try:
        yield t
        if fsync:
            with open(t, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(t, p)
    except BaseException:
        t.unlink(missing_ok=True)
        raise
