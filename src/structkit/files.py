"""Writing files safely: atomic replacement with the permissions the user's umask gives.

Every file structkit writes (tables, figures, HTML pages, cache entries) goes through
``atomic_write``: the content is written to a hidden temporary file in the target directory and
renamed over the target, so a failure or an interruption never leaves a half-written file under
the target name; the temporary file is removed on failure. ``tempfile.mkstemp`` creates files
with mode 0600; the final file gets ``0o666 & ~umask`` instead (0644 under umask 022), like a
file opened with ``open(path, "w")``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_write", "umask_mode"]


def umask_mode() -> int:
    """``0o666`` with the process umask applied (the mode ``open()`` would give a new file)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


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
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name[:200]}.", suffix=".part" + p.suffix, dir=p.parent)
    os.close(fd)
    t = Path(tmp)
    try:
        yield t
        os.chmod(t, umask_mode())
        if fsync:
            with open(t, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(t, p)
    except BaseException:
        t.unlink(missing_ok=True)
        raise
